"""Use cases that record evidence: demos, expert verdicts, test cases, test runs, defects.
Each validates, writes, refreshes the stages of the decisions it touches and appends its
events in one transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from decisions import app_address, calendar, permissions, store, words
from decisions.i18n import _
from decisions.model import (
    DEFECT_STATUSES,
    RUN_RESULTS,
    TEST_KINDS,
    VERDICTS,
    Actor,
    NotFound,
    StaleRecord,
    WorkflowError,
    stage_at_least,
)
from decisions.services import (
    MAX_TITLE,
    Lookups,
    about,
    approval_rule,
    choice_field,
    event,
    evidence_date,
    get_decision_or_fail,
    known_people,
    now,
    parse_date,
    person_who_may,
    refresh_stages,
    text_field,
    visible_field,
)
from decisions.store import decisions as decision_store
from decisions.store import evidence as evidence_store
from decisions.store import queues, reference
from decisions.workflow import (
    VERDICT_ACTIONS,
    ApprovalProgress,
    Missing,
    approval_progress,
    cap_holds,
    check_action,
    derive_stage,
    missing_evidence,
    norm_time,
    round_verdicts,
)

# Demos ------------------------------------------------------------------------------------------


def save_demo(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    module: str,
    date,
    decisions: list[str],
    presenter: str,
    invitees: list[str] = (),
    attendees: list[str] = (),
    notes: str = "",
    recording_url: str = "",
    held: bool | None = None,
    key: str | None = None,
    row_version: int | None = None,
    start_time: str | None = None,
    duration_min: int | None = None,
    place: str | None = None,
    meeting_url: str | None = None,
) -> str:
    """Schedule a demo (held=False: today or later, no attendees yet) or record one that was
    held (held=True: its attendees, never in the future); held=None infers it from the
    attendees, as an import does. A held demo with an attending expert moves the built
    decisions it showed to demonstrated. `start_time` ('HH:MM', Europe/Oslo), `duration_min`,
    `place` and `meeting_url` make its calendar invitation; None keeps what the demo has (a
    new demo: the time its date carries, else 10:00; 60 minutes; no place, no link).
    Returns the demo's key."""
    permissions.check(actor, "record_demo")
    with store.transaction(conn):
        existing = evidence_store.get_demo(conn, key) if key else None
        if key and existing is None and row_version is not None:
            raise NotFound(_("no demo {key!r}", key=key))
        record, invitees, attendees = plan_demo(
            conn, existing, module=module, date=date, decisions=decisions, presenter=presenter,
            invitees=invitees, attendees=attendees, notes=notes, recording_url=recording_url,
            held=held, start_time=start_time, duration_min=duration_min, place=place,
            meeting_url=meeting_url,
        )  # fmt: skip
        key = visible_field(key, "key") or evidence_store.next_key(conn, "demos", "DEMO")
        saved = evidence_store.save_demo(
            conn, {"key": key, **record}, decisions, invitees, attendees, row_version
        )
        if not saved:
            raise StaleRecord(words.stale_text("demo", key))
        at = now(conn)
        events = [demo_event(actor, at, key, existing, record, invitees, attendees)]
        affected = set(decisions) | set(existing["decisions"] if existing else [])
        events += refresh_stages(conn, sorted(affected), actor, at, f"demo {key}")
        store.append_events(conn, events)
        return key


def plan_demo(
    conn: sqlite3.Connection,
    existing: Mapping | None,
    *,
    module: str,
    date,
    decisions: list[str],
    presenter: str,
    invitees: list[str] = (),
    attendees: list[str] = (),
    notes: str = "",
    recording_url: str = "",
    held: bool | None = None,
    start_time: str | None = None,
    duration_min: int | None = None,
    place: str | None = None,
    meeting_url: str | None = None,
    imported: bool = False,
    lookups: Lookups | None = None,
) -> tuple[dict, list[str], list[str]]:
    """Every rule of saving a demo (`existing`: as on record, or None): its checked record,
    invitees and attendees, for save_demo and the import to write. `imported`: a date stays
    as given, a scheduled demo may lie in the past (a restored programme), and a held demo
    dated before a decision's current build round is that decision's history."""
    lookups = lookups or Lookups(conn)
    held = bool(attendees) if held is None else held
    if existing:
        with about("key"):
            _check_demo_change(conn, existing, held)
    with about("attendees" if bool(attendees) != held else "date"):
        when = _demo_date(
            lookups,
            date,
            held=held,
            attendees=attendees,
            scheduling=not held and not imported,
            as_given=imported,
        )
    with about("decisions"):
        _check_demo_decisions(
            lookups,
            module,
            decisions,
            held=held,
            when=when,
            earlier=existing["decisions"] if existing else [],
            history=imported,
        )
    with about("presenter"):
        presenter = person_who_may(conn, presenter, "presenter", "record_demo", lookups=lookups)
    with about("notes"):
        notes = text_field(notes, "notes")
    with about("recording_url"):
        recording_url = _url(recording_url)
    with about("start_time"):
        meeting = invitation_fields(existing, when, start_time, duration_min, place, meeting_url)
    record = {"date": when, "module": module, "presenter": presenter, "held": int(held),
              "notes": notes, "recording_url": recording_url, **meeting}  # fmt: skip
    with about("invitees"):
        invitees = known_people(conn, list(invitees), "invited experts", lookups)
    with about("attendees"):
        attendees = known_people(conn, list(attendees), "attendees", lookups)
        if held:
            roles = set(permissions.roles_for("attend_demo"))
            active = [lookups.person(a) for a in attendees]
            experts = [p.email for p in active if p and roles & p.roles]
            check_an_expert_attended(attendees, experts)
    return record, invitees, attendees


