"""Property: whatever random people do to a small programme, in whatever order, every stored
stage equals the stage the evidence gives (check finds nothing), the event log only grows,
and a refused action leaves the database exactly as it was."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import PEOPLE, build_small_programme, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decisions import evidence, services, store
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store

EXPERTS = [e for e, (_, _, roles, _) in PEOPLE.items() if "expert" in roles]
KINDS = {
    "MED": {"domain": "MED", "module": "MED-ADM", "forum": "MED-H"},
    "LAB": {"domain": "LAB", "module": "LAB-ORD", "forum": "LAB-H"},
}


def propose(conn, who, key, n):
    fields = KINDS["LAB" if n % 5 == 0 else "MED"] | {
        "title": f"Decision {n}",
        "scope": ("hospital", "joint", "municipality")[n % 3],
        "criticality": ("medium", "critical", "high")[n % 3],
        # the organisations of the scope's side (services.scope_problems)
        "organizations": (["STO"], ["STO", "TRD"], ["TRD"])[n % 3],
    }
    services.create_decision(conn, who, fields)


def decide(conn, who, key, n):
    members = sorted(decision_store.forum_member_emails(conn, get(conn, key)["forum"]))
    deciders = members[: 1 + n % 2] or [who.email]
    services.decide(conn, who, key, decision_text=f"Decided {n}.", decided_by=deciders)


def escalate(conn, who, key, n):
    to_forum = ("FBG", "STEER", "MED-M")[n % 3]
    services.escalate(conn, who, key, to_forum=to_forum, reason="needs a wider view")


def manual(action):
    def take(conn, who, key, n):
        services.set_manual_stage(conn, who, key, action, reason="no longer needed" * (n % 2))

    return take


def revise(conn, who, key, n):
    services.revise(conn, who, key, decision_text=f"Revised {n}.", reason="new facts")


def edit(conn, who, key, n):
    change = ({"title": f"Renamed {n}"}, {"criticality": ("critical", "low")[n % 2]},
              {"scope": ("joint", "hospital")[n % 2]})[n % 3]  # fmt: skip
    services.edit_decision(conn, who, key, change)


def demo(conn, who, key, n):
    evidence.save_demo(conn, who, module=get(conn, key)["module"], date=None, decisions=[key],
                       presenter=who.email, attendees=[EXPERTS[n % len(EXPERTS)]])  # fmt: skip


def verdict(kind):
    def give(conn, who, key, n):
        evidence.record_verdict(conn, who, key, kind, comment="see the demo notes")

    return give


def add_test_case(conn, who, key, n):
    evidence.save_test_case(conn, who, title=f"Case {n}", kind="integrated", decisions=[key])


def run_test(conn, who, key, n):
    cases = conn.execute("SELECT test_case FROM test_case_decisions WHERE decision = ?", (key,))
    case = next(iter(cases), None)
    if case is None:
        return add_test_case(conn, who, key, n)
    evidence.record_test_run(conn, who, test_case=case[0], result=("passed", "failed")[n % 3 // 2])


def defect(conn, who, key, n):
    evidence.save_defect(conn, who, title=f"Defect {n}", severity_vendor=1 + n % 4,
                         severity_clinical=4 - n % 4, decision=key,
                         status=("open", "closed")[n % 2])  # fmt: skip


def tick(conn, who, key, n):
    clock = dt.date.fromisoformat(store.get_settings(conn)["clock"]) + dt.timedelta(days=1)
    with store.transaction(conn):
        store.put_setting(conn, "clock", clock.isoformat())


ACTIONS = {
    "propose": propose,
    "decide": decide,
    "escalate": escalate,
    "start_build": manual("start_build"),
    "mark_built": manual("mark_built"),
    "mark_ready": manual("mark_ready"),
    "withdraw": manual("withdraw"),
    "revise": revise,
    "edit": edit,
    "demo": demo,
    "approve": verdict("approve"),
    "request_changes": verdict("changes_requested"),
    "test_case": add_test_case,
    "test_run": run_test,
    "defect": defect,
    "tick": tick,
}
# Two steps in three take the next natural action of the decision's stage, by someone who may,
# so that runs reach the later stages; the rest are anything by anyone.
NATURAL = {
    "proposed": ("decide", ["mona@hemit.no", "hanne@stolav.no"]),
    "decided": ("start_build", ["ana@hemit.no"]),
    "in_build": ("mark_built", ["ana@hemit.no"]),
    "built": ("demo", ["ana@hemit.no"]),
    "demonstrated": ("approve", ["hanne@stolav.no", "ola@trondheim.kommune.no", "per@stolav.no",
                                 "kari@stolav.no", "lab@stolav.no"]),
    "approved": ("test_run", ["tess@hemit.no"]),
    "in_test": ("test_run", ["tess@hemit.no"]),
    "tested": ("mark_ready", ["mona@hemit.no"]),
}  # fmt: skip
STEP = st.tuples(
    st.sampled_from(["natural"] * 2 * len(ACTIONS) + sorted(ACTIONS)),
    st.sampled_from(sorted(PEOPLE)),
    st.integers(min_value=0, max_value=2),  # which decision
    st.integers(min_value=0, max_value=11),  # which variant of the action, or who
)


def choose(conn, step) -> tuple[str, str, str]:
    """(action, actor email, decision key) of a drawn step."""
    action, email, which, n = step
    keys = [r[0] for r in conn.execute("SELECT key FROM decisions ORDER BY key")]
    key = keys[which % len(keys)]
    if action == "natural":
        action, people = NATURAL.get(get(conn, key)["stage"], ("propose", ["hanne@stolav.no"]))
        email = people[n % len(people)]
    return action, email, key


def get(conn, key):
    return decision_store.get_decision(conn, key)


def events(conn):
    return [tuple(r) for r in conn.execute("SELECT * FROM events ORDER BY id")]


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """The small programme with one proposal, built once and copied for each example."""
    path = tmp_path_factory.mktemp("properties") / "template.db"
    conn = store.connect(path)
    build_small_programme(conn)
    propose(conn, decision_store.load_actor(conn, "hanne@stolav.no"), None, 3)
    conn.close()
    return path


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(steps=st.lists(STEP, min_size=5, max_size=25))
def test_random_work_keeps_the_programme_consistent(template, steps):
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template, Path(folder) / "programme.db")
        conn = store.connect(Path(folder) / "programme.db")
        log = events(conn)
        for step in steps:
            action, email, key = choose(conn, step)
            before = snapshot(conn)
            try:
                ACTIONS[action](conn, decision_store.load_actor(conn, email), key, step[-1])
            except WorkflowError:
                assert snapshot(conn) == before, f"refused {action} by {email} wrote something"
            assert services.check(conn) == [], f"after {action} by {email}"
            now = events(conn)
            assert now[: len(log)] == log, "an earlier event changed"
            log = now
        import hypothesis

        for (st_,) in conn.execute("SELECT stage FROM decisions"):
            hypothesis.event(st_)
        conn.close()
