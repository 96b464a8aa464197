"""The demo programme: consistent with its own evidence and event log, complete, and the same
database for the same seed."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from decisions import demo, i18n, services, store
from decisions.model import ALL_STAGES, WorkflowError
from decisions.readiness import DEFAULT_CRITERIA
from decisions.store import screen_queries

ROOT = Path(__file__).resolve().parents[1]
SCALE = 0.1
DUMPED = {
    "decisions": "key",
    "approvals": "id",
    "test_runs": "id",
    "demo_attendees": "demo, expert",
    "experts": "email",
    "events": "id",
}


def cli(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, "-m", "decisions", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def dump(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY {DUMPED[table]}")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo at a small scale, with the progress reports it made."""
    conn = store.connect(tmp_path_factory.mktemp("demo") / "demo.db")
    reports: list[tuple[float, str]] = []
    # in English whatever an earlier module left set (this fixture runs before each test's reset)
    token = i18n._language.set("en")
    try:
        summary = demo.build_demo(conn, scale=SCALE, progress=lambda f, m: reports.append((f, m)))
    finally:
        i18n._language.reset(token)
    yield conn, summary, reports
    conn.close()


@pytest.fixture(scope="module")
def conn(built):
    return built[0]


def count(conn: sqlite3.Connection, sql: str, params=()) -> int:
    return conn.execute(sql, params).fetchone()[0]


def test_the_demo_passes_the_check(conn):
    assert services.check(conn) == []


def test_every_stage_occurs(conn):
    stages = {r[0] for r in conn.execute("SELECT DISTINCT stage FROM decisions")}
    assert stages == set(ALL_STAGES)


def test_the_clock_and_the_demo_flag_are_set(conn):
    settings = store.get_settings(conn)
    assert settings["clock"] == "2022-09-15" and settings["demo"] is True


def test_keys_follow_the_series(conn):
    keys = [r[0] for r in conn.execute("SELECT key || '|' || domain FROM decisions")]
    assert all(k.split("|")[0].split("-")[0] == k.split("|")[1] for k in keys)
    assert all(len(k.split("|")[0].split("-")[1]) == 4 for k in keys)
    for table, prefix in (("demos", "DEMO-"), ("test_cases", "TC-"), ("defects", "DEF-")):
        assert count(conn, f"SELECT count(*) FROM {table} WHERE key NOT LIKE ?", (prefix + "%",)) == 0  # fmt: skip


def test_the_waves_of_the_plan_and_the_st_olavs_replan(conn):
    waves = {r[0]: r[1] for r in conn.execute("SELECT code, go_live FROM waves")}
    assert sorted(waves.values()) == ["2022-05-07", "2022-11-12", "2023-02-11", "2023-04-29"]
    members = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT wave, group_concat(o.name, ';') FROM wave_organizations w "
            "JOIN organizations o ON o.code = w.organization GROUP BY wave"
        )
    }
    st_olavs = next(w for w, names in members.items() if "St. Olavs hospital HF" in names)
    for town in ("Røros", "Os", "Holtålen", "Indre Fosen", "Ørland", "Åfjord"):
        assert f"{town} kommune" in members[st_olavs]
    replan = dict(conn.execute("SELECT * FROM wave_replans").fetchone())
    assert (replan["wave"], replan["old_go_live"], replan["new_go_live"]) == (
        st_olavs,
        "2022-05-07",
        "2022-11-12",
    )
    assert replan["reason"] and replan["replanned_at"] < "2022-09-15"
    event = conn.execute(
        "SELECT from_value, to_value, reason FROM events WHERE entity = 'wave' "
        "AND action = 'replanned'"
    ).fetchone()
    assert tuple(event) == ("2022-05-07", "2022-11-12", replan["reason"])


