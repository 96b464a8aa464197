"""Planning use cases: re-plan a wave, save a criterion (threshold, owner, waiver), record a
measurement. Each is one transaction with its events; refusals write nothing."""

import datetime as dt

import pytest
from conftest import snapshot

from decisions import planning, store
from decisions.model import NotFound, StaleRecord, WorkflowError
from decisions.readiness import DEFAULT_CRITERIA
from decisions.store import analytics


def events(conn, entity: str) -> list[dict]:
    """The entity's events, less those sealing the fixture's rows (written without events)."""
    return store.rows(conn, "SELECT * FROM events WHERE entity = ? AND action <> 'sealed' "
                      "ORDER BY id", (entity,))  # fmt: skip


# Re-planning ------------------------------------------------------------------------------------


def test_replan_moves_go_live_and_keeps_the_history(programme, actor):
    planning.replan_wave(programme, actor("mona@hemit.no"), "W1", go_live="2023-05-13",
                         reason="St. Olavs postponed", row_version=1)  # fmt: skip
    assert analytics.get_wave(programme, "W1")["go_live"] == "2023-05-13"
    history = analytics.wave_replans(programme).to_dict("records")
    assert [(h["old_go_live"], h["new_go_live"], h["reason"], h["replanned_by"])
            for h in history] == [("2022-11-12", "2023-05-13", "St. Olavs postponed",
                                   "mona@hemit.no")]  # fmt: skip
    [logged] = events(programme, "wave")
    assert (logged["action"], logged["from_value"], logged["to_value"], logged["reason"]) == (
        "replanned", "2022-11-12", "2023-05-13", "St. Olavs postponed")  # fmt: skip
    assert store.verify_event_log(programme) == []


@pytest.mark.parametrize(
    "who, fields, error",
    [
        ("hanne@stolav.no", {"go_live": "2023-01-01", "reason": "x"}, "needs the role manager"),
        ("ana@hemit.no", {"go_live": "2023-01-01", "reason": "x"}, "needs the role manager"),
        ("mona@hemit.no", {"go_live": "2023-01-01", "reason": "  "}, "reason is required"),
        ("mona@hemit.no", {"go_live": "", "reason": "x"}, "give the new go-live date"),
        ("mona@hemit.no", {"go_live": "13/01/2023", "reason": "x"}, "must be a date"),
        ("mona@hemit.no", {"go_live": "2022-11-12", "reason": "x"}, "goes live on 2022-11-12"),
    ],
)
def test_replan_refusals_write_nothing(programme, actor, who, fields, error):
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=error):
        planning.replan_wave(programme, actor(who), "W1", **fields)
    assert snapshot(programme) == before


def test_replan_of_a_stale_form_or_unknown_wave_is_refused(programme, actor):
    mona = actor("mona@hemit.no")
    planning.replan_wave(programme, mona, "W1", go_live="2023-01-01", reason="a", row_version=1)
    with pytest.raises(StaleRecord):
        planning.replan_wave(programme, mona, "W1", go_live="2023-02-01", reason="b",
                             row_version=1)  # fmt: skip
    with pytest.raises(NotFound):
        planning.replan_wave(programme, mona, "W9", go_live="2023-02-01", reason="b")
    assert len(analytics.wave_replans(programme)) == 1


# Criteria ---------------------------------------------------------------------------------------


def criteria(conn) -> dict[str, dict]:
    return {r["code"]: r for r in store.rows(conn, "SELECT * FROM criteria WHERE wave = 'W1'")}


def test_the_first_edit_stores_the_default_set_then_changes_one(programme, actor):
    changed = planning.save_criterion(programme, actor("mona@hemit.no"), "W1", "C5B",
                                      {"threshold": 5, "owner": "kari@stolav.no"})  # fmt: skip
    assert changed == ["owner", "threshold"]
    stored = criteria(programme)
    assert list(stored) == [row[0] for row in DEFAULT_CRITERIA]
    assert (stored["C5B"]["threshold"], stored["C5B"]["owner"]) == (5, "kari@stolav.no")
    logged = events(programme, "criterion")
    assert len(logged) == len(DEFAULT_CRITERIA) + 2
    assert {e["action"] for e in logged[-2:]} == {"edited:threshold", "edited:owner"}


def test_a_waiver_needs_reason_and_expiry_and_is_logged(programme, actor):
    mona = actor("mona@hemit.no")
    with pytest.raises(WorkflowError, match="both a reason and an expiry"):
        planning.save_criterion(programme, mona, "W1", "C4N", {"waiver_reason": "later"})
    planning.save_criterion(programme, mona, "W1", "C4N",
                            {"waiver_reason": "regression in October",
                             "waiver_until": "2022-10-31"})  # fmt: skip
    assert criteria(programme)["C4N"]["waiver_until"] == "2022-10-31"
    assert events(programme, "criterion")[-1]["action"] == "waived"
    planning.save_criterion(programme, mona, "W1", "C4N",
                            {"waiver_reason": "", "waiver_until": None})  # fmt: skip
    assert criteria(programme)["C4N"]["waiver_reason"] is None
    assert events(programme, "criterion")[-1]["action"] == "waiver_removed"


