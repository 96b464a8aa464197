"""Pure shaping for the screens: days left, how a piece of evidence counts, the approval
progress of the current round, and events told as sentences. No storage, no UI."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from decisions.i18n import N_, _, format_date, format_datetime
from decisions.model import stage_at_least
from decisions.workflow import counts_from, evidence_order


def days_left(go_live: str, today: dt.date) -> int:
    return (dt.date.fromisoformat(go_live[:10]) - today).days


def go_status(go: bool, go_live: str, today: dt.date) -> str:
    """A wave's go / no-go, or that it is live: a wave past its go-live date is no longer
    waiting for a decision to go, whatever its criteria say today."""
    if days_left(go_live, today) <= 0:
        return f"live since {go_live[:10]}"
    return "GO" if go else "NO GO"


def evidence_note(date: str, decision: dict) -> str:
    """Why a demo, verdict or test run of `decision` dated `date` counts for nothing now, or ''
    when it counts: suspect (before the current version) or from an earlier build round."""
    started = decision.get("version_started_at")
    if not counts_from(date, started):
        return _(
            "suspect: dated before version {version} started on {date}",
            version=decision["version"],
            date=date_text(started),
        )
    built = decision.get("built_at")
    if built and not counts_from(date, built):
        return _(
            "earlier build round: dated before it was built again on {date}", date=date_text(built)
        )
    return ""


def _change(event: dict) -> str:
    return f"{event['from_value'] or '-'} → {event['to_value'] or '-'}"


def describe_event(event: dict) -> str:
    """One event of a decision's timeline as a short sentence."""
    entity, action = event["entity"], event["action"]
    if entity == "decision":
        if action == "created":
            return _("created as {stage}", stage=stage_word(event["to_value"]))
        if action == "stage":
            return (
                f"{stage_word(event['from_value']) if event['from_value'] else '-'} → "
                f"{stage_word(event['to_value']) if event['to_value'] else '-'}"
            )
        if action == "escalated":
            return f"escalated from {event['from_value']} to {event['to_value']}"
        if action == "revised":
            return f"revised: version {_change(event)}"
        if action.startswith("edited:"):
            return f"{action.removeprefix('edited:')} edited: {_change(event)}"
        return action
    if entity == "approval":
        return verdict_word("approve" if action == "approve" else "changes_requested")
    if entity == "demo":
        return f"demo {event['entity_key']} {action.replace(':', ' ')}"
    if entity == "test_run":
        return f"test run of {event['to_value']}: {action}"
    if entity == "test_case":
        return f"test case {event['entity_key']} {action}"
    if entity == "defect":
        return f"defect {event['entity_key']} {action}: {event['to_value']}"
    return f"{entity} {event['entity_key']} {action}"


def with_notes(evidence: list[dict], decision: dict) -> list[dict]:
    """Demos or test runs of `decision`, each with a `note` on why it does not count ('' when
    it does). A scheduled demo and a test case never run have nothing to count yet."""
    shaped = []
    for row in evidence:
        if row.get("held") == 0:
            note = "scheduled, not held yet"
        elif row.get("date") is None:
            note = "never run"
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
            note = "superseded by this expert's later verdict"
        shaped.append({**row, "note": note})
    return shaped


