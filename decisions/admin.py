"""People and settings use cases: the expert directory, the forums and the approval rule's
numbers. Only managers and admins change them; each change is checked, written with its events
and with the stages it moves, in one transaction."""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter

from decisions import identity, permissions, settings, store, words
from decisions.i18n import _
from decisions.model import ROLES, SCOPES, Actor, ApprovalRule, StaleRecord, WorkflowError
from decisions.services import (
    approval_rule,
    choice_field,
    event,
    now,
    refresh_stages,
    text_field,
    visible_field,
)
from decisions.store import decisions as decision_store
from decisions.store import people as people_store
from decisions.store import reference
from decisions.workflow import derive_stage, side_of

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
MAX_APPROVERS = 10


def _listed(values) -> list[str]:
    if isinstance(values, str):
        values = values.split(";")
    return list(dict.fromkeys(v.strip() for v in values or () if v and v.strip()))


def _known(conn: sqlite3.Connection, table: str, codes: list[str], field: str) -> list[str]:
    unknown = people_store.unknown_codes(conn, table, codes)
    if unknown:
        raise WorkflowError(
            _(
                "{field}: not in the list of {table}: {unknown}",
                field=field,
                table=table,
                unknown=", ".join(unknown),
            )
        )
    return codes


def _changes(old: dict, new: dict) -> dict[str, tuple]:
    """field: (old, new) for every field that differs; lists as ;-joined text."""

    def text(value):
        return ";".join(value) if isinstance(value, list) else value

    return {f: (text(old.get(f)), text(v)) for f, v in new.items() if text(old.get(f)) != text(v)}


def _field_events(actor: Actor, at: str, entity: str, key: str, changes: dict) -> list[dict]:
    return [
        event(actor, at, entity, key, f"edited:{field}", old, new)
        for field, (old, new) in sorted(changes.items())
    ]


# Experts ----------------------------------------------------------------------------------------


def save_expert(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    email: str,
    name: str,
    organization: str,
    domains: list[str],
    roles: list[str],
    allocation_pct: int,
    active: bool = True,
    forums: list[str] | None = None,
    row_version: int | None = None,
    same_name: bool = False,
) -> str:
    """Add an expert (no row_version) or change one (the row_version the form was built from).
    Empty forums: for those who sit in forums, the level-1 forums of their domains on their
    organisation's side and the joint ones (default_forums). A new person named like someone
    in the directory is refused, naming who, unless `same_name` says it is another person.
    A change of domains or organisation re-derives the stages of the decisions the expert
    gave verdicts on. Returns the email."""
    permissions.check(actor, "manage_people")
    email = visible_field((email or "").strip().lower(), "email")
    if not email.isascii():
        letters = "".join(dict.fromkeys(c for c in email if not c.isascii()))
        raise WorkflowError(
            _(
                "email {email!r} holds {letters}: an email address takes the letters a-z, digits and . _ - + only (write ø as o, æ as ae, å as a, as the mail system does)",
                email=email,
                letters=letters,
            )
        )
    if not identity.is_mailbox(email):
        raise WorkflowError(_("email {email!r} is not an email address", email=email))
    with store.transaction(conn):
        existing = people_store.get_expert(conn, email)
        if existing and row_version is None:
            raise WorkflowError(
                _("{email} is in the directory already; edit them instead", email=email)
            )
        if existing is None and row_version is not None:
            raise WorkflowError(_("{email} is not in the directory", email=email))
        if existing is None and not same_name:
            _check_name_is_new(conn, name)
        record = {
            "email": email,
            "name": visible_field(text_field(name, "name", required=True, limit=200), "name"),
            "organization": _known(conn, "organizations", [organization], "organization")[0],
            "allocation_pct": _allocation(allocation_pct),
            "active": int(bool(active)),
        }
        domains = _known(conn, "domains", _listed(domains), "domains")
        roles = [choice_field(r, "roles", ROLES) for r in _listed(roles)]
        if not roles:
            raise WorkflowError(_("roles: give at least one role"))
        forums = _known(conn, "forums", _listed(forums), "forums")
        if not forums:
            kinds = {r["code"]: r["kind"] for r in reference.list_table(conn, "organizations")}
            forums = default_forums(
                domains, roles, kinds.get(record["organization"]), *_forum_catalog(conn)
            )
        _check_role_change(conn, actor, existing, roles, record["active"])
        if not people_store.save_expert(conn, record, domains, roles, forums, row_version):
            raise StaleRecord(words.stale_text("expert", email))
        at = now(conn)
        new = record | {"domains": sorted(domains), "roles": sorted(roles),
                        "forums": sorted(forums)}  # fmt: skip
        events = expert_events(actor, at, existing, new)
        if existing is not None:
            changes = _changes(existing, new)
            if {"domains", "organization"} & set(changes):
                keys = people_store.decisions_with_verdicts_by(conn, email)
                events += refresh_stages(conn, keys, actor, at, f"expert {email} changed")
        store.append_events(conn, events)
        return email


