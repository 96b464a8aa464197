"""Round trip: export all, import all into a fresh `init` database, export all again gives
identical files; importing the same files again changes nothing; an import killed half-way
leaves the database as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from decisions import cli, demo, services, store
from decisions.io.kinds import ORDER

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=0.05)
    conn.close()
    return path


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def event_count(path: Path) -> int:
    conn = store.connect(path)
    try:
        return store.scalar(conn, "SELECT count(*) FROM events")
    finally:
        conn.close()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_export_gives_identical_files(demo_db, tmp_path, capsys, fmt):
    first, second, fresh = tmp_path / "first", tmp_path / "second", tmp_path / "fresh.db"
    assert cli.main(["export", "all", "--out", str(first), "--format", fmt,
                     "--db", str(demo_db)]) == 0  # fmt: skip
    assert cli.main(["init", "--db", str(fresh)]) == 0
    assert cli.main(["import", "all", str(first), "--db", str(fresh)]) == 0, capsys.readouterr().err
    assert cli.main(["export", "all", "--out", str(second), "--format", fmt,
                     "--db", str(fresh)]) == 0  # fmt: skip
    if fmt == "csv":
        assert files_of(first) == files_of(second)
    else:  # a workbook's zip carries timestamps; compare the cells
        from decisions.io import formats

        for name in files_of(first):
            a = formats.read_table(name, (first / name).read_bytes(), max_bytes=10**9)
            b = formats.read_table(name, (second / name).read_bytes(), max_bytes=10**9)
            assert (a.header, a.rows) == (b.header, b.rows), name
    assert cli.main(["check", "--db", str(fresh)]) == 0


def test_the_round_trip_keeps_versions_suspect_evidence_waivers_and_reported_values(
    demo_db, tmp_path
):
    folder, fresh = tmp_path / "files", tmp_path / "fresh.db"
    assert cli.main(["export", "all", "--out", str(folder), "--db", str(demo_db)]) == 0
    assert cli.main(["init", "--db", str(fresh)]) == 0
    assert cli.main(["import", "all", str(folder), "--db", str(fresh)]) == 0

    def state(path):
        conn = store.connect(path)
        try:
            return [
                store.rows(conn, sql)
                for sql in (
                    "SELECT key, stage, base_stage, version, version_started_at, built_at, "
                    "ready_at FROM decisions ORDER BY key",
                    "SELECT wave, code, waiver_reason, waiver_until FROM criteria ORDER BY 1, 2",
                    "SELECT wave, criterion, date, value FROM measurements ORDER BY 1, 2, 3",
                    "SELECT count(*) AS suspect FROM approvals a JOIN decisions d "
                    "ON d.key = a.decision WHERE a.date < d.version_started_at",
                )
            ]
        finally:
            conn.close()

    before, after = state(demo_db), state(fresh)
    assert before == after
    assert any(d["version"] > 1 for d in before[0]), "the demo should hold revised decisions"


def test_importing_the_same_files_twice_changes_nothing_the_second_time(demo_db, tmp_path):
    folder, fresh = tmp_path / "files", tmp_path / "fresh.db"
    assert cli.main(["export", "all", "--out", str(folder), "--db", str(demo_db)]) == 0
    assert cli.main(["init", "--db", str(fresh)]) == 0
    assert cli.main(["import", "all", str(folder), "--db", str(fresh)]) == 0
    events = event_count(fresh)
    assert cli.main(["import", "all", str(folder), "--db", str(fresh)]) == 0
    assert event_count(fresh) == events


def test_importing_into_the_database_it_came_from_changes_nothing(demo_db, tmp_path, capsys):
    folder = tmp_path / "files"
    assert cli.main(["export", "all", "--out", str(folder), "--db", str(demo_db)]) == 0
    events = event_count(demo_db)
    assert cli.main(["import", "all", str(folder), "--db", str(demo_db)]) == 0
    out = capsys.readouterr().out
    assert " 0 new, 0 updated" in out and "updated, 0 unchanged" not in out
    assert event_count(demo_db) == events


def big_decisions_file(path: Path, rows: int) -> None:
    lines = ["key,title,domain,module,forum,scope,organizations,criticality,stage"]
    lines += [f"BIG-{i:06d},Question {i},MED,MED-ADM,MED-H,hospital,STO,medium,proposed"
              for i in range(rows)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_import_killed_half_way_leaves_the_database_as_it_was(programme, db_path, tmp_path):
    big = tmp_path / "decisions.csv"
    big_decisions_file(big, 30_000)
    before = list(programme.iterdump())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "decisions", "import", "decisions", str(big), "--db", str(db_path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    probe = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:  # the import holds the write lock: it is writing
                time.sleep(0.3)
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait(timeout=30)
    finally:
        probe.close()
    assert process.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    conn = store.connect(db_path)
    assert list(conn.iterdump()) == before
    assert services.check(conn) == []
    conn.close()


def test_dependency_order_is_the_formats_order():
    assert ORDER == ("organizations", "domains", "forums", "modules", "waves", "experts",
                     "decisions", "demos", "approvals", "test-cases", "defects", "test-runs",
                     "criteria", "measurements")  # fmt: skip


def test_a_held_stage_survives_the_round_trip(programme, actor, decision_at, db_path, tmp_path):
    from decisions import evidence

    key = decision_at("demonstrated", criticality="critical")
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(programme, actor(email), key, "approve")
    services.edit_decision(programme, actor("ana@hemit.no"), key, {"criticality": "high"},
                           reason="not critical after all")  # fmt: skip
    held = store.rows(programme, "SELECT stage, stage_cap, stage_cap_since FROM decisions")
    assert held[0]["stage"] == held[0]["stage_cap"] == "demonstrated"
    first, second, fresh = tmp_path / "first", tmp_path / "second", tmp_path / "fresh.db"
    assert cli.main(["export", "all", "--out", str(first), "--db", str(db_path)]) == 0
    assert cli.main(["init", "--db", str(fresh)]) == 0
    assert cli.main(["import", "all", str(first), "--db", str(fresh)]) == 0
    assert cli.main(["export", "all", "--out", str(second), "--db", str(fresh)]) == 0
    for name in ("decisions.csv", "demos.csv", "approvals.csv"):  # `init` adds reference lists
        assert files_of(first)[name] == files_of(second)[name], name
    assert b",demonstrated," in files_of(second)["decisions.csv"]
    conn = store.connect(fresh)
    try:
        assert store.rows(conn, "SELECT stage, stage_cap, stage_cap_since FROM decisions") == held
        assert services.check(conn) == []
    finally:
        conn.close()


def test_a_demos_time_place_link_and_cancellation_survive_the_round_trip(
    programme, actor, decision_at, db_path, tmp_path
):
    from decisions import evidence

    ana = actor("ana@hemit.no")
    shown = decision_at("in_build")
    kept = evidence.save_demo(programme, ana, module="MED-ADM", date="2022-09-20",
                              decisions=[shown], presenter="ana@hemit.no", held=False,
                              start_time="13:30", duration_min=45, place="Møterom Nidelva",
                              meeting_url="https://meet.example/abc")  # fmt: skip
    called_off = evidence.save_demo(programme, ana, module="MED-ADM", date="2022-09-21",
                                    decisions=[shown], presenter="ana@hemit.no",
                                    held=False)  # fmt: skip
    evidence.cancel_demo(programme, ana, called_off)
    columns = "key, start_time, duration_min, place, meeting_url, cancelled"
    before = store.rows(programme, f"SELECT {columns} FROM demos ORDER BY key")
    first, fresh = tmp_path / "first", tmp_path / "fresh.db"
    assert cli.main(["export", "all", "--out", str(first), "--db", str(db_path)]) == 0
    assert cli.main(["init", "--db", str(fresh)]) == 0
    assert cli.main(["import", "all", str(first), "--db", str(fresh)]) == 0
    conn = store.connect(fresh)
    try:
        assert store.rows(conn, f"SELECT {columns} FROM demos ORDER BY key") == before
        assert {(r["key"], r["cancelled"]) for r in before} == {(kept, 0), (called_off, 1)}
    finally:
        conn.close()
