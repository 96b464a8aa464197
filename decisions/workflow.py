"""The workflow rules as pure functions: which actions exist, who may take them from which
stage, the approval rule, and the one function that derives a decision's stage from its
evidence. Used alike by the app, the import, the check command and readiness."""

from __future__ import annotations

from dataclasses import dataclass

from decisions import permissions
from decisions.i18n import _
from decisions.model import (
    SIDE_OF_KIND,
    STAGE_RANK,
    STAGES,
    WITHDRAWN,
    Actor,
    ApprovalProgress,
    ApprovalRule,
    DecisionFacts,
    Missing,
    RunFact,
    VerdictFact,
    WorkflowError,
)
from decisions.permissions import PERMISSIONS
from decisions.words import stage_word


@dataclass(frozen=True)
class Action:
    """A step of a decision's workflow: the stages it is taken from and the stage it sets.
    Who may take it is the permission table's business (permissions.PERMISSIONS)."""

    name: str
    from_stages: tuple[str, ...]
    to_stage: str | None  # None: the stage does not change by itself
    needs_reason: bool = False

    @property
    def label(self) -> str:
        return PERMISSIONS[self.name].label


_AFTER_DECIDED = STAGES[1:]
_NOT_WITHDRAWN = STAGES

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("decide", ("proposed",), "decided"),
        Action("escalate", ("proposed",), None, needs_reason=True),
        Action("start_build", ("decided",), "in_build"),
        Action("mark_built", ("in_build",), "built"),
        Action("approve", ("demonstrated", "approved"), None),
        Action("request_changes", ("demonstrated", "approved"), "in_build", needs_reason=True),
        Action("mark_ready", ("tested",), "ready"),
        Action("revise", _AFTER_DECIDED, "decided", needs_reason=True),
        Action("edit", _NOT_WITHDRAWN, None),
        Action("withdraw", _NOT_WITHDRAWN, WITHDRAWN, needs_reason=True),
    )
}

# The action each verdict takes: an approval approves, a request for changes sends the
# decision back to build.
VERDICT_ACTIONS = {"approve": "approve", "changes_requested": "request_changes"}


def verdicts_open(allowed: list[str]) -> list[str]:
    """The verdicts a person may give, from the actions they may take (allowed_actions)."""
    return [verdict for verdict, action in VERDICT_ACTIONS.items() if action in allowed]


def action_refusal(
    action: str, stage: str, actor: Actor, *, forum: str = "", domain: str = ""
) -> str | None:
    """Why `actor` may not take `action` on a decision at `stage`, or None when they may."""
    spec = ACTIONS.get(action)
    if spec is None:
        return _("unknown action {action!r}", action=action)
    if stage not in spec.from_stages:
        return _("cannot {act} a decision that is {stage}", act=_(spec.label).lower(),
                 stage=stage_word(stage).lower())  # fmt: skip
    return permissions.refusal(actor, action, permissions.Target(forum=forum, domain=domain))


def check_action(
    action: str, stage: str, actor: Actor, *, forum: str = "", domain: str = ""
) -> None:
    """Raise WorkflowError when `actor` may not take `action` now."""
    refusal = action_refusal(action, stage, actor, forum=forum, domain=domain)
    if refusal:
        raise WorkflowError(refusal)


def allowed_actions(stage: str, actor: Actor, *, forum: str = "", domain: str = "") -> list[str]:
    """The actions `actor` may take on a decision at `stage`, in workflow order."""
    return [
        name
        for name in ACTIONS
        if action_refusal(name, stage, actor, forum=forum, domain=domain) is None
    ]


def norm_time(value: str) -> str:
    """An ISO date or timestamp as a sortable 'YYYY-MM-DDTHH:MM:SS' (a date is its midnight)."""
    value = value.strip().replace(" ", "T")
    if len(value) == 10:
        return value + "T00:00:00"
    return value[:19]


def counts_from(date: str, start: str | None) -> bool:
    """Evidence dated `date` counts when there is no start or it is at or after the start."""
    return start is None or norm_time(date) >= norm_time(start)


def evidence_order(date: str, seq: int) -> tuple[str, int]:
    """The order of a decision's verdicts or test runs: by time, then by order of recording
    (id). The last in this order is the latest, the only one that counts."""
    return norm_time(date), seq


def latest_verdicts(
    verdicts: tuple[VerdictFact, ...] | list[VerdictFact],
) -> dict[str, VerdictFact]:
    """Each expert's latest verdict: the only one that counts."""
    latest: dict[str, VerdictFact] = {}
    for v in sorted(verdicts, key=lambda v: evidence_order(v.date, v.seq)):
        latest[v.expert] = v
    return latest


