"""Use cases of the plan: re-plan a wave's go-live, save a go-live criterion (threshold,
owner, waiver), record a reported criterion's measurement, record a go/no-go meeting's decision. Each checks the actor, validates,
writes and appends its events in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from decisions import i18n, permissions, readiness, store, words
from decisions.i18n import _
from decisions.model import Actor, NotFound, StaleRecord, WorkflowError
from decisions.readiness import COMPARATORS, DEFAULT_CRITERIA, METRICS
from decisions.services import (
    MAX_TITLE,
    Lookups,
    about,
    check_person_may,
    choice_field,
    event,
    evidence_date,
    known_people,
    now,
    parse_date,
    text_field,
    today,
    visible_field,
)
from decisions.store import analytics, people
from decisions.store import decisions as decision_store

CRITERION_KINDS = ("computed", "reported")
GO_NO_GO_OUTCOMES = ("go", "go_with_conditions", "no_go")


# The row version a criterion form sends when it was built from the default set, before the
# wave had stored criteria: a criterion stored meanwhile (by anyone) makes that form stale.
FROM_DEFAULTS = 0


def _wave_or_fail(conn: sqlite3.Connection, code: str) -> dict:
    wave = analytics.get_wave(conn, code)
    if wave is None:
        raise NotFound(_("no wave {code!r}", code=code))
    return wave


def replan_wave(
    conn: sqlite3.Connection,
    actor: Actor,
    wave: str,
    *,
    go_live,
    reason: str,
    row_version: int | None = None,
) -> None:
    """Move a wave's go-live date, keeping the old date, the reason and who in its history."""
    with store.transaction(conn):
        record = _wave_or_fail(conn, wave)
        at = now(conn)
        replan, moved = plan_replan(actor, at, record, go_live, reason)
        if not analytics.replan_wave(conn, wave, replan["new_go_live"], row_version):
            raise StaleRecord(words.stale_text("wave", wave))
        analytics.insert_replan(conn, replan)
        store.append_events(conn, [moved])


def plan_replan(actor: Actor, at: str, wave: dict, go_live, reason: str) -> tuple[dict, dict]:
    """Every rule of moving the go-live of `wave` (its code and go_live): the replan to
    record and its event, for replan_wave and the import to write."""
    permissions.check(actor, "replan_wave")
    new_date = parse_date(go_live, "go_live")
    if new_date is None:
        raise WorkflowError(_("go_live: give the new go-live date"))
    new_date = new_date[:10]
    reason = text_field(reason, "reason", required=True)
    if new_date == wave["go_live"]:
        raise WorkflowError(
            _("go_live: wave {wave} goes live on {date} already", wave=wave["code"], date=new_date)
        )
    replan = {"wave": wave["code"], "old_go_live": wave["go_live"], "new_go_live": new_date,
              "reason": reason, "replanned_by": actor.email, "replanned_at": at}  # fmt: skip
    return replan, event(actor, at, "wave", wave["code"], "replanned", wave["go_live"], new_date,
                         reason)  # fmt: skip


