"""The whole app in bokmål: every screen opens for the people who use it, and nothing a person
reads on it is left in English. Each screen is drawn in English and in bokmål on the same data;
a label that reads the same in both is English that escaped the catalogs (words that are the same
in both languages are listed below). The suite runs in strict mode (conftest), so a text marked
for the catalogs without a bokmål translation fails too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_core import make_programme

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 60

# Words and names that read the same in both languages.
SAME_IN_BOTH = {
    "Format",
    "Import",
    "Wave 1",  # the small programme's wave, by its name
    "St\\. Olavs hospital · tester",  # the sidebar: a tester's organisation, by its name
    "key",  # the decisions' key column, shown under the heading its column configuration gives
    "Status",
    "Forum",
    "Data",
    "Plan",
    "Testing",
    "Tester",
    "Backlog",
    "Demo",
    "Modul",
    "Test",
    "Norsk (bokmål)",
    "English",
    "Person",
    "Admin",
    "Team",
    "Epic",
    "CSV",
    "PNG",
    "Excel",
    "xlsx",
    "OK",
    "ID",
    "Start",
    "Total",
    "tester",
    "admin",
    "analyst",
    "forum",
    "status",
    "plan",
    "demo",
}
# Which screens each person opens: (email, page, query).
VISITS = [
    ("mona@hemit.no", "overview", {}),
    ("mona@hemit.no", "decisions_register", {}),
    ("mona@hemit.no", "readiness", {}),
    ("mona@hemit.no", "backlog", {}),
    ("mona@hemit.no", "plan", {}),
    ("mona@hemit.no", "data", {}),
    ("mona@hemit.no", "people", {}),
    ("mona@hemit.no", "notices", {}),
    ("mona@hemit.no", "suspect", {}),
    ("mona@hemit.no", "approvals", {}),
    ("hanne@stolav.no", "my_work", {}),
    ("hanne@stolav.no", "approvals", {}),
    ("hanne@stolav.no", "new_decision", {}),
    ("hanne@stolav.no", "decision", {"stage": "proposed"}),
    ("hanne@stolav.no", "decision", {"stage": "demonstrated"}),
    ("ana@hemit.no", "my_work", {}),
    ("ana@hemit.no", "demos", {}),
    ("ana@hemit.no", "decision", {"stage": "in_build"}),
    ("tess@hemit.no", "my_work", {}),
    ("tess@hemit.no", "testing", {}),
    ("tess@hemit.no", "decision", {"stage": "tested"}),
    ("vera@hemit.no", "decision", {"stage": "withdrawn"}),
]


@pytest.fixture(scope="module")
def programme_keys(tmp_path_factory):
    path = tmp_path_factory.mktemp("bokmal") / "app.db"
    return path, make_programme(path)


def labels(at: AppTest) -> set[str]:
    """What a person reads on the screen as its own words: titles, headings, captions, tabs,
    buttons, widget labels, metric labels and table headers (not the data in the tables)."""
    found = [
        e.value for kind in ("title", "header", "subheader", "caption") for e in getattr(at, kind)
    ]
    found += [t.label for t in at.tabs] + [x.label for x in at.expander]
    for kind in ("button", "text_input", "text_area", "selectbox", "multiselect", "date_input",
                 "checkbox", "radio", "number_input", "toggle", "time_input"):  # fmt: skip
        found += [w.label for w in getattr(at, kind)]
    found += [m.label for m in at.metric]
    for frame in at.dataframe:
        found += headings(frame)
    return {str(text).strip() for text in found if text}


def headings(frame) -> list[str]:
    """A table's column headings as shown: the label its column configuration gives, else the
    column's name; hidden columns and those left out by column_order are not shown."""
    config = json.loads(frame.proto.columns or "{}")
    order = list(frame.proto.column_order) or [str(c) for c in frame.value.columns]
    shown = []
    for column in order:
        setting = config.get(column, config.get(f"_pos:{column}", {}))
        if setting is None or setting.get("hidden"):
            continue
        shown.append(setting.get("label") or column)
    return shown


def open_screen(monkeypatch, db: Path, language: str, email: str, page: str, query: dict):
    monkeypatch.setenv("DECISIONS_DB", str(db))
    monkeypatch.setenv("DECISIONS_LANGUAGE", language)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["as"] = email
    at.query_params.update(query)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, f"{page} as {email} in {language}: {at.exception}"
    return at


def english_left(english: set[str], bokmal: set[str]) -> list[str]:
    """Labels shown the same in both languages that hold English words."""
    return sorted(
        text for text in english & bokmal
        if text not in SAME_IN_BOTH and re.search(r"[A-Za-z]{3,}", text)
        and not re.fullmatch(r"[A-Z]{2,}[-\\A-Z0-9]*( · .*)?", text)  # codes, keys (a title)
    )  # fmt: skip


@pytest.mark.parametrize(("email", "page", "query"), VISITS,
                         ids=[f"{p}-{e.split('@')[0]}-{q.get('stage', '')}" for e, p, q in VISITS])  # fmt: skip
def test_each_screen_reads_in_bokmal(monkeypatch, programme_keys, email, page, query):
    db, keys = programme_keys
    if "stage" in query:
        query = {"key": keys[query["stage"]]}
    english = labels(open_screen(monkeypatch, db, "en", email, page, query))
    bokmal = labels(open_screen(monkeypatch, db, "nb", email, page, query))
    assert english_left(english, bokmal) == []