def approval_progress(
    verdicts: tuple[VerdictFact, ...] | list[VerdictFact],
    scope: str,
    criticality: str,
    rule: ApprovalRule,
) -> ApprovalProgress:
    """How far the counted verdicts go towards the approval rule, and what is missing."""
    approving = [
        v for v in latest_verdicts(verdicts).values() if v.verdict == "approve" and v.in_domain
    ]
    needed = approvers_needed(criticality, rule)
    hospital = sum(1 for v in approving if v.side == "hospital")
    municipality = sum(1 for v in approving if v.side == "municipality")
    missing: list[tuple[str, object]] = []
    if len(approving) < needed:
        missing.append(("approvers", needed - len(approving)))
    if scope == "joint" and rule.joint_needs_both_sides:
        if hospital == 0:
            missing.append(("side", "hospital"))
        if municipality == 0:
            missing.append(("side", "municipality"))
    return ApprovalProgress(
        met=not missing,
        approvers=len(approving),
        needed=needed,
        hospital_side=hospital,
        municipality_side=municipality,
        missing=tuple(missing),
    )


def derive_stage(facts: DecisionFacts, rule: ApprovalRule) -> str:
    """The stage the evidence gives. The one source of truth for every stage.

    Hand-set stages (proposed .. built, withdrawn) come from `base_stage`; from `built` on,
    demos, verdicts and test runs dated in the current round (from `built_at`) carry it
    further, and a `ready` mark holds only while the evidence says tested. An edit of the
    fields the approval rule reads caps the stage where it was (`stage_cap`) until evidence
    dated after the edit carries it past.
    """
    if facts.base_stage != "built":
        return facts.base_stage
    stage = _evidence_stage(facts, rule)
    return facts.stage_cap if _cap_holds(facts, stage) else stage


def cap_holds(facts: DecisionFacts, rule: ApprovalRule) -> bool:
    """Whether the stage cap keeps the decision below the stage its evidence gives."""
    return facts.base_stage == "built" and _cap_holds(facts, _evidence_stage(facts, rule))


def _cap_holds(facts: DecisionFacts, evidence_stage: str) -> bool:
    cap = facts.stage_cap
    return (
        cap in STAGE_RANK
        and STAGE_RANK[evidence_stage] > STAGE_RANK[cap]
        and cap_applies(facts)
        and not _carried_past(facts, cap, facts.stage_cap_since or "")
    )


def cap_applies(facts: DecisionFacts) -> bool:
    """A stage cap set in the current build round (a new round starts afresh)."""
    if not (facts.stage_cap and facts.stage_cap_since):
        return False
    return facts.built_at is None or norm_time(facts.built_at) <= norm_time(facts.stage_cap_since)


# What evidence, dated after the edit, takes a held decision on (as _carried_past reads it).
_LIFTS_CAP = {"built": "demo", "demonstrated": "approval"}


def _carried_past(facts: DecisionFacts, cap: str, since: str) -> bool:
    """Evidence dated after `since` of the kind that takes a decision past `cap`: a held demo
    past built, an expert's approval past demonstrated, a test run past approved."""
    after = norm_time(since)

    def fresh(date: str) -> bool:
        return norm_time(date) > after and counts_from(date, facts.built_at)

    if cap == "built":
        return any(d.attendees > 0 and fresh(d.date) for d in facts.demos)
    if cap == "demonstrated":
        counted = [v for v in round_verdicts(facts) if v.in_domain]
        return any(
            v.verdict == "approve" and fresh(v.date) for v in latest_verdicts(counted).values()
        )
    return any(fresh(r.date) for runs in facts.runs_by_case.values() for r in runs)


def _evidence_stage(facts: DecisionFacts, rule: ApprovalRule) -> str:
    start = facts.built_at
    if not any(d.attendees > 0 and counts_from(d.date, start) for d in facts.demos):
        return "built"
    verdicts = [v for v in round_verdicts(facts) if v.in_domain]
    if any(v.verdict == "changes_requested" for v in latest_verdicts(verdicts).values()):
        return "in_build"
    if not approval_progress(verdicts, facts.scope, facts.criticality, rule).met:
        return "demonstrated"
    latest_results = [run and run.result for run in latest_runs(facts).values()]
    if not any(latest_results):
        return "approved"
    if not all(result == "passed" for result in latest_results):
        return "in_test"
    return "ready" if facts.ready_marked else "tested"


# The rules the screens, the import, the demo and the SQL restatements share ------------------
# (decisions/store/rules.py restates some of them in SQL; tests/test_one_rule.py compares.)


def approvers_needed(criticality: str, rule: ApprovalRule) -> int:
    """How many approving experts of the domain the rule asks for at this criticality."""
    return rule.min_approvers_critical if criticality == "critical" else rule.min_approvers


def round_verdicts(facts: DecisionFacts) -> list[VerdictFact]:
    """The verdicts dated in the current build round (from `built_at`): the ones that count."""
    return [v for v in facts.verdicts if counts_from(v.date, facts.built_at)]


def latest_runs(facts: DecisionFacts) -> dict[str, RunFact | None]:
    """Each covering test case's latest run in the current build round (None: none yet)."""
    latest: dict[str, RunFact | None] = {}
    for case, runs in facts.runs_by_case.items():
        counted = sorted(
            (r for r in runs if counts_from(r.date, facts.built_at)),
            key=lambda r: evidence_order(r.date, r.seq),
        )
        latest[case] = counted[-1] if counted else None
    return latest


