"""`init`: an empty programme with the default reference lists from data/*.csv."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from decisions import programme, services, store
from decisions.model import FORUM_LEVELS, SCOPES, WorkflowError

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "decisions", *args],
        cwd=ROOT,
        env={**os.environ, "DECISIONS_DB": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )


def csv_rows(kind: str) -> list[dict]:
    with open(ROOT / "data" / f"{kind}.csv", encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def codes(conn, table: str) -> list[str]:
    return sorted(r[0] for r in conn.execute(f"SELECT code FROM {table}"))


@pytest.fixture
def initialised(fresh_db):
    counts = programme.init_reference_lists(fresh_db)
    assert counts == {kind: len(csv_rows(kind)) for kind in programme.REFERENCE_FILES}
    return fresh_db


def test_the_init_command_creates_an_empty_programme(db_path):
    result = cli("init", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert "empty programme created" in result.stdout
    conn = store.connect(db_path)
    assert codes(conn, "domains") == sorted(r["code"] for r in csv_rows("domains"))
    conn.close()


@pytest.mark.parametrize("kind", programme.REFERENCE_FILES)
def test_init_creates_the_lists_of_the_csv_files(initialised, kind):
    rows = csv_rows(kind)
    assert codes(initialised, kind) == sorted(r["code"] for r in rows)
    stored = {r[0]: r[1] for r in initialised.execute(f"SELECT code, name FROM {kind}")}
    assert stored == {r["code"]: r["name"] for r in rows}
    created = initialised.execute(
        "SELECT count(*) FROM events WHERE entity = ? AND action = 'created'",
        (kind.removesuffix("s"),),
    ).fetchone()[0]
    assert created == len(rows)


def test_init_links_forums_to_their_domains_and_modules_to_theirs(initialised):
    expected = sorted(
        (f["code"], d) for f in csv_rows("forums") for d in f["domains"].split(";") if d
    )
    stored = sorted(tuple(r) for r in initialised.execute("SELECT forum, domain FROM forum_domains"))  # fmt: skip
    assert stored == expected
    modules = {r[0]: r[1] for r in initialised.execute("SELECT code, domain FROM modules")}
    assert modules == {m["code"]: m["domain"] for m in csv_rows("modules")}


def test_init_makes_no_programme_and_passes_the_check(initialised, db_path):
    assert store.is_empty(initialised)
    assert services.check(initialised) == []
    result = cli("check", "--db", str(db_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("first", ["init", "demo"])
def test_init_refuses_a_database_that_holds_data(db_path, first):
    made = cli(first, "--db", str(db_path), *(["--scale", "0.05"] if first == "demo" else []))
    assert made.returncode == 0, made.stderr
    conn = store.connect(db_path)
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    again = cli("init", "--db", str(db_path))
    assert again.returncode == 1
    assert "holds a programme" in again.stderr and "Traceback" not in again.stderr
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == events


def test_init_reference_lists_refuses_a_programme(programme):
    with pytest.raises(WorkflowError, match="holds a programme"):
        from decisions import programme as new_programme

        new_programme.init_reference_lists(programme)


def test_the_demo_builds_on_an_initialised_database(initialised, db_path):
    result = cli("demo", "--db", str(db_path), "--scale", "0.05")
    assert result.returncode == 0, result.stderr
    assert cli("check", "--db", str(db_path)).returncode == 0


@pytest.mark.parametrize("kind", programme.REFERENCE_FILES)
def test_the_lists_import_unchanged_in_the_public_format(initialised, db_path, kind, capsys):
    from decisions import cli as command_line

    path = str(ROOT / "data" / f"{kind}.csv")
    assert command_line.main(["import", kind, path, "--db", str(db_path)]) == 0
    output = capsys.readouterr()
    assert "0 new, 0 updated" in output.out + output.err


def test_the_default_lists_are_well_formed():
    domains = {d["code"] for d in csv_rows("domains")}
    forums = csv_rows("forums")
    assert len(domains) == len(csv_rows("domains")) >= 15
    assert len({f["code"] for f in forums}) == len({f["name"] for f in forums}) == len(forums)
    assert {int(f["level"]) for f in forums} == set(FORUM_LEVELS)
    assert [int(f["level"]) for f in forums].count(2) == 1
    assert [int(f["level"]) for f in forums].count(3) == 1
    assert {f["scope"] for f in forums} <= set(SCOPES)
    assert {d for f in forums for d in f["domains"].split(";") if d} <= domains
    level_one = {d for f in forums if f["level"] == "1" for d in f["domains"].split(";")}
    assert level_one == domains
    modules = csv_rows("modules")
    assert {m["domain"] for m in modules} == domains
    assert len({m["code"] for m in modules}) == len({m["name"] for m in modules}) == len(modules)
