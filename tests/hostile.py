"""A programme whose every user-supplied value is hostile markup: markdown images and links to
another origin, HTML script and img tags, Streamlit colour directives and LaTeX. Shared by the
page test (tests/test_hostile_pages.py) and the browser test (tests/e2e/test_hostile_text.py)."""

from __future__ import annotations

import re

from conftest import build_small_programme, drive_decision

from decisions import evidence, planning, services, store
from decisions.store import decisions as decision_store
from decisions.store import reference

ELSEWHERE = "http://127.0.0.1:9"
IMAGE = f"![i]({ELSEWHERE}/i.png)"
LINK = f"[l]({ELSEWHERE}/l)"
SCRIPT = "<script>alert(1)</script>"
ONERROR = "<img src=x onerror=alert(2)>"
COLOUR = ":red[x]"
LATEX = "$\\LaTeX$"
TEXT = f"T {IMAGE} {LINK} {SCRIPT} {ONERROR} {COLOUR} {LATEX} **b** `c` # h"

# Codes and keys take no spaces: one hostile token each.
ORG = COLOUR
FORUM = f"![f]({ELSEWHERE}/f.png)"
MODULE = f"![m]({ELSEWHERE}/m.png)"
WAVE = "<script>w</script>"
CRITERION = "$\\x$"
KEYS = {stage: f"![{stage}]({ELSEWHERE}/{stage}.png)" for stage in ("proposed", "demonstrated")}
KEYS["tested"] = "<script>k</script>"
EXPERT = f"![e]({ELSEWHERE}/e.png)@stolav.no"

# Markup that shows the text was not escaped: each pattern matches only where md() left a
# character unescaped.
UNESCAPED = [
    re.compile(r"\]\(http", re.IGNORECASE),  # a markdown link or image
    re.compile(r"(?<!\\)<(script|img)", re.IGNORECASE),  # HTML
    re.compile(r"(?<!\\):red\[", re.IGNORECASE),  # a colour directive
    re.compile(r"(?<!\\)\$\\(LaTeX|x)", re.IGNORECASE),  # LaTeX
]


def unescaped(text: str) -> list[str]:
    return [p.pattern for p in UNESCAPED if p.search(text)]


def build_hostile_programme(conn) -> dict[str, str]:
    """The small programme plus hostile names, codes, keys and texts everywhere; returns the
    decision keys by stage."""
    build_small_programme(conn)
    with store.transaction(conn):
        reference.insert_rows(
            conn, "organizations", [{"code": ORG, "name": TEXT, "kind": "hospital"}]
        )
        reference.insert_rows(conn, "domains", [{"code": "HX", "name": TEXT}])
        reference.insert_rows(conn, "modules", [{"code": MODULE, "name": TEXT, "domain": "MED"}])
        reference.insert_rows(
            conn, "forums", [{"code": FORUM, "name": TEXT, "level": 1, "scope": "hospital"}]
        )
        reference.insert_rows(conn, "forum_domains", [{"forum": FORUM, "domain": "MED"}])
        reference.insert_rows(
            conn, "waves", [{"code": WAVE, "name": TEXT, "go_live": "2022-12-01"}]
        )
        reference.insert_rows(
            conn,
            "wave_organizations",
            [{"wave": WAVE, "organization": ORG}, {"wave": "W1", "organization": ORG}],
        )
        reference.insert_rows(
            conn,
            "experts",
            [{"email": EXPERT, "name": TEXT, "organization": ORG, "allocation_pct": 50}],
        )
        reference.insert_rows(conn, "expert_domains", [{"expert": EXPERT, "domain": "MED"}])
        reference.insert_rows(conn, "expert_roles", [{"expert": EXPERT, "role": "expert"}])
        reference.insert_rows(
            conn,
            "forum_members",
            [{"forum": FORUM, "expert": EXPERT}, {"forum": "MED-H", "expert": EXPERT}],
        )
    fields = {
        "title": TEXT,
        "module": MODULE,
        "forum": FORUM,
        "organizations": [ORG],
        "question": TEXT,
        "rationale": TEXT,
        "owner": EXPERT,
        "needed_by": "2022-09-01",
    }
    keys = {stage: drive_decision(conn, stage, key=key, **fields) for stage, key in KEYS.items()}
    people = lambda email: decision_store.load_actor(conn, email)  # noqa: E731
    mona, ana, tess = people("mona@hemit.no"), people("ana@hemit.no"), people("tess@hemit.no")
    escalated = services.create_decision(
        conn,
        people(EXPERT),
        {**fields, "scope": "hospital", "criticality": "high", "domain": "MED"},
    )
    services.escalate(conn, mona, escalated, to_forum="FBG", reason=TEXT)
    evidence.record_verdict(
        conn, people("hanne@stolav.no"), keys["demonstrated"], "changes_requested", comment=TEXT
    )
    evidence.save_demo(
        conn,
        ana,
        module=MODULE,
        date="2022-09-22",
        decisions=[keys["demonstrated"]],
        presenter="ana@hemit.no",
        invitees=[EXPERT],
        notes=TEXT,
        held=False,
    )
    evidence.save_defect(
        conn, tess, title=TEXT, severity_vendor=1, severity_clinical=2, decision=keys["tested"]
    )
    planning.save_criterion(
        conn,
        mona,
        WAVE,
        CRITERION,
        {
            "name": TEXT,
            "kind": "reported",
            "metric": TEXT[:100],
            "comparator": ">=",
            "threshold": 1,
            "owner": EXPERT,
            "waiver_reason": TEXT,
            "waiver_until": "2022-10-01",
        },
    )
    planning.record_measurement(conn, mona, WAVE, CRITERION, value=1, evidence_url=f"{ELSEWHERE}/m")
    planning.replan_wave(conn, mona, WAVE, go_live="2022-12-15", reason=TEXT)
    store.put_setting(conn, "demo", True)
    return keys | {"escalated": escalated}
