"""Keys, emails and names hold visible characters only: control characters, bidirectional
overrides and isolates, and zero-width characters are refused by every use case that takes
them and by the import, with the character named, and nothing is written."""

from __future__ import annotations

import pytest
from conftest import snapshot

from decisions import admin, evidence, io, planning, services
from decisions.model import SYSTEM_ACTOR, WorkflowError

HIDDEN = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte-order mark": "\ufeff",
    "bell": "\x07",
    "line feed": "\n",
}


def _expert(conn, actor, hidden, decision):
    admin.save_expert(conn, actor("admin@hemit.no"), email=f"ny{hidden}tt@stolav.no",
                      name="Nytt Navn", organization="STO", domains=["MED"],
                      roles=["expert"], allocation_pct=20)  # fmt: skip


def _expert_name(conn, actor, hidden, decision):
    admin.save_expert(conn, actor("admin@hemit.no"), email="nytt@stolav.no",
                      name=f"Ad{hidden}min", organization="STO", domains=["MED"],
                      roles=["expert"], allocation_pct=20)  # fmt: skip


def _forum_name(conn, actor, hidden, decision):
    admin.save_forum(conn, actor("admin@hemit.no"), code="NEW", name=f"New{hidden} group",
                     level=1, scope="hospital", domains=["MED"], members=[])  # fmt: skip


def _criterion_code(conn, actor, hidden, decision):
    planning.save_criterion(conn, actor("mona@hemit.no"), "W1", f"X{hidden}1",
                            {"name": "Interfaces", "kind": "reported", "metric": "m",
                             "comparator": ">=", "threshold": 1})  # fmt: skip


def _criterion_name(conn, actor, hidden, decision):
    planning.save_criterion(conn, actor("mona@hemit.no"), "W1", "X1",
                            {"name": f"Inter{hidden}faces", "kind": "reported", "metric": "m",
                             "comparator": ">=", "threshold": 1})  # fmt: skip


def _decision_key(conn, actor, hidden, decision):
    services.create_decision(conn, actor("mona@hemit.no"),
                             {"key": f"MED-{hidden}9", "title": "T", "domain": "MED",
                              "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
                              "organizations": ["STO"], "criticality": "low"})  # fmt: skip


def _test_case_key(conn, actor, hidden, decision):
    evidence.save_test_case(conn, actor("tess@hemit.no"), key=f"TC{hidden}1", title="T",
                            kind="acceptance", decisions=[decision])  # fmt: skip


def _defect_key(conn, actor, hidden, decision):
    evidence.save_defect(conn, actor("tess@hemit.no"), key=f"DEF{hidden}1", title="T",
                         severity_vendor=3, severity_clinical=2)  # fmt: skip


USE_CASES = [_expert, _expert_name, _forum_name, _criterion_code, _criterion_name,
             _decision_key, _test_case_key, _defect_key]  # fmt: skip


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize("use_case", USE_CASES, ids=lambda f: f.__name__.strip("_"))
def test_a_use_case_refuses_an_invisible_character(programme, actor, decision_at, use_case, hidden):
    decision = decision_at("approved")
    before = snapshot(programme)
    with pytest.raises(WorkflowError, match=f"invisible character U\\+{ord(hidden):04X}"):
        use_case(programme, actor, hidden, decision)
    assert snapshot(programme) == before


IMPORTS = {
    "organizations": "code,name,kind\nX{h}Y,Somewhere,hospital\n",
    "experts": "email,name,organization,domains,roles,allocation_pct\n"
    "new@stolav.no,Ne{h}w,STO,MED,expert,20\n",
    "forums": "code,name,level,scope,domains\nNEW,New{h} group,1,hospital,MED{h}\n",
    "decisions": "key,title,domain,module,forum,scope,organizations,criticality,stage\n"
    "MED-{h}9,T,MED,MED-ADM,MED-H,hospital,STO,low,proposed\n",
}


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\x07"], ids=["rlo", "zwsp", "bell"])
@pytest.mark.parametrize("kind", list(IMPORTS))
def test_the_import_refuses_an_invisible_character(programme, kind, hidden):
    data = IMPORTS[kind].replace("{h}", hidden).encode()
    before = snapshot(programme)
    result = io.import_sources(programme, [io.Source(f"{kind}.csv", data, kind)], SYSTEM_ACTOR)
    assert not result.written
    assert any(f"invisible character U+{ord(hidden):04X}" in str(e) for e in result.errors), [
        str(e) for e in result.errors
    ]
    assert snapshot(programme) == before


def test_visible_names_in_any_script_are_taken(programme, actor):
    admin.save_expert(programme, actor("admin@hemit.no"), email="ase.ovre@stolav.no",
                      name="Åse Øvre-Ærø 李 محمد", organization="STO", domains=["MED"],
                      roles=["expert"], allocation_pct=20)  # fmt: skip
