"""Queries on evidence: demos, approvals, test cases, test runs and defects."""

from __future__ import annotations

import sqlite3

from decisions.store import one, rows, rules, write

# Demos --------------------------------------------------------------------------------------


def get_demo(conn: sqlite3.Connection, key: str) -> dict | None:
    demo = one(conn, "SELECT * FROM demos WHERE key = ?", (key,))
    if demo is None:
        return None
    for link, column in (
        ("demo_decisions", "decision"),
        ("demo_invitees", "expert"),
        ("demo_attendees", "expert"),
    ):
        demo[link.removeprefix("demo_")] = [
            r[0]
            for r in conn.execute(f"SELECT {column} FROM {link} WHERE demo = ? ORDER BY 1", (key,))
        ]
    return demo


def next_key(conn: sqlite3.Connection, table: str, prefix: str) -> str:
    numbers = [
        int(r[0][len(prefix) + 1 :])
        for r in conn.execute(f"SELECT key FROM {table} WHERE key LIKE ?", (prefix + "-%",))
        if r[0][len(prefix) + 1 :].isdigit()
    ]
    return f"{prefix}-{max(numbers, default=0) + 1:04d}"


def save_demo(
    conn: sqlite3.Connection,
    demo: dict,
    decisions: list[str],
    invitees: list[str],
    attendees: list[str],
    expected_row_version: int | None = None,
) -> bool:
    """Insert or update a demo with its decisions, invitees and attendees."""
    links = {
        ("demo_decisions", "demo", "decision"): decisions,
        ("demo_invitees", "demo", "expert"): invitees,
        ("demo_attendees", "demo", "expert"): attendees,
    }
    return write.save(conn, "demos", "key", demo, expected_row_version, links)


def cancel_demo(conn: sqlite3.Connection, key: str, expected_row_version: int | None) -> bool:
    return write.update_versioned(
        conn, "demos", {"key": key}, {"cancelled": 1}, expected_row_version
    )


# Approvals ----------------------------------------------------------------------------------


def insert_approval(conn: sqlite3.Connection, approval: dict) -> int:
    return write.insert_one(conn, "approvals", approval)


# Tests and defects --------------------------------------------------------------------------


def get_test_case(conn: sqlite3.Connection, key: str) -> dict | None:
    case = one(conn, "SELECT * FROM test_cases WHERE key = ?", (key,))
    if case is not None:
        case["decisions"] = [
            r[0]
            for r in conn.execute(
                "SELECT decision FROM test_case_decisions WHERE test_case = ? ORDER BY 1", (key,)
            )
        ]
    return case


def save_test_case(
    conn: sqlite3.Connection,
    case: dict,
    decisions: list[str],
    expected_row_version: int | None = None,
) -> bool:
    links = {("test_case_decisions", "test_case", "decision"): decisions}
    return write.save(conn, "test_cases", "key", case, expected_row_version, links)


def insert_test_run(conn: sqlite3.Connection, run: dict) -> int:
    return write.insert_one(conn, "test_runs", run)


def get_defect(conn: sqlite3.Connection, key: str) -> dict | None:
    return one(conn, "SELECT * FROM defects WHERE key = ?", (key,))


def save_defect(
    conn: sqlite3.Connection, defect: dict, expected_row_version: int | None = None
) -> bool:
    return write.save(conn, "defects", "key", defect, expected_row_version)


def get_test_run(conn: sqlite3.Connection, run_id: int) -> dict | None:
    return one(conn, "SELECT * FROM test_runs WHERE id = ?", (run_id,))


def latest_run(conn: sqlite3.Connection, test_case: str) -> dict | None:
    """The latest run of `test_case` (by time, then by id), or None when it never ran."""
    return one(conn, f"SELECT * FROM test_runs WHERE id = {rules.latest_run_id('?')}",
               (test_case,))  # fmt: skip


def link_run_defect(conn: sqlite3.Connection, run_id: int, defect: str) -> None:
    """Link `defect` to a run (the caller checked, in its transaction, that it has none)."""
    write.update_where(conn, "test_runs", {"id": run_id}, {"defect": defect})


def unresolved_defects_of_test_case(conn: sqlite3.Connection, key: str) -> list[dict]:
    """Defects still open or fixed but not yet verified, linked to test case `key` or to a
    decision it covers: what a passing run of it may close. The most severe first."""
    return rows(
        conn,
        """
        SELECT * FROM defects
        WHERE status IN ('open', 'fixed')
          AND (test_case = ? OR decision IN
               (SELECT decision FROM test_case_decisions WHERE test_case = ?))
        ORDER BY min(severity_vendor, severity_clinical), key
        """,
        (key, key),
    )


def test_cases_of_decision(conn: sqlite3.Connection, key: str) -> dict[str, str]:
    """{key: title} of the test cases covering decision `key`."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT tc.key, tc.title FROM test_case_decisions x "
            "JOIN test_cases tc ON tc.key = x.test_case WHERE x.decision = ? ORDER BY tc.key",
            (key,),
        )
    }


# A decision's evidence, for its page --------------------------------------------------------


def demos_of_decision(conn: sqlite3.Connection, key: str) -> list[dict]:
    return rows(
        conn,
        """
        SELECT d.key, d.date, d.module, d.presenter, d.held, d.notes, d.recording_url,
               (SELECT group_concat(expert, ';') FROM demo_attendees a WHERE a.demo = d.key)
                   AS attendees
        FROM demo_decisions dd JOIN demos d ON d.key = dd.demo
        WHERE dd.decision = ? ORDER BY d.date
        """,
        (key,),
    )


def approvals_of_decision(conn: sqlite3.Connection, key: str) -> list[dict]:
    return rows(
        conn,
        """
        SELECT a.id, a.expert, e.name, e.organization, a.verdict, a.date, a.comment
        FROM approvals a JOIN experts e ON e.email = a.expert
        WHERE a.decision = ? ORDER BY a.date, a.id
        """,
        (key,),
    )


def latest_verdict_of(conn: sqlite3.Connection, key: str, expert: str) -> dict | None:
    """The verdict of `expert` on decision `key` that counts in its current build round (the
    latest by time, then by id), or None."""
    return one(
        conn,
        f"""
        SELECT lv.id, lv.verdict, lv.date, lv.comment
        FROM approvals lv JOIN decisions d ON d.key = lv.decision
        WHERE lv.decision = :key AND lv.expert = :expert
          AND {rules.counts_from("lv.date", "d.built_at")}
        ORDER BY {rules.newest_first("lv.date", "lv.id")} LIMIT 1
        """,
        {"key": key, "expert": expert},
    )


def test_runs_of_decision(conn: sqlite3.Connection, key: str) -> list[dict]:
    return rows(
        conn,
        """
        SELECT tc.key AS test_case, tc.title, tc.kind, tr.id AS run, tr.date, tr.result,
               tr.tester, tr.defect, tr.notes
        FROM test_case_decisions tcd
        JOIN test_cases tc ON tc.key = tcd.test_case
        LEFT JOIN test_runs tr ON tr.test_case = tc.key
        WHERE tcd.decision = ? ORDER BY tc.key, tr.date, tr.id
        """,
        (key,),
    )


def defects_of_decision(conn: sqlite3.Connection, key: str) -> list[dict]:
    return rows(
        conn,
        """
        SELECT * FROM defects WHERE decision = ? OR test_case IN
            (SELECT test_case FROM test_case_decisions WHERE decision = ?)
        ORDER BY key
        """,
        (key, key),
    )
