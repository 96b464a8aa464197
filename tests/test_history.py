"""The programme as of a date: stages rebuilt from the event log (before and after a revision
and a withdrawal), evidence dated by then, defects open then, and each wave's scope."""

import datetime as dt

import numpy as np
import pytest
from conftest import drive_decision

from decisions import evidence, history, services, store
from decisions.store import analytics, reference
from decisions.store import decisions as decision_store

D = dt.date.fromisoformat
DAYS = [D("2022-08-30") + dt.timedelta(days=n) for n in range(20)]


def people(conn) -> dict:
    emails = ("mona@hemit.no", "tess@hemit.no", "hanne@stolav.no")
    return {e.split("@")[0]: decision_store.load_actor(conn, e) for e in emails}


@pytest.fixture
def story(programme, time_of_day):
    """On 09-01: a approved, b proposed (TRD), c ready (ALL). On 09-05 d is created; on 09-10
    a is revised (back to decided) and b withdrawn; on 09-12 d is approved. Written at 09:00,
    so that each day's events stay on their day whenever the suite runs (at 23:59 they would
    spill into the next day as real midnight passes)."""
    time_of_day("09:00")
    conn = programme
    store.put_setting(conn, "clock", "2022-09-01")
    keys = {
        "a": drive_decision(conn, "approved"),
        "b": drive_decision(conn, "proposed", scope="municipality", organizations=["TRD"]),
        "c": drive_decision(conn, "ready", organizations=["ALL"]),
    }
    store.put_setting(conn, "clock", "2022-09-05")
    keys["d"] = drive_decision(conn, "built")
    store.put_setting(conn, "clock", "2022-09-10")
    who = people(conn)
    services.revise(conn, who["mona"], keys["a"], decision_text="Three nurses sign.",
                    reason="new guideline")  # fmt: skip
    services.set_manual_stage(conn, who["mona"], keys["b"], "withdraw", reason="duplicate")
    store.put_setting(conn, "clock", "2022-09-12")
    _demonstrate_and_approve(conn, keys["d"])
    store.put_setting(conn, "clock", "2022-09-18")
    return conn, keys


def _demonstrate_and_approve(conn, key: str) -> None:
    ana = decision_store.load_actor(conn, "ana@hemit.no")
    evidence.save_demo(conn, ana, module="MED-ADM", date=None, decisions=[key],
                       presenter="ana@hemit.no", attendees=["hanne@stolav.no"])  # fmt: skip
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(conn, decision_store.load_actor(conn, email), key, "approve")


def load(conn, since: dt.date | None = None) -> history.Programme:
    return history.prepare(analytics.load_readiness_tables(conn, since), since)


def forward_stages(conn, day: dt.date) -> dict[str, str]:
    """The definition: the to_value of each decision's last created/stage event by then."""
    rows = conn.execute(
        "SELECT entity_key, to_value FROM events WHERE entity = 'decision' "
        "AND action IN ('created', 'stage') AND substr(at, 1, 10) <= ? ORDER BY at, id",
        (day.isoformat(),),
    )
    return dict(rows.fetchall())


def replayed(programme: history.Programme, day: dt.date) -> dict[str, str]:
    codes = history.stages_on(programme, day)
    keys = programme.decisions["key"]
    return {k: history.ALL_STAGES[c] for k, c in zip(keys, codes, strict=True) if c >= 0}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_stages_replayed_back_from_the_stored_ones_match_the_event_log(story, day):
    conn, _ = story
    assert replayed(load(conn), day) == forward_stages(conn, day)


@pytest.mark.parametrize("day", DAYS[5:], ids=str)
def test_loading_only_recent_events_gives_the_same_stages(story, day):
    conn, _ = story
    assert replayed(load(conn, D("2022-09-04")), day) == forward_stages(conn, day)


def test_a_date_before_the_loaded_events_is_refused(story):
    conn, _ = story
    with pytest.raises(ValueError, match="loaded from 2022-09-04"):
        history.stages_on(load(conn, D("2022-09-04")), D("2022-09-03"))


@pytest.mark.parametrize(
    "day, expected",
    [
        ("2022-08-31", {}),  # nothing created yet
        ("2022-09-01", {"a": "approved", "b": "proposed", "c": "ready"}),
        ("2022-09-09", {"a": "approved", "b": "proposed", "c": "ready", "d": "built"}),
        ("2022-09-10", {"a": "decided", "b": "withdrawn", "c": "ready", "d": "built"}),
        ("2022-09-12", {"a": "decided", "b": "withdrawn", "c": "ready", "d": "approved"}),
    ],
)
def test_stages_before_and_after_the_revision(story, day, expected):
    conn, keys = story
    assert replayed(load(conn), D(day)) == {keys[k]: stage for k, stage in expected.items()}