def expert_events(actor: Actor, at: str, existing: dict | None, new: dict) -> list[dict]:
    """The events of a person saved: created (with their roles), or each field edited."""
    if existing is None:
        return [event(actor, at, "expert", new["email"], "created", None,
                      ";".join(new["roles"]), new["name"])]  # fmt: skip
    return _field_events(actor, at, "expert", new["email"], _changes(existing, new))


def same_names(conn: sqlite3.Connection, name: str) -> list[dict]:
    """The people in the directory whose name is `name` (case and spacing aside)."""
    wanted = " ".join((name or "").split()).casefold()
    if not wanted:
        return []
    directory = people_store.experts(conn, limit=1_000_000)
    return [
        row
        for row in directory.to_dict("records")
        if " ".join(str(row["name"]).split()).casefold() == wanted
    ]


def _check_name_is_new(conn: sqlite3.Connection, name: str) -> None:
    found = same_names(conn, name)
    if found:
        who = ", ".join(f"{r['name']} ({r['email']}, {r['organization']})" for r in found)
        raise WorkflowError(
            _(
                "name: {who} is in the directory already; edit them instead, or confirm that this is another person with the same name",
                who=who,
            )
        )


def default_forums(
    domains: list[str],
    roles: list[str],
    kind: str | None,
    forums: dict[str, dict],
    forum_domains: dict[str, set],
) -> list[str]:
    """The forums a person sits in when none are named: for a role that decides in a forum
    (an expert), the level-1 forums of their domains on their organisation's side (`kind`),
    and the joint ones; nobody else. `forums`: code -> level and scope; `forum_domains`:
    code -> its domains. The People page and the import both use it."""
    seated = set(permissions.roles_where("decide", permissions.FORUM))
    if not seated & set(roles):
        return []
    side = side_of(kind) if kind else None
    return sorted(
        code
        for code, forum in forums.items()
        if forum["level"] == 1
        and forum["scope"] in (side, "joint")
        and forum_domains.get(code, set()) & set(domains)
    )


def _forum_catalog(conn: sqlite3.Connection) -> tuple[dict, dict]:
    forums = {r["code"]: r for r in reference.list_table(conn, "forums")}
    forum_domains: dict[str, set] = {}
    for row in reference.list_table(conn, "forum_domains"):
        forum_domains.setdefault(row["forum"], set()).add(row["domain"])
    return forums, forum_domains


def _allocation(value) -> int:
    try:
        pct = int(value)
    except (TypeError, ValueError):
        raise WorkflowError(
            _("allocation must be a whole percentage, not {value!r}", value=value)
        ) from None
    if not 1 <= pct <= 100:
        raise WorkflowError(_("allocation must be from 1 to 100 %, not {pct}", pct=pct))
    return pct


def _check_role_change(
    conn: sqlite3.Connection, actor: Actor, existing: dict | None, roles: list[str], active: int
) -> None:
    active_admins = people_store.active_with_role(conn, permissions.ADMIN_ROLE)
    check_role_change(actor, existing, roles, active, active_admins)