def test_stage_events_tell_each_decisions_history_in_time_order(conn):
    history: dict[str, list[tuple[str, str, str]]] = {}
    for key, at, action, to in conn.execute(
        "SELECT entity_key, at, action, to_value FROM events WHERE entity = 'decision' ORDER BY id"
    ):
        history.setdefault(key, []).append((at, action, to))
    stored = dict(conn.execute("SELECT key, stage FROM decisions").fetchall())
    assert history.keys() == stored.keys()
    for key, events in history.items():
        assert [e[0] for e in events] == sorted(e[0] for e in events), key
        assert events[0][1:] == ("created", "proposed")
        stage_events = [e for e in events if e[1] in ("created", "stage")]
        assert stage_events[-1][2] == stored[key]
    assert count(conn, "SELECT count(*) FROM events WHERE at > '2022-09-15'") == 0
    first = conn.execute("SELECT min(at) FROM events WHERE entity = 'decision'").fetchone()[0]
    assert first.startswith("2020")


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        ("escalated with a reason", "SELECT count(*) FROM events WHERE action = 'escalated' "
         "AND reason <> ''"),
        ("version 2 with suspect approvals", "SELECT count(*) FROM decisions d JOIN approvals a "
         "ON a.decision = d.key WHERE d.version = 2 AND a.date < d.version_started_at"),
        ("changes requested", "SELECT count(*) FROM approvals WHERE verdict = 'changes_requested'"
         " AND comment <> ''"),
        ("scheduled future demos", "SELECT count(*) FROM demos WHERE held = 0 "
         "AND date > '2022-09-15'"),
        ("overdue proposals", "SELECT count(*) FROM decisions WHERE stage = 'proposed' "
         "AND needed_by < '2022-09-15'"),
        ("severity disagreements", "SELECT count(*) FROM defects "
         "WHERE severity_vendor <> severity_clinical"),
        ("open severity 1-2 defects", "SELECT count(*) FROM defects WHERE status = 'open' "
         "AND min(severity_vendor, severity_clinical) <= 2"),
        ("blocked runs", "SELECT count(*) FROM test_runs WHERE result = 'blocked'"),
        ("test cases never run", "SELECT count(*) FROM test_cases t WHERE NOT EXISTS "
         "(SELECT 1 FROM test_runs r WHERE r.test_case = t.key)"),
        ("joint decisions for all organisations", "SELECT count(*) FROM decisions "
         "WHERE scope = 'joint' AND all_organizations = 1"),
        ("level-2 decisions", "SELECT count(*) FROM decisions d JOIN forums f "
         "ON f.code = d.forum WHERE f.level = 2"),
        ("withdrawn with a reason", "SELECT count(*) FROM decisions WHERE stage = 'withdrawn' "
         "AND withdrawn_reason <> ''"),
        ("viewers", "SELECT count(*) FROM expert_roles WHERE role = 'viewer'"),
        ("steering group members", "SELECT count(*) FROM forum_members WHERE forum = 'STYR'"),
        ("demos in a room", "SELECT count(*) FROM demos WHERE place <> ''"),
        ("demos with a meeting link", "SELECT count(*) FROM demos WHERE meeting_url <> ''"),
        ("demos in the afternoon", "SELECT count(*) FROM demos WHERE start_time >= '12:00'"),
        ("digests sent", "SELECT count(*) FROM notices WHERE kind = 'digest' "
         "AND sent_at IS NOT NULL"),
        ("demo invitations sent with their calendar entry", "SELECT count(*) FROM notices "
         "WHERE kind = 'demo_invitation' AND ics LIKE '%METHOD:REQUEST%'"),
        ("overdue notices sent", "SELECT count(*) FROM notices WHERE kind = 'overdue'"),
    ],
)  # fmt: skip
def test_the_demo_shows(conn, what, sql):
    assert count(conn, sql) > 0, what


@pytest.mark.parametrize(
    ("rule", "sql"),
    [
        ("approvals come from experts of the decision's domain", "SELECT count(*) FROM approvals a"
         " JOIN decisions d ON d.key = a.decision WHERE NOT EXISTS (SELECT 1 FROM expert_domains"
         " e WHERE e.expert = a.expert AND e.domain = d.domain) OR NOT EXISTS (SELECT 1 FROM "
         "expert_roles r WHERE r.expert = a.expert AND r.role = 'expert')"),
        ("held demos have attendees", "SELECT count(*) FROM demos d WHERE held = 1 AND NOT EXISTS"
         " (SELECT 1 FROM demo_attendees a WHERE a.demo = d.key)"),
        ("deciders sit in the deciding forum", "SELECT count(*) FROM decision_deciders dd JOIN "
         "decisions d ON d.key = dd.decision WHERE NOT EXISTS (SELECT 1 FROM forum_members m "
         "WHERE m.forum = d.forum AND m.expert = dd.expert)"),
        ("each decided decision has its versions", "SELECT count(*) FROM decisions d WHERE "
         "d.decided_at IS NOT NULL AND d.version <> (SELECT count(*) FROM decision_versions v "
         "WHERE v.decision = d.key)"),
        ("version 1 has no start", "SELECT count(*) FROM decision_versions WHERE version = 1 "
         "AND started_at IS NOT NULL"),
        ("ready decisions have no open severe defect", "SELECT count(*) FROM decisions d JOIN "
         "defects f ON f.decision = d.key WHERE d.stage = 'ready' AND f.status = 'open' AND "
         "min(f.severity_vendor, f.severity_clinical) <= 2"),
        ("allocations within 10-100", "SELECT count(*) FROM experts "
         "WHERE allocation_pct NOT BETWEEN 10 AND 100"),
        ("experts have 1-3 domains", "SELECT count(*) FROM experts e WHERE (SELECT count(*) "
         "FROM expert_domains d WHERE d.expert = e.email) NOT BETWEEN 1 AND 3"),
    ],
)  # fmt: skip
def test_the_demo_obeys(conn, rule, sql):
    assert count(conn, sql) == 0, rule


