"""Queries for notices: what was recorded and sent, preferences, and the few lookups the
notices need beyond the work queues (queues.py and screen_queries.py decide what awaits a person)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

import pandas as pd

from decisions.store import rows, rules, write

NOTICE_COLUMNS = (
    "person",
    "kind",
    "ref",
    "dedup_key",
    "subject",
    "body_text",
    "body_html",
    "ics",
    "created_at",
    "sent_at",
    "held",
)


def recorded_keys(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(person, dedup key) of every notice on record, sent or not."""
    return {(r[0], r[1]) for r in conn.execute("SELECT person, dedup_key FROM notices")}


def insert_notices(conn: sqlite3.Connection, values: Iterable[Sequence]) -> list[dict]:
    """Record notices (tuples in NOTICE_COLUMNS order) inside the caller's transaction;
    returns each one's id, person, kind and dedup key."""
    last = conn.execute("SELECT coalesce(max(id), 0) FROM notices").fetchone()[0]
    write.insert_rows(conn, "notices", NOTICE_COLUMNS, values)
    return rows(conn, "SELECT id, person, kind, dedup_key, created_at FROM notices WHERE id > ? "
                "ORDER BY id", (last,))  # fmt: skip


_WAITING = """n.sent_at IS NULL AND n.held = '' AND n.claimed_at IS NULL
              AND (n.next_try_at IS NULL OR n.next_try_at <= :now)"""


def pending(conn: sqlite3.Connection, now: str) -> list[dict]:
    """Unsent notices due for a try that no run has claimed, the oldest first, with the
    recipient's name."""
    return rows(
        conn,
        f"""
        SELECT n.*, e.name FROM notices n JOIN experts e ON e.email = n.person
        WHERE {_WAITING} ORDER BY n.id
        """,
        {"now": now},
    )


def still_waiting(conn: sqlite3.Connection, ids: list[int], now: str) -> list[dict]:
    """Those of the notices `ids` that are still waiting (no run claimed or sent them)."""
    found = []
    for start in range(0, len(ids), 500):
        chunk = {f"id{n}": notice_id for n, notice_id in enumerate(ids[start : start + 500])}
        marks = ", ".join(f":{name}" for name in chunk)
        found += rows(conn, f"SELECT n.id, n.attempts FROM notices n "
                      f"WHERE n.id IN ({marks}) AND {_WAITING}", chunk | {"now": now})  # fmt: skip
    return found


def claim(conn: sqlite3.Connection, notice_id: int, run: str, now: str, at: str) -> bool:
    """Claim a waiting notice for run `run` at `at`, inside the caller's transaction; False
    when another run claimed or sent it first."""
    changes = {"claimed_at": at, "claimed_by": run}
    return write.update_while(
        conn, "notices AS n", {"id": notice_id}, changes, _WAITING, {"now": now}
    )


def hold(conn: sqlite3.Connection, notice_id: int, why: str) -> None:
    """Keep a notice back for good, with why (it cannot be sent as it stands)."""
    write.update_where(conn, "notices", {"id": notice_id}, {"held": why[:500] or "?"})


def kept_back(conn: sqlite3.Connection) -> list[dict]:
    """Unsent notices held back for good, with their reason."""
    return rows(
        conn,
        """
        SELECT id, person, kind, subject, created_at, held FROM notices
        WHERE sent_at IS NULL AND held <> '' ORDER BY id
        """,
    )


def lapsed_claims(conn: sqlite3.Connection, claimed_before: str) -> list[dict]:
    """Unsent notices claimed before `claimed_before` by a run that never recorded how the
    sending went."""
    return rows(
        conn,
        "SELECT id, claimed_at FROM notices WHERE sent_at IS NULL AND held = '' "
        "AND claimed_at < ? ORDER BY id",
        (claimed_before,),
    )


