"""Every word a person reads for a code: the one place that turns the codes and values the
rules answer in into text, in the reader's language, for the pages, the PNG and CSV reports,
the notices and the command line.

A leaf: it imports only the catalogs (decisions.i18n) and the vocabulary (decisions.model), so
any module may word what it holds without an import cycle. The rules never answer in sentences;
they answer in codes and values (`missing=(("approvers", 1), ("side", "hospital"))`), and the
functions here word them. A code with no word here is shown as it is stored."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from decisions.i18n import N_, _, format_date, format_datetime, format_number, n_
from decisions.model import FORECAST_HORIZON_WEEKS, ApprovalProgress, Missing

# The programme's codes ------------------------------------------------------------------------

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
SIDE_WORDS = {"hospital": N_("the hospital side"), "municipality": N_("the municipality side")}
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
RESULT_WORDS = {"passed": N_("passed"), "failed": N_("failed"), "blocked": N_("blocked")}
TEST_KIND_WORDS = {
    "application": N_("application test"),
    "integrated": N_("integrated test"),
    "acceptance": N_("acceptance test"),
    "regression": N_("regression test"),
}
SEVERITY_WORDS = {1: N_("1 critical"), 2: N_("2 serious"), 3: N_("3 moderate"), 4: N_("4 minor")}


def word(words: Mapping, code: object) -> str:
    """`code`'s word from the table `words` in the reader's language; the code where none."""
    return _(words[code]) if code in words else str(code)


def headers(words: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """Column headers in words for the columns a table has (the data keeps its names)."""
    return {c: _(w) for c, w in words.items() if c in set(columns)}


def stage_word(stage: str) -> str:
    """A stage as a person reads it: "in_build" -> "In build" (in the reader's language)."""
    return _(STAGE_WORDS[stage]) if stage in STAGE_WORDS else str(stage).replace("_", " ")


def role_word(role: str) -> str:
    """A role as a person reads it: in English its code, in bokmål "manager" -> "programleder"."""
    return word(ROLE_WORDS, role)


def scope_word(scope: str) -> str:
    return word(SCOPE_WORDS, scope)


def side_word(side: str) -> str:
    return word(SIDE_WORDS, side)


def criticality_word(criticality: str) -> str:
    return word(CRITICALITY_WORDS, criticality)


def organisation_kind_word(kind: str) -> str:
    return word(ORGANISATION_KIND_WORDS, kind)


def level_word(level: int) -> str:
    """A forum level (1, 2, 3) as the name of its kind of forum."""
    try:
        return word(LEVEL_WORDS, int(level))
    except (TypeError, ValueError):
        return str(level)


def defect_status_word(status: str) -> str:
    return word(DEFECT_STATUS_WORDS, status)


def verdict_word(verdict: str) -> str:
    return _(VERDICT_WORDS[verdict]) if verdict in VERDICT_WORDS else verdict.replace("_", " ")


def verdict_by(verdict: str, name: str) -> str:
    """ "changes_requested" by Ingrid Paulsen -> "Changes requested by Ingrid Paulsen"."""
    if verdict in VERDICT_BY:
        return _(VERDICT_BY[verdict], name=name)
    return f"{verdict_word(verdict)} · {name}"


def result_word(result: str) -> str:
    """A test run's result in the reader's language ("failed" -> "feilet")."""
    return word(RESULT_WORDS, result)


def test_kind_word(kind: str) -> str:
    return word(TEST_KIND_WORDS, kind)


def severity_word(severity: int) -> str:
    return word(SEVERITY_WORDS, severity)


# Dates and names ------------------------------------------------------------------------------


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


# Queues of decisions, test cases and defects ----------------------------------------------------

# A queue's columns as a person reads them; "key" stays (it opens the decision).
QUEUE_COLUMN_WORDS = {
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
_NAMED = {"domain": "domains", "module": "modules", "forum": "forums", "from_forum": "forums",
          "owner": "people"}  # fmt: skip
_CODED = {"criticality": lambda c: criticality_word(c) if c else "",
          "scope": lambda c: scope_word(c) if c else ""}  # fmt: skip
_DATES = ("needed_by", "stage_since", "demonstrated_since", "escalated", "due", "run_date")
ASKS = {
    "run": N_("Run test case {case}"),
    "retest": N_("Retest with {case}: last run {result}"),
    "verify": N_("Verify that defect {defect} is fixed"),
}
_INTERNAL = ("row_version", "built_at")  # what a queue carries for its forms, not for reading


def with_ask(frame: pd.DataFrame, ask: str) -> pd.DataFrame:
    """A tester's queue with `asked` (what is asked, in words) right after the key."""
    shown = frame.copy()

    def column(name: str) -> list:
        return frame[name].tolist() if name in frame else [""] * len(frame)

    asked = [
        _(ASKS[ask], case=case, defect=defect, result=result_word(result or ""))
        for case, defect, result in zip(
            column("test_case"), column("defect"), column("result"), strict=True
        )
    ]
    shown.insert(1, "asked", asked)
    return shown


def readable(frame: pd.DataFrame, names: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """A queue as a person reads it: stage and verdict words, names for codes (`names` as
    store.queues.code_names gives them), readable dates and headers in words."""
    columns = [c for c in frame.columns if c not in _INTERNAL]
    titles = headers(QUEUE_COLUMN_WORDS, columns)
    shown = {}
    # Plain lists, not a pandas operation per column: a page shows several small queues, and
    # per column pandas cost more than the words (twice the time in all).
    for column in columns:
        word, values = _column_word(column, names), frame[column].tolist()
        shown[titles.get(column, column)] = values if word is None else each_worded(word, values)
    return pd.DataFrame(shown, index=frame.index)


def each_worded(word: Callable[[Any], str], values: Iterable) -> list[str]:
    """word(value) for each value, each distinct value worded once: a queue's columns repeat
    a few stages, names and dates, and wording one costs a catalog look-up or more."""
    worded: dict = {}
    out = []
    for value in values:
        seen = (type(value), value)  # 1 and True are equal, and may be worded apart
        try:
            out.append(worded[seen])
        except KeyError:  # not worded yet, or NaN (never equal to itself)
            out.append(worded.setdefault(seen, word(value)))
        except TypeError:  # unhashable
            out.append(word(value))
    return out


def _column_word(
    column: str, names: Mapping[str, Mapping[str, str]]
) -> Callable[[Any], str] | None:
    """How readable() words the values of a queue's column, or None to keep them."""
    if column == "stage":
        return stage_word
    if column in _CODED:
        return _CODED[column]
    if column == "my_verdict":
        return lambda v: verdict_word(v) if v else ""
    if column in _NAMED:
        table = names.get(_NAMED[column], {})
        return lambda code: table.get(code, code)
    if column in _DATES:
        return date_text
    return None


# Columns of the other screens' tables -----------------------------------------------------------

OVERVIEW_COLUMN_WORDS = {
    "days_overdue": N_("Days overdue"),
    "since": N_("Since"),
    "days_in_stage": N_("Days in stage"),
    "version": N_("Version"),
    "suspect_demos": N_("Suspect demos"),
    "suspect_verdicts": N_("Suspect verdicts"),
    "suspect_runs": N_("Suspect test runs"),
}
SUSPECT_COLUMN_WORDS = {
    "version_started_at": N_("Version started"),
    "must_redo": N_("Must be redone"),
    "suspect_demos": N_("Suspect demos"),
    "suspect_verdicts": N_("Suspect verdicts"),
    "suspect_runs": N_("Suspect test runs"),
    "new_demos": N_("New demos"),
    "new_verdicts": N_("New verdicts"),
    "new_runs": N_("New test runs"),
}
# What must be redone after a revision (evidence.REDO's codes).
REDO_WORDS = {
    "a new demo": N_("a new demo"),
    "approvals": N_("approvals"),
    "test runs": N_("test runs"),
    "nothing: new evidence exists": N_("nothing: new evidence exists"),
}
SUSPECT_SHOW_WORDS = {
    "all": N_("all"),
    "a new demo": N_("a new demo"),
    "approvals": N_("approvals"),
    "test runs": N_("test runs"),
}
WAVE_COLUMN_WORDS = {
    "code": N_("Code"),
    "name": N_("Wave"),
    "go_live": N_("Go-live"),
    "organizations": N_("Organisations"),
    "days_to_go_live": N_("Days to go-live"),
    "replans": N_("Re-plans"),
    "go": N_("Go / no go"),
    "go_no_go": N_("Go/no-go meeting"),
    "criteria_met": N_("Criteria met"),
    "at_risk": N_("At risk"),
    "off_track": N_("Off track"),
}
REPLAN_COLUMN_WORDS = {
    "wave": N_("Wave"),
    "old_go_live": N_("Old go-live"),
    "new_go_live": N_("New go-live"),
    "reason": N_("Reason"),
    "who": N_("Re-planned by"),
    "replanned_at": N_("Re-planned on"),
}
ORGANISATION_COLUMN_WORDS = {
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "waves": N_("Waves"),
}
IMPORT_STATUS_WORDS = {
    "rejected": N_("rejected"),
    "new": N_("new"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
}
IMPORT_COLUMN_WORDS = {
    "file": N_("File"),
    "row": N_("Row"),
    "key": N_("Key"),
    "status": N_("Status"),
    "changes": N_("Changes"),
    "notes": N_("Notes"),
    "errors": N_("Errors"),
}


def redo_text(codes: str) -> str:
    """What must be redone ("a new demo, approvals") in the reader's language."""
    return ", ".join(word(REDO_WORDS, part) for part in str(codes).split(", "))


# The backlog ------------------------------------------------------------------------------------

FLAG_WORDS = {"overloaded": N_("overloaded"), "idle": N_("idle"), "": N_("normal")}
WAITING_WORDS = {
    "proposed": N_("proposed"),
    "awaiting_approval": N_("awaiting approval"),
    "in_test": N_("in test"),
    "overdue": N_("overdue"),
}
BACKLOG_COLUMN_WORDS = {
    "stage": N_("Stage"),
    "level": N_("Forum level"),
    "count": N_("Decisions"),
    "median_days": N_("Median days"),
    "p85_days": N_("85th percentile (days)"),
    "still_there": N_("Waiting there now"),
    "domain": N_("Domain"),
    "forum": N_("Forum"),
    "open": N_("Open"),
    "proposed": N_("Proposed"),
    "awaiting_approval": N_("Awaiting approval"),
    "in_test": N_("In test"),
    "overdue": N_("Overdue"),
    "median_days_in_stage": N_("Median days in stage"),
    "p85_days_in_stage": N_("85th percentile days in stage"),
    "email": N_("Email"),
    "name": N_("Name"),
    "organization": N_("Organisation"),
    "allocation_pct": N_("Allocation (%)"),
    "owned_open": N_("Owned, open"),
    "proposals_in_forums": N_("Proposals in their forums"),
    "verdicts_due": N_("Verdicts due"),
    "demo_invitations": N_("Demo invitations"),
    "open_items": N_("Open items"),
    "per_fte": N_("Per full-time equivalent"),
    "recent_activity": N_("Recent activity"),
    "flag": N_("Flag"),
    "key": N_("Key"),
    "title": N_("Title"),
    "days_in_stage": N_("Days in stage"),
    "owner": N_("Owner"),
}


def flag_word(flag: str) -> str:
    return word(FLAG_WORDS, flag)


def waiting_word(waiting: str) -> str:
    return word(WAITING_WORDS, waiting)


# Readiness --------------------------------------------------------------------------------------

SERIES_WORDS = {
    "scope": N_("in scope"),
    "approved or further": N_("approved or further"),
    "ready": N_("ready"),
}
STATUS_WORDS = {
    "met": N_("met"),
    "not_met": N_("not met"),
    "waived": N_("waived"),
    "no_data": N_("no data"),
}
OUTLOOK_WORDS = {
    "on_track": N_("on track"),
    "at_risk": N_("at risk"),
    "off_track": N_("off track"),
    "no_data": N_("no data"),
    "waived": N_("waived"),
}
READINESS_COLUMN_WORDS = {
    "criterion": N_("Criterion"),
    "status": N_("Status"),
    "shown_value": N_("Value"),
    "target": N_("Target"),
    "trend": N_("Trend ({weeks} weeks)"),
    "forecast": N_("Reaches the target"),
    "outlook": N_("Outlook at go-live"),
    "waiver": N_("Waiver"),
    "owner": N_("Owner"),
}
RECORD_COLUMN_WORDS = {
    "key": N_("Key"),
    "defect": N_("Defect"),
    "test_case": N_("Test case"),
    "title": N_("Title"),
    "kind": N_("Kind"),
    "result": N_("Result"),
    "run_date": N_("Last run"),
    "decisions": N_("Decisions"),
    "module": N_("Module"),
    "name": N_("Name"),
    "demo": N_("Demonstrated"),
    "approval": N_("Approved"),
    "date": N_("Date"),
    "value": N_("Value"),
    "reported_by": N_("Reported by"),
    "evidence_url": N_("Evidence"),
    "severity_vendor": N_("Vendor's severity"),
    "severity_clinical": N_("Clinicians' severity"),
    "ratings_disagree": N_("Ratings disagree"),
    "status": N_("Status"),
    "decision": N_("Decision"),
    "opened": N_("Opened"),
    "closed": N_("Closed"),
}


def status_word(status: str) -> str:
    return word(STATUS_WORDS, status)


def outlook_word(outlook: str) -> str:
    return word(OUTLOOK_WORDS, outlook)


def series_word(series: str) -> str:
    return word(SERIES_WORDS, series)


# Where a wave and a piece of evidence stand (decisions.standing) -------------------------------


def go_text(status: str, go_live: str) -> str:
    """standing.go_status in words: GO, NO GO, or live since its go-live date."""
    if status == "live":
        return _("live since {date}", date=date_text(go_live))
    return _("GO") if status == "go" else _("NO GO")


def evidence_note_text(note: str, decision: dict) -> str:
    """standing's note on why a demo, verdict or test run of `decision` does not count, in
    words ('' when it counts)."""
    if note == "suspect":
        return _(
            "suspect: dated before version {version} started on {date}",
            version=decision["version"],
            date=date_text(decision.get("version_started_at")),
        )
    if note == "earlier_round":
        return _(
            "earlier build round: dated before it was built again on {date}",
            date=date_text(decision.get("built_at")),
        )
    return word(EVIDENCE_NOTE_WORDS, note) if note else ""


EVIDENCE_NOTE_WORDS = {
    "scheduled": N_("scheduled, not held yet"),
    "never_run": N_("never run"),
    "superseded": N_("superseded by this expert's later verdict"),
}


# A decision's timeline ------------------------------------------------------------------------

FIELD_WORDS = {
    "title": N_("title"),
    "description": N_("description"),
    "scope": N_("scope"),
    "criticality": N_("criticality"),
    "organizations": N_("organisations"),
    "all_organizations": N_("all organisations"),
    "needed_by": N_("needed by"),
    "owner": N_("owner"),
    "domain": N_("domain"),
    "module": N_("module"),
    "forum": N_("forum"),
}
_FIELD_VALUE_WORDS = {"scope": scope_word, "criticality": criticality_word}
DEMO_EVENT_WORDS = {
    "scheduled": N_("demo {key} scheduled"),
    "held": N_("demo {key} held"),
    "updated:scheduled": N_("demo {key} changed, still scheduled"),
    "updated:held": N_("demo {key} changed, held"),
    "cancelled": N_("demo {key} cancelled"),
}
TEST_CASE_EVENT_WORDS = {
    "created": N_("test case {key} created"),
    "updated": N_("test case {key} changed"),
}
DEFECT_EVENT_WORDS = {
    "opened": N_("defect {key} opened: {status}"),
    "updated": N_("defect {key} changed: {status}"),
}


def fields_text(fields: str) -> str:
    """Field names written "scope, organizations" as their words ("omfang, virksomheter")."""
    return ", ".join(word(FIELD_WORDS, f.strip()) for f in fields.split(","))


def _change(event: dict, word_of=str) -> str:
    old, new = event["from_value"], event["to_value"]
    return f"{word_of(old) if old else '-'} → {word_of(new) if new else '-'}"


def _decision_event_text(event: dict, names: Mapping[str, str]) -> str:
    action = event["action"]
    named = lambda value: person_text(value, names)  # noqa: E731
    if action == "created":
        return _("created as {stage}", stage=stage_word(event["to_value"]))
    if action == "stage":
        return _change(event, stage_word)
    if action == "escalated":
        return _("escalated from {old} to {new}", old=named(event["from_value"]),
                 new=named(event["to_value"]))  # fmt: skip
    if action == "revised":
        return _("revised: version {change}", change=_change(event))
    if action.startswith("edited:"):
        field = action.removeprefix("edited:")
        word_of = named if field == "owner" else _FIELD_VALUE_WORDS.get(field, str)
        return _("{field} edited: {change}", field=word(FIELD_WORDS, field),
                 change=_change(event, word_of))  # fmt: skip
    return action


def event_text(event: dict, names: Mapping[str, str] | None = None) -> str:
    """One event of a decision's timeline (store.screen_queries.decision_timeline) as a short
    line in the reader's language; `names`: people's and forums' names by email and code."""
    entity, action, key = event["entity"], event["action"], event["entity_key"]
    if entity == "decision":
        return _decision_event_text(event, names or {})
    if entity == "approval":
        return verdict_word("approve" if action == "approve" else "changes_requested")
    if entity == "demo" and action in DEMO_EVENT_WORDS:
        return _(DEMO_EVENT_WORDS[action], key=key)
    if entity == "test_run" and action in RESULT_WORDS:
        return _("test run of {case}: {result}", case=event["to_value"], result=result_word(action))
    if entity == "test_run" and action == "defect_linked":
        return _("test run of {case}: defect linked", case=event["to_value"])
    if entity == "test_case" and action in TEST_CASE_EVENT_WORDS:
        return _(TEST_CASE_EVENT_WORDS[action], key=key)
    if entity == "defect" and action in DEFECT_EVENT_WORDS:
        status = defect_status_word(event["to_value"] or "")
        return _(DEFECT_EVENT_WORDS[action], key=key, status=status)
    return f"{entity} {key}: {action}"


# A criterion's forecast (readiness.forecast: a date, or a code saying why none) -----------------

FORECAST_WORDS = {
    "met": N_("met now"),
    "no_data": N_("no data"),
    "too_few_values": N_("too few values for a trend"),
    "never": N_("never at the recent rate"),
    "beyond_horizon": N_("not within {weeks} weeks after go-live"),
}


def _lead(reached: dt.date, go_live: dt.date) -> str:
    lead = (go_live - reached).days
    if lead >= 0:
        return n_("{count} day before go-live", "{count} days before go-live", lead)
    return n_("{count} day after go-live", "{count} days after go-live", -lead)


def forecast_text(
    code: str, reached: dt.date | None, go_live: dt.date, relative: bool = True
) -> str:
    """When the recent trend reaches the target (and, `relative`, how that date lies to
    go-live), or why there is no such date."""
    if reached is None:
        return _(FORECAST_WORDS.get(code, FORECAST_WORDS["no_data"]), weeks=FORECAST_HORIZON_WEEKS)
    if not relative:
        return format_date(reached)
    return _("{date} ({when})", date=format_date(reached), when=_lead(reached, go_live))


def outlook_text(code: str, reached: dt.date | None, go_live: dt.date) -> str:
    """The forecast as a sentence's end, for the command line and the notices: "met by
    10.03.2023 at the recent rate, 27 days after go-live"."""
    if reached is None:
        return forecast_text(code, None, go_live)
    return _(
        "met by {date} at the recent rate, {when}",
        date=format_date(reached),
        when=_lead(reached, go_live),
    )


def wave_verdict_line(wave: str, name: str, go_live: dt.date, as_of: dt.date, go: bool) -> str:
    """A wave's heading on the command line: "W2 St. Olavs: go-live 12.11.2022, as of
    15.09.2022: NO GO"."""
    return _(
        "{wave} {name}: go-live {go_live}, as of {as_of}: {verdict}",
        wave=wave,
        name=name,
        go_live=format_date(go_live),
        as_of=format_date(as_of),
        verdict=_("GO") if go else _("NO GO"),
    )


# What the workflow's rules find missing (workflow.Missing: codes and values) --------------------

LIFT_WORDS = {
    "demo": N_("a demo with an attending expert is held after it"),
    "approval": N_("an expert of the domain approves after it"),
    "run": N_("a test run is recorded after it"),
}
MISSING_WORDS = {
    "not_built": N_("it must be decided, built and marked built first"),
    "changes_requested": N_(
        "changes were requested in the current build round; it must be built again"
    ),
    "no_test_case": N_("no test case covers it"),
    "no_run_this_round": N_("no run of its test cases in the current build round"),
    "not_marked_ready": N_("it is not marked ready"),
}


def _missing_one(code: str, value) -> str:
    if code == "approvers":
        return n_(
            "needs {count} more approver of the domain",
            "needs {count} more approvers of the domain",
            int(value),
        )
    if code == "side":
        return _("needs 1 more approver from {side}", side=side_word(value))
    if code == "held":
        stage, since, lift = value
        return _("held at {stage} since an edit on {date} until {lift}", stage=stage,
                 date=date_text(since), lift=word(LIFT_WORDS, lift))  # fmt: skip
    if code == "no_demo_since":
        return _("no demo with an attending expert on or after the build round began ({date})",
                 date=date_text(value))  # fmt: skip
    if code == "not_passed":
        cases = ", ".join(
            f"{case} ({result_word(result) if result else _('never run')})"
            for case, result in value
        )
        return _("the latest run of these test cases did not pass: {cases}", cases=cases)
    if code == "evidence_gives":
        return _("the evidence gives {stage}", stage=value)
    return word(MISSING_WORDS, code)


def missing_text(missing: Missing) -> str:
    """What a rule finds missing, in words: "needs 1 more approver of the domain; needs 1
    more approver from the hospital side"."""
    return "; ".join(_missing_one(code, value) for code, value in missing)


def progress_text(progress: ApprovalProgress, scope: str) -> str:
    """One line for a person: what of the approval rule is met and what is missing
    (workflow.approval_progress's answer)."""
    have = _("{approvers} of {needed} approvers", approvers=progress.approvers,
             needed=progress.needed)  # fmt: skip
    if scope == "joint":
        have = _("{have} (hospital side {hospital}, municipality side {municipality})",
                 have=have, hospital=progress.hospital_side,
                 municipality=progress.municipality_side)  # fmt: skip
    if progress.met:
        return _("rule met: {have}", have=have)
    return f"{have}; {missing_text(progress.missing)}"


def progress_texts(progresses: Iterable[ApprovalProgress], scopes: Iterable[str]) -> list[str]:
    """progress_text of each decision of a queue, given its progress and scope."""
    return each_worded(lambda pair: progress_text(*pair), zip(progresses, scopes, strict=True))


def stage_explanation_text(target: str, actual: str, missing: Missing) -> str:
    """Why a decision is at `actual` rather than the `target` a file asks for
    (workflow.explain_stage's codes), with the stages as the file writes them."""
    if tuple(missing) == (("no_going_back", None),):
        return _("stage {target}: the workflow and the evidence on record give {actual}; an "
                 "import does not remove evidence or go back a stage",
                 target=target, actual=actual)  # fmt: skip
    return _("stage {target} needs evidence that is missing (it is {actual}): {missing}",
             target=target, actual=actual, missing=missing_text(missing))  # fmt: skip


def scope_problem_text(code: str, value: tuple) -> str:
    """services.scope_problems's answer in words: which organisations lie outside the scope."""
    scope, codes = value
    named = ", ".join(codes)
    if code == "outside_scope" and scope == "hospital":
        return n_("organizations: {codes} is a municipality or GP office, outside the scope "
                  "hospital; choose the scope joint, or organisations of the hospital side",
                  "organizations: {codes} are municipalities or GP offices, outside the scope "
                  "hospital; choose the scope joint, or organisations of the hospital side",
                  len(codes), codes=named)  # fmt: skip
    if code == "outside_scope" and scope == "municipality":
        return n_("organizations: {codes} is a hospital, outside the scope municipality; "
                  "choose the scope joint, or organisations of the municipality side",
                  "organizations: {codes} are hospitals, outside the scope municipality; "
                  "choose the scope joint, or organisations of the municipality side",
                  len(codes), codes=named)  # fmt: skip
    return f"{code}: {scope} {named}"


# The default go-live criteria's names (readiness.DEFAULT_CRITERIA stores them in English).
CRITERION_NAME_WORDS = {
    "C1": N_("Critical decisions ready"),
    "C2": N_("Decisions approved or further"),
    "C3": N_("Proposals overdue"),
    "C4": N_("Test cases passed on latest run"),
    "C4N": N_("Test cases never run"),
    "C5": N_("Open severity-1 defects"),
    "C5B": N_("Open severity-2 defects"),
    "C6": N_("Modules without demo and approval"),
    "R7": N_("End users trained"),
    "R7S": N_("Super users per 10 end users"),
    "R8": N_("Technical dress rehearsal passed"),
    "R8M": N_("Data migration rehearsal passed"),
}


def criterion_name(code: str, name: str) -> str:
    """A criterion's name in the reader's language where it is a default criterion's own
    name; a name a file or a person gave stays as given."""
    default = CRITERION_NAME_WORDS.get(code)
    return _(default) if default is not None and default == name else name


def reference_counts_text(counts: Mapping[str, int]) -> str:
    """How many domains, forums and modules a new programme got: "18 domains, 36 forums"."""
    said = {
        "domains": lambda n: n_("{count} domain", "{count} domains", n),
        "forums": lambda n: n_("{count} forum", "{count} forums", n),
        "modules": lambda n: n_("{count} module", "{count} modules", n),
    }
    return ", ".join(said[k](n) if k in said else f"{n} {k}" for k, n in counts.items())


_RECORD_CODES = {"kind": test_kind_word, "status": defect_status_word}
_RECORD_DATES = ("run_date", "opened", "closed", "date")


def records_readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The test cases, defects or measurements behind a readiness number as a person reads
    them: results, kinds and statuses in words (a test case never run says so), dates as the
    reader writes them."""
    shown = frame.copy()
    if "result" in shown:
        shown["result"] = shown["result"].map(
            lambda r: result_word(r) if isinstance(r, str) and r else _("never run")
        )
    for column, word_of in _RECORD_CODES.items():
        if column in shown:
            shown[column] = shown[column].map(word_of)
    for column in _RECORD_DATES:
        if column in shown:
            shown[column] = shown[column].map(moment_text)
    return shown


# The evidence and people screens ----------------------------------------------------------------

VERDICT_ACTION_WORDS = {"approve": N_("Approve"), "changes_requested": N_("Request changes")}
# How a run's result counts for the decision, beside evidence that counts.
COUNTS_WORDS = {
    "passed": N_("✓ counts toward tested"),
    "failed": N_("✓ ran, failed: keeps it in test"),
    "blocked": N_("✓ ran, blocked: keeps it in test"),
}
# What a run's result means for the decisions its test case covers.
RESULT_MEANING_WORDS = {
    "passed": N_("Passed: counts toward tested"),
    "failed": N_("Failed: testing ran, the decision stays in test until a run passes"),
    "blocked": N_("Blocked: could not be run, the decision stays in test"),
}
DEFECT_ANSWER_WORDS = {"close": N_("Close it"), "keep": N_("Keep it open")}
DEMO_COLUMN_WORDS = {
    "key": N_("Demo"),
    "date": N_("Date"),
    "start_time": N_("Starts"),
    "module": N_("Module"),
    "module_name": N_("Module name"),
    "presenter_name": N_("Presenter"),
    "status": N_("Status"),
    "decisions": N_("Decisions"),
    "invited": N_("Invited"),
    "attended": N_("Attended"),
    "notes": N_("Notes"),
    "recording_url": N_("Recording"),
}
EXPERT_COLUMN_WORDS = {
    "email": N_("Email"),
    "name": N_("Name"),
    "organization_name": N_("Organisation"),
    "roles": N_("Roles"),
    "domains": N_("Domains"),
    "allocation_pct": N_("Allocation"),
    "active": N_("Active"),
    "forums": N_("Forums"),
}
FORUM_COLUMN_WORDS = {
    "code": N_("Code"),
    "name": N_("Name"),
    "level": N_("Level"),
    "scope": N_("Scope"),
    "domains": N_("Domains"),
    "member_count": N_("Members"),
}


def counts_text(result: str) -> str:
    """The status of evidence that counts: a test run says what its result does."""
    return _(COUNTS_WORDS[result]) if result in COUNTS_WORDS else _("✓ counts")


# What each stage means for those who use the system (the reader does not know the workflow).
STAGE_MEANING_WORDS = {
    "decided": N_("decided, not yet built in the system"),
    "in_build": N_("being built in the system"),
    "built": N_("built, not yet shown to the subject experts"),
    "demonstrated": N_("built and shown to the subject experts, awaiting their approval"),
    "approved": N_("built and approved by the subject experts, not yet tested"),
    "in_test": N_("built, approved and being tested"),
    "tested": N_("built, approved and tested"),
    "ready": N_("built, approved by the subject experts and tested: ready for use"),
    "withdrawn": N_("no longer applies"),
}


# A forum's, domain's or module's name is its own; the refusal names the record holding it.
NAME_TAKEN_WORDS = {
    "forums": N_("name {name!r} is taken by forum {holder}"),
    "domains": N_("name {name!r} is taken by domain {holder}"),
    "modules": N_("name {name!r} is taken by module {holder}"),
}


GO_NO_GO_WORDS = {
    "go": N_("Go"),
    "go_with_conditions": N_("Go with conditions"),
    "no_go": N_("No go"),
}


def outcome_word(outcome: str) -> str:
    """A go/no-go decision's outcome in the reader's language."""
    return _(GO_NO_GO_WORDS[outcome])


# The command line -----------------------------------------------------------------------------

COMMAND_WORDS = {
    "init": N_("create an empty programme database (schema and reference lists)"),
    "demo": N_("create the demo programme (--scale N multiplies the volume)"),
    "import": N_("validate a file (or a folder with `all`), then write all of it or nothing"),
    "export": N_("write a KIND (or `all` into a folder) in exactly the import format"),
    "readiness": N_("evaluate each wave's go-live criteria"),
    "check": N_("integrity, foreign keys, event log and stored stages against the evidence"),
    "backup": N_("consistent online copy of the database while the app runs"),
    "notify": N_("send the email notices due (digests, demo invitations, event notices)"),
    "publish": N_("write the published decision log: a static site with lists, feed and search"),
}
SEPARATOR_WORDS = {
    ";": N_("CSV, {encoding}, semicolon-separated"),
    ",": N_("CSV, {encoding}, comma-separated"),
    "\t": N_("CSV, {encoding}, tab-separated"),
}


def import_counts_text(counts: Mapping[str, int]) -> str:
    """A file's rows by what the import did with them: "3 new, 0 updated, 1 rejected"."""
    said = {
        "new": lambda n: n_("{count} new", "{count} new", n),
        "updated": lambda n: n_("{count} updated", "{count} updated", n),
        "unchanged": lambda n: n_("{count} unchanged", "{count} unchanged", n),
        "rejected": lambda n: n_("{count} rejected", "{count} rejected", n),
    }
    return ", ".join(
        said[status](n) if status in said else f"{format_number(n)} {status}"
        for status, n in counts.items()
    )


def head_text(path: str, event_id: int, digest: str, *, signed: bool) -> str:
    """The log's head that `check` reports, and whether the log key's MAC holds it."""
    if signed:
        return _("{path}: head: event {event}, hash {hash}, with the log key's MAC", path=path,
                 event=event_id, hash=digest)  # fmt: skip
    return _("{path}: head: event {event}, hash {hash}, no MAC (no log key)", path=path,
             event=event_id, hash=digest)  # fmt: skip


PUBLISH_CHANGE_WORDS = {
    "new": N_("new {path}"),
    "changed": N_("changed {path}"),
    "removed": N_("removed {path}"),
}


def publish_dry_run_lines(changes, index_rebuilt: bool) -> list[str]:
    """What a dry run of `publish` would write, change and remove, and the sum of it."""
    listed = (("new", changes.new), ("changed", changes.changed), ("removed", changes.removed))
    lines = [_(PUBLISH_CHANGE_WORDS[label], path=path)
             for label, paths in listed for path in sorted(paths)]  # fmt: skip
    index = _("would be rebuilt") if index_rebuilt else _("unchanged")
    lines.append(_("dry run: {written} files would be written, {removed} removed, {unchanged} "
                   "unchanged; the search index {index}", written=len(changes.written),
                   removed=len(changes.removed), unchanged=changes.unchanged, index=index))  # fmt: skip
    return lines


def publish_summary_text(result, wall: float, cpu: float) -> str:
    """What `publish` did, and what it cost."""
    changes = result.changes
    index = _("rebuilt") if result.index_rebuilt else _("unchanged")
    return _("{decisions} decisions published; {written} files written, {removed} removed, "
             "{unchanged} unchanged; the search index {index}; readiness_now {rows} rows "
             "({wall} s, {cpu} s CPU in this process)", decisions=result.decisions,
             written=len(changes.written), removed=len(changes.removed),
             unchanged=changes.unchanged, index=index, rows=result.readiness_rows,
             wall=format_number(wall, 1), cpu=format_number(cpu, 1))  # fmt: skip


# Refusals -------------------------------------------------------------------------------------

STALE_WORDS = N_(
    "{what} was changed by someone else since you opened it; nothing was saved. "
    "Reload to see their change, then make yours again."
)
RECORD_WORDS = {
    "decision": N_("Decision {key}"),
    "demo": N_("Demo {key}"),
    "test_case": N_("Test case {key}"),
    "defect": N_("Defect {key}"),
    "expert": N_("Expert {key}"),
    "forum": N_("Forum {key}"),
    "wave": N_("Wave {key}"),
    "criterion": N_("Criterion {key}"),
    "approval_rule": N_("The approval rule"),
}


def stale_text(record: str, key: str = "") -> str:
    """The refusal of a change to a record someone else changed since the reader opened it."""
    return _(STALE_WORDS, what=_(RECORD_WORDS[record], key=key))


# People and the reasons the workflow writes ----------

# The reasons the workflow writes on a stage event (evidence.py, services.py, io/apply.py, the
# demo), stored in English with emails; worded when read, with names for the emails.
_KEY = r"([A-Z][A-Z0-9]*-\d+)"
_RESULT = r"(passed|failed|blocked)"
_IMPORTED = r"(decisions|demos|verdicts|test cases|test runs) imported from (.+)"
REASON_WORDS = (
    (rf"demo {_KEY}", lambda m, n: _("shown in demo {key}", key=m[1])),
    (rf"test run of {_KEY}: {_RESULT}",
     lambda m, n: _("test run of {case}: {result}", case=m[1], result=result_word(m[2]))),
    (rf"test case {_KEY}", lambda m, n: _("test case {key} changed", key=m[1])),
    (r"(approve|changes_requested) by (\S+@\S+)",
     lambda m, n: verdict_by(m[1], person_text(m[2], n))),
    (r"decided by (.+@.+)", lambda m, n: _("decided by {names}", names=people_text(m[1], n))),
    (r"revised to version (\d+)", lambda m, n: _("revised to version {number}", number=m[1])),
    (r"expert (\S+@\S+) changed",
     lambda m, n: _("the details of {name} changed", name=person_text(m[1], n))),
    (r"([\w, ]+?) edited: (.+)", lambda m, n: _("{field} edited: {reason}",
                                              field=fields_text(m[1]), reason=m[2])),
    (_IMPORTED, lambda m, n: _(IMPORTED_WORDS[m[1]], file=m[2])),
    (r"(\d+) attended",
     lambda m, n: n_("{count} expert attended", "{count} experts attended", int(m[1]))),
    (r"(\d+) invited",
     lambda m, n: n_("{count} expert invited", "{count} experts invited", int(m[1]))),
)  # fmt: skip
FIXED_REASON_WORDS = {
    "marked ready for production": N_("marked ready for production"),
    "evidence on record": N_("the evidence on record"),
    "approval rule re-checked": N_("the approval rule checked again after an edit"),
    "approval rule changed": N_("the approval rule changed"),
}
IMPORTED_WORDS = {
    "decisions": N_("decisions imported from {file}"),
    "demos": N_("demos imported from {file}"),
    "verdicts": N_("verdicts imported from {file}"),
    "test cases": N_("test cases imported from {file}"),
    "test runs": N_("test runs imported from {file}"),
}


def person_text(email: str | None, names: Mapping[str, str]) -> str:
    """A person by name (`names`: email -> name); the email where the name is not known."""
    if not isinstance(email, str) or not email:
        return ""
    return names.get(email, email)


def people_text(emails: str, names: Mapping[str, str]) -> str:
    """Emails written "a@x, b@y" as names: "Ada Berg, Bo Dahl"."""
    return ", ".join(person_text(e.strip(), names) for e in emails.split(","))


def reason_text(reason: str | None, names: Mapping[str, str]) -> str:
    """A stage event's reason in the reader's language, people by name; a reason a person
    typed stays as typed."""
    if not isinstance(reason, str) or not reason:
        return ""
    if reason in FIXED_REASON_WORDS:
        return _(FIXED_REASON_WORDS[reason])
    for pattern, worded in REASON_WORDS:
        found = re.fullmatch(pattern, reason)
        if found is not None:
            return worded(found, names)
    return reason


def timeline_rows(events: list[dict], names: Mapping[str, str]) -> pd.DataFrame:
    """A decision's timeline (store.screen_queries.decision_timeline), latest first, as a
    person reads it: when, who by name, what happened and why, in the reader's language."""
    columns = {"at": _("When"), "who": _("Who"), "what": _("What"), "why": _("Why")}
    rows = [
        {
            columns["at"]: moment_text(e["at"]),
            columns["who"]: _("the system") if e["actor"] == "system" else person_text(
                e["actor"], names),
            columns["what"]: event_text(e, names),
            columns["why"]: reason_text(e["reason"], names),
        }
        for e in reversed(events)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(columns.values()))


# What a data file holds (decisions.io.ORDER), as the Data page names it ----------

DATA_KIND_WORDS = {
    "organizations": N_("Organisations"),
    "domains": N_("Domains"),
    "forums": N_("Forums"),
    "modules": N_("Modules"),
    "waves": N_("Go-live waves"),
    "experts": N_("People"),
    "decisions": N_("Decisions"),
    "demos": N_("Demos"),
    "approvals": N_("Verdicts"),
    "test-cases": N_("Test cases"),
    "defects": N_("Defects"),
    "test-runs": N_("Test runs"),
    "criteria": N_("Go-live criteria"),
    "measurements": N_("Measurements"),
}


def data_kind_word(kind: str) -> str:
    """What a file of `kind` holds, in the reader's language ("test-runs" -> "Testkjøringer")."""
    return word(DATA_KIND_WORDS, kind)


# Fields as a refusal names them (services.text_field and the other checks) ----------

FIELD_LABEL_WORDS = {
    "code": N_("code"),
    "comment": N_("comment"),
    "conditions": N_("conditions"),
    "date": N_("date"),
    "decision": N_("decision"),
    "decided_by": N_("decided by"),
    "evidence_url": N_("evidence link"),
    "key": N_("key"),
    "kind": N_("kind"),
    "metric": N_("metric"),
    "minutes": N_("minutes"),
    "name": N_("name"),
    "notes": N_("notes"),
    "outcome": N_("outcome"),
    "owner": N_("owner"),
    "rationale": N_("rationale"),
    "reason": N_("reason"),
    "result": N_("result"),
    "roles": N_("roles"),
    "scope": N_("scope"),
    "threshold": N_("threshold"),
    "title": N_("title"),
    "value": N_("value"),
    "verdict": N_("verdict"),
    "waiver_reason": N_("waiver reason"),
    "waiver_until": N_("waiver until"),
    "needed_by": N_("needed by"),
    "criticality": N_("criticality"),
    "organizations": N_("organisations"),
}


def field_label(field: str) -> str:
    """A field as a refusal names it, in the reader's language ("comment" -> "kommentar")."""
    return word(FIELD_LABEL_WORDS, field) if field in FIELD_LABEL_WORDS else field.replace("_", " ")
