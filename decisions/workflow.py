"""The workflow rules as pure functions: which actions exist, who may take them from which
stage, the approval rule, and the one function that derives a decision's stage from its
evidence. Used alike by the app, the import, the check command and readiness."""

from __future__ import annotations

from dataclasses import dataclass

from decisions.model import (
    STAGE_RANK,
    STAGES,
    WITHDRAWN,
    Actor,
    ApprovalRule,
    DecisionFacts,
    VerdictFact,
    WorkflowError,
)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    from_stages: tuple[str, ...]
    roles: tuple[str, ...]
    to_stage: str | None  # None: the stage does not change by itself
    needs_reason: bool = False
    # The expert must sit in the decision's forum (decide, escalate, revise)
    # or work in its domain (verdicts).
    expert_must_be_in: str | None = None


_AFTER_DECIDED = STAGES[1:]
_NOT_WITHDRAWN = STAGES

# fmt: off
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("decide", "Record the decision", ("proposed",), ("expert", "manager", "admin"),
               "decided", expert_must_be_in="forum"),
        Action("escalate", "Escalate to a higher forum", ("proposed",),
               ("expert", "manager", "admin"), None, needs_reason=True,
               expert_must_be_in="forum"),
        Action("start_build", "Start the build", ("decided",), ("analyst", "admin"), "in_build"),
        Action("mark_built", "Mark as built", ("in_build",), ("analyst", "admin"), "built"),
        Action("approve", "Approve", ("demonstrated", "approved"), ("expert",), None,
               expert_must_be_in="domain"),
        Action("request_changes", "Request changes", ("demonstrated", "approved"), ("expert",),
               "in_build", needs_reason=True, expert_must_be_in="domain"),
        Action("mark_ready", "Mark ready for production", ("tested",), ("manager", "admin"),
               "ready"),
        Action("revise", "Revise the decision text", _AFTER_DECIDED,
               ("expert", "manager", "admin"), "decided", needs_reason=True,
               expert_must_be_in="forum"),
        Action("edit", "Edit details", _NOT_WITHDRAWN, ("expert", "analyst", "manager", "admin"),
               None, expert_must_be_in="forum"),
        Action("withdraw", "Withdraw", _NOT_WITHDRAWN, ("manager", "admin"), WITHDRAWN,
               needs_reason=True),
    )
}
# fmt: on


def action_refusal(
    action: str, stage: str, actor: Actor, *, forum: str = "", domain: str = ""
) -> str | None:
    """Why `actor` may not take `action` on a decision at `stage`, or None when they may."""
    spec = ACTIONS.get(action)
    if spec is None:
        return f"unknown action {action!r}"
    if stage not in spec.from_stages:
        return f"cannot {spec.label.lower()} a decision that is {stage.replace('_', ' ')}"
    if not actor.has(*spec.roles):
        return f"{spec.label} needs the role {' or '.join(spec.roles)}"
    if actor.has(*(role for role in spec.roles if role != "expert")):
        return None  # managers and admins act for the forum; experts must belong to it
    if spec.expert_must_be_in == "forum" and forum not in actor.forums:
        return f"{spec.label} needs a member of the forum {forum}"
    if spec.expert_must_be_in == "domain" and domain not in actor.domains:
        return f"{spec.label} needs an expert of the domain {domain}"
    return None


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


def latest_verdicts(
    verdicts: tuple[VerdictFact, ...] | list[VerdictFact],
) -> dict[str, VerdictFact]:
    """Each expert's latest verdict: the only one that counts."""
    latest: dict[str, VerdictFact] = {}
    for v in sorted(verdicts, key=lambda v: (norm_time(v.date), v.seq)):
        latest[v.expert] = v
    return latest


@dataclass(frozen=True)
class ApprovalProgress:
    met: bool
    approvers: int
    needed: int
    hospital_side: int
    municipality_side: int
    missing: tuple[str, ...]


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
    needed = rule.min_approvers_critical if criticality == "critical" else rule.min_approvers
    hospital = sum(1 for v in approving if v.side == "hospital")
    municipality = sum(1 for v in approving if v.side == "municipality")
    missing = []
    if len(approving) < needed:
        more = needed - len(approving)
        missing.append(f"needs {more} more approver{'s' if more > 1 else ''} of the domain")
    if scope == "joint" and rule.joint_needs_both_sides:
        if hospital == 0:
            missing.append("needs 1 more approver from the hospital side")
        if municipality == 0:
            missing.append("needs 1 more approver from the municipality side")
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
    cap = facts.stage_cap
    if (
        cap in STAGE_RANK
        and STAGE_RANK[stage] > STAGE_RANK[cap]
        and cap_applies(facts)
        and not _carried_past(facts, cap, facts.stage_cap_since or "")
    ):
        return cap
    return stage


def cap_applies(facts: DecisionFacts) -> bool:
    """A stage cap set in the current build round (a new round starts afresh)."""
    if not (facts.stage_cap and facts.stage_cap_since):
        return False
    return facts.built_at is None or norm_time(facts.built_at) <= norm_time(facts.stage_cap_since)


def _carried_past(facts: DecisionFacts, cap: str, since: str) -> bool:
    """Evidence dated after `since` of the kind that takes a decision past `cap`: a held demo
    past built, an expert's approval past demonstrated, a test run past approved."""
    after = norm_time(since)

    def fresh(date: str) -> bool:
        return norm_time(date) > after and counts_from(date, facts.built_at)

    if cap == "built":
        return any(d.attendees > 0 and fresh(d.date) for d in facts.demos)
    if cap == "demonstrated":
        counted = [v for v in facts.verdicts if counts_from(v.date, facts.built_at) and v.in_domain]
        return any(
            v.verdict == "approve" and fresh(v.date) for v in latest_verdicts(counted).values()
        )
    return any(fresh(r.date) for runs in facts.runs_by_case.values() for r in runs)


def _evidence_stage(facts: DecisionFacts, rule: ApprovalRule) -> str:
    start = facts.built_at
    if not any(d.attendees > 0 and counts_from(d.date, start) for d in facts.demos):
        return "built"
    verdicts = [v for v in facts.verdicts if counts_from(v.date, start) and v.in_domain]
    if any(v.verdict == "changes_requested" for v in latest_verdicts(verdicts).values()):
        return "in_build"
    if not approval_progress(verdicts, facts.scope, facts.criticality, rule).met:
        return "demonstrated"
    latest_results = latest_run_results(facts)
    if not any(latest_results):
        return "approved"
    if not all(result == "passed" for result in latest_results):
        return "in_test"
    return "ready" if facts.ready_marked else "tested"


def latest_run_results(facts: DecisionFacts) -> list[str | None]:
    """The latest result in the current round of each covering test case (None: not run)."""
    results = []
    for runs in facts.runs_by_case.values():
        counted = sorted(
            (r for r in runs if counts_from(r.date, facts.built_at)),
            key=lambda r: (norm_time(r.date), r.seq),
        )
        results.append(counted[-1].result if counted else None)
    return results


def tests_say_passed(facts: DecisionFacts) -> bool:
    """The test evidence alone says tested: a covering case, every one's latest run passed.
    A ready mark stands while this holds, whatever the approval rule makes of the verdicts."""
    results = latest_run_results(facts)
    return bool(results) and all(result == "passed" for result in results)
