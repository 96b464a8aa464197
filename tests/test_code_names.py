"""The names screens show for codes (store.queues.code_names): read once per process and
database rather than on every page run (issue 23: reading every person on every run of My work,
Backlog, Decision and the register was a sixth of a busy process's CPU), and never stale: a
name changed from another connection shows on the next call."""

from __future__ import annotations

import os

import pytest
from conftest import build_small_programme

from decisions import admin, store
from decisions import io as data_io
from decisions.store import decisions as decision_store
from decisions.store import people as people_store
from decisions.store import queues


def rename_person(conn, email: str, name: str) -> None:
    person = people_store.get_expert(conn, email)
    fields = ("email", "organization", "domains", "roles", "forums", "allocation_pct")
    admin.save_expert(conn, decision_store.load_actor(conn, "admin@hemit.no"),
                      **{f: person[f] for f in fields}, name=name,
                      row_version=person["row_version"])  # fmt: skip


def name_reads(conn) -> list[str]:
    """Records each statement of `conn` that reads a table of names."""
    statements: list[str] = []
    conn.set_trace_callback(lambda sql: statements.append(sql) if "FROM experts" in sql else None)
    return statements


@pytest.fixture
def other(db_path, programme):
    """A second connection to the programme's database, as another session's run has."""
    conn = store.connect(db_path, migrate=False)
    yield conn
    conn.close()


def test_a_second_call_reads_no_names_when_nothing_changed(programme):
    queues.code_names(programme)
    reads = name_reads(programme)
    assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Kari"
    assert reads == []


def test_a_change_to_other_records_keeps_the_names_without_reading_them(programme, decision_at):
    queues.code_names(programme)
    decision_at("decided")
    reads = name_reads(programme)
    assert queues.code_names(programme)["organizations"]["STO"] == "St. Olavs hospital"
    assert reads == []


def test_a_person_renamed_by_another_connection_shows_at_once(programme, other):
    assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Kari"
    rename_person(other, "kari@stolav.no", "Kari Nordmann")
    assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Kari Nordmann"
    assert queues.code_names(other)["people"]["kari@stolav.no"] == "Kari Nordmann"


def test_an_organisation_renamed_by_an_import_shows_at_once(programme, other, actor):
    assert queues.code_names(programme)["organizations"]["STO"] == "St. Olavs hospital"
    source = data_io.Source("organizations.csv", b"code,name,kind\nSTO,St. Olav,hospital\n")
    assert data_io.import_sources(other, [source], actor("mona@hemit.no")).written
    assert queues.code_names(programme)["organizations"]["STO"] == "St. Olav"


def test_another_database_put_in_place_shows_its_own_names(tmp_path, db_path, programme):
    """A restored copy whose log is as long as the one read but went another way."""
    rename_person(programme, "kari@stolav.no", "Kari Here")
    copy = tmp_path / "copy.db"
    restored = store.connect(copy)
    build_small_programme(restored)
    rename_person(restored, "kari@stolav.no", "Kari There")
    assert store.last_event(restored)[0] == store.last_event(programme)[0]
    store.leave_wal(restored)
    restored.close()
    assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Kari Here"
    programme.close()
    os.replace(copy, db_path)
    reopened = store.connect(db_path, migrate=False)
    try:
        assert queues.code_names(reopened)["people"]["kari@stolav.no"] == "Kari There"
    finally:
        reopened.close()


def test_a_change_rolled_back_is_never_shown(programme, other):
    queues.code_names(other)
    with pytest.raises(RuntimeError), store.transaction(programme):
        programme.execute("UPDATE experts SET name = 'Nobody' WHERE email = 'kari@stolav.no'")
        assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Nobody"
        raise RuntimeError("rolled back")
    assert queues.code_names(programme)["people"]["kari@stolav.no"] == "Kari"
    assert queues.code_names(other)["people"]["kari@stolav.no"] == "Kari"


def test_the_shared_names_cannot_be_changed_by_a_caller(programme):
    names = queues.code_names(programme)
    with pytest.raises(TypeError):
        names["people"]["kari@stolav.no"] = "Someone else"
    with pytest.raises(TypeError):
        names["forums"] = {}
