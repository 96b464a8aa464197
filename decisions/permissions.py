"""Who may do what: the one permission table of the product.

Every action a person can take is a row here: which roles may take it and, for some roles,
where it applies (the decision's forum, its domain, or the record's owner). The use cases ask
`check` before they change anything; the pages ask `allowed` what to show; the import and the
command line are held to the same table. A role's name is spelled only here, in model.ROLES
and in the schema's CHECK (tests/test_guards.py walks the tree for it).
Which stage an action starts from is the workflow's business (workflow.ACTIONS), not this one's.
"""

from __future__ import annotations

from dataclasses import dataclass

from decisions.i18n import N_, _
from decisions.model import ROLES, Actor, WorkflowError
from decisions.words import role_word

FORUM, DOMAIN, OWNER = "forum", "domain", "owner"
OTHERS = "others"  # only on a record about someone else (a person's own roles)
# The role that only its holders grant, and of which one active holder always remains.
ADMIN_ROLE = "admin"
ANYONE = "*"  # a grant to every signed-in person (with `where`, the record's owner)


@dataclass(frozen=True)
class Grant:
    """`role` may take the action; with `where`, only on records of their forum, their domain,
    that they own, or (OTHERS) that are about someone else."""

    role: str
    where: str | None = None


@dataclass(frozen=True)
class Permission:
    action: str
    label: str  # how a refusal names the act: "<label> needs ..." (marked for the catalogs)
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Target:
    """The record an action applies to, as far as permissions care."""

    forum: str = ""
    domain: str = ""
    owner: str = ""


def _anyone(*roles: str) -> tuple[Grant, ...]:
    return tuple(Grant(role) for role in roles)


_FORUM_PEOPLE = (Grant("expert", FORUM), *_anyone("manager", "admin"))
_DOMAIN_EXPERTS = (Grant("expert", DOMAIN),)
_MANAGERS = _anyone("manager", "admin")
_BUILDERS = _anyone("analyst", "admin")
_DEMO_PEOPLE = _anyone("analyst", "manager", "admin")
_TEST_PEOPLE = _anyone("tester", "analyst", "admin")

# fmt: off
PERMISSIONS: dict[str, Permission] = {p.action: p for p in (
    # Decisions
    Permission("propose", N_("Proposing a decision"), _anyone("expert", "analyst", "manager", "admin")),
    Permission("decide", N_("Record the decision"), _FORUM_PEOPLE),
    Permission("escalate", N_("Escalate to a higher forum"), _FORUM_PEOPLE),
    Permission("start_build", N_("Start the build"), _BUILDERS),
    Permission("mark_built", N_("Mark as built"), _BUILDERS),
    Permission("approve", N_("Approve"), _DOMAIN_EXPERTS),
    Permission("request_changes", N_("Request changes"), _DOMAIN_EXPERTS),
    Permission("verdict_for_other", N_("Recording a verdict for someone else"), _anyone("admin")),
    Permission("mark_ready", N_("Mark ready for production"), _MANAGERS),
    Permission("revise", N_("Revise the decision text"), _FORUM_PEOPLE),
    Permission("edit", N_("Edit details"), (Grant("expert", FORUM), *_anyone("analyst", "manager", "admin"))),
    Permission("withdraw", N_("Withdraw"), _MANAGERS),
    # Evidence
    Permission("record_demo", N_("Recording a demo"), _DEMO_PEOPLE),
    Permission("attend_demo", N_("Attending a demo as evidence"), _anyone("expert")),
    Permission("save_test_case", N_("Recording a test case"), _TEST_PEOPLE),
    Permission("record_test_run", N_("Recording a test run"), _TEST_PEOPLE),
    Permission("save_defect", N_("Recording a defect"), _anyone("tester", "analyst", "manager", "admin")),
    # Plan and readiness
    Permission("replan_wave", N_("Re-planning a wave"), _MANAGERS),
    Permission("save_criterion", N_("Changing go-live criteria"), _MANAGERS),
    Permission("record_measurement", N_("Recording a measurement"),
               (*_MANAGERS, Grant(ANYONE, OWNER))),
    # People and settings
    Permission("manage_people", N_("Changing the expert directory"), _MANAGERS),
    Permission("set_roles", N_("Changing a person's roles"), (Grant("manager", OTHERS), Grant("admin", OTHERS))),
    Permission("grant_admin", N_("Granting, removing or deactivating the admin role"), _anyone("admin")),
    Permission("manage_forums", N_("Changing the forums"), _MANAGERS),
    Permission("set_approval_rule", N_("Changing the approval rule"), _MANAGERS),
    # Data
    Permission("import", N_("Importing"), _MANAGERS),
    Permission("export", N_("Exporting the programme"), _MANAGERS),
    Permission("backup", N_("Taking a backup"), _MANAGERS),
)}
# fmt: on


