"""Use cases: each checks the actor's permission, validates, changes, refreshes the derived
stages and appends its events, all in one transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable

from decisions import store
from decisions.model import (
    CRITICALITIES,
    SCOPES,
    STAGE_RANK,
    Actor,
    ApprovalRule,
    NotFound,
    StaleRecord,
    WorkflowError,
)
from decisions.store import decisions as decision_store
from decisions.workflow import check_action, derive_stage

MAX_TEXT = 20_000
MAX_TITLE = 300
STALE_MESSAGE = (
    "{what} was changed by someone else since you opened it; nothing was saved. "
    "Reload to see their change, then make yours again."
)

# The programme clock --------------------------------------------------------------------------


def wall_clock() -> dt.datetime:
    """The real moment (local time): the one place the programme clock reads it. Everything
    else asks now() or today(); only a lock file's age and an iCalendar DTSTAMP, which are
    about the real world, read the real clock themselves."""
    return dt.datetime.now()


def now(conn: sqlite3.Connection) -> str:
    """The current moment on the programme clock: its date (when one is set) with the real
    time of day, so the demo programme's changes happen on its own 'today'. Never earlier
    than the last recorded event: past real midnight the fixed date's time of day would
    run backwards and a build marked at 23:00 would refuse evidence recorded at 00:05."""
    moment = wall_clock().replace(microsecond=0)
    clock = store.get_settings(conn).get("clock")
    if clock:
        moment = dt.datetime.combine(dt.date.fromisoformat(clock), moment.time())
    last = store.last_event_time(conn)
    if last and last >= moment.isoformat():
        moment = dt.datetime.fromisoformat(last) + dt.timedelta(seconds=1)
    return moment.isoformat()


def today(conn: sqlite3.Connection) -> dt.date:
    return dt.date.fromisoformat(now(conn)[:10])


def approval_rule(conn: sqlite3.Connection) -> ApprovalRule:
    settings = store.get_settings(conn)
    default = ApprovalRule()
    return ApprovalRule(
        min_approvers=int(settings.get("approval.min_approvers", default.min_approvers)),
        min_approvers_critical=int(
            settings.get("approval.min_approvers_critical", default.min_approvers_critical)
        ),
        joint_needs_both_sides=bool(
            settings.get("approval.joint_needs_both_sides", default.joint_needs_both_sides)
        ),
    )


# Validation helpers ---------------------------------------------------------------------------


def text_field(
    value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str:
    value = (value or "").strip() if field != "decision" else (value or "").rstrip()
    if required and not value:
        raise WorkflowError(f"{field} is required")
    if len(value) > limit:
        raise WorkflowError(f"{field} is too long: {len(value)} characters, at most {limit}")
    return value


def choice_field(value: str, field: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise WorkflowError(f"{field} must be one of {', '.join(choices)}, not {value!r}")
    return value


def parse_date(value: str | dt.date | None, field: str) -> str | None:
    """An ISO date or timestamp as stored text; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.replace(microsecond=0, tzinfo=None).isoformat()
    except ValueError:
        raise WorkflowError(f"{field} must be a date as YYYY-MM-DD, not {text!r}") from None


def evidence_date(conn: sqlite3.Connection, value: str | dt.date | None, field: str) -> str:
    """When a recorded event happened: now when not given or today (so it sorts after
    anything else done today), never in the future."""
    date = parse_date(value, field)
    current = now(conn)
    if date is None or date == current[:10]:
        return current
    if date[:10] > current[:10]:
        raise WorkflowError(f"{field} {date[:10]} is in the future; record what has happened")
    return date


def require_role(actor: Actor, *roles: str, doing: str) -> None:
    if not actor.has(*roles):
        raise WorkflowError(f"{doing} needs the role {' or '.join(roles)}")


def get_decision_or_fail(conn: sqlite3.Connection, key: str) -> dict:
    decision = decision_store.get_decision(conn, key)
    if decision is None:
        raise NotFound(f"no decision {key!r}")
    return decision


def stage_event(
    actor: Actor, at: str, key: str, from_stage: str, to_stage: str, why: str | None
) -> dict:
    """The event of a decision's stage change; history replays stages from these."""
    return event(actor, at, "decision", key, "stage", from_stage, to_stage, why)


def event(
    actor: Actor,
    at: str,
    entity: str,
    key: str,
    action: str,
    from_value=None,
    to_value=None,
    reason=None,
) -> dict:
    return {
        "at": at,
        "actor": actor.email,
        "entity": entity,
        "entity_key": key,
        "action": action,
        "from_value": from_value,
        "to_value": to_value,
        "reason": reason,
    }


