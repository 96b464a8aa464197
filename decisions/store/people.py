"""Queries on the directory and the decision structure: experts with their domains, roles and
forums; forums with their domains and members."""

from __future__ import annotations

import sqlite3

import pandas as pd

from decisions.store import one, reference, scalar, write

_LINKS = {
    # link table: (owner column, member column)
    "expert_domains": ("expert", "domain"),
    "expert_roles": ("expert", "role"),
    "forum_members": ("expert", "forum"),
    "forum_domains": ("forum", "domain"),
}


def _members(conn: sqlite3.Connection, table: str, owner: str, *, reverse=False) -> list:
    owner_column, member_column = _LINKS[table]
    if reverse:  # read the link from the other end
        owner_column, member_column = member_column, owner_column
    sql = f"SELECT {member_column} FROM {table} WHERE {owner_column} = ? ORDER BY 1"
    return [r[0] for r in conn.execute(sql, (owner,))]


# Experts ----------------------------------------------------------------------------------------


def get_expert(conn: sqlite3.Connection, email: str) -> dict | None:
    """An expert with domains, roles and forums as sorted lists."""
    expert = one(conn, "SELECT * FROM experts WHERE email = ?", (email,))
    if expert is not None:
        expert["domains"] = _members(conn, "expert_domains", email)
        expert["roles"] = _members(conn, "expert_roles", email)
        expert["forums"] = _members(conn, "forum_members", email)
    return expert


def save_expert(
    conn: sqlite3.Connection,
    record: dict,
    domains: list[str],
    roles: list[str],
    forums: list[str],
    expected_row_version: int | None = None,
) -> bool:
    links = {
        ("expert_domains", *_LINKS["expert_domains"]): domains,
        ("expert_roles", *_LINKS["expert_roles"]): roles,
        ("forum_members", *_LINKS["forum_members"]): forums,
    }
    return write.save(conn, "experts", "email", record, expected_row_version, links)


def experts(
    conn: sqlite3.Connection,
    *,
    search: str = "",
    organization: str | None = None,
    domain: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The expert directory with organisation, domains, roles, forums and allocation."""
    return pd.read_sql_query(
        """
        SELECT e.email, e.name, e.organization, o.name AS organization_name, o.kind,
               (SELECT group_concat(domain, ';') FROM
                  (SELECT domain FROM expert_domains WHERE expert = e.email ORDER BY 1))
                   AS domains,
               (SELECT group_concat(role, ';') FROM
                  (SELECT role FROM expert_roles WHERE expert = e.email ORDER BY 1)) AS roles,
               (SELECT group_concat(forum, ';') FROM
                  (SELECT forum FROM forum_members WHERE expert = e.email ORDER BY 1)) AS forums,
               e.allocation_pct, e.active, e.row_version
        FROM experts e JOIN organizations o ON o.code = e.organization
        WHERE (:search = '' OR e.email LIKE :like OR e.name LIKE :like)
          AND (:organization IS NULL OR e.organization = :organization)
          AND (:domain IS NULL OR EXISTS (SELECT 1 FROM expert_domains d
                                          WHERE d.expert = e.email AND d.domain = :domain))
          AND (:role IS NULL OR EXISTS (SELECT 1 FROM expert_roles r
                                        WHERE r.expert = e.email AND r.role = :role))
          AND (:active IS NULL OR e.active = :active)
        ORDER BY e.name, e.email
        LIMIT :limit
        """,
        conn,
        params={
            "search": search,
            "like": f"%{search}%",
            "organization": organization,
            "domain": domain,
            "role": role,
            "active": None if active is None else int(active),
            "limit": limit,
        },
    )


def active_with_role(conn: sqlite3.Connection, role: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email "
            "WHERE r.role = ? AND e.active = 1 ORDER BY 1",
            (role,),
        )
    ]


def decisions_with_verdicts_by(conn: sqlite3.Connection, email: str) -> list[str]:
    """Decisions past built on which the expert gave a verdict: their stage depends on the
    expert's domains and organisation."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT a.decision FROM approvals a JOIN decisions d ON d.key = a.decision "
            "WHERE a.expert = ? AND d.base_stage = 'built' ORDER BY 1",
            (email,),
        )
    ]


def unknown_codes(conn: sqlite3.Connection, table: str, codes: list[str]) -> list[str]:
    """The codes not in a reference table (organizations, domains, forums)."""
    if table not in ("organizations", "domains", "forums"):
        raise ValueError(f"not a reference list: {table}")
    return reference.unknown_codes(conn, table, codes)


# Forums -----------------------------------------------------------------------------------------


def get_forum(conn: sqlite3.Connection, code: str) -> dict | None:
    """A forum with its domains and members as sorted lists."""
    forum = one(conn, "SELECT * FROM forums WHERE code = ?", (code,))
    if forum is not None:
        forum["domains"] = _members(conn, "forum_domains", code)
        forum["members"] = _members(conn, "forum_members", code, reverse=True)
    return forum


def save_forum(
    conn: sqlite3.Connection,
    record: dict,
    domains: list[str],
    members: list[str],
    expected_row_version: int | None = None,
) -> bool:
    links = {
        ("forum_domains", *_LINKS["forum_domains"]): domains,
        ("forum_members", *reversed(_LINKS["forum_members"])): members,  # from the forum's end
    }
    return write.save(conn, "forums", "code", record, expected_row_version, links)


def forum_name_taken(conn: sqlite3.Connection, name: str, code: str) -> str | None:
    """The code of another forum named `name`, or None."""
    found = one(conn, "SELECT code FROM forums WHERE name = ? AND code <> ?", (name, code))
    return found and found["code"]


def forums(conn: sqlite3.Connection) -> pd.DataFrame:
    """Forums by level with scope, domains, member count and members."""
    return pd.read_sql_query(
        """
        SELECT f.code, f.name, f.level, f.scope,
               (SELECT group_concat(domain, ';') FROM
                  (SELECT domain FROM forum_domains WHERE forum = f.code ORDER BY 1)) AS domains,
               (SELECT count(*) FROM forum_members m WHERE m.forum = f.code) AS member_count,
               (SELECT group_concat(expert, ';') FROM
                  (SELECT expert FROM forum_members WHERE forum = f.code ORDER BY 1)) AS members,
               f.row_version
        FROM forums f ORDER BY f.level, f.code
        """,
        conn,
    )


# The approval rule ------------------------------------------------------------------------------


def keys_past_demonstration(conn: sqlite3.Connection) -> list[str]:
    """Decisions whose stage the approval rule can move: demonstrated or further."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT key FROM decisions "
            "WHERE stage IN ('demonstrated', 'approved', 'in_test', 'tested', 'ready')"
        )
    ]


def record_sign_out(conn: sqlite3.Connection, person: str, at: int) -> None:
    write.upsert(conn, "sign_outs", [{"person": person, "signed_out_at": at}], ("person",))


def signed_out_at(conn: sqlite3.Connection, person: str) -> int | None:
    """When `person` last signed out (seconds since 1970, UTC), or None."""
    return scalar(conn, "SELECT signed_out_at FROM sign_outs WHERE person = ?", (person,))