def stage_changes(facts: DecisionFacts, derived: str) -> dict:
    """The columns besides `stage` that the evidence changes when it gives `derived`: requested
    changes end the build round; a ready mark lapses when the tests no longer say passed. (A
    ready mark is otherwise a fact that survives: a stricter rule or an edit lowers the stage,
    and it is ready again once the evidence says tested.)"""
    if derived == "in_build" and facts.base_stage == "built":
        return {"base_stage": "in_build", "built_at": None, "ready_at": None}
    if facts.ready_marked and facts.base_stage == "built" and not tests_say_passed(facts):
        return {"ready_at": None}
    return {}


OVERDUE_STAGE = "proposed"
NO_DATE = "9999-12-31"  # a needed-by date that never comes: stands in for none


def is_overdue(stage, needed_by, today, *, proposed=OVERDUE_STAGE):
    """A proposal still undecided after its needed-by date. Element-wise on numpy arrays or
    pandas Series as well (stages as codes: pass the code of proposed); a missing needed-by
    must come as a value after any day (a far date), never as None."""
    return (stage == proposed) & (needed_by < today)


def in_wave_scope(all_organizations, goes_live_in_wave):
    """Whether a decision counts for a wave: it affects all organisations, or one of its
    organisations goes live in the wave. Element-wise on numpy arrays as well."""
    return (all_organizations == 1) | goes_live_in_wave


def side_of(kind: str) -> str:
    """The side of the programme an organisation of this kind speaks for."""
    return SIDE_OF_KIND[kind]


def explain_stage(target: str, actual: str, facts: DecisionFacts, rule: ApprovalRule) -> Missing:
    """Why a decision is at `actual` rather than the `target` asked for (by a file, a page):
    (("no_going_back", None),) when the target lies behind, else what evidence is missing."""
    if (
        target == WITHDRAWN
        or actual == WITHDRAWN
        or STAGE_RANK.get(target, 0) < STAGE_RANK.get(actual, 0)
    ):
        return (("no_going_back", None),)
    return missing_evidence(actual, facts, rule)


def missing_evidence(actual: str, facts: DecisionFacts, rule: ApprovalRule) -> Missing:
    """What keeps a decision at `actual`: the evidence the next stage needs, or the stage cap
    of an edit of the fields the approval rule reads ("held": stage, since, what lifts it)."""
    if facts.stage_cap == actual and cap_holds(facts, rule):
        lift = _LIFTS_CAP.get(actual, "run")
        return (("held", (actual, (facts.stage_cap_since or "")[:10], lift)),)
    if actual == "built":
        return (("no_demo_since", facts.built_at),)
    if actual == "demonstrated":
        return approval_progress(
            round_verdicts(facts), facts.scope, facts.criticality, rule
        ).missing
    if actual == "approved":
        return (("no_test_case" if not facts.runs_by_case else "no_run_this_round", None),)
    if actual == "in_test":
        failing = tuple(
            (case, run.result if run else None)
            for case, run in sorted(latest_runs(facts).items())
            if run is None or run.result != "passed"
        )
        return (("not_passed", failing),)
    return (_WAITING_FOR.get(actual, ("evidence_gives", actual)),)


# What a hand-set or final stage waits for.
_WAITING_FOR: dict[str, tuple[str, object]] = {
    "proposed": ("not_built", None),
    "decided": ("not_built", None),
    "in_build": ("changes_requested", None),
    "tested": ("not_marked_ready", None),
}


HAND_STEPS = ("decide", "start_build", "mark_built", "mark_ready", "revise", "withdraw")


def step_changes(action: str, at: str) -> dict:
    """The stage columns a hand-taken step writes at `at`: its stage, the hand-set base stage
    and the marks of the round (mark_built begins a build round, start_build and a revision
    end it; a revision begins a version; mark_ready marks ready)."""
    if action not in HAND_STEPS:
        raise ValueError(f"{action} is not a step taken by hand")
    stage = ACTIONS[action].to_stage
    changes = {"stage": stage, "stage_since": at}
    if action == "mark_ready":
        return changes | {"ready_at": at}
    changes["base_stage"] = stage
    if action == "start_build":
        changes["built_at"] = None
    elif action == "mark_built":
        changes["built_at"] = at
    elif action == "revise":
        changes.update(built_at=None, ready_at=None, version_started_at=at)
    return changes


def latest_run_results(facts: DecisionFacts) -> list[str | None]:
    """The latest result in the current round of each covering test case (None: not run)."""
    return [run and run.result for run in latest_runs(facts).values()]


def tests_say_passed(facts: DecisionFacts) -> bool:
    """The test evidence alone says tested: a covering case, every one's latest run passed.
    A ready mark stands while this holds, whatever the approval rule makes of the verdicts."""
    results = latest_run_results(facts)
    return bool(results) and all(result == "passed" for result in results)


def open_despite_a_pass(runs: list[dict], defects: list[dict]) -> list[str]:
    """The linked defects still open although a test run that counts passed (`runs` with their
    `note`, '' when the run counts): a pass that the open defects put in doubt."""
    if not any(run.get("result") == "passed" and not run["note"] for run in runs):
        return []
    return [defect["key"] for defect in defects if defect["status"] == "open"]