def check_role_change(
    actor: Actor, existing: dict | None, roles: list[str], active: int, active_admins: list[str]
) -> None:
    """No one changes their own roles (another manager or an admin does); only an admin
    grants, removes or deactivates admin, and one active admin always remains
    (`active_admins`: the active admins as they stand without this change). The People page
    and the import both ask it."""
    admin_role = permissions.ADMIN_ROLE
    had = bool(existing) and admin_role in existing["roles"]
    was_active_admin = had and bool(existing["active"])
    is_active_admin = admin_role in roles and bool(active)
    changes_admin = had != (admin_role in roles) or was_active_admin != is_active_admin
    if changes_admin:
        permissions.check(actor, "grant_admin")
    last = was_active_admin and list(active_admins) == [existing["email"]]
    if last and not is_active_admin:
        raise WorkflowError(
            _("{email} is the last active admin; name another first", email=existing["email"])
        )
    if existing and set(existing["roles"]) != set(roles):
        permissions.check(actor, "set_roles", permissions.Target(owner=existing["email"]))


# Forums -----------------------------------------------------------------------------------------


def save_forum(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    code: str,
    name: str,
    level: int,
    scope: str,
    domains: list[str],
    members: list[str],
    row_version: int | None = None,
) -> str:
    """Add a forum (no row_version) or change one, with its domains and members.
    Returns the code."""
    permissions.check(actor, "manage_forums")
    code = (code or "").strip().upper()
    if not CODE.match(code):
        raise WorkflowError(
            _('code {code!r}: up to 20 capital letters, digits, "-" or "_", e.g. MED-H', code=code)
        )
    with store.transaction(conn):
        existing = people_store.get_forum(conn, code)
        if existing and row_version is None:
            raise WorkflowError(_("forum {code} exists already; edit it instead", code=code))
        if existing is None and row_version is not None:
            raise WorkflowError(_("forum {code} does not exist", code=code))
        name = visible_field(text_field(name, "name", required=True, limit=200), "name")
        check_name_free("forums", name, people_store.forum_name_taken(conn, name, code))
        if str(level) not in ("1", "2", "3"):
            raise WorkflowError(_("level must be 1, 2 or 3, not {level!r}", level=level))
        record = {"code": code, "name": name, "level": int(level),
                  "scope": choice_field(scope, "scope", SCOPES)}  # fmt: skip
        domains = _known(conn, "domains", _listed(domains), "domains")
        members = [m.lower() for m in _listed(members)]
        strangers = [m for m in members if people_store.get_expert(conn, m) is None]
        if strangers:
            raise WorkflowError(
                _("members: not in the directory: {strangers}", strangers=", ".join(strangers))
            )
        moved = sorted(set((existing or {}).get("members") or []) ^ set(members))
        before = {m: people_store.get_expert(conn, m)["forums"] for m in moved}
        if not people_store.save_forum(conn, record, domains, members, row_version):
            raise StaleRecord(words.stale_text("forum", code))
        at = now(conn)
        new = record | {"domains": sorted(domains), "members": sorted(members)}
        events = forum_events(actor, at, existing, new)
        # A member who joins or leaves changes that person's record (their forums) too.
        joined_or_left = [
            event(actor, at, "expert", m, "edited:forums", ";".join(before[m]),
                  ";".join(people_store.get_expert(conn, m)["forums"]))
            for m in moved
        ]  # fmt: skip
        store.append_events(conn, joined_or_left + events)
        return code


def forum_events(actor: Actor, at: str, existing: dict | None, new: dict) -> list[dict]:
    """The events of a forum saved: created, or each field edited (`new`: its fields)."""
    if existing is None:
        return [event(actor, at, "forum", new["code"], "created", None, new["level"], new["name"])]
    return _field_events(actor, at, "forum", new["code"], _changes(existing, new))


UNIQUE_NAMES = tuple(words.NAME_TAKEN_WORDS)


def check_name_free(table: str, name: str, holder: str | None) -> None:
    """Refuse `name` for a record of `table` when another record, `holder`, has it."""
    if holder:
        raise WorkflowError(_(words.NAME_TAKEN_WORDS[table], name=name, holder=holder))


# The approval rule ------------------------------------------------------------------------------