def test_each_wave_has_the_default_criteria_with_waivers_at_st_olavs(conn):
    codes = sorted(c[0] for c in DEFAULT_CRITERIA)
    for (wave,) in conn.execute("SELECT code FROM waves").fetchall():
        got = sorted(r[0] for r in conn.execute("SELECT code FROM criteria WHERE wave = ?", (wave,)))  # fmt: skip
        assert got == codes
    assert count(conn, "SELECT count(*) FROM criteria WHERE owner IS NULL") == 0
    waivers = conn.execute(
        "SELECT waiver_until FROM criteria WHERE wave = 'W2' AND waiver_reason <> ''"
    ).fetchall()
    assert any(w[0] > "2022-09-15" for w in waivers) and any(w[0] < "2022-09-15" for w in waivers)
    dates = conn.execute(
        "SELECT count(DISTINCT date) FROM measurements WHERE wave = 'W2' AND criterion = 'R7'"
    ).fetchone()[0]
    assert dates >= 4


def test_st_olavs_readiness_is_mixed(built, tmp_path):
    path = Path(built[0].execute("PRAGMA database_list").fetchone()[2])
    result = cli("readiness", "--db", str(path), "--wave", "W2", "--json")
    assert result.returncode == 0, result.stderr
    (wave,) = json.loads(result.stdout)
    statuses = {c["status"] for c in wave["criteria"]}
    assert {"met", "not_met", "waived"} <= statuses and wave["go"] is False


def test_progress_is_reported_up_to_done(built):
    _, summary, reports = built
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) >= 10
    assert all(isinstance(m, str) and m for _, m in reports)
    assert "300 decisions" in summary


def test_the_same_seed_gives_the_same_database(conn, tmp_path):
    again = store.connect(tmp_path / "again.db")
    demo.build_demo(again, scale=SCALE)
    for table in DUMPED:
        assert dump(again, table) == dump(conn, table), table


def test_another_seed_gives_another_programme(conn, tmp_path):
    other = store.connect(tmp_path / "other.db")
    demo.build_demo(other, scale=SCALE, seed=8)
    assert dump(other, "decisions") != dump(conn, "decisions")


@pytest.mark.parametrize("scale", [0.05, 0.2])
def test_scale_multiplies_the_volume(conn, tmp_path, scale):
    scaled = store.connect(tmp_path / "scaled.db")
    demo.build_demo(scaled, scale=scale)
    assert count(scaled, "SELECT count(*) FROM decisions") == round(3000 * scale)
    ratio = scale / SCALE
    for table in ("approvals", "test_runs", "demo_decisions"):
        assert count(scaled, f"SELECT count(*) FROM {table}") == pytest.approx(
            count(conn, f"SELECT count(*) FROM {table}") * ratio, rel=0.35
        )
    assert services.check(scaled) == []


def test_the_demo_refuses_a_database_with_a_programme(conn):
    with pytest.raises(WorkflowError, match="holds a programme"):
        demo.build_demo(conn, scale=SCALE)


def test_the_command_line_builds_the_same_demo_in_another_process(conn, tmp_path):
    path = tmp_path / "cli.db"
    made = cli("demo", "--db", str(path), "--scale", str(SCALE), hash_seed="12345")
    assert made.returncode == 0, made.stderr
    assert "300 decisions" in made.stdout
    checked = cli("check", "--db", str(path))
    assert checked.returncode == 0, checked.stderr
    with sqlite3.connect(path) as copy:
        for table in DUMPED:
            assert dump(copy, table) == dump(conn, table), table
    again = cli("demo", "--db", str(path), "--scale", str(SCALE))
    assert again.returncode == 1 and "holds a programme" in again.stderr


