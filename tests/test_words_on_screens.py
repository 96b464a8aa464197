"""Words, not codes, on the screens a bokmål reader opens (issue 24, item 3): people by name
with their email on hover, the timeline's sentences in bokmål, the charts' months and numbers
as the reader writes them, and Streamlit's own widget texts in bokmål."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_pages_core import make_programme

from decisions import charts, evidence, i18n, planning, store, words
from decisions.charts.backlog import cumulative_flow_chart
from decisions.charts.readiness import report_headers
from decisions.model import Actor, WorkflowError
from decisions.store import decisions as decision_store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 60
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
OWNER = "per@stolav.no"  # the small programme's Per


@pytest.fixture(scope="module")
def programme(tmp_path_factory):
    path = tmp_path_factory.mktemp("words") / "app.db"
    keys = make_programme(path)
    conn = store.connect(path)
    try:
        manager = decision_store.load_actor(conn, "mona@hemit.no")
        assert isinstance(manager, Actor)
        planning.save_criterion(conn, manager, "W1", "C3", {"owner": OWNER})
    finally:
        conn.close()
    return path, keys


@contextmanager
def reading(language: str):
    """Texts in `language` inside the block; English (the suite's language) after it."""
    i18n.use(language)
    try:
        yield
    finally:
        i18n.use("en")


def open_screen(monkeypatch, db: Path, email: str, page: str, query: dict) -> AppTest:
    monkeypatch.setenv("DECISIONS_DB", str(db))
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["as"] = email
    at.query_params.update(query)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def cells(frame: pd.DataFrame, column: str) -> list[str]:
    return [str(value) for value in frame[column].tolist()]


def test_readiness_names_the_owners_and_gives_the_email_on_hover(monkeypatch, programme):
    db, _keys = programme
    at = open_screen(monkeypatch, db, "mona@hemit.no", "readiness", {"wave": "W1"})
    table = next(f.value for f in at.dataframe if "owner" in f.value.columns)
    owners = cells(table, "owner")
    assert "Per" in owners
    assert not [o for o in owners if EMAIL.search(o)]

    at.selectbox(key="readiness_records").set_value("C3").run()
    line = next(c for c in at.caption if "Per" in c.value)
    assert line.value == "Eier: Per" and line.proto.help.replace("\\", "") == OWNER


def test_the_timeline_speaks_bokmal_and_names_people(monkeypatch, programme):
    db, keys = programme
    at = open_screen(monkeypatch, db, "hanne@stolav.no", "decision", {"key": keys["tested"]})
    timeline = next(f.value for f in at.dataframe if "Hvem" in f.value.columns)
    shown = [cell for column in timeline.columns for cell in cells(timeline, column)]
    assert not [cell for cell in shown if EMAIL.search(cell)]
    reasons = cells(timeline, "Hvorfor")
    assert any(r.startswith("Godkjent av ") for r in reasons)
    assert any(r.startswith("besluttet av ") for r in reasons)
    assert any(r.startswith("vist i demonstrasjon DEMO-") for r in reasons)
    english = ("approve by", "decided by", "demo DEMO-", "test run of", "attended")
    assert not [r for r in reasons if any(r.startswith(e) or e in r for e in english)]


def test_the_queues_say_criticality_in_words(monkeypatch, programme):
    db, _keys = programme
    at = open_screen(monkeypatch, db, "mona@hemit.no", "decisions_register", {})
    register = next(f.value for f in at.dataframe if "Kritikalitet" in f.value.columns)
    assert set(cells(register, "Kritikalitet")) <= {"Kritisk", "Høy", "Middels", "Lav"}


def test_a_chart_writes_months_and_numbers_in_bokmal():
    flow = pd.DataFrame(
        {
            "date": ["2022-03-07", "2022-03-14"],
            "stage": ["decided", "decided"],
            "count": [1000, 2400],
        }
    )
    with reading("nb"):
        drawn = charts.spec(cumulative_flow_chart(flow))
    locale = drawn["config"]["locale"]
    assert locale["time"]["months"][2] == "mars" and locale["time"]["shortMonths"][5] == "juni"
    assert locale["number"]["decimal"] == "," and locale["number"]["thousands"] == "\u00a0"
    rendered = charts.readiness.vl_convert.vegalite_to_svg(drawn)
    assert "mars" in rendered and "Mar" not in rendered
    assert "1\u00a0000" in rendered or "2\u00a0000" in rendered


def test_a_chart_data_table_has_the_chart_own_headings():
    frame = pd.DataFrame({"stage": ["built"], "median_days": [3.5], "max_days": [9.0]})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("median_days", type="quantitative", title="Median"),
            y=alt.Y("stage", type="nominal", title="Stage"),
            tooltip=[alt.Tooltip("stage", type="nominal", title="Stage")],
        )
    )
    [table] = charts.data_tables(charts.spec(chart))
    assert list(table.columns) == ["Stage", "Median"]


@pytest.mark.parametrize(
    ("email", "page"),
    [
        ("mona@hemit.no", "people"),
        ("ana@hemit.no", "demos"),
        ("mona@hemit.no", "decisions_register"),
    ],
)
def test_streamlit_placeholders_are_in_bokmal(monkeypatch, programme, email, page):
    db, _keys = programme
    at = open_screen(monkeypatch, db, email, page, {})
    chooser = [*at.multiselect, *(s for s in at.selectbox if s.index is None)]
    assert chooser
    left = [w.label for w in chooser if not w.proto.placeholder]
    assert left == [], f"Streamlit's English placeholder ('Choose options') on {left}"


def test_widget_texts_without_a_parameter_are_laid_over_in_bokmal():
    import widget_texts

    with reading("nb"):
        css = widget_texts.stylesheet()
    assert 'content: "Velg alle"' in css and 'content: "Last opp"' in css
    assert 'content: "Høyst 50 MB per fil"' in css
    assert css.count("display: none") == 4  # the original words leave the accessibility tree
    with reading("en"):
        assert widget_texts.stylesheet() == ""


def test_the_data_page_names_kinds_in_words():
    with reading("nb"):
        assert words.data_kind_word("test-runs") == "Testkjøringer"
        assert words.data_kind_word("approvals") == "Vurderinger"


def test_a_refusal_names_the_field_by_its_label(programme):
    db, keys = programme
    conn = store.connect(db)
    try:
        expert = decision_store.load_actor(conn, "kari@stolav.no")
        with reading("nb"), pytest.raises(WorkflowError) as refused:
            evidence.record_verdict(conn, expert, keys["demonstrated"], "changes_requested")
        assert str(refused.value) == "kommentar må fylles ut"
    finally:
        conn.close()


def test_a_deferred_report_is_made_in_the_language_of_the_reader_who_asked(monkeypatch):
    """A download made on click runs in a server thread with no reader: an English reader on a
    bokmål installation gets English headers all the same."""
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    with reading("en"):
        make = i18n.in_language(report_headers)
    made: list[dict] = []
    worker = threading.Thread(target=lambda: made.append(make()))
    worker.start()
    worker.join()
    assert made[0]["criterion"] == "Criterion" and made[0]["outlook"] == "Outlook at go-live"
