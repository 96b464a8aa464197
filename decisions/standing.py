"""Where a wave and a decision's evidence stand, for the screens: days to go-live, go / no go
or live, why a demo, verdict or test run does not count now, and each wave's approved share.
Codes and numbers; decisions.words words them. No storage, no UI."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from decisions.model import stage_at_least
from decisions.workflow import counts_from, evidence_order

# Why a piece of evidence counts for nothing now ('' when it counts).
NOTES = ("suspect", "earlier_round", "scheduled", "never_run", "superseded")


def days_left(go_live: str, today: dt.date) -> int:
    return (dt.date.fromisoformat(go_live[:10]) - today).days


def go_status(go: bool, go_live: str, today: dt.date) -> str:
    """A wave's "go" or "no_go", or "live": a wave past its go-live date is no longer waiting
    for a decision to go, whatever its criteria say today."""
    if days_left(go_live, today) <= 0:
        return "live"
    return "go" if go else "no_go"


def evidence_note(date: str, decision: dict) -> str:
    """Why a demo, verdict or test run of `decision` dated `date` counts for nothing now, or ''
    when it counts: "suspect" (before the current version) or "earlier_round" (before it was
    built again)."""
    if not counts_from(date, decision.get("version_started_at")):
        return "suspect"
    built = decision.get("built_at")
    if built and not counts_from(date, built):
        return "earlier_round"
    return ""


def with_notes(evidence: list[dict], decision: dict) -> list[dict]:
    """Demos or test runs of `decision`, each with a `note` on why it does not count ('' when
    it does). A scheduled demo and a test case never run have nothing to count yet."""
    shaped = []
    for row in evidence:
        if row.get("held") == 0:
            note = "scheduled"
        elif row.get("date") is None:
            note = "never_run"
        else:
            note = evidence_note(row["date"], decision)
        shaped.append({**row, "note": note})
    return shaped


def verdicts_with_notes(approvals: list[dict], decision: dict) -> list[dict]:
    """Verdicts on `decision` (oldest first), each with a `note` on why it does not count:
    suspect, from an earlier round, or superseded by the same expert's later verdict."""
    latest = {
        row["expert"]: row["id"]
        for row in sorted(approvals, key=lambda r: evidence_order(r["date"], r["id"]))
    }
    shaped = []
    for row in approvals:
        note = evidence_note(row["date"], decision)
        if not note and latest[row["expert"]] != row["id"]:
            note = "superseded"
        shaped.append({**row, "note": note})
    return shaped


def approved_share(wave_counts: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per wave: (decisions approved or further, decisions in scope), from stages_per_wave."""
    further = wave_counts["stage"].map(lambda s: stage_at_least(s, "approved")).astype(bool)
    totals = wave_counts.groupby("wave")["decisions"].sum()
    approved = wave_counts.loc[further].groupby("wave")["decisions"].sum()
    return {wave: (int(approved.get(wave, 0)), int(total)) for wave, total in totals.items()}