def known_people(conn: sqlite3.Connection, emails: list[str], field: str) -> list[str]:
    emails = [e.strip().lower() for e in emails if e and e.strip()]
    known = {
        r[0]
        for r in conn.execute(
            f"SELECT email FROM experts WHERE email IN ({', '.join('?' * len(emails))})", emails
        )
    }
    unknown = [e for e in emails if e not in known]
    if unknown:
        raise WorkflowError(f"{field}: not in the directory: {', '.join(unknown)}")
    return list(dict.fromkeys(emails))


# Derived stages ---------------------------------------------------------------------------------


def refresh_stages(
    conn: sqlite3.Connection, keys: Iterable[str], actor: Actor, at: str, why: str
) -> list[dict]:
    """Bring each decision's stored stage to what its evidence gives, inside the caller's
    transaction, and return the stage events to append."""
    rule = approval_rule(conn)
    keys = list(dict.fromkeys(keys))
    facts = decision_store.decision_facts(conn, keys)
    stored = decision_store.stored_stages(conn, keys)
    events = []
    for key, fact in facts.items():
        derived = derive_stage(fact, rule)
        if derived == stored[key]:
            continue
        changes: dict = {"stage": derived, "stage_since": at}
        if derived == "in_build" and fact.base_stage == "built":  # changes were requested
            changes.update(base_stage="in_build", built_at=None, ready_at=None)
        elif STAGE_RANK.get(derived, 0) < STAGE_RANK["tested"] and fact.ready_marked:
            changes["ready_at"] = None  # the evidence no longer says tested
        decision_store.update_decision(conn, key, changes)
        events.append(stage_event(actor, at, key, stored[key], derived, why))
    return events


# Decisions ------------------------------------------------------------------------------------


def create_decision(conn: sqlite3.Connection, actor: Actor, fields: dict) -> str:
    """Propose a new decision; returns its key."""
    require_role(actor, "expert", "analyst", "manager", "admin", doing="Proposing a decision")
    with store.transaction(conn):
        record = _validated_decision_fields(conn, fields, new=True)
        organizations = record.pop("organizations")
        key = fields.get("key") or decision_store.next_decision_key(conn, record["domain"])
        if decision_store.get_decision(conn, key):
            raise WorkflowError(f"a decision with key {key} exists already")
        at = now(conn)
        record.update(
            key=key, stage="proposed", base_stage="proposed", created_at=at, stage_since=at
        )
        decision_store.insert_decision(conn, record, organizations)
        store.append_events(
            conn, [event(actor, at, "decision", key, "created", None, "proposed", record["title"])]
        )
    return key


def _validated_decision_fields(conn: sqlite3.Connection, fields: dict, *, new: bool) -> dict:
    """The editable fields of a decision, checked against the reference lists."""
    record: dict = {}
    if new or "title" in fields:
        record["title"] = text_field(fields.get("title"), "title", required=True, limit=MAX_TITLE)
    for ref, table in (("domain", "domains"), ("module", "modules"), ("forum", "forums")):
        if new or ref in fields:
            code = (fields.get(ref) or "").strip()
            if not store.scalar(conn, f"SELECT 1 FROM {table} WHERE code = ?", (code,)):
                raise WorkflowError(f"{ref} {code!r} is not in the list of {table}")
            record[ref] = code
    if "module" in record and "domain" in record:
        module_domain = store.scalar(
            conn, "SELECT domain FROM modules WHERE code = ?", (record["module"],)
        )
        if module_domain != record["domain"]:
            raise WorkflowError(
                f"module {record['module']} belongs to domain {module_domain}, "
                f"not {record['domain']}"
            )
    if new or "scope" in fields:
        record["scope"] = choice_field(fields.get("scope", ""), "scope", SCOPES)
    if new or "criticality" in fields:
        record["criticality"] = choice_field(
            fields.get("criticality", "medium"), "criticality", CRITICALITIES
        )
    for name in ("question", "rationale"):
        if new or name in fields:
            record[name] = text_field(fields.get(name), name)
    if new or "needed_by" in fields:
        record["needed_by"] = parse_date(fields.get("needed_by"), "needed_by")
    if new or "owner" in fields:
        owner = (fields.get("owner") or "").strip().lower() or None
        if owner and not store.scalar(conn, "SELECT 1 FROM experts WHERE email = ?", (owner,)):
            raise WorkflowError(f"owner {owner} is not in the directory")
        record["owner"] = owner
    if new or "organizations" in fields:
        organizations = fields.get("organizations") or []
        if isinstance(organizations, str):
            organizations = [o.strip() for o in organizations.split(";") if o.strip()]
        all_orgs = [o.upper() for o in organizations] == ["ALL"]
        if not all_orgs:
            if not organizations:
                raise WorkflowError("organizations: name at least one, or ALL")
            known = {r[0] for r in conn.execute("SELECT code FROM organizations")}
            unknown = [o for o in organizations if o not in known]
            if unknown:
                raise WorkflowError(f"organizations not in the list: {', '.join(unknown)}")
        record["all_organizations"] = int(all_orgs)
        record["organizations"] = [] if all_orgs else list(dict.fromkeys(organizations))
    return record