def validated_rule(
    min_approvers: int, min_approvers_critical: int, joint_needs_both_sides: bool
) -> ApprovalRule:
    """The rule's numbers checked: 1 to MAX_APPROVERS, and critical needs no fewer."""
    numbers = {}
    for field, value in (("min_approvers", min_approvers),
                         ("min_approvers_critical", min_approvers_critical)):  # fmt: skip
        if str(value).strip() not in {str(n) for n in range(1, MAX_APPROVERS + 1)}:
            raise WorkflowError(
                _(
                    "{field} must be a whole number from 1 to {MAX_APPROVERS}, not {value!r}",
                    field=field.replace("_", " "),
                    MAX_APPROVERS=MAX_APPROVERS,
                    value=value,
                )
            )
        numbers[field] = int(value)
    if numbers["min_approvers_critical"] < numbers["min_approvers"]:
        raise WorkflowError(
            _(
                "min approvers critical must be at least min approvers: a critical decision needs no fewer approvals than any other"
            )
        )
    return ApprovalRule(**numbers, joint_needs_both_sides=bool(joint_needs_both_sides))


def rule_effect(conn: sqlite3.Connection, rule: ApprovalRule) -> dict:
    """What applying `rule` would do, without writing: {'moves': Counter of (from, to) stage
    pairs, 'ready_held': decisions now ready that would fall below it (each keeps its ready
    mark, so it is ready again when the rule lets the evidence say tested again)}."""
    keys = people_store.keys_past_demonstration(conn)
    stored = decision_store.stored_stages(conn)
    moves: Counter = Counter()
    ready_held = 0
    for key, facts in decision_store.decision_facts(conn, keys).items():
        derived = derive_stage(facts, rule)
        if derived != stored[key]:
            moves[(stored[key], derived)] += 1
            ready_held += stored[key] == "ready"
    return {"moves": moves, "ready_held": ready_held}


def set_approval_rule(
    conn: sqlite3.Connection, actor: Actor, rule: ApprovalRule, *, expected: ApprovalRule
) -> dict[tuple[str, str], int]:
    """Change the approval rule's numbers and, in the same transaction, re-derive the stage of
    every decision at demonstrated or further (a stricter rule takes approvals back, a looser
    one grants them; a decision marked ready keeps its mark, so changing the rule back puts
    every decision where it was). `expected` is the rule the form was built from. Returns the
    stage moves as {(from, to): count}."""
    permissions.check(actor, "set_approval_rule")
    rule = validated_rule(rule.min_approvers, rule.min_approvers_critical,
                          rule.joint_needs_both_sides)  # fmt: skip
    with store.transaction(conn):
        current = approval_rule(conn)
        if current != expected:
            raise StaleRecord(words.stale_text("approval_rule"))
        if rule == current:
            raise WorkflowError(_("the approval rule is unchanged; nothing to save"))
        at = now(conn)
        events = [event(actor, at, "setting", setting.name, "changed", old, new)
                  for setting, old, new in settings.put_approval_rule(conn, rule)]  # fmt: skip
        keys = people_store.keys_past_demonstration(conn)
        moved = refresh_stages(conn, keys, actor, at, "approval rule changed")
        store.append_events(conn, events + moved)
        return dict(Counter((e["from_value"], e["to_value"]) for e in moved))


# Sign-out --------------------------------------------------------------------------------------


def sign_out(conn: sqlite3.Connection, actor: Actor) -> None:
    """Record that `actor` signed out now (the real clock): every sign-in issued before it is
    refused from then on, also a copy of its cookie."""
    at = int(time.time())  # compared with the sign-in provider's clock, not the programme's
    with store.transaction(conn):
        people_store.record_sign_out(conn, actor.email, at)
        store.append_events(conn, [event(actor, now(conn), "sign_out", actor.email,
                                         "signed_out", None, str(at))])  # fmt: skip


def sign_in_revoked(conn: sqlite3.Connection, email: str, claims) -> bool:
    """Whether the sign-in whose identity token carries `claims` dates from before the
    person's last sign-out."""
    return identity.issued_before_sign_out(claims, people_store.signed_out_at(conn, email))