# The screens that only serve an action: the menu lists each for those who may take it (its
# address still opens, saying what it needs). Every other screen is for everyone signed in.
PAGE_ACTIONS = {
    "new_decision": "propose",
    "plan": "replan_wave",
    "data": "import",
    "people": "manage_people",
}
# Where a person lands: those who run the programme on the Overview; those with work in queues
# (verdicts, builds, test runs) on My work; anyone else on the Overview.
RUNS_THE_PROGRAMME = "mark_ready"
QUEUE_ACTIONS = ("approve", "mark_built", "record_test_run", "decide")


def in_menu(actor: Actor | None, page: str) -> bool:
    """Whether the menu lists `page` (a screen's name, as in pages/) for `actor`."""
    action = PAGE_ACTIONS.get(page)
    return action is None or may_act_anywhere(actor, action)


def landing_page(actor: Actor | None) -> str:
    """The screen a person lands on: "my_work" or "overview"."""
    if actor is None or allowed(actor, RUNS_THE_PROGRAMME):
        return "overview"
    if any(may_act_anywhere(actor, action) for action in QUEUE_ACTIONS):
        return "my_work"
    return "overview"


def _where_met(grant: Grant, actor: Actor, target: Target) -> bool:
    if grant.where == FORUM:
        return target.forum in actor.forums
    if grant.where == DOMAIN:
        return target.domain in actor.domains
    if grant.where == OWNER:
        return bool(target.owner) and target.owner == actor.email
    if grant.where == OTHERS:
        return target.owner != actor.email
    return True


def refusal(actor: Actor | None, action: str, target: Target = Target()) -> str | None:
    """Why `actor` may not take `action` on `target`, or None when they may (in the reader's
    language; role names as the reader reads them)."""
    permission = PERMISSIONS.get(action)
    if permission is None:
        return _("unknown action {action!r}", action=action)
    held = [g for g in permission.grants if actor and (g.role in actor.roles or g.role == ANYONE)]
    if any(_where_met(g, actor, target) for g in held):
        return None
    label = _(permission.label)
    if actor is None:
        return _("{act} needs a signed-in person", act=label)
    unconditional = [role_word(g.role) for g in permission.grants if g.where is None]
    if held and held[0].where == FORUM:  # they hold the role, but not here
        return _("{act} needs a member of the forum {forum}", act=label, forum=target.forum)
    if held and held[0].where == DOMAIN:
        return _("{act} needs an expert of the domain {domain}", act=label, domain=target.domain)
    if held and held[0].where == OTHERS:
        return _("{act}: no one changes their own; another {roles} does", act=label,
                 roles=_(" or ").join(role_word(g.role) for g in permission.grants))  # fmt: skip
    either = _(" or ")
    if any(g.where == OWNER for g in permission.grants):
        return _("{act} needs the criterion's owner or the role {roles}", act=label,
                 roles=either.join(unconditional))  # fmt: skip
    roles = list(dict.fromkeys(role_word(g.role) for g in permission.grants))
    return _("{act} needs the role {roles}", act=label, roles=either.join(roles))


def allowed(actor: Actor | None, action: str, target: Target = Target()) -> bool:
    return refusal(actor, action, target) is None


def check(actor: Actor | None, action: str, target: Target = Target()) -> None:
    """Raise WorkflowError with the reason when `actor` may not take `action` on `target`."""
    reason = refusal(actor, action, target)
    if reason:
        raise WorkflowError(reason)


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may take `action` somewhere (to list who can be named for it)."""
    return tuple(dict.fromkeys(g.role for g in PERMISSIONS[action].grants if g.role != ANYONE))


def roles_without_permissions() -> tuple[str, ...]:
    """The roles that may only read (no action is granted to them)."""
    granted = {g.role for p in PERMISSIONS.values() for g in p.grants}
    return tuple(role for role in ROLES if role not in granted)


def roles_where(action: str, where: str) -> tuple[str, ...]:
    """The roles that take `action` only where `where` holds (e.g. who sits in forums)."""
    return tuple(g.role for g in PERMISSIONS[action].grants if g.where == where)


def new_person_roles() -> tuple[str, ...]:
    """The roles a new person starts with on the directory's form: a subject expert's, who
    gives verdicts in their domains (most of the directory)."""
    return roles_where("approve", DOMAIN)


def may_act_anywhere(actor: Actor | None, action: str) -> bool:
    """True when `actor` holds a role that takes `action` on some record (a forum or domain
    they belong to): for showing a page or a form before a record is chosen."""
    if actor is None:
        return False
    return any(
        g.role in actor.roles and (g.where in (None, OTHERS) or (g.where == FORUM and actor.forums)
                                   or (g.where == DOMAIN and actor.domains))
        for g in PERMISSIONS[action].grants
    )  # fmt: skip


def who_may(action: str) -> str:
    """The grants of `action` in words, as the README's table shows them."""
    return ", ".join(
        ("whoever owns it" if g.role == ANYONE else g.role)
        + (" (not their own)" if g.where == OTHERS else "")
        + (f" (of its {g.where})" if g.where not in (None, OTHERS) and g.role != ANYONE else "")
        for g in PERMISSIONS[action].grants
    )
