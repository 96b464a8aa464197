"""The vocabulary of the programme: stages, roles, kinds, and the plain records that cross
module boundaries. Nothing here touches storage or the UI."""

from __future__ import annotations

from dataclasses import dataclass, field

STAGES = (
    "proposed",
    "decided",
    "in_build",
    "built",
    "demonstrated",
    "approved",
    "in_test",
    "tested",
    "ready",
)
WITHDRAWN = "withdrawn"
ALL_STAGES = STAGES + (WITHDRAWN,)
STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}

# Stages that follow from evidence; the others a person sets by hand.
DERIVED_STAGES = ("demonstrated", "approved", "in_test", "tested")

ROLES = ("expert", "analyst", "tester", "manager", "admin", "viewer")
SCOPES = ("hospital", "municipality", "joint")
CRITICALITIES = ("critical", "high", "medium", "low")
ORGANIZATION_KINDS = ("hospital", "municipality", "gp_office")
VERDICTS = ("approve", "changes_requested")
TEST_KINDS = ("application", "integrated", "acceptance", "regression")
RUN_RESULTS = ("passed", "failed", "blocked")
DEFECT_STATUSES = ("open", "fixed", "closed", "deferred")
FORUM_LEVELS = (1, 2, 3)  # worded by words.LEVEL_WORDS

# A readiness forecast later than this after go-live is not within the horizon: no date to
# put before a steering committee (README, Readiness).
FORECAST_HORIZON_WEEKS = 26

# Which side of the programme an organisation kind speaks for in the approval rule.
SIDE_OF_KIND = {"hospital": "hospital", "municipality": "municipality", "gp_office": "municipality"}


def stage_at_least(stage: str, floor: str) -> bool:
    """True when `stage` is `floor` or further along (withdrawn is never further)."""
    return stage in STAGE_RANK and STAGE_RANK[stage] >= STAGE_RANK[floor]


@dataclass(frozen=True)
class ApprovalRule:
    """The approval rule's numbers; kept in settings, not in code."""

    min_approvers: int = 2
    min_approvers_critical: int = 3
    joint_needs_both_sides: bool = True


# What a rule finds missing, as codes and values: (("approvers", 1), ("side", "hospital")).
# decisions.words words them (missing_text, where the codes are listed).
Missing = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class ApprovalProgress:
    """How far the counted verdicts go towards the approval rule, and what is missing."""

    met: bool
    approvers: int
    needed: int
    hospital_side: int
    municipality_side: int
    missing: Missing


@dataclass(frozen=True)
class Actor:
    """The signed-in person as the services see them."""

    email: str
    name: str
    roles: frozenset[str]
    domains: frozenset[str] = frozenset()
    forums: frozenset[str] = frozenset()
    organization: str = ""
    side: str = ""


SYSTEM_ACTOR = Actor(email="system", name="System", roles=frozenset({"admin"}))


@dataclass(frozen=True)
class DemoFact:
    date: str
    attendees: int


@dataclass(frozen=True)
class VerdictFact:
    expert: str
    verdict: str
    date: str
    side: str
    in_domain: bool
    seq: int = 0  # tie-break for verdicts on the same date: order of recording


@dataclass(frozen=True)
class RunFact:
    date: str
    result: str
    seq: int = 0


@dataclass(frozen=True)
class DecisionFacts:
    """Everything the stage of one decision depends on."""

    base_stage: str
    built_at: str | None = None
    ready_marked: bool = False
    scope: str = "hospital"
    criticality: str = "medium"
    demos: tuple[DemoFact, ...] = ()
    verdicts: tuple[VerdictFact, ...] = ()
    # One entry per covering test case: its runs (possibly none).
    runs_by_case: dict[str, tuple[RunFact, ...]] = field(default_factory=dict)
    # Set by an edit of a field the approval rule reads: the stage may not go past
    # `stage_cap` until evidence dated after `stage_cap_since` carries it on.
    stage_cap: str | None = None
    stage_cap_since: str | None = None


class WorkflowError(Exception):
    """A change the workflow or the permissions refuse; the message says why. A check that
    finds several problems at once gives each (`problems`); the message joins them."""

    def __init__(self, *problems: str):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems: tuple[str, ...] = tuple(str(p) for p in problems)


class StaleRecord(WorkflowError):
    """The record changed since the form was built."""


class NotFound(WorkflowError):
    """A referenced record does not exist."""