@pytest.mark.parametrize("day", ["2021-03-01", "2021-11-15", "2022-06-01", "2022-09-15"])
def test_past_stages_are_backed_by_evidence_dated_by_then(conn, day):
    """Time travel: a decision's stage on a past day (its last stage event by then) rests on
    demos, approvals and runs that had happened by then."""
    end = f"{day}T23:59:59"
    as_of = dict(
        conn.execute(
            "SELECT entity_key, to_value FROM events WHERE id IN (SELECT max(id) FROM events "
            "WHERE entity = 'decision' AND action IN ('created', 'stage') AND at <= ? "
            "GROUP BY entity_key)",
            (end,),
        ).fetchall()
    )
    demoed = {r[0] for r in conn.execute(
        "SELECT dd.decision FROM demo_decisions dd JOIN demos d ON d.key = dd.demo "
        "WHERE d.held = 1 AND d.date <= ?", (end,))}  # fmt: skip
    approvers = dict(conn.execute(
        "SELECT decision, count(DISTINCT expert) FROM approvals WHERE verdict = 'approve' "
        "AND date <= ? GROUP BY decision", (end,)).fetchall())  # fmt: skip
    run = {r[0] for r in conn.execute(
        "SELECT c.decision FROM test_case_decisions c JOIN test_runs r "
        "ON r.test_case = c.test_case WHERE r.date <= ?", (end,))}  # fmt: skip
    further = ("demonstrated", "approved", "in_test", "tested", "ready")
    assert as_of, "no decision existed by then"
    for key, stage in as_of.items():
        if stage in further:
            assert key in demoed, (key, stage)
        if stage in further[1:]:
            assert approvers.get(key, 0) >= 2, (key, stage)
        if stage in further[2:]:
            assert key in run, (key, stage)


# The programme in bokmål ----------------------------------------------------------------------

ENGLISH = re.compile(r"\b(the|and|should|with|for the|use)\b", re.IGNORECASE)


def test_what_people_read_is_bokmal(conn):
    """Titles, questions, decisions, rationales, test cases, defects, demo notes and waivers
    read as a Norwegian programme writes them: Norwegian letters, no English sentences."""
    texts = {
        "decision titles": "SELECT title FROM decisions",
        "questions": "SELECT question FROM decisions",
        "decisions": "SELECT decision FROM decisions WHERE decision <> ''",
        "rationales": "SELECT rationale FROM decisions WHERE rationale <> ''",
        "test cases": "SELECT title FROM test_cases",
        "defects": "SELECT title FROM defects",
        "demo notes": "SELECT notes FROM demos WHERE notes <> ''",
        "waivers": "SELECT waiver_reason FROM criteria WHERE waiver_reason IS NOT NULL",
        "modules": "SELECT name FROM modules",
        "forums": "SELECT name FROM forums",
    }
    for what, sql in texts.items():
        found = [r[0] for r in conn.execute(sql)]
        assert found, what
        english = [t for t in found if ENGLISH.search(t)]
        assert not english, (what, english[:3])
        assert any(c in "".join(found) for c in "æøåÆØÅ"), what


def test_decisions_are_worded_as_sentences(conn):
    question, decision = conn.execute(
        "SELECT question, decision FROM decisions WHERE decision <> '' ORDER BY key LIMIT 1"
    ).fetchone()
    assert question.startswith("Hvordan skal vi løse ") and question.endswith("?")
    assert decision.split()[0] in ("Sykehusene", "Kommunene", "Alle") and decision.endswith(".")


@pytest.mark.parametrize(("spelled", "typed"), [("søknad", "soknad"), ("blodprøve", "blodprove")])
def test_the_words_people_search_for_are_there_with_and_without_their_letters(conn, spelled, typed):
    exact, total = screen_queries.search_decisions(conn, screen_queries.RegisterQuery(text=spelled))
    loose, loose_total = screen_queries.search_decisions(
        conn, screen_queries.RegisterQuery(text=typed)
    )
    assert total > 0 and loose_total == total
    assert set(exact["key"]) == set(loose["key"])


def test_alesund_and_roros_are_found_by_name_with_their_decisions(conn):
    for typed, code in (("Aalesund", "ALE"), ("roros", "ROR"), ("Ålesund", "ALE")):
        named = screen_queries.named(conn, typed)
        assert [(n["table"], n["code"]) for n in named] == [("organizations", code)]
        query = screen_queries.RegisterQuery(text=typed, named=(("organizations", code),))
        by_name, total = screen_queries.search_decisions(conn, query)
        by_filter = screen_queries.search_decisions(
            conn, screen_queries.RegisterQuery(organizations=(code,))
        )[1]
        assert total >= by_filter > 0
