"""What one page run does, with many people on one process: work whose result does not change
from run to run is done once, not on every run of every session (issue 23: one process spent
0.13-0.17 s of CPU per page run)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from conftest import drive_decision
from streamlit.testing.v1 import AppTest

import ui
from decisions import i18n, standing, store, words
from decisions import io as data_io
from decisions.store import decisions as decision_store

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")
SESSIONS = 8


@pytest.fixture
def app_db(programme, db_path, monkeypatch):
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    return programme


def open_page(page: str, email: str = "mona@hemit.no") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.sidebar.selectbox[0].set_value(email).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def counting(monkeypatch, owner: object, name: str) -> list:
    """Replace owner.name by a wrapper that records each call; returns the record."""
    calls: list = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_the_sessions_that_arrive_together_after_a_start_read_the_catalogs_once(
    tmp_path, monkeypatch
):
    """Each of them used to read and compile every catalog, one after the other under the
    lock: at ten times the demo's volume that held the first sign-ins for seconds."""
    messages = tmp_path / "xx" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    for domain in ("frame", "programme"):
        shutil.copy(REPO / "decisions" / "locale" / "nb" / "LC_MESSAGES" / f"{domain}.po",
                    messages / f"{domain}.po")  # fmt: skip
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    reads = counting(monkeypatch, i18n, "read_po")
    start = threading.Barrier(SESSIONS)
    found: list = [None] * SESSIONS

    def session(number: int) -> None:
        start.wait()
        found[number] = i18n._catalog("xx")

    threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 2
    assert all(catalog is found[0] for catalog in found)
    assert found[0].gettext("Overview") != "Overview"  # the bokmål texts were read


def test_a_charts_data_is_written_out_once_not_on_every_run(app_db, monkeypatch):
    """The text alternative's tables (every cell worded: dates, decimal commas) were written
    on every run of every session; now once with the chart, until its data changes."""
    at = open_page("pages/readiness.py")
    cells = counting(monkeypatch, ui, "_cell_in_words")
    at.run()
    assert not at.exception
    assert not cells
    [words] = [e for e in at.expander if e.label == "The chart as text and table"]
    assert len(words.table[0].value) > 0


def test_the_demo_sign_in_shows_who_is_signed_in_without_reading_the_directory(app_db, monkeypatch):
    """Each run read the signed-in person's directory row into a DataFrame for their label."""
    at = open_page("pages/overview.py")
    [label] = at.sidebar.selectbox[0].options
    reads = counting(monkeypatch, decision_store, "directory")
    at.run()
    assert not at.exception
    assert not reads
    assert at.sidebar.selectbox[0].options == [label]
    assert label.startswith("Mona") and "(mona@hemit.no) · " in label


def test_the_register_writes_its_csv_when_asked_not_on_every_run(app_db, monkeypatch):
    drive_decision(app_db, "proposed")
    written = counting(monkeypatch, data_io, "table_csv")
    at = open_page("pages/decisions_register.py")
    assert [b.label for b in at.get("download_button")] == ["Download the list (CSV)"]
    assert not written


def test_a_run_does_not_ask_for_pending_migrations_once_the_process_has(app_db, monkeypatch):
    at = open_page("pages/overview.py")
    asked = counting(monkeypatch, store.migrations, "pending")
    at.run()
    assert not at.exception
    assert not asked


def test_a_database_file_put_in_place_of_the_served_one_is_brought_up_to_date(
    app_db, db_path, monkeypatch
):
    at = open_page("pages/overview.py")
    replacement = db_path.with_name("replacement.db")
    shutil.copy(db_path, replacement)
    replacement.replace(db_path)  # a restore: another file under the same name
    asked = counting(monkeypatch, store.migrations, "pending")
    at.run()
    assert not at.exception
    assert len(asked) == 1


def test_the_overview_words_its_tables_once_per_change_not_on_every_run(app_db, monkeypatch):
    """Its four decision tables come from the shared aggregate: every run of every session
    worded them again (dates, stages, names), a quarter of the page's CPU at ten times the
    demo's volume."""
    at = open_page("pages/overview.py")
    worded = counting(monkeypatch, words, "readable")
    shares = counting(monkeypatch, standing, "approved_share")
    at.run()
    assert not at.exception
    assert not worded and not shares
    stuck = [t for t in at.tabs if t.label == "Stuck longest"]
    assert "Title" in stuck[0].dataframe[0].value.columns  # worded, as before