def demo_event(
    actor: Actor,
    at: str,
    key: str,
    existing: Mapping | None,
    record: Mapping,
    invitees: list[str],
    attendees: list[str],
) -> dict:
    """The event of a demo saved: scheduled or held, or updated so."""
    action = "held" if record["held"] else "scheduled"
    return event(
        actor,
        at,
        "demo",
        key,
        f"updated:{action}" if existing else action,
        existing["date"] if existing else None,
        record["date"],
        f"{len(attendees)} attended" if record["held"] else f"{len(invitees)} invited",
    )


def _check_demo_change(conn: sqlite3.Connection, demo: dict, held: bool) -> None:
    """A cancelled demo stays as it was; a held one stays held; a scheduled one is recorded
    as held once it has started (move it first if it was held earlier than planned)."""
    if demo["cancelled"]:
        raise WorkflowError(
            _("demo {key} is cancelled; schedule a new one instead", key=demo["key"])
        )
    if demo["held"] and not held:
        raise WorkflowError(
            _("demo {key} was held; a held demo is evidence and stays held", key=demo["key"])
        )
    if held and not demo["held"] and not demo_started(conn, demo):
        raise WorkflowError(
            _(
                "demo {key} starts on {date} at {start_time}; it can be recorded as held once "
                "it has started (if it was held earlier, move it first)",
                key=demo["key"],
                date=demo["date"][:10],
                start_time=demo["start_time"],
            )
        )


def demo_start(demo: Mapping) -> dt.datetime:
    """When a demo starts: its date at its start time (Oslo time, as the programme clock)."""
    start = dt.time.fromisoformat(demo.get("start_time") or DEFAULT_START)
    return dt.datetime.combine(dt.date.fromisoformat(str(demo["date"])[:10]), start)


def demo_started(conn: sqlite3.Connection, demo: Mapping) -> bool:
    """Whether a demo's start time has come on the programme clock: from then on a scheduled
    demo can be recorded as held."""
    return dt.datetime.fromisoformat(now(conn)) >= demo_start(demo)


def scheduled_demos(conn: sqlite3.Connection, limit: int = 300) -> pd.DataFrame:
    """The demos still to be held (scheduled, neither held nor cancelled), soonest first, each
    with `starts` (its start) and `started` (whether it can be recorded as held now)."""
    frame = queues.scheduled_demos(conn, limit=limit)
    current = dt.datetime.fromisoformat(now(conn))
    starts = [demo_start(row) for row in frame.to_dict("records")]
    started = pd.Series([s <= current for s in starts], index=frame.index, dtype=bool)
    return frame.assign(starts=pd.Series(starts, index=frame.index, dtype=object), started=started)


def check_an_expert_attended(attendees: list[str], experts: list[str]) -> None:
    """A held demo counts when at least one of its attendees is an expert (`experts`: those
    of the attendees who have the role)."""
    if not experts:
        raise WorkflowError(
            _(
                "attendees: {attendees} attended, but no expert; a demo counts when at least "
                "one expert saw it",
                attendees=", ".join(attendees),
            )
        )