@pytest.mark.parametrize(
    "wave, day, expected",
    [
        ("W1", "2022-09-01", {"a", "b", "c"}),
        ("W1", "2022-09-10", {"a", "c", "d"}),  # b withdrawn: out of scope
        ("W2", "2022-09-01", {"b", "c"}),  # b is TRD's, c is everyone's
        ("W2", "2022-09-10", {"c"}),
    ],
)
def test_wave_scope_follows_organisations_and_leaves_out_the_withdrawn(story, wave, day, expected):
    conn, keys = story
    with store.transaction(conn):
        reference.insert_rows(conn, "waves", [{"code": "W2", "name": "Trondheim",
                                               "go_live": "2022-05-07"}])  # fmt: skip
        reference.insert_rows(conn, "wave_organizations", [{"wave": "W2", "organization": "TRD"}])
    snap = history.snapshot(load(conn), D(day), wave)
    assert set(snap.decisions["key"]) == {keys[k] for k in expected}


def test_a_decision_in_two_waves_is_in_both_scopes(story):
    conn, keys = story
    programme = load(conn)
    b = list(programme.decisions["key"]).index(keys["b"])
    assert programme.scope["W1"][b]  # W1 holds STO and TRD


def test_stage_counts_over_time_agree_with_each_days_replay(story):
    conn, _ = story
    programme = load(conn)
    counts = history.stage_counts_over(programme, DAYS)
    for day in DAYS:
        stages = history.stages_on(programme, day)
        expected = {s: int(np.count_nonzero(stages == c)) for s, c in history.STAGE_CODE.items()}
        assert counts.loc[day].to_dict() == expected, day


def test_test_runs_count_by_their_own_date(story):
    conn, keys = story
    tess = people(conn)["tess"]
    case = evidence.save_test_case(conn, tess, title="Sign", kind="application",
                                   decisions=[keys["d"]])  # fmt: skip
    evidence.record_test_run(conn, tess, test_case=case, result="failed", date="2022-09-14")
    evidence.record_test_run(conn, tess, test_case=case, result="passed", date="2022-09-16")
    programme = load(conn)
    by_day = {}
    for day in ("2022-09-17", "2022-09-18", "2022-09-20"):
        cases = history.snapshot(programme, D(day)).test_cases
        by_day[day] = cases[cases["key"] == case]
    # created on the 18th (the clock), with runs dated the 14th and 16th
    assert [list(frame["result"]) for frame in by_day.values()] == [[], ["passed"], ["passed"]]
    assert list(by_day["2022-09-18"]["run_date"]) == ["2022-09-16"]
    results, run_days = history.case_results_on(programme, D("2022-09-15"))
    position = list(programme.tables["test_cases"]["key"]).index(case)
    assert (results[position], run_days[position]) == (1, D("2022-09-14").toordinal())


DEFECTS = [
    # status, opened, closed
    ("open", "2022-09-02", None),
    ("fixed", "2022-09-02", "2022-09-08"),
    ("closed", "2022-09-04", "2022-09-12"),
    ("deferred", "2022-09-02", None),
    ("closed", "2022-09-02", None),  # closed without a date: never counted as open
]


@pytest.mark.parametrize(
    "day, open_rows",
    [
        ("2022-09-01", []),
        ("2022-09-03", [0, 1]),
        ("2022-09-07", [0, 1, 2]),
        ("2022-09-08", [0, 2]),  # closed on the 8th: no longer open at its end
        ("2022-09-12", [0]),
        ("2022-09-18", [0]),
    ],
)
def test_defects_open_on_a_date(story, day, open_rows):
    conn, keys = story
    tess = people(conn)["tess"]
    made = [evidence.save_defect(conn, tess, title=f"Defect {n}", severity_vendor=2,
                                 severity_clinical=2, status=status, decision=keys["c"],
                                 opened=opened, closed=closed)
            for n, (status, opened, closed) in enumerate(DEFECTS)]  # fmt: skip
    programme = load(conn)
    open_keys = set(programme.tables["defects"]["key"][history.defects_open_on(programme, D(day))])
    assert open_keys == {made[n] for n in open_rows}