def _save(conn: sqlite3.Connection, key: str, changes: dict, row_version: int | None) -> None:
    if not decision_store.update_decision(conn, key, changes, row_version):
        raise StaleRecord(STALE_MESSAGE.format(what=f"Decision {key}"))


def decide(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    *,
    decision_text: str,
    rationale: str | None = None,
    decided_by: list[str],
    decided_at=None,
    row_version: int | None = None,
) -> None:
    """proposed -> decided, with the text and the forum members who decided."""
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        check_action("decide", decision["stage"], actor, forum=decision["forum"])
        text = text_field(decision_text, "decision", required=True)
        deciders = [e.strip().lower() for e in decided_by if e.strip()]
        if not deciders:
            raise WorkflowError("decided by: name at least one expert who decided")
        members = decision_store.forum_member_emails(conn, decision["forum"])
        outsiders = [e for e in deciders if e not in members]
        if outsiders:
            raise WorkflowError(
                f"decided by: {', '.join(outsiders)} not a member of the forum {decision['forum']}"
            )
        at = now(conn)
        decided_on = evidence_date(conn, decided_at, "decided_at")
        if rationale is None:  # keep the proposal's rationale
            rationale = decision["rationale"]
        rationale = text_field(rationale, "rationale")
        _save(
            conn,
            key,
            {
                "decision": text,
                "rationale": rationale,
                "decided_at": decided_on[:10],
                "stage": "decided",
                "base_stage": "decided",
                "stage_since": at,
            },
            row_version,
        )
        decision_store.set_deciders(conn, key, deciders)
        decision_store.add_decision_version(
            conn,
            {
                "decision": key,
                "version": 1,
                "decision_text": text,
                "rationale": rationale,
                "started_at": None,
                "reason": "decided",
            },
        )
        why = f"decided by {', '.join(deciders)}"
        store.append_events(conn, [stage_event(actor, at, key, "proposed", "decided", why)])


def escalate(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    *,
    to_forum: str,
    reason: str,
    row_version: int | None = None,
) -> None:
    """Move a proposal up to a higher-level forum."""
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        check_action("escalate", decision["stage"], actor, forum=decision["forum"])
        reason = text_field(reason, "reason", required=True)
        current = decision_store.forum(conn, decision["forum"])
        target = decision_store.forum(conn, to_forum)
        if target is None:
            raise WorkflowError(f"forum {to_forum!r} is not in the list of forums")
        if target["level"] <= current["level"]:
            raise WorkflowError(
                f"escalation goes up: {to_forum} is level {target['level']}, "
                f"{current['code']} is level {current['level']}"
            )
        at = now(conn)
        _save(conn, key, {"forum": to_forum}, row_version)
        store.append_events(
            conn,
            [event(actor, at, "decision", key, "escalated", current["code"], to_forum, reason)],
        )


def set_manual_stage(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    action: str,
    *,
    reason: str = "",
    row_version: int | None = None,
) -> str:
    """start_build, mark_built, mark_ready or withdraw; returns the new stage."""
    if action not in ("start_build", "mark_built", "mark_ready", "withdraw"):
        raise WorkflowError(f"{action} is not a manual transition")
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        check_action(
            action, decision["stage"], actor, forum=decision["forum"], domain=decision["domain"]
        )
        at = now(conn)
        changes: dict = {"stage_since": at}
        if action == "start_build":
            changes.update(stage="in_build", base_stage="in_build", built_at=None)
        elif action == "mark_built":
            changes.update(stage="built", base_stage="built", built_at=at)
        elif action == "mark_ready":
            severe = decision_store.open_severe_defects(conn, key)
            if severe:
                raise WorkflowError(
                    "cannot mark ready: open severity 1-2 defects "
                    + ", ".join(d["key"] for d in severe)
                )
            changes.update(stage="ready", ready_at=at)
        else:
            reason = text_field(reason, "reason", required=True)
            changes.update(stage="withdrawn", base_stage="withdrawn", withdrawn_reason=reason)
        _save(conn, key, changes, row_version)
        moved = stage_event(actor, at, key, decision["stage"], changes["stage"], reason or None)
        # mark_built may be carried further at once by evidence already dated in the round
        carried = refresh_stages(conn, [key], actor, at, "evidence on record")
        store.append_events(conn, [moved, *carried])
        return carried[-1]["to_value"] if carried else changes["stage"]