def _demo_date(
    lookups: Lookups, date, *, held: bool, attendees, scheduling: bool, as_given: bool
) -> str:
    if held:
        if not attendees:
            raise WorkflowError(
                _(
                    "attendees: a held demo needs at least one attending expert; if nobody came, leave it scheduled or move its date"
                )
            )
        return evidence_date(lookups.conn, date, "date", as_given=as_given)
    if attendees:
        raise WorkflowError(_("attendees are recorded once the demo was held"))
    when = parse_date(date, "date")
    if when is None:
        raise WorkflowError(_("date is required"))
    if scheduling and when[:10] < lookups.now()[:10]:
        raise WorkflowError(
            _(
                "date {when} has passed; schedule today or later, or record a held demo with "
                "its attendees",
                when=when[:10],
            )
        )
    return when


def _check_demo_decisions(
    lookups: Lookups,
    module: str,
    keys: list[str],
    *,
    held: bool,
    when: str,
    earlier: list[str],
    history: bool = False,
) -> None:
    with about("module"):
        if reference.unknown_codes(lookups.conn, "modules", [module]):
            raise WorkflowError(_("module {module!r} is not in the list of modules", module=module))
    if not keys:
        raise WorkflowError(_("decisions: a demo shows at least one decision"))
    floor = "built" if held else "in_build"
    for key in keys:
        decision = lookups.decision(key)
        if decision["module"] != module:
            raise WorkflowError(_("decisions: {key} configures module {module}, not {module2}", key=key, module=decision['module'], module2=module))  # fmt: skip
        if key in earlier or (held and history and _before_round(decision, when)):
            continue  # already on the demo, or shown in an earlier build round
        if not stage_at_least(decision["stage"], floor):
            stage = words.stage_word(decision["stage"]).lower()
            raise WorkflowError(
                _("decisions: {key} is {stage}; a held demo shows configuration that is built",
                  key=key, stage=stage) if held
                else _("decisions: {key} is {stage}; a demo shows configuration that is in "
                       "build or built", key=key, stage=stage)
            )  # fmt: skip
        if held and norm_time(when) < norm_time(decision["built_at"] or when):
            raise WorkflowError(
                _(
                    "decisions: {key} was marked built on {built_at}, after this demo; a demo "
                    "counts only for the build round it showed",
                    key=key,
                    built_at=decision["built_at"][:10],
                )
            )


def _before_round(decision: Mapping, when: str) -> bool:
    """Whether a demo dated `when` showed an earlier build round or version of `decision`
    (one back in build began its round when it went there; a withdrawn one has no round)."""
    if decision["stage"] == "withdrawn":
        return True
    marks = [decision["built_at"], decision["version_started_at"]]
    if decision["stage"] == "in_build":
        marks.append(decision["stage_since"])
    start = max((norm_time(d) for d in marks if d), default=None)
    return start is not None and norm_time(when) < start


DEFAULT_START, DEFAULT_MINUTES = "10:00", 60


def invitation_fields(existing, when: str, start_time, duration_min, place, meeting_url) -> dict:
    """The demo's start time, length, place and meeting link: given, or kept, or defaults."""
    existing = existing or {}
    if start_time is None:
        carried = when[11:16] if len(when) >= 16 and when[11:16] != "00:00" else None
        start_time = existing.get("start_time") or carried or DEFAULT_START
    start_time = str(start_time).strip()[:5]
    try:
        dt.time.fromisoformat(start_time)
    except ValueError:
        raise WorkflowError(_("start time: {start_time!r} is not a time; expected HH:MM, e.g. 10:00 (Oslo time)", start_time=start_time)) from None  # fmt: skip
    if duration_min is None:
        duration_min = existing.get("duration_min") or DEFAULT_MINUTES
    try:
        duration_min = int(duration_min)
    except (TypeError, ValueError):
        raise WorkflowError(
            _("length: {duration_min!r} is not a number of minutes", duration_min=duration_min)
        ) from None
    if not 5 <= duration_min <= 720:
        raise WorkflowError(
            _(
                "length: {duration_min} minutes; a demo lasts 5 to 720 minutes",
                duration_min=duration_min,
            )
        )
    return {
        "start_time": start_time,
        "duration_min": duration_min,
        "place": text_field(
            existing.get("place", "") if place is None else place, "place", limit=200
        ),  # fmt: skip
        "meeting_url": _url(
            existing.get("meeting_url", "") if meeting_url is None else meeting_url,
            "meeting link",
        ),
    }