def _number(value, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WorkflowError(
            _(
                "{field} must be a number, not {value!r}",
                field=words.field_label(field),
                value=value,
            )
        ) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise WorkflowError(
            _(
                "{field} must be a finite number, not {value!r}",
                field=words.field_label(field),
                value=value,
            )
        )
    return number


def materialise_defaults(conn: sqlite3.Connection, wave: str) -> list[dict]:
    """A wave with no stored criteria is evaluated on the default set; store that set before
    the first edit so that editing one criterion keeps the others. Returns the events."""
    if analytics.has_criteria(conn, wave):
        return []
    for code, name, kind, metric, comparator, threshold in DEFAULT_CRITERIA:
        analytics.insert_criterion(
            conn,
            {
                "wave": wave,
                "code": code,
                "name": name,
                "kind": kind,
                "metric": metric,
                "comparator": comparator,
                "threshold": threshold,
            },
        )
    return [
        {
            "entity": "criterion",
            "entity_key": f"{wave}:{row[0]}",
            "action": "created",
            "to_value": f"{row[4]} {row[5]:g}",
            "reason": "default criteria",
        }
        for row in DEFAULT_CRITERIA
    ]


# A criterion's fields besides its wave and code: what checked_criterion returns.
CRITERION_FIELDS = ("name", "kind", "metric", "comparator", "threshold", "owner",
                    "waiver_reason", "waiver_until")  # fmt: skip


def checked_criterion(
    conn: sqlite3.Connection, fields: dict, current: dict | None, lookups: Lookups | None = None
) -> dict:
    """The rule of a criterion's fields (`current`: as stored, None for a new one): the
    record to store (CRITERION_FIELDS). Saving one and importing one both ask it."""
    merged = {**(current or {}), **fields}
    kind = choice_field(merged.get("kind") or "", "kind", CRITERION_KINDS)
    metric = text_field(merged.get("metric"), "metric", required=True, limit=100)
    if kind == "computed" and metric not in METRICS:
        raise WorkflowError(
            _(
                "metric {metric!r} is not a computed metric; one of {metrics}",
                metric=metric,
                metrics=", ".join(METRICS),
            )  # fmt: skip
        )
    owner = (merged.get("owner") or "").strip().lower() or None
    if owner:
        known_people(conn, [owner], "owner", lookups)
    waiver_reason = text_field(merged.get("waiver_reason"), "waiver_reason") or None
    waiver_until = parse_date(merged.get("waiver_until"), "waiver_until")
    if bool(waiver_reason) != bool(waiver_until):
        raise WorkflowError(_("waiver: give both a reason and an expiry date, or neither"))
    return {
        "name": visible_field(
            text_field(merged.get("name"), "name", required=True, limit=MAX_TITLE), "name"
        ),
        "kind": kind,
        "metric": metric,
        "comparator": choice_field(merged.get("comparator") or "", "comparator", COMPARATORS),
        "threshold": _number(merged.get("threshold"), "threshold"),
        "owner": owner,
        "waiver_reason": waiver_reason,
        "waiver_until": waiver_until[:10] if waiver_until else None,
    }


def save_criterion(
    conn: sqlite3.Connection,
    actor: Actor,
    wave: str,
    code: str,
    fields: dict,
    *,
    row_version: int | None = None,
) -> list[str]:
    """Create or change a wave's criterion. `fields` may hold name, kind, metric, comparator,
    threshold, owner, waiver_reason, waiver_until (a waiver needs both). `row_version` is the
    one the form was built from (FROM_DEFAULTS for the default set not stored yet; None
    checks nothing). Returns the names of the fields that changed."""
    permissions.check(actor, "save_criterion")
    code = visible_field(text_field(code, "code", required=True, limit=20), "code")
    with store.transaction(conn):
        _wave_or_fail(conn, wave)
        if row_version == FROM_DEFAULTS:
            if analytics.get_criterion(conn, wave, code) is not None:
                raise StaleRecord(words.stale_text("criterion", f"{wave}:{code}"))
            row_version = None  # the defaults stored just below are the ones the form showed
        at = now(conn)
        events = [{"at": at, "actor": actor.email, **e} for e in materialise_defaults(conn, wave)]
        current = analytics.get_criterion(conn, wave, code)
        record = checked_criterion(conn, fields, current)
        changed, saved = criterion_events(actor, at, wave, code, current, record)
        if current is None:
            analytics.insert_criterion(conn, {"wave": wave, "code": code, **record})
        elif not changed:
            if events:  # the default set, stored just now, is logged all the same
                store.append_events(conn, events)
            return []
        elif not analytics.update_criterion(
            conn, wave, code, {c: record[c] for c in changed}, row_version
        ):
            raise StaleRecord(words.stale_text("criterion", f"{wave}:{code}"))
        store.append_events(conn, events + saved)
        return changed


def criterion_events(
    actor: Actor, at: str, wave: str, code: str, current: dict | None, record: dict
) -> tuple[list[str], list[dict]]:
    """The fields of a criterion that a checked `record` changes (`current`: as stored, None
    for a new one) and the events that record it, for save_criterion, the import and the
    demo to write."""
    key = f"{wave}:{code}"
    if current is None:
        changed = sorted(record)
        events = [event(actor, at, "criterion", key, "created", None,
                        f"{record['comparator']} {record['threshold']:g}", record["name"])]  # fmt: skip
    else:
        changed = sorted(c for c, v in record.items() if current[c] != v)
        events = [event(actor, at, "criterion", key, f"edited:{c}", current[c], record[c])
                  for c in changed]  # fmt: skip
    waiver = ("waiver_reason", "waiver_until")
    if [record[c] for c in waiver] != [(current or {}).get(c) for c in waiver]:
        action = "waived" if record["waiver_reason"] else "waiver_removed"
        events.append(event(actor, at, "criterion", key, action, None, record["waiver_until"],
                            record["waiver_reason"]))  # fmt: skip
    return changed, events


def record_measurement(
    conn: sqlite3.Connection,
    actor: Actor,
    wave: str,
    criterion: str,
    *,
    value,
    date=None,
    evidence_url: str = "",
    reported_by: str | None = None,
) -> int:
    """A reported criterion's measured value, by its owner or a manager. Returns its id."""
    with store.transaction(conn):
        _wave_or_fail(conn, wave)
        at = now(conn)
        events = [{"at": at, "actor": actor.email, **e} for e in materialise_defaults(conn, wave)]
        current = analytics.get_criterion(conn, wave, criterion)
        reporter = (reported_by or actor.email).strip().lower()
        known_people(conn, [reporter], "reported_by")
        check_measurement(
            actor, current, wave, criterion, reporter, decision_store.load_actor(conn, reporter)
        )
        measurement = {
            "wave": wave,
            "criterion": criterion,
            "date": evidence_date(conn, date, "date")[:10],
            "value": _number(value, "value"),
            "reported_by": reporter,
            "evidence_url": text_field(evidence_url, "evidence_url", limit=2000),
        }
        measurement_id = analytics.insert_measurement(conn, measurement)
        events.append(measurement_event(actor, at, measurement_id, measurement))
        store.append_events(conn, events)
        return measurement_id


def check_measurement(
    actor: Actor,
    criterion: dict | None,
    wave: str,
    code: str,
    reporter: str,
    reported_by: Actor | None,
) -> None:
    """Who may report a measurement of the criterion `code` of `wave` (`criterion`: as stored,
    None when there is none), reported by `reporter` (`reported_by`: that active person, or
    None): the owner or a manager, of a reported criterion. Recording one and importing one
    both ask it."""
    with about("criterion"):
        if criterion is None:
            raise NotFound(_("wave {wave} has no criterion {code}", wave=wave, code=code))
        if criterion["kind"] != "reported":
            raise WorkflowError(
                _(
                    "{code} is computed from the tracker's data; only reported criteria take "
                    "measurements",
                    code=code,
                )
            )
    owned = permissions.Target(owner=criterion["owner"])
    permissions.check(actor, "record_measurement", owned)
    with about("reported_by"):
        check_person_may(reporter, reported_by, "reported_by", "record_measurement", owned)


def measurement_event(actor: Actor, at: str, number: int, measurement: dict) -> dict:
    """The event of a reported measurement, keyed by its id."""
    return event(
        actor,
        at,
        "measurement",
        str(number),
        "reported",
        None,
        f"{measurement['value']:g}",
        f"{measurement['wave']}:{measurement['criterion']} on {measurement['date']}",
    )


def record_go_no_go(
    conn: sqlite3.Connection,
    actor: Actor,
    wave: str,
    *,
    outcome: str,
    meeting_date,
    forum: str,
    minutes: str,
    conditions: str = "",
) -> int:
    """The go/no-go meeting's decision on a wave, with the criteria frozen as the readiness
    stood on the meeting's date. A later meeting records a new decision; the latest counts.
    Returns its id."""
    permissions.check(actor, "record_go_no_go")
    outcome = choice_field(outcome or "", "outcome", GO_NO_GO_OUTCOMES)
    minutes = text_field(minutes, "minutes", required=True)
    conditions = text_field(conditions, "conditions", required=outcome == "go_with_conditions")
    day = parse_date(meeting_date, "meeting_date")
    if day is None:
        raise WorkflowError(_("Give the meeting's date"))
    day = day[:10]
    if dt.date.fromisoformat(day) > today(conn):
        raise WorkflowError(
            _("The meeting date {date} is in the future; record a meeting that was held",
              date=i18n.format_date(dt.date.fromisoformat(day)))
        )  # fmt: skip
    try:
        [assessed] = readiness.assess(conn, dt.date.fromisoformat(day), wave)[1]
    except LookupError:
        raise NotFound(_("no wave {wave}", wave=repr(wave))) from None
    frozen = {"go": assessed.go, "criteria": assessed.as_json()["criteria"]}
    with store.transaction(conn):
        _wave_or_fail(conn, wave)
        if people.get_forum(conn, forum) is None:
            raise NotFound(_("no forum {forum}", forum=repr(forum)))
        at = now(conn)
        record_id = analytics.insert_go_no_go(
            conn,
            {
                "wave": wave,
                "outcome": outcome,
                "meeting_date": day,
                "forum": forum,
                "minutes": minutes,
                "conditions": conditions if outcome == "go_with_conditions" else "",
                "criteria": json.dumps(frozen, ensure_ascii=False, sort_keys=True),
                "recorded_by": actor.email,
                "recorded_at": at,
            },
        )
        store.append_events(
            conn,
            [event(actor, at, "go_no_go", str(record_id), "recorded", None, outcome,
                   f"{wave} on {day} by {forum}")],
        )  # fmt: skip
        return record_id