def approved_share(wave_counts: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per wave: (decisions approved or further, decisions in scope), from stages_per_wave."""
    further = wave_counts["stage"].map(lambda s: stage_at_least(s, "approved")).astype(bool)
    totals = wave_counts.groupby("wave")["decisions"].sum()
    approved = wave_counts.loc[further].groupby("wave")["decisions"].sum()
    return {wave: (int(approved.get(wave, 0)), int(total)) for wave, total in totals.items()}


# Words a person reads for the codes the store keeps --------------------------------------

STAGE_WORDS = {
    "proposed": N_("Proposed"),
    "decided": N_("Decided"),
    "in_build": N_("In build"),
    "built": N_("Built"),
    "demonstrated": N_("Demonstrated"),
    "approved": N_("Approved"),
    "in_test": N_("In test"),
    "tested": N_("Tested"),
    "ready": N_("Ready for production"),
    "withdrawn": N_("Withdrawn"),
}
ROLE_WORDS = {
    "expert": N_("expert"),
    "analyst": N_("analyst"),
    "tester": N_("tester"),
    "manager": N_("manager"),
    "admin": N_("admin"),
    "viewer": N_("viewer"),
}
SCOPE_WORDS = {
    "hospital": N_("Hospital"),
    "municipality": N_("Municipality"),
    "joint": N_("Joint: hospital and municipality"),
}
CRITICALITY_WORDS = {
    "critical": N_("Critical"),
    "high": N_("High"),
    "medium": N_("Medium"),
    "low": N_("Low"),
}
ORGANISATION_KIND_WORDS = {
    "hospital": N_("hospital"),
    "municipality": N_("municipality"),
    "gp_office": N_("GP office"),
}
LEVEL_WORDS = {
    1: N_("domain expert group"),
    2: N_("joint decision group"),
    3: N_("steering group"),
}
DEFECT_STATUS_WORDS = {
    "open": N_("open"),
    "fixed": N_("fixed, to verify"),
    "closed": N_("closed"),
    "deferred": N_("deferred"),
}
VERDICT_WORDS = {"approve": N_("Approved"), "changes_requested": N_("Changes requested")}
VERDICT_BY = {
    "approve": N_("Approved by {name}"),
    "changes_requested": N_("Changes requested by {name}"),
}


def stage_word(stage: str) -> str:
    """A stage as a person reads it: "in_build" -> "In build" (in the reader's language)."""
    return _(STAGE_WORDS[stage]) if stage in STAGE_WORDS else stage.replace("_", " ")


def role_word(role: str) -> str:
    """A role as a person reads it: in English its code, in bokmål "manager" -> "programleder"."""
    return _(ROLE_WORDS[role]) if role in ROLE_WORDS else role


def _word(words: dict, code):
    return _(words[code]) if code in words else str(code)


def scope_word(scope: str) -> str:
    return _word(SCOPE_WORDS, scope)


def criticality_word(criticality: str) -> str:
    return _word(CRITICALITY_WORDS, criticality)


def organisation_kind_word(kind: str) -> str:
    return _word(ORGANISATION_KIND_WORDS, kind)


def level_word(level: int) -> str:
    return _word(LEVEL_WORDS, level)


def defect_status_word(status: str) -> str:
    return _word(DEFECT_STATUS_WORDS, status)


def verdict_word(verdict: str) -> str:
    return _(VERDICT_WORDS[verdict]) if verdict in VERDICT_WORDS else verdict.replace("_", " ")


def verdict_by(verdict: str, name: str) -> str:
    """ "changes_requested" by Ingrid Paulsen -> "Changes requested by Ingrid Paulsen"."""
    if verdict in VERDICT_BY:
        return _(VERDICT_BY[verdict], name=name)
    return f"{verdict_word(verdict)} · {name}"


def date_text(stamp: str | None, style: str = "short") -> str:
    """A stored ISO date or moment as a date the reader writes ("15.09.2022"); '' for none."""
    if not isinstance(stamp, str) or not stamp:
        return ""  # none, or a missing value in a table
    return format_date(dt.date.fromisoformat(str(stamp)[:10]), style)


def moment_text(stamp: str | None) -> str:
    """A stored ISO moment as the reader writes it, to the minute ("15.09.2022 14:02"); a bare
    date stays a date."""
    if not isinstance(stamp, str) or not stamp:
        return ""
    if len(stamp) <= 10:
        return date_text(stamp)
    return format_datetime(dt.datetime.fromisoformat(stamp[:19]))


def names_text(codes: list[str], names: dict[str, str]) -> str:
    """Codes as their names, joined: ["LADE", "TRD"] -> "Lade kommune, Trondheim kommune"."""
    return ", ".join(names.get(code, code) for code in codes)


# A queue's columns as a person reads them; "key" stays (it opens the decision).
COLUMN_WORDS = {
    "title": N_("Title"),
    "owner": N_("Owner"),
    "version": N_("Version"),
    "stage": N_("Stage"),
    "domain": N_("Domain"),
    "module": N_("Module"),
    "forum": N_("Forum"),
    "from_forum": N_("Escalated from"),
    "scope": N_("Scope"),
    "criticality": N_("Criticality"),
    "needed_by": N_("Needed by"),
    "stage_since": N_("In this stage since"),
    "demonstrated_since": N_("Demonstrated on"),
    "escalated": N_("Escalated on"),
    "reason": N_("Why"),
    "my_verdict": N_("Your last verdict"),
    "approval_rule": N_("Approval rule"),
    "due": N_("Due"),
    "asked": N_("What is asked"),
    "test_case": N_("Test case"),
    "defect": N_("Defect"),
    "severity_clinical": N_("Clinical severity"),
    "run_date": N_("Last run"),
    "result": N_("Result"),
}
_NAMED = {"domain": "domains", "module": "modules", "forum": "forums", "from_forum": "forums"}
_DATES = ("needed_by", "stage_since", "demonstrated_since", "escalated", "due", "run_date")
ASKS = {
    "run": N_("Run test case {case}"),
    "retest": N_("Retest with {case}: last run {result}"),
    "verify": N_("Verify that defect {defect} is fixed"),
}
RESULT_WORDS = {"passed": N_("passed"), "failed": N_("failed"), "blocked": N_("blocked")}


def result_word(result: str) -> str:
    """A test run's result in the reader's language ("failed" -> "feilet")."""
    return _(RESULT_WORDS[result]) if result in RESULT_WORDS else result


def with_ask(frame: pd.DataFrame, ask: str) -> pd.DataFrame:
    """A tester's queue with `asked` (what is asked, in words) right after the key."""
    shown = frame.copy()
    asked = [
        _(
            ASKS[ask],
            case=row.get("test_case", ""),
            defect=row.get("defect", ""),
            result=result_word(row.get("result") or ""),
        )
        for row in shown.to_dict("records")
    ]
    shown.insert(1, "asked", asked)
    return shown


_INTERNAL = ("row_version", "built_at")  # what a queue carries for its forms, not for reading


def readable(frame: pd.DataFrame, names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """A queue as a person reads it: stage and verdict words, names for codes (`names` as
    store.queues.code_names gives them), readable dates and headers in words."""
    shown = frame.drop(columns=[c for c in _INTERNAL if c in frame])
    for column in shown.columns:
        if column == "stage":
            shown[column] = shown[column].map(stage_word)
        elif column == "my_verdict":
            shown[column] = shown[column].map(lambda v: verdict_word(v) if v else "")
        elif column in _NAMED:
            table = names.get(_NAMED[column], {})
            shown[column] = shown[column].map(lambda code, t=table: t.get(code, code))
        elif column in _DATES:
            shown[column] = shown[column].map(date_text)
    return shown.rename(columns={c: _(w) for c, w in COLUMN_WORDS.items() if c in shown})