def cancel_demo(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    reason: str = "",
    *,
    row_version: int | None = None,
) -> None:
    """Cancel a scheduled demo: it stays on record, marked cancelled, its invitees get a
    cancellation (METHOD:CANCEL) with the next `notify`. A held demo cannot be cancelled."""
    permissions.check(actor, "record_demo")
    with store.transaction(conn):
        demo = evidence_store.get_demo(conn, key)
        if demo is None:
            raise NotFound(_("no demo {key!r}", key=key))
        if demo["held"]:
            raise WorkflowError(
                _("demo {key} was held; a held demo is evidence and stays", key=key)
            )
        if demo["cancelled"]:
            raise WorkflowError(_("demo {key} is cancelled already", key=key))
        if not evidence_store.cancel_demo(conn, key, row_version):
            raise StaleRecord(words.stale_text("demo", key))
        reason = text_field(reason, "reason", limit=500)
        at = now(conn)
        events = [event(actor, at, "demo", key, "cancelled", demo["date"], None, reason or None)]
        events += refresh_stages(conn, demo["decisions"], actor, at, f"demo {key}")
        store.append_events(conn, events)


def demo_events(
    conn: sqlite3.Connection, keys: list[str], base_url: str = ""
) -> list[calendar.DemoEvent]:
    """The demos as calendar events (invitees as attendees, presenter as organiser)."""
    return [
        calendar.DemoEvent(
            key=d["key"],
            day=d["date"][:10],
            start_time=d["start_time"],
            duration_min=d["duration_min"],
            module=d["module"],
            module_name=d["module_name"],
            organizer=(d["presenter"], d["presenter_name"] or d["presenter"]),
            attendees=tuple(
                tuple(line.split(" ", 1)) for line in (d["invitees"] or "").splitlines()
            ),
            decisions=tuple((d["decisions"] or "").splitlines()),
            place=d["place"],
            meeting_url=d["meeting_url"],
            notes=d["notes"],
            link=app_address.demo_address(base_url, d["key"]) if base_url else "",
            sequence=d["row_version"] - 1,
            cancelled=bool(d["cancelled"]),
        )
        for d in queues.demo_calendar_entries(conn, keys)
    ]


def my_invitations_ics(conn: sqlite3.Connection, email: str, base_url: str = "") -> str:
    """A person's own calendar file: the upcoming, not cancelled demos they are invited to
    or present, each with its own UID and SEQUENCE (METHOD:PUBLISH, for importing)."""
    keys = queues.invited_demos(conn, email, now(conn)[:10])["key"].tolist()
    return calendar.calendar(
        demo_events(conn, keys, base_url),
        method="PUBLISH",
        stamp=dt.datetime.now(dt.UTC),
        name="My demo invitations",
    )


def _url(value: str, what: str = "recording link") -> str:
    url = text_field(value, what, limit=2000)
    if url and not url.lower().startswith(("https://", "http://")):
        raise WorkflowError(
            _("{what} must start with https:// or http://, not {url!r}", what=what, url=url)
        )
    return url


# Verdicts ---------------------------------------------------------------------------------------


def record_verdict(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    verdict: str,
    *,
    comment: str = "",
    date=None,
    expert: str | None = None,
) -> str:
    """An expert's approve or changes_requested on a demonstrated decision. Returns the stage
    the decision is in afterwards."""
    with store.transaction(conn):
        events = _verdict(conn, actor, key, verdict, comment=comment, date=date, expert=expert)
        store.append_events(conn, events)
        return decision_store.get_decision(conn, key)["stage"]


def record_demo_verdicts(
    conn: sqlite3.Connection,
    actor: Actor,
    demo: str,
    verdicts: Mapping[str, tuple[str, str]],
    *,
    date=None,
) -> dict[str, str]:
    """After a demo, an attending expert's verdicts on the decisions it showed, in one pass:
    {decision key: (verdict, comment)}. Each is recorded as its own verdict with its own event,
    all in one transaction: when one is refused, none is written. Returns each decision's
    stage afterwards."""
    if not verdicts:
        raise WorkflowError(_("verdicts: choose a verdict for at least one decision"))
    with store.transaction(conn):
        shown = evidence_store.get_demo(conn, demo)
        if shown is None:
            raise NotFound(_("no demo {demo!r}", demo=demo))
        if not attended(actor, shown):
            raise WorkflowError(
                _(
                    "only experts who attended demo {demo} give their verdicts from it; use the "
                    "approvals queue instead",
                    demo=demo,
                )
            )
        strangers = [k for k in verdicts if k not in shown["decisions"]]
        if strangers:
            raise WorkflowError(
                _("demo {demo} did not show {strangers}", demo=demo, strangers=", ".join(strangers))
            )
        events = []
        for key, (verdict, comment) in verdicts.items():
            try:
                events += _verdict(conn, actor, key, verdict, comment=comment, date=date)
            except WorkflowError as error:
                raise WorkflowError(
                    _("{key}: {error}; no verdict was saved", key=key, error=error)
                ) from None
        store.append_events(conn, events)
        return {k: decision_store.get_decision(conn, k)["stage"] for k in verdicts}


