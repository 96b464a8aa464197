"""Small fixtures: a fresh database file, and a tiny programme with people in every role."""

from __future__ import annotations

import pytest

from decisions import store
from decisions.store import decisions as decision_store
from decisions.store import reference


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "programme.db"


@pytest.fixture
def fresh_db(db_path):
    conn = store.connect(db_path)
    yield conn
    conn.close()


PEOPLE = {
    # email: (organization, domains, roles, forums)
    "hanne@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "per@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "kari@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "ola@trondheim.kommune.no": ("TRD", ["MED"], ["expert"], ["MED-M"]),
    "lab@stolav.no": ("STO", ["LAB"], ["expert"], ["LAB-H"]),
    "ana@hemit.no": ("STO", ["MED", "LAB"], ["analyst"], []),
    "tess@hemit.no": ("STO", ["MED", "LAB"], ["tester"], []),
    "mona@hemit.no": ("STO", [], ["manager"], []),
    "admin@hemit.no": ("STO", [], ["admin"], []),
    "vera@hemit.no": ("STO", [], ["viewer"], []),
}


def build_small_programme(conn) -> None:
    """Two organisations, two domains, forums at three levels, one wave, ten people."""
    with store.transaction(conn):
        reference.insert_rows(
            conn,
            "organizations",
            [
                {"code": "STO", "name": "St. Olavs hospital", "kind": "hospital"},
                {"code": "TRD", "name": "Trondheim kommune", "kind": "municipality"},
            ],
        )
        reference.insert_rows(
            conn,
            "domains",
            [
                {"code": "MED", "name": "Medication"},
                {"code": "LAB", "name": "Laboratory"},
            ],
        )
        reference.insert_rows(
            conn,
            "forums",
            [
                {
                    "code": "MED-H",
                    "name": "Medication hospital group",
                    "level": 1,
                    "scope": "hospital",
                },
                {
                    "code": "MED-M",
                    "name": "Medication municipal group",
                    "level": 1,
                    "scope": "municipality",
                },
                {"code": "LAB-H", "name": "Laboratory group", "level": 1, "scope": "hospital"},
                {"code": "FBG", "name": "Joint decision group", "level": 2, "scope": "joint"},
                {"code": "STEER", "name": "Steering group", "level": 3, "scope": "joint"},
            ],
        )
        reference.insert_rows(
            conn,
            "forum_domains",
            [
                {"forum": "MED-H", "domain": "MED"},
                {"forum": "MED-M", "domain": "MED"},
                {"forum": "LAB-H", "domain": "LAB"},
                {"forum": "FBG", "domain": "MED"},
            ],
        )
        reference.insert_rows(
            conn,
            "modules",
            [
                {"code": "MED-ADM", "name": "Medication administration", "domain": "MED"},
                {"code": "LAB-ORD", "name": "Lab orders", "domain": "LAB"},
            ],
        )
        reference.insert_rows(
            conn,
            "waves",
            [
                {"code": "W1", "name": "Wave 1", "go_live": "2022-11-12"},
            ],
        )
        reference.insert_rows(
            conn,
            "wave_organizations",
            [
                {"wave": "W1", "organization": "STO"},
                {"wave": "W1", "organization": "TRD"},
            ],
        )
        for email, (org, domains, roles, forums) in PEOPLE.items():
            reference.insert_rows(
                conn,
                "experts",
                [
                    {
                        "email": email,
                        "name": email.split("@")[0].title(),
                        "organization": org,
                        "allocation_pct": 50,
                    }
                ],
            )
            reference.insert_rows(
                conn, "expert_domains", [{"expert": email, "domain": d} for d in domains]
            )
            reference.insert_rows(
                conn, "expert_roles", [{"expert": email, "role": r} for r in roles]
            )
            reference.insert_rows(
                conn, "forum_members", [{"forum": f, "expert": email} for f in forums]
            )
        store.put_setting(conn, "clock", "2022-09-15")


@pytest.fixture
def programme(fresh_db):
    build_small_programme(fresh_db)
    return fresh_db


@pytest.fixture
def actor(programme):
    """actor('hanne@stolav.no') -> the Actor the services see."""
    return lambda email: decision_store.load_actor(programme, email)
