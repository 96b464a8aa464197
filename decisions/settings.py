"""Every setting the programme keeps, declared once: its key, its default and what it means.
Code reads and writes a setting through its entry here, so no key is typed in two modules."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from decisions import store
from decisions.i18n import _
from decisions.model import ApprovalRule, WorkflowError

_RULE = ApprovalRule()


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


CLOCK = Setting(
    "clock", None, "The programme's date (YYYY-MM-DD) in place of today's; none: the real date"
)
DEMO = Setting("demo", False, "The database holds the demo programme (sign-in by choosing)")
MIN_APPROVERS = Setting(
    "approval.min_approvers", _RULE.min_approvers, "Approving experts of the domain needed"
)
MIN_APPROVERS_CRITICAL = Setting(
    "approval.min_approvers_critical",
    _RULE.min_approvers_critical,
    "Approving experts of the domain needed for a critical decision",
)
JOINT_NEEDS_BOTH_SIDES = Setting(
    "approval.joint_needs_both_sides",
    _RULE.joint_needs_both_sides,
    "A joint decision needs an approver from the hospital side and the municipality side",
)
IMPORT_MAX_BYTES = Setting(
    "import.max_bytes", 50 * 1024 * 1024, "The largest file an import accepts, in bytes"
)
IMPORT_MAX_ROWS = Setting(
    "import.max_rows",
    100_000,
    "The most rows a file of an import may hold (an xlsx's rows are counted before they are read)",
)

BASE_URL = Setting(
    "app.base_url",
    "http://localhost:8501",
    "The app's address as people open it; notices link into it (e.g. /decision?key=...)",
)
NOTICE_DIGEST = Setting(
    "notices.digest", "weekly", "Digest of what awaits a person: daily, weekly or off (default)"
)
NOTICE_EVENTS = Setting(
    "notices.events",
    ["demo", "changes_requested", "overdue", "off_track"],
    "Event notices a person gets unless they choose otherwise (programme default)",
)
LANGUAGE = Setting(
    "app.language",
    "nb",
    "The programme's language where neither the person nor their browser chooses one: nb or en",
)

SETTINGS: tuple[Setting, ...] = (
    CLOCK,
    DEMO,
    MIN_APPROVERS,
    MIN_APPROVERS_CRITICAL,
    JOINT_NEEDS_BOTH_SIDES,
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
    BASE_URL,
    NOTICE_DIGEST,
    NOTICE_EVENTS,
    LANGUAGE,
)
BY_NAME = {s.name: s for s in SETTINGS}

# The approval rule's fields (model.ApprovalRule) and the settings that keep them.
APPROVAL_RULE: dict[str, Setting] = {
    "min_approvers": MIN_APPROVERS,
    "min_approvers_critical": MIN_APPROVERS_CRITICAL,
    "joint_needs_both_sides": JOINT_NEEDS_BOTH_SIDES,
}


def get(conn: sqlite3.Connection, setting: Setting) -> Any:
    """The setting's stored value, or its default."""
    return store.get_settings(conn).get(setting.name, setting.default)


def is_set(conn: sqlite3.Connection, setting: Setting) -> bool:
    """Whether the setting has a stored value (else its default applies)."""
    return setting.name in store.get_settings(conn)


def put(conn: sqlite3.Connection, setting: Setting | str, value: Any) -> None:
    """Store a declared setting's value, inside the caller's transaction."""
    name = setting.name if isinstance(setting, Setting) else setting
    if name not in BY_NAME:
        raise WorkflowError(_("no setting {name}; the settings are {names}", name=repr(name),
                              names=", ".join(BY_NAME)))  # fmt: skip
    store.put_setting(conn, name, value)


def approval_rule(conn: sqlite3.Connection) -> ApprovalRule:
    """The approval rule's numbers as the settings hold them."""
    stored = store.get_settings(conn)
    kinds = {"min_approvers": int, "min_approvers_critical": int, "joint_needs_both_sides": bool}
    return ApprovalRule(
        **{
            field: kinds[field](stored.get(setting.name, setting.default))
            for field, setting in APPROVAL_RULE.items()
        }
    )


def put_approval_rule(
    conn: sqlite3.Connection, rule: ApprovalRule
) -> list[tuple[Setting, Any, Any]]:
    """Store the approval rule's numbers, inside the caller's transaction. Returns each setting
    that changed with its value before and after."""
    before, after = asdict(approval_rule(conn)), asdict(rule)
    changed = [(setting, before[field], after[field]) for field, setting in APPROVAL_RULE.items()
               if before[field] != after[field]]  # fmt: skip
    for setting, _before, value in changed:
        put(conn, setting, value)
    return changed