def attended(actor: Actor, demo: Mapping) -> bool:
    """Whether `actor` attended the held `demo` (get_demo's record): only they give verdicts
    from it."""
    return bool(demo["held"]) and actor.email in demo["attendees"]


@dataclass(frozen=True)
class DemoVerdict:
    """What became of one verdict given from a demo."""

    stage: str = ""  # the decision's stage afterwards ("" when refused)
    stored: bool = False  # False: refused, or the same verdict was on record already
    refusal: str = ""


def give_demo_verdicts(
    conn: sqlite3.Connection, actor: Actor, demo: str, verdicts: Mapping[str, tuple[str, str]]
) -> dict[str, DemoVerdict]:
    """An attending expert's verdicts from a demo, {decision key: (verdict, comment)}, each on
    its own (record_demo_verdicts for one decision: its own transaction and event), so a
    refused one leaves the others saved. A verdict the same as the expert's latest in the
    round is not stored again."""
    outcomes = {}
    for key, choice in verdicts.items():
        before = evidence_store.latest_verdict_of(conn, key, actor.email)
        try:
            stage = record_demo_verdicts(conn, actor, demo, {key: choice})[key]
        except WorkflowError as error:
            outcomes[key] = DemoVerdict(refusal=str(error))
            continue
        after = evidence_store.latest_verdict_of(conn, key, actor.email)
        stored = after is not None and (before is None or after["id"] != before["id"])
        outcomes[key] = DemoVerdict(stage, stored)
    return outcomes


def _verdict(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    verdict: str,
    *,
    comment: str,
    date,
    expert: str | None = None,
) -> list[dict]:
    """Check and write one verdict inside the caller's transaction; returns its events."""
    expert = (expert or actor.email).strip().lower()
    check_verdict_author(actor, expert)
    decision = get_decision_or_fail(conn, key)
    verdict_by = actor if expert == actor.email else decision_store.load_actor(conn, expert)
    when = evidence_date(conn, date, "date")
    comment = check_verdict(decision, expert, verdict_by, verdict, comment, when)
    held_since = decision["stage_cap_since"] if decision["stage_cap"] else None
    if repeats_latest(evidence_store.latest_verdict_of(conn, key, expert), verdict, held_since):
        return []
    approval_id = evidence_store.insert_approval(
        conn,
        {"decision": key, "expert": expert, "verdict": verdict, "date": when, "comment": comment},
    )
    at = now(conn)
    record = {"decision": key, "verdict": verdict, "comment": comment}
    events = [verdict_event(actor, at, approval_id, record)]
    return events + refresh_stages(conn, [key], actor, at, f"{verdict} by {expert}")


def repeats_latest(latest: Mapping | None, verdict: str, held_since: str | None = None) -> bool:
    """A verdict the expert has already given in this round (a double submit, a second click)
    is not stored again; a changed one is their latest. Given again after an edit of the
    approval rule's fields held the decision (`held_since`), it is new evidence and counts."""
    if latest is None or latest["verdict"] != verdict:
        return False
    return held_since is None or norm_time(latest["date"]) > norm_time(held_since)


def verdict_event(actor: Actor, at: str, number: int, verdict: Mapping) -> dict:
    """The event of a recorded verdict (`verdict`: its decision, verdict and comment)."""
    return event(actor, at, "approval", str(number), verdict["verdict"], None,
                 verdict["decision"], verdict["comment"] or None)  # fmt: skip


def run_event(actor: Actor, at: str, number: int, run: Mapping) -> dict:
    """The event of a recorded test run (`run`: its test case, result and defect)."""
    return event(actor, at, "test_run", str(number), run["result"], None, run["test_case"],
                 run["defect"] or None)  # fmt: skip


def check_verdict_author(actor: Actor, expert: str) -> None:
    """An expert records their own verdict; only an admin records one for someone else."""
    if expert != actor.email:
        permissions.check(actor, "verdict_for_other")


def check_verdict(
    decision: Mapping, expert: str, verdict_by: Actor | None, verdict: str, comment: str, when: str
) -> str:
    """The rules of one verdict given by `verdict_by` (None: `expert` is no active person) on
    `decision` (its stage, domain and built_at) dated `when`; returns the comment, checked.
    Recording a verdict and importing one both ask it."""
    choice_field(verdict, "verdict", VERDICTS)
    if verdict_by is None:
        raise WorkflowError(_("expert {expert} is not in the directory", expert=expert))
    check_action(VERDICT_ACTIONS[verdict], decision["stage"], verdict_by, domain=decision["domain"])
    comment = text_field(comment, "comment", required=verdict == "changes_requested")
    if decision["built_at"] and norm_time(when) < norm_time(decision["built_at"]):
        raise WorkflowError(
            _(
                "date {when} is before this build round started ({built_at})",
                when=when[:10],
                built_at=decision["built_at"][:10],
            )
        )
    return comment