def revise(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    *,
    decision_text: str,
    rationale: str | None = None,
    reason: str,
    row_version: int | None = None,
) -> int:
    """New decision text after `decided`: version N+1, back to decided, older evidence suspect.
    Returns the new version number."""
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        check_action("revise", decision["stage"], actor, forum=decision["forum"])
        text = text_field(decision_text, "decision", required=True)
        reason = text_field(reason, "reason", required=True)
        rationale = (
            decision["rationale"] if rationale is None else text_field(rationale, "rationale")
        )
        if text == decision["decision"] and rationale == decision["rationale"]:
            raise WorkflowError("the decision text is unchanged; nothing to revise")
        at = now(conn)
        version = decision["version"] + 1
        _save(
            conn,
            key,
            {
                "decision": text,
                "rationale": rationale,
                "version": version,
                "version_started_at": at,
                "stage": "decided",
                "base_stage": "decided",
                "built_at": None,
                "ready_at": None,
                "stage_since": at,
            },
            row_version,
        )
        decision_store.add_decision_version(
            conn,
            {
                "decision": key,
                "version": version,
                "decision_text": text,
                "rationale": rationale,
                "started_at": at,
                "reason": reason,
            },
        )
        events = [
            event(actor, at, "decision", key, "revised", decision["version"], version, reason)
        ]
        if decision["stage"] != "decided":
            why = f"revised to version {version}"
            events.append(stage_event(actor, at, key, decision["stage"], "decided", why))
        store.append_events(conn, events)
        return version


def edit_decision(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    fields: dict,
    *,
    row_version: int | None = None,
) -> list[str]:
    """Change a decision's details (not its decided text, which `revise` versions).
    Returns the names of the fields that changed."""
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        check_action("edit", decision["stage"], actor, forum=decision["forum"])
        allowed = {
            "title",
            "question",
            "rationale",
            "needed_by",
            "owner",
            "criticality",
            "organizations",
            "module",
            "scope",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise WorkflowError(f"cannot edit {', '.join(sorted(unknown))} here")
        if "rationale" in fields and decision["stage"] != "proposed":
            if fields["rationale"] != decision["rationale"]:
                raise WorkflowError("the rationale of a decided decision changes by revision")
            fields = {k: v for k, v in fields.items() if k != "rationale"}
        if "module" in fields:
            fields = {**fields, "domain": decision["domain"]}
        record = _validated_decision_fields(conn, fields, new=False)
        organizations = record.pop("organizations", None)
        record.pop("domain", None)
        old = {c: decision[c] for c in record}
        changed = {c: v for c, v in record.items() if old[c] != v}
        if organizations is not None:
            new_all = record.get("all_organizations", decision["all_organizations"])
            if (
                sorted(organizations) != decision["organizations"]
                or new_all != decision["all_organizations"]
            ):
                changed["organizations"] = "ALL" if new_all else ";".join(sorted(organizations))
                old["organizations"] = (
                    "ALL" if decision["all_organizations"] else ";".join(decision["organizations"])
                )
        if not changed:
            return []
        at = now(conn)
        _save(conn, key, {c: v for c, v in changed.items() if c != "organizations"}, row_version)
        if "organizations" in changed:
            decision_store.set_decision_organizations(conn, key, organizations)
        events = [
            event(actor, at, "decision", key, "edited", old[c], changed[c], c)
            for c in sorted(changed)
        ]
        events = [e | {"action": f"edited:{e['reason']}", "reason": None} for e in events]
        events += refresh_stages(conn, [key], actor, at, "approval rule re-checked")
        store.append_events(conn, events)
        return sorted(changed)


# Integrity ------------------------------------------------------------------------------------


def check(conn: sqlite3.Connection) -> list[str]:
    """Every inconsistency found: SQLite integrity, foreign keys, the event log, and stored
    stages that differ from the stages the evidence gives or the event log tells."""
    findings = [
        f"integrity: {r[0]}" for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"
    ]
    findings += [
        f"foreign key: {r[0]} row {r[1]} refers to a missing {r[2]}"
        for r in conn.execute("PRAGMA foreign_key_check")
    ]
    findings += store.verify_event_log(conn)
    rule = approval_rule(conn)
    stored = decision_store.stored_stages(conn)
    for key, facts in decision_store.decision_facts(conn).items():
        derived = derive_stage(facts, rule)
        if stored[key] != derived:
            findings.append(f"stage: {key} is stored as {stored[key]}, the evidence says {derived}")
    for key, logged in decision_store.logged_stages(conn).items():
        if logged != stored[key]:
            findings.append(f"history: {key} is stored as {stored[key]}, its events say {logged}")
    return findings
