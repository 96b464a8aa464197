"""Go-live readiness: every metric on a hand-built programme with known answers, criteria
with waivers that expire, reported values with history, forecasts, outlooks, the CLI's JSON."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import drive_decision

from decisions import evidence, history, planning, readiness, store, words
from decisions.readiness import Criterion, CriterionResult, WaveReadiness
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import reference

REPO = Path(__file__).resolve().parents[1]
D = dt.date.fromisoformat


def build_known_programme(conn) -> dict[str, str]:
    """Six decisions made on 2022-09-01, the clock then at 2022-09-15. Wave W1 is STO and TRD,
    W2 is TRD alone. Returns the keys by role:
    k1 critical ready (STO); k2 critical approved (STO), covered by a test case never run;
    k3 proposed, needed by 2022-09-10 (TRD: in both waves); k4 withdrawn (STO);
    k5 in test, failing (ALL organisations); k6 proposed in the lab module (STO).
    Defects: sev 3/1 open on k5's test case; 2/2 open on withdrawn k4; 2/3 on k1 opened
    2022-08-20 and closed 2022-09-10."""
    with store.transaction(conn):
        reference.insert_rows(
            conn, "waves", [{"code": "W2", "name": "Wave 2", "go_live": "2023-02-11"}]
        )
        reference.insert_rows(conn, "wave_organizations", [{"wave": "W2", "organization": "TRD"}])
    store.put_setting(conn, "clock", "2022-09-01")
    keys = {
        "k1": drive_decision(conn, "ready", criticality="critical"),
        "k2": drive_decision(conn, "approved", criticality="critical"),
        "k3": drive_decision(
            conn, "proposed", scope="municipality", organizations=["TRD"], needed_by="2022-09-10"
        ),
        "k4": drive_decision(conn, "withdrawn"),
        "k5": drive_decision(conn, "in_test", organizations=["ALL"], criticality="high"),
        "k6": drive_decision(conn, "proposed", domain="LAB", module="LAB-ORD", forum="LAB-H"),
    }
    tester = decision_store.load_actor(conn, "tess@hemit.no")
    evidence.save_test_case(
        conn, tester, title="Never run", kind="acceptance", decisions=[keys["k2"]]
    )
    k5_case = evidence_store.test_runs_of_decision(conn, keys["k5"])[0]["test_case"]
    evidence.save_defect(
        conn,
        tester,
        title="Wrong dose shown",
        severity_vendor=3,
        severity_clinical=1,
        test_case=k5_case,
    )
    evidence.save_defect(
        conn,
        tester,
        title="On a withdrawn decision",
        severity_vendor=2,
        severity_clinical=2,
        decision=keys["k4"],
    )
    evidence.save_defect(
        conn,
        tester,
        title="Fixed before",
        severity_vendor=2,
        severity_clinical=3,
        decision=keys["k1"],
        status="closed",
        opened="2022-08-20",
        closed="2022-09-10",
    )
    store.put_setting(conn, "clock", "2022-09-15")
    return keys


@pytest.fixture
def known(programme, time_of_day):
    time_of_day("09:00")  # the day's events stay on 2022-09-01 whenever the suite runs
    keys = build_known_programme(programme)
    return programme, keys


def evaluate(conn, as_of: str, wave: str | None = None) -> dict[str, WaveReadiness]:
    tables, results = readiness.assess(conn, D(as_of), wave)
    return {w.wave: w for w in results}


def values(wave: WaveReadiness) -> dict[str, float | None]:
    return {c.code: c.value for c in wave.criteria}


# Metrics --------------------------------------------------------------------------------------

W1_ON_15 = {
    "C1": 50.0,
    "C2": 60.0,
    "C3": 1,
    "C4": 33.33,
    "C4N": 1,
    "C5": 1,
    "C5B": 0,
    "C6": 1,
    "R7": None,
    "R7S": None,
    "R8": None,
    "R8M": None,
}
W2_ON_15 = {
    "C1": None,
    "C2": 50.0,
    "C3": 1,
    "C4": 0.0,
    "C4N": 0,
    "C5": 1,
    "C5B": 0,
    "C6": 0,
    "R7": None,
    "R7S": None,
    "R8": None,
    "R8M": None,
}


def test_every_metric_on_the_known_programme(known):
    conn, _ = known
    waves = evaluate(conn, "2022-09-15")
    assert values(waves["W1"]) == W1_ON_15
    assert values(waves["W2"]) == W2_ON_15


@pytest.mark.parametrize(
    "as_of, code, expected",
    [
        ("2022-09-05", "C3", 0),  # not yet past its needed-by date
        ("2022-09-10", "C3", 0),  # needed by the 10th: overdue only after it
        ("2022-09-11", "C3", 1),
        ("2022-09-05", "C5B", 1),  # closed on the 10th: open before, as a sev-2 (worse rating)
        ("2022-09-09", "C5B", 1),
        ("2022-09-10", "C5B", 0),
        ("2022-08-31", "C2", None),  # nothing created yet
        ("2022-08-31", "C5B", 0),  # the defect was open, but its decision did not exist
        ("2022-08-31", "C4", None),
    ],
)
def test_metrics_as_of_past_dates(known, as_of, code, expected):
    conn, _ = known
    assert values(evaluate(conn, as_of)["W1"])[code] == expected


def test_a_decision_in_two_waves_counts_in_each_and_withdrawn_leaves_scope(known):
    conn, keys = known
    waves = evaluate(conn, "2022-09-15")
    overdue = {w: set(readiness.records(conn, waves[w], "C3")["key"]) for w in ("W1", "W2")}
    assert overdue == {"W1": {keys["k3"]}, "W2": {keys["k3"]}}
    scope = set(waves["W1"].snapshot.decisions["key"])
    assert keys["k4"] not in scope and keys["k5"] in set(waves["W2"].snapshot.decisions["key"])


def test_stages_per_wave_count_each_waves_scope_as_of_the_date(known):
    conn, _ = known
    counts = readiness.stages_per_wave(list(evaluate(conn, "2022-09-15").values()))
    assert {(r.wave, r.stage): r.decisions for r in counts.itertuples()} == {
        ("W1", "ready"): 1, ("W1", "approved"): 1, ("W1", "proposed"): 2, ("W1", "in_test"): 1,
        ("W2", "proposed"): 1, ("W2", "in_test"): 1,
    }  # fmt: skip
    assert readiness.stages_per_wave(list(evaluate(conn, "2022-08-31").values())).empty


@pytest.mark.parametrize(
    "code, expected_keys",
    [
        ("C1", {"k2"}),
        ("C2", {"k3", "k6"}),
        ("C3", {"k3"}),
    ],
)
def test_records_behind_decision_numbers(known, code, expected_keys):
    conn, keys = known
    wave = evaluate(conn, "2022-09-15")["W1"]
    assert set(readiness.records(conn, wave, code)["key"]) == {keys[k] for k in expected_keys}


def test_records_behind_tests_defects_and_modules(known):
    conn, keys = known
    wave = evaluate(conn, "2022-09-15")["W1"]
    cases = readiness.records(conn, wave, "C4")
    assert sorted(cases["result"].fillna("")) == ["", "failed"]  # none: never run
    assert readiness.records(conn, wave, "C4N")["result"].isna().all()
    sev1 = readiness.records(conn, wave, "C5")
    assert list(sev1["title"]) == ["Wrong dose shown"] and bool(sev1["ratings_disagree"][0])
    assert list(readiness.severity_disagreements(conn, wave)["title"]) == ["Wrong dose shown"]
    assert list(readiness.records(conn, wave, "C6")["module"]) == ["LAB-ORD"]


# Criteria: waivers and reported values --------------------------------------------------------


def test_a_waiver_counts_until_it_expires(known, actor):
    conn, _ = known
    planning.save_criterion(
        conn,
        actor("mona@hemit.no"),
        "W1",
        "C4N",
        {"waiver_reason": "Acceptance run planned for week 40", "waiver_until": "2022-09-20"},
    )
    assert evaluate(conn, "2022-09-15")["W1"].result("C4N").status == "waived"
    assert evaluate(conn, "2022-09-20")["W1"].result("C4N").status == "waived"
    assert evaluate(conn, "2022-09-21")["W1"].result("C4N").status == "not_met"
    assert evaluate(conn, "2022-09-15")["W2"].result("C4N").status == "met"  # other wave


@pytest.mark.parametrize(
    "as_of, expected",
    [
        ("2022-09-04", "not_met"),  # before it was granted
        ("2022-09-05", "waived"),  # the day it was granted
        ("2022-09-12", "waived"),
        ("2022-09-15", "waived"),  # the day it expires
        ("2022-09-16", "not_met"),  # after it expired
    ],
)
def test_a_waiver_counts_from_when_it_was_granted_until_it_expires(known, actor, as_of, expected):
    conn, _ = known
    store.put_setting(conn, "clock", "2022-09-05")
    reason = {"waiver_reason": "Acceptance run planned for week 40"}
    planning.save_criterion(conn, actor("mona@hemit.no"), "W1", "C4N",
                            {**reason, "waiver_until": "2022-09-10"})  # fmt: skip
    store.put_setting(conn, "clock", "2022-09-08")  # extending it keeps the grant date
    planning.save_criterion(conn, actor("mona@hemit.no"), "W1", "C4N",
                            {**reason, "waiver_until": "2022-09-15"})  # fmt: skip
    store.put_setting(conn, "clock", "2022-09-20")
    assert evaluate(conn, as_of)["W1"].result("C4N").status == expected


def test_a_waiver_removed_and_granted_again_counts_from_the_new_grant(known, actor):
    conn, _ = known
    mona = actor("mona@hemit.no")
    for day, fields in [
        ("2022-09-02", {"waiver_reason": "first", "waiver_until": "2022-12-01"}),
        ("2022-09-05", {"waiver_reason": "", "waiver_until": None}),
        ("2022-09-10", {"waiver_reason": "again", "waiver_until": "2022-12-01"}),
    ]:
        store.put_setting(conn, "clock", day)
        planning.save_criterion(conn, mona, "W1", "C4N", fields)
    store.put_setting(conn, "clock", "2022-09-15")
    statuses = [evaluate(conn, d)["W1"].result("C4N").status for d in ("2022-09-09", "2022-09-10")]
    assert statuses == ["not_met", "waived"]


def test_reported_criteria_take_the_latest_measurement_up_to_the_date(known, actor):
    conn, _ = known
    mona = actor("mona@hemit.no")
    planning.save_criterion(conn, mona, "W1", "R7", {"owner": "kari@stolav.no"})
    planning.record_measurement(conn, mona, "W1", "R7", value=80, date="2022-09-05")
    planning.record_measurement(
        conn,
        actor("kari@stolav.no"),
        "W1",
        "R7",
        value=92,
        date="2022-09-14",
        evidence_url="https://lms.example/report",
    )
    by_date = {
        d: evaluate(conn, d)["W1"].result("R7") for d in ("2022-09-04", "2022-09-10", "2022-09-15")
    }
    assert [(r.value, r.status) for r in by_date.values()] == [
        (None, "no_data"),
        (80.0, "not_met"),
        (92.0, "met"),
    ]
    assert list(readiness.records(conn, evaluate(conn, "2022-09-15")["W1"], "R7")["value"]) == [
        92,
        80,
    ]


def test_a_wave_without_stored_criteria_uses_the_defaults(known):
    conn, _ = known
    codes = [c.code for c in evaluate(conn, "2022-09-15")["W1"].criteria]
    assert codes == [row[0] for row in readiness.DEFAULT_CRITERIA]


@pytest.mark.parametrize(
    "reason, until, granted, as_of, expected",
    [
        ("agreed", "2022-10-01", "2022-09-10T09:00:00", "2022-09-09", False),
        ("agreed", "2022-10-01", "2022-09-10T09:00:00", "2022-09-10", True),
        ("agreed", "2022-10-01", "2022-09-10T09:00:00", "2022-10-01", True),
        ("agreed", "2022-10-01", "2022-09-10T09:00:00", "2022-10-02", False),
        ("agreed", "2022-10-01", None, "2020-01-01", True),  # grant date unknown
        ("", "2022-10-01", "2022-09-10T09:00:00", "2022-09-20", False),
    ],
)
def test_waiver_active(reason, until, granted, as_of, expected):
    assert readiness.waiver_active(reason, until, D(as_of), granted) is expected


@pytest.mark.parametrize(
    "value, comparator, threshold, reason, until, expected",
    [
        (100, ">=", 100, None, None, "met"),
        (99.99, ">=", 100, None, None, "not_met"),
        (0, "<=", 0, None, None, "met"),
        (3, "<=", 0, "agreed with steering", "2022-10-01", "waived"),
        (3, "<=", 0, "agreed with steering", "2022-09-14", "not_met"),  # expired
        (3, "<=", 0, "agreed with steering", "2022-09-15", "waived"),  # last day
        (3, "<=", 0, "", "2022-10-01", "not_met"),  # no reason, no waiver
        (1, "==", 1, None, None, "met"),
        (0, "==", 1, None, None, "not_met"),
        (None, ">=", 90, None, None, "no_data"),
        (None, ">=", 90, "not measured here", "2022-12-01", "waived"),
        (50, ">=", 90, "met anyway? no", "2022-12-01", "waived"),
    ],
)
def test_status(value, comparator, threshold, reason, until, expected):
    criterion = Criterion(
        "X", "x", "computed", "m", comparator, threshold, waiver_reason=reason, waiver_until=until
    )
    assert readiness.status(value, criterion, D("2022-09-15")) == expected


def test_go_needs_every_criterion_met_or_waived():
    def wave(*states):
        results = tuple(
            CriterionResult(
                Criterion(f"C{i}", "", "computed", "", ">=", 1), None, s, None, "no_data"
            )
            for i, s in enumerate(states)
        )
        return WaveReadiness("W", "W", D("2022-11-12"), D("2022-09-15"), results, None)

    assert wave("met", "waived").go
    assert not wave("met", "not_met").go
    assert not wave("met", "no_data").go
    assert [c.cleared for c in wave("met", "waived", "not_met", "no_data").criteria] == [
        True,
        True,
        False,
        False,
    ]  # fmt: skip  (what Overview counts as "met or waived")


# Forecasts and outlook --------------------------------------------------------------------------


def weekly(*values, end="2022-09-15"):
    days = history.weekly_dates(D(end), len(values) - 1)
    return list(zip(days, values, strict=True))


GO_LIVE = D("2022-11-12")


@pytest.mark.parametrize(
    "trend, comparator, threshold, expected",
    [
        (weekly(50, 60, 70, 80, 90), ">=", 100, "2022-09-22"),  # +10 a week: one more week
        (weekly(10, 20, 30, 40, 50, 60, 70, 80, 90), ">=", 100, "2022-09-22"),  # last 4 weeks
        (weekly(50, 50, 50, 50, 50), ">=", 100, "never"),  # flat
        (weekly(90, 80, 70, 60, 50), ">=", 100, "never"),  # moving away
        (weekly(80, 90, 100, 100, 100), ">=", 100, "met"),
        (weekly(20, 15, 10, 5), "<=", 0, "2022-09-22"),  # counting down by 5 a week
        (weekly(5, 5, 5, 5, 5), "<=", 0, "never"),
        (weekly(0, 0, 0, 0, 0), "==", 1, "never"),  # a rehearsal not yet passed
        (weekly(None, None, None, 40, 60), ">=", 100, "2022-09-29"),  # +20 a week from 60
        (weekly(None, None, None, None, 60), ">=", 100, "too_few_values"),  # no rate
        (weekly(60, 70, 80, 90, None), ">=", 100, "no_data"),  # no value now: no forecast
        (weekly(0.0, 0.0, 0.0, 0.0, 0.01), ">=", 100, "beyond_horizon"),  # decades away
        (weekly(60, 61, 62, 63, 64), ">=", 100, "beyond_horizon"),  # 36 weeks: > 26 after
        (weekly(80, 81, 82, 83, 84), ">=", 100, "2023-01-05"),  # 16 weeks: within the horizon
    ],
)
def test_forecast(trend, comparator, threshold, expected):
    predicted = readiness.forecast(trend, comparator, threshold, GO_LIVE)
    if expected[0].isdigit():
        assert predicted == readiness.Forecast(D(expected), "date")
    else:
        assert predicted == readiness.Forecast(None, expected)


def test_the_horizon_ends_26_weeks_after_go_live():
    assert readiness.horizon(GO_LIVE) == GO_LIVE + dt.timedelta(weeks=26)
    rising = weekly(*range(0, 50, 10))  # 10 a week from 40: 100 six weeks on
    assert readiness.forecast(rising, ">=", 100, GO_LIVE).date == D("2022-10-27")
    on_the_edge = D("2022-10-27") - dt.timedelta(weeks=26)  # the horizon's last day
    assert readiness.forecast(rising, ">=", 100, on_the_edge).date == D("2022-10-27")
    a_day_short = on_the_edge - dt.timedelta(days=1)
    assert readiness.forecast(rising, ">=", 100, a_day_short).code == "beyond_horizon"


@pytest.mark.parametrize(
    "value, state, predicted, expected",
    [
        (100, "met", None, "on_track"),
        (50, "not_met", "2022-10-01", "on_track"),
        (50, "not_met", "2022-11-01", "at_risk"),  # 11 days before go-live
        (50, "not_met", "2022-11-12", "at_risk"),  # on go-live day
        (50, "not_met", "2022-11-26", "at_risk"),  # 14 days late: a push can make it
        (50, "not_met", "2022-11-27", "off_track"),
        (50, "not_met", None, "off_track"),  # never at this rate
        (50, "waived", None, "off_track"),  # a waiver does not change where the trend goes
        (None, "no_data", None, "no_data"),
    ],
)
def test_outlook(value, state, predicted, expected):
    day = D(predicted) if predicted else None
    assert readiness.outlook(value, state, day, D("2022-11-12")) == expected


def test_outlook_text_says_never_plainly():
    assert words.outlook_text("never", None, GO_LIVE) == "never at the recent rate"
    assert words.outlook_text("beyond_horizon", None, GO_LIVE) == (
        "not within 26 weeks after go-live"
    )
    soon = words.outlook_text("date", D("2022-11-02"), GO_LIVE)
    assert soon == "met by 02 Nov 2022 at the recent rate, 10 days before go-live"


def default_criterion(code: str) -> Criterion:
    return next(c for c in readiness.default_criteria() if c.code == code)


def test_trend_and_forecast_follow_progress_week_by_week(programme):
    """Two decisions approved a week for four weeks, of ten in scope: C2 rises 20 points a
    week, so 95 % is forecast two weeks after the last point."""
    store.put_setting(programme, "clock", "2022-08-18")
    pending = [drive_decision(programme, "built") for _ in range(10)]
    for week in range(4):
        store.put_setting(
            programme, "clock", (D("2022-08-18") + dt.timedelta(weeks=week + 1)).isoformat()
        )
        for key in pending[2 * week : 2 * week + 2]:
            _approve(programme, key)
    wave = evaluate(programme, "2022-09-15")["W1"]
    c2 = wave.result("C2")
    assert [v for _, v in c2.trend[-5:]] == [0.0, 20.0, 40.0, 60.0, 80.0]
    assert c2.forecast == D("2022-09-21")  # 15 points at 20 a week: 5.25 days, rounded up
    assert c2.outlook == "on_track"


def _approve(conn, key: str) -> None:
    people = {
        e: decision_store.load_actor(conn, e)
        for e in ("ana@hemit.no", "hanne@stolav.no", "per@stolav.no")
    }
    evidence.save_demo(
        conn,
        people["ana@hemit.no"],
        module="MED-ADM",
        date=None,
        decisions=[key],
        presenter="ana@hemit.no",
        attendees=["hanne@stolav.no"],
    )
    for email in ("hanne@stolav.no", "per@stolav.no"):
        evidence.record_verdict(conn, people[email], key, "approve")


# Burn-up --------------------------------------------------------------------------------------


def test_burn_up_counts_scope_approved_and_ready(known):
    conn, _ = known
    programme, results = readiness.assess(conn, D("2022-09-15"), "W1", weeks=4)
    series = readiness.burn_up(programme, results[0], 4).pivot(
        index="date", columns="series", values="count"
    )
    assert series.loc[D("2022-09-15")].to_dict() == {
        "approved or further": 3,
        "ready": 1,
        "scope": 5,
    }
    ahead = readiness.burn_up_forecast(readiness.burn_up(programme, results[0], 4), D("2022-11-12"))
    assert set(ahead["date"]) == {D("2022-09-15"), D("2022-11-12")}
    assert ahead["count"].max() <= 5


# The command line -------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "decisions", "readiness", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json_equals_the_evaluation(known, db_path):
    conn, _ = known
    done = run_cli("--db", str(db_path), "--json", "--as-of", "2022-09-15")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == [w.as_json() for w in evaluate(conn, "2022-09-15").values()]
    w1 = printed[0]
    assert set(w1) == {"wave", "name", "go_live", "as_of", "go", "criteria"}
    assert set(w1["criteria"][0]) == {
        "code",
        "name",
        "kind",
        "metric",
        "comparator",
        "threshold",
        "value",
        "status",
        "forecast",
    }
    assert {c["code"]: c["value"] for c in w1["criteria"]} == W1_ON_15
    assert w1["go"] is False and w1["as_of"] == "2022-09-15"


def test_cli_defaults_to_the_programme_clock_and_filters_a_wave(known, db_path):
    done = run_cli("--db", str(db_path), "--json", "--wave", "W2")
    printed = json.loads(done.stdout)
    assert [w["wave"] for w in printed] == ["W2"] and printed[0]["as_of"] == "2022-09-15"
    text = run_cli("--db", str(db_path), "--wave", "W2")
    assert text.returncode == 0 and "NO GO" in text.stdout and "C3" in text.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--wave", "W9"], "unknown wave 'W9'"),
        (["--as-of", "2022-13-01"], "is not a date"),
        (["--as-of", "yesterday"], "is not a date"),
    ],
)
def test_cli_rejects_an_unknown_wave_or_a_bad_date(known, db_path, args, message):
    done = run_cli("--db", str(db_path), *args)
    assert done.returncode == 1 and message in done.stderr and done.stdout == ""