@dataclass(frozen=True)
class ReviewPlace:
    """Where a decision stands in an expert's review queue (the approvals queue's rule)."""

    position: int | None  # 1-based; None when the decision no longer awaits their verdict
    waiting: int
    next_key: str | None


def review_place(conn: sqlite3.Connection, expert: str, key: str) -> ReviewPlace:
    """Decision `key` in the queue of decisions awaiting `expert`'s verdict, and the one to
    review after it."""
    return place_in_queue(queues.approvals_queue(conn, expert)["key"].tolist(), key)


def place_in_queue(waiting: list[str], key: str) -> ReviewPlace:
    """The next decision is the one after `key`, from the start again at the end."""
    if key not in waiting:
        return ReviewPlace(None, len(waiting), waiting[0] if waiting else None)
    at = waiting.index(key)
    after = waiting[at + 1 :] + waiting[:at]
    return ReviewPlace(at + 1, len(waiting), after[0] if after else None)


def approval_status(conn: sqlite3.Connection, keys: list[str]) -> dict[str, ApprovalProgress]:
    """How far each decision's verdicts of its current round go towards the approval rule."""
    rule = approval_rule(conn)
    status = {}
    for key, facts in decision_store.decision_facts(conn, keys).items():
        counted = round_verdicts(facts)
        status[key] = approval_progress(counted, facts.scope, facts.criticality, rule)
    return status


def stage_hold(conn: sqlite3.Connection, key: str) -> Missing | None:
    """When an edit of the fields the approval rule reads holds the decision below what its
    evidence gives: what holds it and what lifts it (("held", (stage, since, lift)),); else
    None."""
    rule = approval_rule(conn)
    facts = decision_store.decision_facts(conn, [key])[key]
    if not cap_holds(facts, rule):
        return None
    return missing_evidence(derive_stage(facts, rule), facts, rule)


# Suspect evidence -----------------------------------------------------------------------------

REDO = (
    ("demos", "a new demo"),
    ("verdicts", "approvals"),
    ("runs", "test runs"),
)


def suspect_evidence(conn: sqlite3.Connection, limit: int = 1000) -> pd.DataFrame:
    """Revised decisions with evidence of an earlier version, and what must be redone: each
    kind of suspect evidence with nothing new of its kind since the revision."""
    frame = queues.suspect_evidence(conn, limit)
    frame["must_redo"] = [
        ", ".join(
            label
            for kind, label in REDO
            if getattr(row, f"suspect_{kind}") and not getattr(row, f"new_{kind}")
        )
        or "nothing: new evidence exists"
        for row in frame.itertuples()
    ]
    return frame


# Test cases, runs and defects -------------------------------------------------------------------


def save_test_case(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    title: str,
    kind: str,
    decisions: list[str],
    key: str | None = None,
    row_version: int | None = None,
) -> str:
    """Create or change a test case and the decisions it covers. Returns its key."""
    permissions.check(actor, "save_test_case")
    with store.transaction(conn):
        record = {
            "title": text_field(title, "title", required=True, limit=MAX_TITLE),
            "kind": choice_field(kind, "kind", TEST_KINDS),
        }
        decisions = list(dict.fromkeys(decisions))
        if not decisions:
            raise WorkflowError(_("decisions: a test case covers at least one decision"))
        for k in decisions:
            if get_decision_or_fail(conn, k)["stage"] == "withdrawn":
                raise WorkflowError(
                    _("decisions: {k} is withdrawn; a test case cannot cover it", k=k)
                )
        existing = evidence_store.get_test_case(conn, key) if key else None
        key = visible_field(key, "key") or evidence_store.next_key(conn, "test_cases", "TC")
        if not evidence_store.save_test_case(conn, {"key": key, **record}, decisions, row_version):
            raise StaleRecord(words.stale_text("test_case", key))
        at = now(conn)
        events = [test_case_event(actor, at, key, existing, decisions, record["title"])]
        affected = set(decisions) | set(existing["decisions"] if existing else [])
        events += refresh_stages(conn, sorted(affected), actor, at, f"test case {key}")
        store.append_events(conn, events)
        return key


