"""Open data for analysts: views with readable names and the codes in words, no email address
in them, and Datasette's metadata (shipped in data/) describing them in bokmål."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
from pathlib import Path

import pytest
from datasette.app import Datasette

from decisions import demo, i18n, readiness, store, words
from decisions.publish import open_data

REPO = Path(__file__).resolve().parents[1]
METADATA = REPO / "data" / "datasette-metadata.json"
VIEWS = ("decisions_in_words", "verdicts_per_round", "open_defects")


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("open-data") / "decisions.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=0.05, seed=7)
    conn.close()
    return path


@pytest.fixture
def conn(demo_path):
    connection = store.connect(demo_path)
    yield connection
    connection.close()


def test_decisions_carry_their_stage_in_bokmal_words(conn):
    i18n.use("nb")
    rows = store.rows(conn, "SELECT key, stage, stage_code FROM decisions_in_words")
    assert len(rows) == store.scalar(conn, "SELECT count(*) FROM decisions")
    assert {r["stage"] for r in rows} == {words.stage_word(r["stage_code"]) for r in rows}
    assert "Klar for produksjon" in {r["stage"] for r in rows}


def test_verdicts_per_round_count_every_verdict_once(conn):
    rows = store.rows(conn, "SELECT * FROM verdicts_per_round")
    total = sum(r["approvals"] + r["changes_requested"] for r in rows)
    assert total == store.scalar(conn, "SELECT count(*) FROM approvals")
    current = {r["decision"] for r in rows if r["current_round"]}
    assert all(r["round"] >= 0 for r in rows) and current


def test_open_defects_are_the_open_ones(conn):
    keys = {r["key"] for r in store.rows(conn, "SELECT key FROM open_defects")}
    assert keys == {r[0] for r in conn.execute("SELECT key FROM defects WHERE status = 'open'")}


def test_readiness_now_is_readiness_as_the_readiness_page_computes_it(conn):
    i18n.use("nb")
    assert store.scalar(conn, "SELECT count(*) FROM readiness_now") == 0
    rows = open_data.refresh_readiness(conn)
    _programme, waves = readiness.assess(conn)
    expected = {
        (w.wave, c.code): (c.value, c.status, c.forecast.isoformat() if c.forecast else None)
        for w in waves
        for c in w.criteria
    }
    stored = {
        (r["wave"], r["criterion"]): (r["value"], r["status"], r["forecast"])
        for r in store.rows(conn, "SELECT * FROM readiness_now")
    }
    assert rows == len(expected) and stored == expected
    words = {r[0] for r in conn.execute("SELECT status_words FROM readiness_now")}
    assert words <= {"oppfylt", "ikke oppfylt", "unntak", "ingen data"}
    open_data.refresh_readiness(conn)
    assert store.scalar(conn, "SELECT count(*) FROM readiness_now") == rows


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_holds_no_email_address(conn, view):
    for row in store.rows(conn, f"SELECT * FROM {view}"):
        assert not any("@" in str(value) for value in row.values()), row


@pytest.mark.parametrize("view", (*VIEWS, "readiness_now"))
def test_the_metadata_describes_every_column_of_a_view(conn, view):
    described = json.loads(METADATA.read_text(encoding="utf-8"))["databases"]["decisions"]
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({view})")]
    assert set(described["tables"][view]["columns"]) == set(columns)


def test_datasette_opens_the_database_and_reads_a_view_with_its_metadata(demo_path, tmp_path):
    copy = tmp_path / "decisions.db"  # Datasette names the database after the file
    shutil.copy(demo_path, copy)
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))

    async def read() -> tuple[dict, str]:
        datasette = Datasette([str(copy)], metadata=metadata)
        await datasette.invoke_startup()
        data = await datasette.client.get(
            "/decisions/decisions_in_words.json?_shape=objects&stage_code=ready&_size=5"
        )
        page = await datasette.client.get("/decisions/decisions_in_words")
        return data.json(), page.text

    # in a thread of its own: a test before this one may leave an event loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as worker:
        data, page = worker.submit(asyncio.run, read()).result()
    assert len(data["rows"]) == 5
    assert {row["stage"] for row in data["rows"]} == {"Klar for produksjon"}
    assert "Beslutninger i ord" in page
    assert "Ingen personopplysninger" in page
