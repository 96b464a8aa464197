"""Use cases: each checks the actor's permission, validates, changes, refreshes the derived
stages and appends its events, all in one transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from decisions import app_address, permissions, settings, store, words
from decisions.i18n import _
from decisions.model import (
    CRITICALITIES,
    SCOPES,
    STAGE_RANK,
    Actor,
    ApprovalRule,
    DecisionFacts,
    Missing,
    NotFound,
    StaleRecord,
    WorkflowError,
    stage_at_least,
)
from decisions.store import analytics, anchor, records, reference
from decisions.store import decisions as decision_store
from decisions.workflow import (
    check_action,
    derive_stage,
    in_wave_scope,
    norm_time,
    side_of,
    stage_changes,
    step_changes,
)

MAX_TEXT = 20_000
MAX_TITLE = 300

# The programme clock --------------------------------------------------------------------------


def wall_clock() -> dt.datetime:
    """The real moment (local time): the one place the programme clock reads it. Everything
    else asks now() or today(); only a lock file's age, an iCalendar DTSTAMP and a sign-out
    time, which are about the real world, read the real clock themselves."""
    return dt.datetime.now()


def now(conn: sqlite3.Connection) -> str:
    """The current moment on the programme clock: its date (when one is set) with the real
    time of day, so the demo programme's changes happen on its own 'today'. Never earlier
    than the last recorded event: past real midnight the fixed date's time of day would
    run backwards and a build marked at 23:00 would refuse evidence recorded at 00:05."""
    moment = wall_clock().replace(microsecond=0)
    clock = settings.get(conn, settings.CLOCK)
    if clock:
        moment = dt.datetime.combine(dt.date.fromisoformat(clock), moment.time())
    last = store.last_event_time(conn)
    if last and last >= moment.isoformat():
        moment = dt.datetime.fromisoformat(last) + dt.timedelta(seconds=1)
    return moment.isoformat()


def today(conn: sqlite3.Connection) -> dt.date:
    return dt.date.fromisoformat(now(conn)[:10])


def approval_rule(conn: sqlite3.Connection) -> ApprovalRule:
    return settings.approval_rule(conn)


# Validation helpers ---------------------------------------------------------------------------


@contextmanager
def about(column: str) -> Iterator[None]:
    """Mark a refusal raised inside with the field it is about (the form's field, the import
    file's column), unless a narrower `about` marked it already."""
    try:
        yield
    except WorkflowError as refused:
        if not getattr(refused, "column", None):
            refused.column = column
        raise


def text_field(
    value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str:
    value = (value or "").strip() if field != "decision" else (value or "").rstrip()
    if required and not value:
        raise WorkflowError(_("{field} is required", field=words.field_label(field)))
    if len(value) > limit:
        raise WorkflowError(
            _(
                "{field} is too long: {length} characters, at most {limit}",
                field=words.field_label(field),
                length=len(value),
                limit=limit,
            )
        )
    return value


# Characters a key, an email or a name never holds: control characters, bidirectional
# overrides and isolates, zero-width and other invisible formatting characters (Unicode
# categories Cc, Cf, Zl, Zp, Cs). They make two names look alike or reorder what is shown.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


def invisible_character(text: str) -> str | None:
    """The first character of `text` that a key, email or name may not hold, described
    (`U+202E RIGHT-TO-LEFT OVERRIDE at position 3`), or None."""
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) in _INVISIBLE:
            name = unicodedata.name(char, "a control character")
            return _("U+{code} {name} at position {position}", code=f"{ord(char):04X}",
                     name=name, position=position)  # fmt: skip
    return None


def visible_field(value: str | None, field: str) -> str:
    """A key, an email or a name: refused when it holds an invisible or control character
    (the import's cells get the same check, see io.kinds)."""
    found = invisible_character(value or "")
    if found:
        raise WorkflowError(
            _(
                "{field}: holds the invisible character {found}; keys, emails and names take "
                "visible characters only",
                field=words.field_label(field),
                found=found,
            )
        )
    return value or ""


def choice_field(value: str, field: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise WorkflowError(
            _(
                "{field} must be one of {choices}, not {value!r}",
                field=words.field_label(field),
                choices=", ".join(choices),
                value=value,
            )
        )
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
        raise WorkflowError(
            _(
                "{field} must be a date as YYYY-MM-DD, not {text!r}",
                field=words.field_label(field),
                text=text,
            )
        ) from None


def evidence_date(
    conn: sqlite3.Connection, value: str | dt.date | None, field: str, *, as_given: bool = False
) -> str:
    """When a recorded event happened: now when not given or a bare date of today (so it
    sorts after anything else done today; `as_given` keeps a bare date, as an import's key
    does), never later than now: a timestamp later today is in the future as much as
    tomorrow is, and would count for a build round started after it."""
    date = parse_date(value, field)
    current = now(conn)
    if date is None or (date == current[:10] and not as_given):
        return current
    check_not_future(date, current, field)
    return date


def check_not_future(date: str, current: str, field: str) -> None:
    """Refuse evidence dated after `current` (the programme clock's now), to the second."""
    if norm_time(date) > current:
        shown = date if len(date) == 10 else date.replace("T", " ")
        raise WorkflowError(
            _(
                "{field} {shown} is in the future (it is now {current}); record what has happened",
                field=words.field_label(field),
                shown=shown,
                current=current.replace("T", " "),
            )
        )


def get_decision_or_fail(conn: sqlite3.Connection, key: str) -> dict:
    decision = decision_store.get_decision(conn, key)
    if decision is None:
        raise NotFound(_("no decision {key!r}", key=key))
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


class Lookups:
    """What the use cases read of the directory and the decisions, each read once: a use case
    makes its own; an import keeps one while it checks a file's rows (nothing they read
    changes before the file is written)."""

    def __init__(self, conn: sqlite3.Connection, moment: str | None = None) -> None:
        self.conn = conn
        self.moment = moment
        self.people: dict[str, Actor | None] = {}
        self.listed: dict[str, bool] = {}
        self.decisions: dict[str, dict] = {}

    def now(self) -> str:
        """The moment the use case takes for now: `moment` where the caller gives one (the demo
        generator, writing a programme's past), else the programme clock (services.now)."""
        return self.moment or now(self.conn)

    def person(self, email: str) -> Actor | None:
        """The active person with this email, else None."""
        if email not in self.people:
            self.people[email] = decision_store.load_actor(self.conn, email)
        return self.people[email]

    def unknown(self, emails: list[str]) -> list[str]:
        """Those of `emails` not in the directory."""
        unread = [e for e in dict.fromkeys(emails) if e not in self.listed]
        if unread:
            missing = set(reference.unknown_emails(self.conn, unread))
            self.listed.update({e: e not in missing for e in unread})
        return [e for e in emails if not self.listed[e]]

    def decision(self, key: str) -> dict:
        if key not in self.decisions:
            self.decisions[key] = get_decision_or_fail(self.conn, key)
        return self.decisions[key]


def known_people(
    conn: sqlite3.Connection, emails: list[str], field: str, lookups: Lookups | None = None
) -> list[str]:
    emails = [e.strip().lower() for e in emails if e and e.strip()]
    unknown = (lookups or Lookups(conn)).unknown(emails)
    if unknown:
        raise WorkflowError(
            _(
                "{field}: not in the directory: {unknown}",
                field=words.field_label(field),
                unknown=", ".join(unknown),
            )
        )
    return list(dict.fromkeys(emails))


def person_who_may(
    conn: sqlite3.Connection,
    email: str,
    field: str,
    action: str,
    target: permissions.Target | None = None,
    lookups: Lookups | None = None,
) -> str:
    """The email of the active person named in `field` (a presenter, a tester, a reporter),
    who must hold a role that may take `action` themselves: the same check the pages make
    when they list whom to choose."""
    lookups = lookups or Lookups(conn)
    email = known_people(conn, [email], field, lookups)[0]
    return check_person_may(email, lookups.person(email), field, action, target)


def check_person_may(
    email: str,
    person: Actor | None,
    field: str,
    action: str,
    target: permissions.Target | None = None,
) -> str:
    """person_who_may's rule on a person already looked up (`person`: None when `email` is in
    the directory but inactive); the import asks it with its own look-up of the directory."""
    if person is None:
        raise WorkflowError(
            _(
                "{field}: {email} is inactive; name an active person",
                field=words.field_label(field),
                email=email,
            )
        )
    reason = permissions.refusal(person, action, target or permissions.Target())
    if reason:
        raise WorkflowError(
            _(
                "{field}: {email} may not be named: {reason}",
                field=words.field_label(field),
                email=email,
                reason=reason,
            )
        )
    return email


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
        changes, refreshed = plan_stage_refresh(
            key, fact, stored[key], rule, actor, at, why,
            lambda key=key: decision_store.get_decision(conn, key) or {},
        )  # fmt: skip
        events += refreshed
        if changes:
            decision_store.update_decision(conn, key, changes)
    return events


def plan_stage_refresh(
    key: str,
    fact: DecisionFacts,
    stage: str,
    rule: ApprovalRule,
    actor: Actor,
    at: str,
    why: str,
    on_record: Callable[[], Mapping],
) -> tuple[dict, list[dict]]:
    """The rule of a decision's derived stage on plain data (`stage`: the one stored;
    `on_record`: reads the stored columns, asked only when the stage stays yet a column
    changes): the changes and events that bring it to what its evidence `fact` gives, for
    refresh_stages and the demo to write.

    A ready mark is a fact that survives what is not test evidence: a stricter approval rule
    or an edit lowers the stage, and the stage is ready again once the evidence says tested.
    It is dropped when the tests no longer say passed, or a new build round starts."""
    derived = derive_stage(fact, rule)
    changes = stage_changes(fact, derived)
    if derived != stage:
        changes.update(stage=derived, stage_since=at)
        return changes, [stage_event(actor, at, key, stage, derived, why)]
    if not changes:
        return changes, []
    before = on_record()  # the stage stays, yet the record changes: the log says so all the same
    return changes, [event(actor, at, "decision", key, f"edited:{c}", before.get(c), v, why)
                     for c, v in changes.items()]  # fmt: skip


def waves_counting(conn: sqlite3.Connection, decision: dict) -> list[str]:
    """The waves whose readiness `decision` counts for, by its organisations."""
    affected = set(decision["organizations"])
    return [
        wave.code
        for wave in analytics.waves(conn).itertuples()
        if in_wave_scope(
            decision["all_organizations"],
            bool(affected & set((wave.organizations or "").split(";"))),
        )
    ]


# Decisions ------------------------------------------------------------------------------------


def create_decision(conn: sqlite3.Connection, actor: Actor, fields: dict) -> str:
    """Propose a new decision; returns its key."""
    permissions.check(actor, "propose")
    with store.transaction(conn):
        record = validated_decision_fields(References(conn), fields, new=True)
        organizations = record.pop("organizations")
        key = visible_field(fields.get("key"), "key") or decision_store.next_decision_key(
            conn, record["domain"]
        )
        if decision_store.get_decision(conn, key):
            raise WorkflowError(_("a decision with key {key} exists already", key=key))
        record, created = plan_proposal({**record, "key": key}, actor, now(conn))
        decision_store.insert_decision(conn, record, organizations)
        store.append_events(conn, [created])
    return key


def plan_proposal(fields: dict, actor: Actor, at: str) -> tuple[dict, dict]:
    """The rules of proposing a decision of checked `fields` (with its key) on plain data: the
    record, proposed from `at`, and its created event, for create_decision and the import to
    write."""
    permissions.check(actor, "propose")
    record = {**fields, "stage": "proposed", "base_stage": "proposed", "created_at": at,
              "stage_since": at}  # fmt: skip
    return record, event(actor, at, "decision", record["key"], "created", None, "proposed",
                         record["title"])  # fmt: skip


class References:
    """What the rule of a decision's fields reads of the reference lists and the directory:
    here from the database; an import reads them from the catalog it holds."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def unknown_codes(self, table: str, codes: list[str]) -> list[str]:
        return reference.unknown_codes(self.conn, table, codes)

    def module_domain(self, module: str) -> str | None:
        return reference.module_domain(self.conn, module)

    def unknown_emails(self, emails: list[str]) -> list[str]:
        return reference.unknown_emails(self.conn, emails)

    def organization_kinds(self) -> dict[str, str]:
        return {r["code"]: r["kind"] for r in reference.list_table(self.conn, "organizations")}


def validated_decision_fields(
    references: References, fields: dict, *, new: bool, current: dict | None = None
) -> dict:
    """The editable fields of a decision, checked against the reference lists and the scope
    rule (`current`: the decision on record, for an edit). Every problem found is reported
    at once (WorkflowError.problems), not the first alone. Creating, editing and importing a
    decision ask it."""
    record: dict = {}
    problems: list[str] = []

    def checked(check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except WorkflowError as error:
            problems.extend(error.problems)
            return None

    if new or "title" in fields:
        record["title"] = checked(
            text_field, fields.get("title"), "title", required=True, limit=MAX_TITLE
        )
    for ref, table in (("domain", "domains"), ("module", "modules"), ("forum", "forums")):
        if new or ref in fields:
            code = (fields.get(ref) or "").strip()
            if not code:
                problems.append(_("{field} is required", field=ref))
            elif references.unknown_codes(table, [code]):
                problems.append(_("{field} {code} is not in the list of {table}", field=ref,
                                  code=repr(code), table=table))  # fmt: skip
            record[ref] = code
    if record.get("module") and record.get("domain"):
        module_domain = references.module_domain(record["module"])
        if module_domain and module_domain != record["domain"]:
            problems.append(
                _("module {module} belongs to domain {domain}, not {given}",
                  module=record["module"], domain=module_domain, given=record["domain"])
            )  # fmt: skip
    if new or "scope" in fields:
        record["scope"] = checked(choice_field, fields.get("scope", ""), "scope", SCOPES)
    if new or "criticality" in fields:
        record["criticality"] = checked(
            choice_field, fields.get("criticality", "medium"), "criticality", CRITICALITIES
        )
    for name in ("question", "rationale"):
        if new or name in fields:
            record[name] = checked(text_field, fields.get(name), name)
    if new or "needed_by" in fields:
        record["needed_by"] = checked(parse_date, fields.get("needed_by"), "needed_by")
    if new or "owner" in fields:
        owner = (fields.get("owner") or "").strip().lower() or None
        if owner and references.unknown_emails([owner]):
            problems.append(_("owner {owner} is not in the directory", owner=owner))
        record["owner"] = owner
    if new or "organizations" in fields:
        organizations = fields.get("organizations") or []
        if isinstance(organizations, str):
            organizations = [o.strip() for o in organizations.split(";") if o.strip()]
        all_orgs = [o.upper() for o in organizations] == ["ALL"]
        if not all_orgs:
            if not organizations:
                problems.append(_("organizations: name at least one, or ALL"))
            unknown = references.unknown_codes("organizations", organizations)
            if unknown:
                problems.append(_("organizations not in the list: {codes}",
                                  codes=", ".join(unknown)))  # fmt: skip
        record["all_organizations"] = int(all_orgs)
        record["organizations"] = [] if all_orgs else list(dict.fromkeys(organizations))
    if "scope" in record or "organizations" in record:
        before = current or {}
        scope = record.get("scope", before.get("scope"))
        everyone = record.get("all_organizations", before.get("all_organizations"))
        chosen = record.get("organizations", before.get("organizations") or [])
        if scope and not everyone:
            kinds = references.organization_kinds()
            problems += [words.scope_problem_text(*p) for p in scope_problems(scope, chosen, kinds)]
    if problems:
        raise WorkflowError(*problems)
    return record


def _save(conn: sqlite3.Connection, key: str, changes: dict, row_version: int | None) -> None:
    if not decision_store.update_decision(conn, key, changes, row_version):
        raise StaleRecord(words.stale_text("decision", key))


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
        at = now(conn)
        changes, deciders, version, moved = plan_decide(
            decision,
            actor,
            at,
            decision_text=decision_text,
            rationale=rationale,
            decided_by=decided_by,
            members=decision_store.forum_member_emails(conn, decision["forum"]),
            decided_on=evidence_date(conn, decided_at, "decided_at"),
        )
        _save(conn, key, changes, row_version)
        decision_store.set_deciders(conn, key, deciders)
        decision_store.add_decision_version(conn, version)
        store.append_events(conn, [moved])


def plan_decide(
    decision: dict,
    actor: Actor,
    at: str,
    *,
    decision_text: str,
    rationale: str | None,
    decided_by: list[str],
    members: Iterable[str],
    decided_on: str,
) -> tuple[dict, list[str], dict, dict]:
    """Every rule of deciding the proposal `decision` (`members`: its forum's), on plain
    data: the decision's changes, its deciders, its first version and the stage event, for
    decide and the import to write."""
    check_action("decide", decision["stage"], actor, forum=decision["forum"])
    with about("decision"):
        text = text_field(decision_text, "decision", required=True)
    with about("decided_by"):
        deciders = check_deciders(decided_by, members, decision["forum"])
    if rationale is None:  # keep the proposal's rationale
        rationale = decision["rationale"]
    with about("rationale"):
        rationale = text_field(rationale, "rationale")
    changes = {"decision": text, "rationale": rationale, "decided_at": decided_on[:10],
               **step_changes("decide", at)}  # fmt: skip
    version = {"decision": decision["key"], "version": 1, "decision_text": text,
               "rationale": rationale, "started_at": None, "reason": "decided"}  # fmt: skip
    why = f"decided by {', '.join(deciders)}"
    return changes, deciders, version, stage_event(actor, at, decision["key"], "proposed",
                                                   "decided", why)  # fmt: skip


def check_deciders(decided_by: list[str], members: Iterable[str], forum: str) -> list[str]:
    """Who decided: at least one, each a member of the deciding forum."""
    deciders = [e.strip().lower() for e in decided_by if e.strip()]
    if not deciders:
        raise WorkflowError(_("decided by: name at least one expert who decided"))
    members = set(members)
    outsiders = [e for e in deciders if e not in members]
    if outsiders:
        raise WorkflowError(
            _(
                "decided by: {outsiders} not a member of the forum {forum}",
                outsiders=", ".join(outsiders),
                forum=forum,
            )
        )
    return deciders


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
        changes, escalated = plan_escalate(
            decision, actor, now(conn), to_forum=to_forum, reason=reason,
            current=decision_store.forum(conn, decision["forum"]),
            target=decision_store.forum(conn, to_forum),
        )  # fmt: skip
        _save(conn, key, changes, row_version)
        store.append_events(conn, [escalated])


def plan_escalate(
    decision: dict,
    actor: Actor,
    at: str,
    *,
    to_forum: str,
    reason: str | None,
    current: dict,
    target: dict | None,
) -> tuple[dict, dict]:
    """Every rule of escalating the proposal `decision` from its forum (`current`) to
    `to_forum` (`target`: that forum, None when there is none) on plain data: the decision's
    changes and the event, for escalate, the import and the demo to write."""
    check_action("escalate", decision["stage"], actor, forum=decision["forum"])
    reason = text_field(reason, "reason", required=True)
    with about("forum"):
        if target is None:
            raise WorkflowError(
                _("forum {to_forum!r} is not in the list of forums", to_forum=to_forum)
            )
        if target["level"] <= current["level"]:
            raise WorkflowError(
                _(
                    "escalation goes up: {to_forum} is level {level}, {code} is level {level2}",
                    to_forum=to_forum,
                    level=target["level"],
                    code=current["code"],
                    level2=current["level"],
                )
            )
    return {"forum": to_forum}, event(
        actor, at, "decision", decision["key"], "escalated", current["code"], to_forum, reason
    )


def ready_blockers(conn: sqlite3.Connection, key: str) -> list[dict]:
    """What keeps `key` from being marked ready for production: its open severity 1-2
    defects. set_manual_stage refuses mark_ready on exactly these; a screen shows them first."""
    return decision_store.open_severe_defects(conn, key)


MANUAL_ACTIONS = ("start_build", "mark_built", "mark_ready", "withdraw")


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
    with store.transaction(conn):
        decision = get_decision_or_fail(conn, key)
        at = now(conn)
        severe = ready_blockers(conn, key) if action == "mark_ready" else []
        changes, moved = plan_manual_stage(
            decision, actor, at, action, reason=reason, severe_defects=severe
        )
        _save(conn, key, changes, row_version)
        # mark_built may be carried further at once by evidence already dated in the round
        carried = refresh_stages(conn, [key], actor, at, "evidence on record")
        store.append_events(conn, [moved, *carried])
        return carried[-1]["to_value"] if carried else changes["stage"]


def plan_manual_stage(
    decision: dict,
    actor: Actor,
    at: str,
    action: str,
    *,
    reason: str | None = "",
    severe_defects: Iterable[dict] = (),
) -> tuple[dict, dict]:
    """Every rule of a manual stage move (start_build, mark_built, mark_ready, withdraw) of
    `decision` on plain data (`severe_defects`: its open severity 1-2 defects, which mark_ready
    refuses): the decision's changes and the stage event, for set_manual_stage and the
    import to write."""
    if action not in MANUAL_ACTIONS:
        raise WorkflowError(_("{action} is not a manual transition", action=action))
    check_action(
        action, decision["stage"], actor, forum=decision["forum"], domain=decision["domain"]
    )
    changes = step_changes(action, at)
    severe = list(severe_defects)
    if action == "mark_ready" and severe:
        raise WorkflowError(
            _(
                "cannot be ready: open severity 1-2 defects {keys}",
                keys=", ".join(d["key"] for d in severe),
            )
        )
    if action == "withdraw":
        with about("withdrawn_reason"):
            reason = text_field(reason, "reason", required=True)
        changes["withdrawn_reason"] = reason
    moved = stage_event(actor, at, decision["key"], decision["stage"], changes["stage"],
                        reason or None)  # fmt: skip
    return changes, moved


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
        changes, version, events = plan_revise(
            decision, actor, now(conn), decision_text=decision_text, rationale=rationale,
            reason=reason,
        )  # fmt: skip
        _save(conn, key, changes, row_version)
        decision_store.add_decision_version(conn, version)
        store.append_events(conn, events)
        return changes["version"]


def plan_revise(
    decision: dict,
    actor: Actor,
    at: str,
    *,
    decision_text: str | None,
    rationale: str | None,
    reason: str | None,
) -> tuple[dict, dict, list[dict]]:
    """Every rule of revising `decision` on plain data (`rationale` None: the one on record):
    the decision's changes, its new version and the events, for revise and the import to
    write."""
    check_action("revise", decision["stage"], actor, forum=decision["forum"])
    with about("decision"):
        text = text_field(decision_text, "decision", required=True)
    reason = text_field(reason, "reason", required=True)
    with about("rationale"):
        rationale = (
            decision["rationale"] if rationale is None else text_field(rationale, "rationale")
        )
    if text == decision["decision"] and rationale == decision["rationale"]:
        raise WorkflowError(_("the decision text is unchanged; nothing to revise"))
    number = decision["version"] + 1
    changes = {"decision": text, "rationale": rationale, "version": number,
               **step_changes("revise", at)}  # fmt: skip
    version = {"decision": decision["key"], "version": number, "decision_text": text,
               "rationale": rationale, "started_at": at, "reason": reason}  # fmt: skip
    events = [event(actor, at, "decision", decision["key"], "revised", decision["version"],
                    number, reason)]  # fmt: skip
    if decision["stage"] != "decided":
        why = f"revised to version {number}"
        events.append(stage_event(actor, at, decision["key"], decision["stage"], "decided", why))
    return changes, version, events


# The fields the approval rule reads (and, for the organisations, the waves a decision counts
# for); edited after `built` only with a reason, and never raising the stage by themselves.
RULE_FIELDS = ("domain", "scope", "criticality", "organizations", "all_organizations")


def hold_stage(conn: sqlite3.Connection, key: str, stage_before: str, at: str) -> bool:
    """After an edit of the fields the approval rule reads, inside the caller's transaction:
    when the evidence on record would now carry the decision past `stage_before`, cap it
    there from `at`, until evidence dated after the edit carries it on (workflow.derive_stage
    honours the cap, so the stored stage stays what the evidence says). Returns True when
    it holds the stage."""
    if not stage_at_least(stage_before, "built"):
        return False
    facts = decision_store.decision_facts(conn, [key])[key]
    if STAGE_RANK[derive_stage(facts, approval_rule(conn))] <= STAGE_RANK[stage_before]:
        return False
    decision_store.update_decision(conn, key, {"stage_cap": stage_before, "stage_cap_since": at})
    return True


def edit_decision(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    fields: dict,
    *,
    reason: str | None = None,
    row_version: int | None = None,
) -> list[str]:
    """Change a decision's details (not its decided text, which `revise` versions). From
    `built` on, a change of the fields the approval rule reads (domain, scope, criticality,
    organisations) needs a `reason`, which the edit events carry, and keeps or lowers the
    stage, never raises it: new evidence does. Returns the names of the fields that changed."""
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
            raise WorkflowError(_("cannot edit {unknown} here", unknown=", ".join(sorted(unknown))))
        if "rationale" in fields and decision["stage"] != "proposed":
            if fields["rationale"] != decision["rationale"]:
                raise WorkflowError(_("the rationale of a decided decision changes by revision"))
            fields = {k: v for k, v in fields.items() if k != "rationale"}
        if "module" in fields:
            fields = {**fields, "domain": decision["domain"]}
        record = validated_decision_fields(References(conn), fields, new=False, current=decision)
        record.pop("domain", None)
        at = now(conn)
        changed, events, shown = plan_edit(decision, actor, at, record, reason=reason)
        if not changed:
            return []
        _save(conn, key, {c: v for c, v in changed.items() if c != "organizations"}, row_version)
        if "organizations" in changed:
            decision_store.set_decision_organizations(conn, key, record["organizations"])
        why = "approval rule re-checked"
        if shown:
            hold_stage(conn, key, decision["stage"], at)
            why = f"{shown} edited: {events[0]['reason']}"
        events += refresh_stages(conn, [key], actor, at, why)
        store.append_events(conn, events)
        return sorted(changed)


def plan_edit(
    decision: dict, actor: Actor, at: str, record: dict, *, reason: str | None
) -> tuple[dict, list[dict], str | None]:
    """The rule of editing `decision`'s details to the checked fields of `record` (its
    organisations as a list, with all_organizations) on plain data: the columns that change
    (organisations as their text), their events, and the rule fields shown when the edit is
    guarded (from `built` on, the fields the approval rule reads need a reason and never raise
    the stage: the caller holds it, see hold_stage), else None."""
    old = {c: decision[c] for c in record if c != "organizations"}
    changed = {c: v for c, v in record.items() if c != "organizations" and old[c] != v}
    organizations = record.get("organizations")
    if organizations is not None:
        new_all = record.get("all_organizations", decision["all_organizations"])
        if (
            sorted(organizations) != sorted(decision["organizations"])
            or new_all != decision["all_organizations"]
        ):
            changed["organizations"] = "ALL" if new_all else ";".join(sorted(organizations))
            old["organizations"] = (
                "ALL" if decision["all_organizations"] else ";".join(decision["organizations"])
            )
    if not changed:
        return {}, [], None
    reason = text_field(reason, "reason") or None
    rule_fields = [c for c in RULE_FIELDS if c in changed]
    guarded = bool(rule_fields) and stage_at_least(decision["stage"], "built")
    shown = ", ".join(dict.fromkeys(c.removeprefix("all_") for c in rule_fields))
    if guarded and not reason:
        raise WorkflowError(
            _(
                "{shown}: the approval rule and the waves read these; on a decision that is "
                "{stage} give the reason for the change",
                shown=shown,
                stage=decision["stage"].replace("_", " "),
            )
        )
    events = [
        event(actor, at, "decision", decision["key"], f"edited:{c}", old[c], changed[c], reason)
        for c in sorted(changed)
        if c != "all_organizations"  # the organisations' event says ALL
    ]
    return changed, events, shown if guarded else None


# Integrity ------------------------------------------------------------------------------------


def check(
    conn: sqlite3.Connection,
    *,
    log_key: bytes | None = None,
    heads: Iterable[tuple[str, dict]] = (),
    own_head: tuple[str, dict | None] | None = None,
) -> list[str]:
    """Every inconsistency found: SQLite integrity, foreign keys, the event log (its hash chain
    and, with the log key, the events' MACs), covered records that differ from their latest
    event, the log against head files ((name, head) pairs) and against the database's own
    head ((name, head or None when missing), which the log key requires), and stored stages
    that differ from the stages the evidence gives or the event log tells. `log_key` defaults
    to the configured one (store.anchor.log_key)."""
    log_key = log_key or anchor.log_key()
    findings = store.integrity_findings(conn)
    latest: dict = {}
    findings += store.verify_event_log(conn, log_key, latest)
    if store.has_digests(conn):
        findings += records.findings(conn, latest)
    findings += _head_findings(conn, log_key, heads, own_head)
    rule = approval_rule(conn)
    stored = decision_store.stored_stages(conn)
    for key, facts in decision_store.decision_facts(conn).items():
        derived = derive_stage(facts, rule)
        if stored[key] != derived:
            findings.append(_("stage: {key} is stored as {stored}, the evidence says {derived}",
                              key=key, stored=stored[key], derived=derived))  # fmt: skip
    for key, logged in decision_store.logged_stages(conn).items():
        if logged != stored[key]:
            findings.append(_("history: {key} is stored as {stored}, its events say {logged}",
                              key=key, stored=stored[key], logged=logged))  # fmt: skip
    return findings + app_address.check_findings(conn)


def _head_findings(
    conn: sqlite3.Connection,
    log_key: bytes | None,
    heads: Iterable[tuple[str, dict]],
    own_head: tuple[str, dict | None] | None,
) -> list[str]:
    last_id, newest_signed = store.last_event(conn)[0], store.newest_signed(conn)

    def against(name: str, head: dict, own: bool) -> list[str]:
        head_id = int(head["event_id"])
        log = anchor.LogEnd(last_id, newest_signed, store.event_at(conn, head_id),
                            store.unsigned_after(conn, head_id))  # fmt: skip
        return anchor.head_findings(name, head, log_key, log, own=own)

    findings = [f for name, head in heads for f in against(name, head, False)]
    if own_head is None or log_key is None:
        return findings
    name, head = own_head
    if head is not None:
        return findings + against(name, head, True)
    if last_id:
        findings.append(_("head {name}: missing, though the log key is set and every change "
                          "writes it (deleted?); after setting the key, write the first one "
                          "with check --anchor {name}", name=name))  # fmt: skip
    return findings


def check_warnings(
    conn: sqlite3.Connection,
    *,
    log_key: bytes | None = None,
    heads: Iterable[tuple[str, dict]] = (),
) -> list[str]:
    """What `check` could not prove on this database, as warnings (not findings): no log key,
    no event with a MAC yet, no head file to hold the log against."""
    log_key = log_key or anchor.log_key()
    warnings = []
    if not store.has_digests(conn):
        warnings.append(_("records: the schema predates record digests (m009); open the "
                          "database once with the app or any writing command"))  # fmt: skip
    if log_key is None:
        warnings.append(_("event log: not anchored: no log key (${variable} or [log] key in "
                          ".streamlit/secrets.toml); a log recomputed or extended by someone "
                          "with the file would go unseen", variable=anchor.KEY_ENV))  # fmt: skip
    elif store.last_event(conn)[0] and not store.newest_signed(conn):
        warnings.append(_("event log: no event carries a MAC of the log key yet (written "
                          "before the key was set); the next change starts the keyed "
                          "log"))  # fmt: skip
    if not list(heads):
        warnings.append(_("event log: no head file to hold it against (check --head FILE, or "
                          "DB.head.json beside the database); events deleted from the end "
                          "would go unseen"))  # fmt: skip
    return warnings + app_address.check_warnings(conn)


# Scope and forum --------------------------------------------------------------------------------


def fits_scope(scope: str, kind: str) -> bool:
    """Whether an organisation of this kind may be affected by a decision of this scope: a
    hospital decision affects hospital trusts, a municipal one municipalities and GP offices,
    a joint one anyone."""
    return scope == "joint" or side_of(kind) == scope


def scope_problems(scope: str, organizations: Iterable[str], kinds: dict[str, str]) -> Missing:
    """What is wrong with the affected organisations of a decision of `scope` (`kinds`: code
    -> organisation kind): (("outside_scope", (scope, codes of the other side)),), or ()."""
    outside = tuple(
        code for code in organizations if code in kinds and not fits_scope(scope, kinds[code])
    )
    if not outside or scope not in ("hospital", "municipality"):
        return ()
    return (("outside_scope", (scope, outside)),)


def default_forum(forums: Iterable[dict], domain: str, scope: str) -> str | None:
    """The forum that decides a proposal of `domain` and `scope` unless the proposer says
    otherwise (`forums`: each with code, level, scope and domains): the domain's level-1
    forum of that scope, else the lowest joint forum of the domain (a joint decision group),
    else the lowest of the domain's forums."""
    covering = [f for f in forums if domain in f["domains"]]

    def rank(forum: dict) -> tuple:
        fit = 0 if forum["scope"] == scope else 1 if forum["scope"] == "joint" else 2
        return (fit, forum["level"], forum["code"])

    return min(covering, key=rank)["code"] if covering else None