def test_case_event(
    actor: Actor, at: str, key: str, existing: Mapping | None, decisions: list[str], title: str
) -> dict:
    """The event of a test case saved, with the decisions it covered and covers."""
    return event(actor, at, "test_case", key, "updated" if existing else "created",
                 ";".join(existing["decisions"]) if existing else None, ";".join(decisions),
                 title)  # fmt: skip


def record_test_run(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    test_case: str,
    result: str,
    date=None,
    tester: str | None = None,
    defect: str | None = None,
    new_defect: Mapping | None = None,
    notes: str = "",
) -> int:
    """A run of a test case; its result moves the decisions it covers. A failed or blocked
    run may open a new defect in the same transaction (`new_defect`: title, severity_vendor,
    severity_clinical), linked to the run and the test case. Returns the run id."""
    permissions.check(actor, "record_test_run")
    choice_field(result, "result", RUN_RESULTS)
    if defect and new_defect:
        raise WorkflowError(_("defect: link an existing defect or open a new one, not both"))
    if new_defect and result == "passed":
        raise WorkflowError(_("defect: a passed run opens no defect"))
    with store.transaction(conn):
        case = evidence_store.get_test_case(conn, test_case)
        check_run_case(test_case, known=case is not None, covers=bool(case and case["decisions"]))
        tester = person_who_may(conn, tester or actor.email, "tester", "record_test_run")
        if defect and evidence_store.get_defect(conn, defect) is None:
            raise WorkflowError(_("defect {defect!r} does not exist", defect=defect))
        when = evidence_date(conn, date, "date")
        at = now(conn)
        events = []
        if new_defect:
            only = case["decisions"][0] if len(case["decisions"]) == 1 else None
            fields = {"status": "open", "opened": when[:10], **new_defect}
            record = _defect_record(conn, fields | {"test_case": test_case, "decision": only})
            defect = record["key"]
            evidence_store.save_defect(conn, record)
            events.append(defect_event(actor, at, record, None))
        run = {
            "test_case": test_case,
            "date": when,
            "result": result,
            "tester": tester,
            "defect": defect or None,
            "notes": text_field(notes, "notes"),
        }
        run_id = evidence_store.insert_test_run(conn, run)
        events.append(run_event(actor, at, run_id, run))
        events += refresh_stages(
            conn, case["decisions"], actor, at, f"test run of {test_case}: {result}"
        )
        store.append_events(conn, events)
        return run_id


def check_run_case(test_case: str, *, known: bool, covers: bool) -> None:
    """A run is of a test case on record that covers a decision."""
    if not known:
        raise NotFound(_("no test case {test_case!r}", test_case=test_case))
    if not covers:
        raise WorkflowError(
            _("test case {test_case} covers no decision; link one first", test_case=test_case)
        )


def save_defect(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    title: str,
    severity_vendor: int,
    severity_clinical: int,
    status: str = "open",
    decision: str | None = None,
    test_case: str | None = None,
    opened=None,
    closed=None,
    key: str | None = None,
    row_version: int | None = None,
) -> str:
    """Open or change a defect with its two severity ratings. Returns its key."""
    permissions.check(actor, "save_defect")
    with store.transaction(conn):
        existing = evidence_store.get_defect(conn, key) if key else None
        record = _defect_record(
            conn,
            {
                "key": key,
                "title": title,
                "severity_vendor": severity_vendor,
                "severity_clinical": severity_clinical,
                "status": status,
                "decision": decision,
                "test_case": test_case,
                "opened": opened,
                "closed": closed,
            },
        )
        if not evidence_store.save_defect(conn, record, row_version):
            raise StaleRecord(words.stale_text("defect", record["key"]))
        store.append_events(conn, [defect_event(actor, now(conn), record, existing)])
        return record["key"]


