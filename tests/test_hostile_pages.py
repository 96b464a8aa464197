"""User text never becomes markup: on a programme whose names, codes, keys and texts are
hostile markdown, HTML, colour directives and LaTeX (tests/hostile.py), every page, as people
of every role, puts user text into markdown only through ui.md. The browser test
(tests/e2e/test_hostile_text.py) checks the same in Chromium: no request leaves the app."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from hostile import CRITERION, EXPERT, TEXT, WAVE, build_hostile_programme, unescaped
from streamlit.testing.v1 import AppTest

import ui
from decisions import store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PAGES = ["overview", "decisions_register", "decision", "my_work", "new_decision", "demos",
         "approvals", "testing", "suspect", "readiness", "backlog", "plan", "data", "people"]  # fmt: skip
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "success", "info",
                 "warning", "error", "toast", "exception")  # fmt: skip


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    conn = store.connect(path)
    keys = build_hostile_programme(conn)
    conn.close()
    return path, keys


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the page handed to Streamlit's markdown: text elements, and the labels and
    help of widgets, expanders, tabs and metrics."""
    found = []
    for node in walk(at._tree):
        kind = getattr(node, "type", "")
        if kind in TEXT_ELEMENTS and isinstance(getattr(node, "value", None), str):
            found.append(node.value)
        for attribute in ("label", "help"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                found.append(value)
        proto = getattr(node, "proto", None)
        for attribute in ("label", "help"):
            value = getattr(proto, attribute, None) if proto is not None else None
            if isinstance(value, str) and kind not in ("selectbox", "multiselect", "text_input"):
                found.append(value)
    return found


def visit(email: str, page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.selectbox[0].set_value(email).run()
    at.query_params.update(query)
    at.switch_page(f"pages/{page}.py").run()
    return at


def assert_escaped(at: AppTest) -> None:
    assert not at.exception, at.exception
    bad = {text: unescaped(text) for text in markdown_texts(at) if unescaped(text)}
    assert not bad, "user text rendered as markup:\n" + "\n".join(
        f"{patterns}: {text[:160]!r}" for text, patterns in bad.items()
    )


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("email", ["admin@hemit.no", EXPERT, "tess@hemit.no"])
def test_no_page_renders_user_text_as_markup(hostile_db, monkeypatch, page, email):
    path, keys = hostile_db
    monkeypatch.setenv("DECISIONS_DB", str(path))
    assert_escaped(visit(email, page, key=keys["proposed"], wave=WAVE))


@pytest.mark.parametrize("stage", ["proposed", "demonstrated", "tested", "escalated"])
@pytest.mark.parametrize("email", ["admin@hemit.no", EXPERT])
def test_the_decision_page_escapes_its_key_title_and_forms(hostile_db, monkeypatch, stage, email):
    path, keys = hostile_db
    monkeypatch.setenv("DECISIONS_DB", str(path))
    at = visit(email, "decision", key=keys[stage])
    assert_escaped(at)
    assert at.title[0].value.startswith(ui.md(keys[stage]))


def test_a_missing_decision_key_from_the_address_is_escaped(hostile_db, monkeypatch):
    monkeypatch.setenv("DECISIONS_DB", str(hostile_db[0]))
    assert_escaped(visit("admin@hemit.no", "decision", key="![n](http://127.0.0.1:9/n.png)"))


def test_the_records_behind_a_hostile_criterion_are_escaped(hostile_db, monkeypatch):
    monkeypatch.setenv("DECISIONS_DB", str(hostile_db[0]))
    at = visit("admin@hemit.no", "readiness", wave=WAVE)
    at.selectbox(key="readiness_records").set_value(CRITERION).run()
    assert_escaped(at)
    assert any(ui.md(CRITERION) in text for text in markdown_texts(at))


def test_a_flash_message_shows_as_typed():
    at = AppTest.from_string(
        "import streamlit as st\nimport ui\nui.flash(st.session_state['message'])\nui.show_flash()"
    )
    at.session_state["message"] = f"Demo {TEXT} saved."
    at.run()
    assert_escaped(at)
    assert at.success[0].value == ui.md(f"Demo {TEXT} saved.")


def test_the_hostile_markers_find_unescaped_text():
    assert unescaped(TEXT) and not unescaped(ui.md(TEXT))
    assert st  # streamlit imported for AppTest's script runs
