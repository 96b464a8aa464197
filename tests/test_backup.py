"""Backups: a consistent online copy, taken while another process writes, passes `check`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from decisions import cli, services, store
from decisions.io import BackupFailed, backup, backup_bytes

ROOT = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent(
    """
    import sys, time
    from decisions import services, store
    from decisions.store import decisions as decision_store
    conn = store.connect(sys.argv[1])
    hanne = decision_store.load_actor(conn, "hanne@stolav.no")
    fields = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
              "organizations": ["STO"], "criticality": "high"}
    end = time.monotonic() + float(sys.argv[2])
    n = 0
    while time.monotonic() < end:
        key = services.create_decision(conn, hanne, fields | {"title": f"Written {n}"})
        services.decide(conn, hanne, key, decision_text="Yes.", decided_by=["hanne@stolav.no"])
        n += 1
        print(n, flush=True)
    """
)


def count(path: Path, sql: str):
    conn = store.connect(path, migrate=False)
    try:
        return store.scalar(conn, sql)
    finally:
        conn.close()


def test_a_backup_is_a_checked_copy(programme, tmp_path):
    dest = backup(programme, tmp_path / "copy.db")
    copy = store.connect(dest, migrate=False)
    assert services.check(copy) == []
    assert store.scalar(copy, "SELECT count(*) FROM experts") == 10
    copy.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_backup_does_not_overwrite_a_file(programme, tmp_path):
    (tmp_path / "copy.db").write_text("precious")
    with pytest.raises(BackupFailed, match="exists already"):
        backup(programme, tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_text() == "precious"


def test_backup_bytes_are_a_database(programme):
    assert backup_bytes(programme).startswith(b"SQLite format 3\x00")


def test_the_backup_command(programme, db_path, tmp_path, capsys):
    assert cli.main(["backup", str(tmp_path / "b.db"), "--db", str(db_path)]) == 0
    assert "backup written and checked" in capsys.readouterr().out
    assert cli.main(["check", "--db", str(tmp_path / "b.db")]) == 0
    assert cli.main(["backup", str(tmp_path / "b.db"), "--db", str(db_path)]) == 1


def test_backups_taken_while_another_process_writes_pass_check(programme, db_path, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), "6"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "1", writer.stderr.read()
        copies = []
        for n in range(4):
            copies.append(backup(programme, tmp_path / f"during-{n}.db"))
            time.sleep(0.3)
        assert writer.poll() is None, "the writer should still be writing"
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0, writer.stderr.read()
    written = [count(c, "SELECT count(*) FROM decisions") for c in copies]
    assert written == sorted(written) and written[-1] > written[0] > 0
    for copy in copies:
        conn = store.connect(copy, migrate=False)
        assert services.check(conn) == []
        # whole transactions only: every decided decision has its stage event
        assert store.scalar(conn, "SELECT count(*) FROM decisions WHERE stage = 'decided'") == (
            store.scalar(conn, "SELECT count(*) FROM events WHERE to_value = 'decided'")
        )
        conn.close()


def test_a_backup_is_handed_over_in_rollback_journal_mode(programme, tmp_path):
    """A WAL file (header bytes 18-19 are 2) cannot be opened read-only from a read-only
    share; a rollback-journal file (1) can, with no -wal or -shm beside it."""
    dest = backup(programme, tmp_path / "b.db")
    assert dest.read_bytes()[18:20] == b"\x01\x01"
    assert not list(tmp_path.glob("b.db-*"))  # no -wal or -shm (the head file is b.db.head.json)
    copy = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM experts").fetchone()[0] == 10
    finally:
        copy.close()
