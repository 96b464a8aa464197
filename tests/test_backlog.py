"""Backlog analytics on a small programme with known dates: cumulative flow, aging, time per
stage and per escalation level, bottlenecks, proposals past needed-by, expert workload."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from decisions import backlog, evidence, history, services, store
from decisions.store import analytics
from decisions.store import decisions as decision_store

D = dt.date.fromisoformat
APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
TODAY = D("2022-09-15")


def act(conn, email):
    return decision_store.load_actor(conn, email)


def at(conn, day: str) -> None:
    store.put_setting(conn, "clock", day)


@pytest.fixture
def flow(programme, time_of_day):
    """From 2022-09-01: A (needed by 09-05) escalated to the joint group on 09-03, still
    proposed; B decided 09-04, in build 09-06, built 09-10; C (needed by 09-10, owned by
    Kari at 20 %) still proposed. Ola is invited to a demo; the lab expert does nothing.
    Everything happens at 09:00 (a second apart), whatever the hour the tests run at."""
    time_of_day("09:00")
    conn = programme
    fields = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
              "organizations": ["STO"], "criticality": "medium"}  # fmt: skip
    hanne, mona, ana = (act(conn, e) for e in ("hanne@stolav.no", "mona@hemit.no",
                                                "ana@hemit.no"))  # fmt: skip
    at(conn, "2022-09-01")
    a = services.create_decision(conn, hanne, fields | {"title": "A", "needed_by": "2022-09-05"})
    b = services.create_decision(conn, hanne, fields | {"title": "B"})
    c = services.create_decision(conn, hanne, fields | {"title": "C", "needed_by": "2022-09-10",
                                                        "owner": "kari@stolav.no"})  # fmt: skip
    at(conn, "2022-09-03")
    services.escalate(conn, mona, a, to_forum="FBG", reason="affects municipalities")
    at(conn, "2022-09-04")
    services.decide(conn, hanne, b, decision_text="Yes.", decided_by=["hanne@stolav.no"])
    at(conn, "2022-09-06")
    services.set_manual_stage(conn, ana, b, "start_build")
    at(conn, "2022-09-10")
    services.set_manual_stage(conn, ana, b, "mark_built")
    evidence.save_demo(conn, ana, module="MED-ADM", date="2022-09-20", decisions=[b],
                       presenter="ana@hemit.no", invitees=["ola@trondheim.kommune.no"])  # fmt: skip
    conn.execute("UPDATE experts SET allocation_pct = 20 WHERE email = 'kari@stolav.no'")
    at(conn, "2022-09-15")
    programme_ = history.prepare(analytics.load_readiness_tables(conn))
    base, decisions = backlog.load_current(conn, TODAY)
    return programme_, base, decisions, {"a": a, "b": b, "c": c}


def rows(frame, key: str) -> dict:
    return {r[key]: r for r in frame.to_dict("records")}


def test_cumulative_flow(flow):
    programme, *_ = flow
    counts = backlog.cumulative_flow(programme, TODAY, weeks=2)
    table = counts.pivot(index="date", columns="stage", values="count")
    assert table.loc[D("2022-09-01"), "proposed"] == 3  # the whole day counts
    assert (
        table.loc[D("2022-09-08"), "proposed"] == 2 and table.loc[D("2022-09-08"), "in_build"] == 1
    )
    assert table.loc[TODAY, "built"] == 1 and table.loc[TODAY].sum() == 3


def test_the_flow_of_recent_weeks_needs_only_their_events(flow, programme):
    whole, *_ = flow
    assert backlog.load_flow(programme, TODAY, 2).equals(
        backlog.cumulative_flow(whole, TODAY, weeks=2)
    )


def test_decisions_as_of_a_past_date_with_their_stage_and_since_when(flow, programme):
    _, _, _, keys = flow
    _, then = backlog.load_current(programme, D("2022-09-05"))
    found = {
        r["key"]: (r["stage"], r["since"][:10], r["days_in_stage"]) for r in then.to_dict("records")
    }
    assert found[keys["b"]][:2] == ("decided", "2022-09-04")  # built later: not yet
    assert found[keys["c"]][:2] == ("proposed", "2022-09-01")
    # from 09:00 on the day it entered the stage to the end of 2022-09-05
    assert (found[keys["b"]][2], found[keys["c"]][2]) == (1.6, 4.6)


def test_aging_per_stage(flow):
    _, _, decisions, _ = flow
    aged = rows(backlog.aging(decisions), "stage")
    assert set(aged) == {"proposed", "built"}
    # Days from 09:00 on the day it entered the stage to the end of TODAY.
    assert (aged["proposed"]["count"], aged["proposed"]["median_days"]) == (2, 14.6)
    assert (aged["built"]["count"], aged["built"]["max_days"]) == (1, 5.6)


def test_time_per_stage(flow):
    programme, *_ = flow
    spent = rows(backlog.time_per_stage(programme.tables["stage_events"]), "stage")
    assert set(spent) == {"proposed", "decided", "in_build"}  # the stages something has left
    assert [round(spent[s]["median_days"]) for s in ("proposed", "decided", "in_build")] == [
        3,
        2,
        4,
    ]


def test_time_per_escalation_level(flow):
    programme, extra, *_ = flow
    levels = rows(backlog.time_per_level(programme.tables["stage_events"], extra), "level")
    # level 1: A 2 days before escalation, B 3 days before its decision; C still there
    assert (levels[1]["count"], round(levels[1]["median_days"], 1), levels[1]["still_there"]) == (
        2, 2.5, 1)  # fmt: skip
    assert levels[1]["p85_days"] == pytest.approx(2.85, abs=0.06)
    assert (levels[2]["count"], levels[2]["still_there"]) == (0, 1)  # A waits at level 2


def test_proposals_past_needed_by(flow):
    _, _, decisions, keys = flow
    late = backlog.overdue(decisions, TODAY)
    assert list(late["key"]) == [keys["a"], keys["c"]]
    assert list(late["days_overdue"]) == [10, 5]


@pytest.mark.parametrize(
    "by, expected",
    [
        ("domain", {"MED": (3, 2, 2)}),
        ("forum", {"FBG": (1, 1, 1), "MED-H": (2, 1, 1)}),
    ],
)
def test_bottlenecks(flow, by, expected):
    _, _, decisions, _ = flow
    found = backlog.bottlenecks(decisions, TODAY, by)
    assert {r[by]: (r["open"], r["proposed"], r["overdue"]) for r in found.to_dict("records")} == (
        expected
    )
    assert list(found[by])[0] == ("FBG" if by == "forum" else "MED")  # most overdue first


def test_workload_against_allocation(flow, programme):
    _, _, decisions, _ = flow
    people = rows(backlog.load_workload(programme, decisions, TODAY), "email")
    kari, ola, lab = (people[e] for e in ("kari@stolav.no", "ola@trondheim.kommune.no",
                                          "lab@stolav.no"))  # fmt: skip
    assert (kari["owned_open"], kari["proposals_in_forums"], kari["per_fte"]) == (1, 1, 10.0)
    assert kari["flag"] == "overloaded"
    assert (ola["demo_invitations"], ola["flag"]) == (1, "")
    assert (lab["open_items"], lab["flag"]) == (0, "idle")
    assert "ana@hemit.no" not in people  # analysts are not counted as experts here


def test_idle_is_little_waiting_for_the_allocation_and_nothing_done_lately():
    """Open items are owned decisions only here: per FTE 8, 8, 8, 1, 1, 2 (median 5)."""
    people = {"a": (100, 8), "b": (50, 4), "c": (100, 8), "d": (100, 1), "e": (100, 1),
              "f": (50, 1)}  # fmt: skip
    owned = [(f"{e}{i}", e) for e, (_, n) in people.items() for i in range(n)]
    tables = {
        "experts": pd.DataFrame(
            [(e, e.upper(), "STO", pct, 1) for e, (pct, _) in people.items()],
            columns=["email", "name", "organization", "allocation_pct", "active"],
        ),
        "expert_roles": pd.DataFrame({"expert": list(people), "role": "expert"}),
        "expert_domains": pd.DataFrame(columns=["expert", "domain"]),
        "forum_members": pd.DataFrame(columns=["forum", "expert"]),
        "demo_invitees": pd.DataFrame(columns=["demo", "expert"]),
        "approvals": pd.DataFrame(columns=["expert", "decision"]),
        "actor_events": pd.DataFrame({"actor": ["e"], "at": ["2022-09-10T10:00:00"]}),
    }
    decisions = pd.DataFrame(
        {
            "key": [k for k, _ in owned],
            "owner": [e for _, e in owned],
            "stage": "in_build",
            "forum": "MED-H",
            "domain": "MED",
        }  # fmt: skip
    )
    flags = dict(backlog.workload(tables, decisions, TODAY)[["email", "flag"]].to_numpy())
    # d: 1 per FTE, at most a quarter of 5; e did something lately; f: 2 per FTE, more
    assert flags == {"a": "", "b": "", "c": "", "d": "idle", "e": "", "f": ""}


# The page -----------------------------------------------------------------------------------------

TABS = {  # tab: (charts, tables) it draws
    "Cumulative flow": (1, 0),
    "Aging": (1, 1),
    "Time per stage": (2, 2),
    "Bottlenecks": (1, 1),
    "Past needed-by": (0, 1),
    "Workload": (1, 1),
}


def test_the_page_runs_only_the_chosen_tab(flow, programme, db_path, monkeypatch):
    store.put_setting(programme, "demo", True)  # to sign in from the sidebar
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.sidebar.selectbox[0].set_value("vera@hemit.no").run()
    at.switch_page("pages/backlog.py").run()
    assert [t.label for t in at.tabs] == list(TABS)
    for tab, (charts, tables) in TABS.items():
        at.session_state["backlog_tab"] = tab
        at.run()
        assert not at.exception, (tab, at.exception)
        assert (len(at.get("vega_lite_chart")), len(at.dataframe)) == (charts, tables), tab
    at.session_state["backlog_tab"] = "Past needed-by"
    at.run()
    assert list(at.dataframe[0].value["Title"]) == ["A", "C"]  # headers in words


def test_a_hidden_tab_keeps_its_choices(flow, programme, db_path, monkeypatch):
    store.put_setting(programme, "demo", True)
    monkeypatch.setenv("DECISIONS_DB", str(db_path))
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.sidebar.selectbox[0].set_value("vera@hemit.no").run()
    at.switch_page("pages/backlog.py").run()
    assert at.slider(key="backlog_weeks").value == 26
    at.slider(key="backlog_weeks").set_value(50).run()
    at.session_state["backlog_tab"] = "Bottlenecks"
    at.run()
    at.segmented_control(key="backlog_by").set_value("forum").run()
    for tab in ("Aging", "Cumulative flow", "Bottlenecks"):
        at.session_state["backlog_tab"] = tab
        at.run()
    assert not at.exception
    assert at.segmented_control(key="backlog_by").value == "forum"
    assert "Joint decision group" in list(at.dataframe[0].value["forum"])  # FBG, by its name
    assert at.session_state["backlog_weeks"] == 50