def record_defect_for_run(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    run: int,
    title: str,
    severity_vendor: int | None,
    severity_clinical: int | None,
    decision: str | None = None,
) -> str:
    """Open the defect a failed or blocked run found and link it to that run, in one step: its
    test case is the run's, it opens on the run's date, and its decision is `decision` (one
    the test case covers; the only one when it covers one). Both severities are the tester's
    choice: none is assumed. Refused when the run passed, or already has a defect (someone
    linked one meanwhile). Returns the defect's key."""
    permissions.check(actor, "save_defect")
    with store.transaction(conn):
        found = evidence_store.get_test_run(conn, run)
        if found is None:
            raise NotFound(_("no test run {run!r}", run=run))
        if found["result"] == "passed":
            raise WorkflowError(_("defect: a passed run opens no defect"))
        if found["defect"]:
            raise StaleRecord(
                _(
                    "Test run {run} already has defect {defect}; nothing was saved.",
                    run=run,
                    defect=found["defect"],
                )
            )
        case = evidence_store.get_test_case(conn, found["test_case"])
        if not decision and len(case["decisions"]) == 1:
            decision = case["decisions"][0]
        if decision and decision not in case["decisions"]:
            raise WorkflowError(
                _(
                    "decision: test case {key} does not cover {decision}",
                    key=case["key"],
                    decision=decision,
                )
            )
        record = _defect_record(
            conn,
            {
                "title": title,
                "severity_vendor": severity_vendor,
                "severity_clinical": severity_clinical,
                "status": "open",
                "decision": decision,
                "test_case": case["key"],
                "opened": found["date"][:10],
            },
        )
        evidence_store.save_defect(conn, record)
        evidence_store.link_run_defect(conn, run, record["key"])  # the write lock is held
        at = now(conn)
        linked = event(actor, at, "test_run", str(run), "defect_linked", None,
                       found["test_case"], record["key"])  # fmt: skip
        store.append_events(conn, [defect_event(actor, at, record, None), linked])
        return record["key"]


def needs_a_defect(run: Mapping) -> bool:
    """A test run that failed or was blocked and has no defect recorded to say why."""
    return run["result"] != "passed" and not run["defect"]


def defects_a_pass_may_close(conn: sqlite3.Connection, test_case: str) -> list[dict]:
    """Defects still open (or fixed, not yet verified) on `test_case` or a decision it covers:
    after it passes, the tester says of each whether to close it or keep it open."""
    return evidence_store.unresolved_defects_of_test_case(conn, test_case)


def close_defects(
    conn: sqlite3.Connection, actor: Actor, seen: Mapping[str, int], *, closed=None
) -> list[str]:
    """Close the defects `seen` names ({key: the row version the person saw}) on date `closed`
    (today when None), all or none: each goes through save_defect, so each is checked for a
    change made meanwhile and gets its event. Returns the keys closed."""
    permissions.check(actor, "save_defect")
    with store.transaction(conn):
        for key, row_version in seen.items():
            defect = evidence_store.get_defect(conn, key)
            if defect is None:
                raise NotFound(_("no defect {key!r}", key=key))
            save_defect(
                conn,
                actor,
                key=key,
                row_version=row_version,
                title=defect["title"],
                severity_vendor=defect["severity_vendor"],
                severity_clinical=defect["severity_clinical"],
                status="closed",
                decision=defect["decision"],
                test_case=defect["test_case"],
                opened=defect["opened"],
                closed=closed or now(conn)[:10],
            )
        return list(seen)


def _defect_record(conn: sqlite3.Connection, fields: Mapping) -> dict:
    """A defect's fields checked and normalised; a new key when none is given."""
    severities = {}
    for name in ("severity_vendor", "severity_clinical"):
        value = fields.get(name)
        if str(value).strip() not in ("1", "2", "3", "4"):
            raise WorkflowError(
                _(
                    "{name} must be 1, 2, 3 or 4, not {value!r}",
                    name=name.replace("_", " "),
                    value=value,
                )
            )
        severities[name] = int(value)
    decision = fields.get("decision") or None
    if decision:
        get_decision_or_fail(conn, decision)
    test_case = fields.get("test_case") or None
    if test_case and evidence_store.get_test_case(conn, test_case) is None:
        raise WorkflowError(_("test case {test_case!r} does not exist", test_case=test_case))
    status = choice_field(fields.get("status") or "open", "status", DEFECT_STATUSES)
    opened = parse_date(fields.get("opened"), "opened") or now(conn)[:10]
    closed = parse_date(fields.get("closed"), "closed")
    if closed and closed[:10] < opened[:10]:
        raise WorkflowError(
            _("closed {closed} is before opened {opened}", closed=closed[:10], opened=opened[:10])
        )
    return {
        "key": visible_field(fields.get("key"), "key")
        or evidence_store.next_key(conn, "defects", "DEF"),
        "title": text_field(fields.get("title"), "defect title", required=True, limit=MAX_TITLE),
        **severities,
        "status": status,
        "decision": decision,
        "test_case": test_case,
        "opened": opened,
        "closed": closed,
    }


def defect_event(actor: Actor, at: str, record: Mapping, existing: Mapping | None) -> dict:
    """The event of a defect opened or changed."""
    return event(
        actor,
        at,
        "defect",
        record["key"],
        "updated" if existing else "opened",
        existing["status"] if existing else None,
        record["status"],
        f"{record['title']} (vendor {record['severity_vendor']}, "
        f"clinical {record['severity_clinical']})",
    )