def test_saving_an_unchanged_criterion_changes_nothing(programme, actor):
    mona = actor("mona@hemit.no")
    planning.save_criterion(programme, mona, "W1", "C3", {"threshold": 0})
    before = snapshot(programme)
    assert planning.save_criterion(programme, mona, "W1", "C3", {"threshold": 0}) == []
    assert snapshot(programme) == before


def test_a_new_criterion_can_be_added(programme, actor):
    planning.save_criterion(programme, actor("admin@hemit.no"), "W1", "X1",
                            {"name": "Interfaces verified", "kind": "reported",
                             "metric": "interfaces_verified_pct", "comparator": ">=",
                             "threshold": 100})  # fmt: skip
    assert criteria(programme)["X1"]["kind"] == "reported"


@pytest.mark.parametrize(
    "who, code, fields, error",
    [
        ("hanne@stolav.no", "C1", {"threshold": 90}, "needs the role manager"),
        ("mona@hemit.no", "C1", {"comparator": ">"}, "comparator must be one of"),
        ("mona@hemit.no", "C1", {"threshold": "lots"}, "threshold must be a number"),
        ("mona@hemit.no", "C1", {"threshold": float("nan")}, "finite number"),
        ("mona@hemit.no", "C1", {"owner": "nobody@example.org"}, "not in the directory"),
        ("mona@hemit.no", "C1", {"metric": "happiness"}, "not a computed metric"),
        ("mona@hemit.no", "C1", {"waiver_reason": "x", "waiver_until": "soon"}, "must be a date"),
        (
            "mona@hemit.no",
            "X2",
            {"name": "New", "kind": "reported", "metric": "m"},
            "comparator must be one of",
        ),
    ],
)
def test_criterion_refusals_write_nothing(programme, actor, who, code, fields, error):
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=error):
        planning.save_criterion(programme, actor(who), "W1", code, fields)
    assert snapshot(programme) == before


def test_a_stale_criterion_form_is_refused(programme, actor):
    mona = actor("mona@hemit.no")
    planning.save_criterion(programme, mona, "W1", "C1", {"threshold": 99})
    version = criteria(programme)["C1"]["row_version"]
    planning.save_criterion(programme, mona, "W1", "C1", {"threshold": 98}, row_version=version)
    with pytest.raises(StaleRecord):
        planning.save_criterion(programme, mona, "W1", "C1", {"threshold": 97},
                                row_version=version)  # fmt: skip


# Measurements -----------------------------------------------------------------------------------


@pytest.fixture
def owned(programme, actor):
    planning.save_criterion(programme, actor("mona@hemit.no"), "W1", "R7",
                            {"owner": "kari@stolav.no"})  # fmt: skip
    return programme


def test_the_owner_records_a_measurement_with_its_evidence(owned, actor):
    number = planning.record_measurement(owned, actor("kari@stolav.no"), "W1", "R7", value="87.5",
                                         date="2022-09-14",
                                         evidence_url="https://lms.example/r")  # fmt: skip
    [row] = store.rows(owned, "SELECT * FROM measurements")
    assert (row["id"], row["date"], row["value"], row["reported_by"], row["evidence_url"]) == (
        number, "2022-09-14", 87.5, "kari@stolav.no", "https://lms.example/r")  # fmt: skip
    logged = events(owned, "measurement")[-1]
    assert (logged["action"], logged["to_value"]) == ("reported", "87.5")


def test_a_measurement_on_a_wave_still_on_the_default_criteria(programme, actor):
    planning.record_measurement(programme, actor("mona@hemit.no"), "W1", "R8", value=1)
    assert len(criteria(programme)) == len(DEFAULT_CRITERIA)
    assert store.rows(programme, "SELECT criterion, value FROM measurements") == [
        {"criterion": "R8", "value": 1.0}]  # fmt: skip


def test_a_measurement_without_a_date_is_dated_today(owned, actor):
    planning.record_measurement(owned, actor("mona@hemit.no"), "W1", "R7", value=50)
    assert store.rows(owned, "SELECT date FROM measurements")[0]["date"] == "2022-09-15"


@pytest.mark.parametrize(
    "who, code, fields, error",
    [
        ("per@stolav.no", "R7", {"value": 80}, "owner or the role manager"),
        ("kari@stolav.no", "C1", {"value": 80}, "computed from the tracker"),
        ("kari@stolav.no", "R9", {"value": 80}, "has no criterion R9"),
        ("kari@stolav.no", "R7", {"value": "eighty"}, "value must be a number"),
        ("kari@stolav.no", "R7", {"value": None}, "value must be a number"),
        ("kari@stolav.no", "R7", {"value": 80, "date": "2022-09-30"}, "in the future"),
    ],
)
def test_measurement_refusals_write_nothing(owned, actor, who, code, fields, error):
    before = snapshot(owned)
    with pytest.raises(WorkflowError, match=error):
        planning.record_measurement(owned, actor(who), "W1", code, **fields)
    assert snapshot(owned) == before


def test_a_wave_past_its_go_live_date_is_live_not_no_go():
    from decisions.standing import go_status

    today = dt.date(2022, 9, 15)
    assert go_status(False, "2022-05-01", today) == "live"
    assert go_status(True, "2022-09-15", today) == "live"
    assert go_status(False, "2022-11-01", today) == "no_go"
    assert go_status(True, "2022-11-01", today) == "go"
