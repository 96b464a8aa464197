"""Go-live readiness: criteria, their evaluation as of a date, trends and forecasts."""

from __future__ import annotations

# The default criteria of SPEC.md section 4, created for every wave and editable per wave.
# (code, name, kind, metric, comparator, threshold)
DEFAULT_CRITERIA: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("C1", "Critical decisions ready", "computed", "critical_ready_pct", ">=", 100),
    ("C2", "Decisions approved or further", "computed", "approved_or_further_pct", ">=", 95),
    ("C3", "Proposals overdue", "computed", "overdue_proposed_count", "<=", 0),
    ("C4", "Test cases passed on latest run", "computed", "tests_passed_pct", ">=", 98),
    ("C4N", "Test cases never run", "computed", "tests_never_run_count", "<=", 0),
    ("C5", "Open severity-1 defects", "computed", "open_sev1_defects", "<=", 0),
    ("C5B", "Open severity-2 defects", "computed", "open_sev2_defects", "<=", 10),
    ("C6", "Modules without demo and approval", "computed", "modules_unapproved_count", "<=", 0),
    ("R7", "End users trained", "reported", "end_users_trained_pct", ">=", 90),
    ("R7S", "Super users per 10 end users", "reported", "super_users_per_10_users", ">=", 1),
    ("R8", "Technical dress rehearsal passed", "reported", "dress_rehearsal_passed", "==", 1),
    ("R8M", "Data migration rehearsal passed", "reported", "migration_rehearsal_passed", "==", 1),
)