def count_all(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM notices").fetchone()[0]


def count_unsent(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM notices WHERE sent_at IS NULL").fetchone()[0]


def mark_sent(conn: sqlite3.Connection, notice_id: int, at: str, attempts: int) -> None:
    """The server took the notice, at `at`, on try number `attempts`."""
    write.update_where(
        conn,
        "notices",
        {"id": notice_id},
        {"sent_at": at, "attempts": attempts, "last_error": "", "next_try_at": None},
    )


def release(conn: sqlite3.Connection, notice_id: int) -> None:
    """A notice kept back after a lapsed claim waits for the next run again: it was not sent."""
    write.update_where(conn, "notices", {"id": notice_id},
                       {"claimed_at": None, "claimed_by": "", "held": ""})  # fmt: skip


def mark_failed(
    conn: sqlite3.Connection, notice_id: int, error: str, next_try_at: str, attempts: int
) -> None:
    """Try number `attempts` failed with `error`; the next one is due at `next_try_at` (and
    any claim on it is given up)."""
    write.update_where(
        conn,
        "notices",
        {"id": notice_id},
        {"attempts": attempts, "last_error": error[:500], "next_try_at": next_try_at,
         "claimed_at": None, "claimed_by": ""},
    )  # fmt: skip


def recent(conn: sqlite3.Connection, person: str, limit: int = 50) -> pd.DataFrame:
    """A person's notices, newest first, as recorded (and sent)."""
    return pd.read_sql_query(
        """
        SELECT id, kind, subject, created_at, sent_at, attempts, last_error, body_text,
               body_html, ics, held, claimed_at
        FROM notices WHERE person = ? ORDER BY created_at DESC, id DESC LIMIT ?
        """,
        conn,
        params=[person, limit],
    )


def notified(conn: sqlite3.Connection, kind: str) -> set[tuple[str, str]]:
    """(person, ref) of every notice of a kind on record."""
    return {
        (r[0], r[1])
        for r in conn.execute("SELECT DISTINCT person, ref FROM notices WHERE kind = ?", (kind,))
    }


def demo_notice_state(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """{(person, demo key): kind of the latest demo notice recorded for them}."""
    return {
        (r[0], r[1]): r[2]
        for r in conn.execute(
            "SELECT person, ref, kind, max(id) FROM notices "
            "WHERE kind IN ('demo_invitation', 'demo_change', 'demo_cancel') GROUP BY person, ref"
        )
    }


# Preferences ------------------------------------------------------------------------------------


def preferences(conn: sqlite3.Connection) -> dict[str, dict]:
    return {r["person"]: r for r in rows(conn, "SELECT * FROM notice_preferences")}


def save_preferences(conn: sqlite3.Connection, record: dict) -> None:
    write.upsert(conn, "notice_preferences", [record], ("person",))


# What the event notices need ------------------------------------------------------------------


def demos_for_invitations(conn: sqlite3.Connection, since: str) -> list[dict]:
    """Demos dated `since` or later that are scheduled (or cancelled), with their invitees."""
    return rows(
        conn,
        """
        SELECT dm.key, dm.held, dm.cancelled, dm.row_version,
               (SELECT group_concat(i.expert, char(10)) FROM demo_invitees i
                 WHERE i.demo = dm.key) AS invitees
        FROM demos dm WHERE substr(dm.date, 1, 10) >= ? ORDER BY dm.date, dm.key
        """,
        (since,),
    )


def changes_requested_since(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    """Verdicts 'changes_requested' dated in [since, until], with the decision's owner and the
    person who last marked it built (its analyst)."""
    return rows(
        conn,
        """
        SELECT a.id, a.decision, a.expert, a.date, a.comment, d.title, d.owner,
               (SELECT e.actor FROM events e
                 WHERE e.entity = 'decision' AND e.entity_key = d.key AND e.action = 'stage'
                   AND e.to_value = 'built'
                 ORDER BY e.at DESC LIMIT 1) AS analyst,
               x.name AS expert_name
        FROM approvals a JOIN decisions d ON d.key = a.decision
        JOIN experts x ON x.email = a.expert
        WHERE a.verdict = 'changes_requested' AND substr(a.date, 1, 10) BETWEEN ? AND ?
        ORDER BY a.date, a.id
        """,
        (since, until),
    )


def owners_and_forum_members(
    conn: sqlite3.Connection, keys: list[str]
) -> dict[str, tuple[str | None, list[str]]]:
    """{decision: (owner, members of its forum)}."""
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    found = {}
    for r in conn.execute(
        f"""
        SELECT d.key, d.owner, (SELECT group_concat(m.expert, char(10)) FROM forum_members m
                                 WHERE m.forum = d.forum) AS members
        FROM decisions d WHERE d.key IN ({marks})
        """,
        keys,
    ):
        found[r[0]] = (r[1], (r[2] or "").splitlines())
    return found


def latest_held_demo(conn: sqlite3.Connection, keys: list[str]) -> dict[str, tuple[str, str]]:
    """{decision: (demo key, date)} of the latest held demo that showed it in its current
    build round."""
    if not keys:
        return {}
    marks = ", ".join("?" * len(keys))
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            f"""
            SELECT d.key, dm.key, substr(max(dm.date), 1, 10)
            FROM decisions d JOIN demo_decisions x ON x.decision = d.key
            JOIN demos dm ON dm.key = x.demo AND dm.held = 1
            WHERE d.key IN ({marks}) AND {rules.counts_from("dm.date", "d.built_at")}
            GROUP BY d.key
            """,
            keys,
        )
    }


def people_languages(conn: sqlite3.Connection) -> dict[str, str]:
    """The language each person chose for themselves, by email (people who chose none are
    not in it)."""
    return dict(conn.execute("SELECT person, language FROM person_languages"))


def save_language(conn: sqlite3.Connection, person: str, language: str | None) -> None:
    """`language` None: the person's choice is forgotten."""
    if language is None:
        write.delete_where(conn, "person_languages", {"person": person})
    else:
        write.upsert(conn, "person_languages", [{"person": person, "language": language}],
                     ("person",))  # fmt: skip
