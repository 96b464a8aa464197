"""What an import says about each file and row: its status, errors, changed columns and notes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RowOutcome:
    number: int
    key: str
    status: str  # new, updated, unchanged, rejected
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # the columns an update changes
    notes: list[str] = field(default_factory=list)  # what the row did beyond its columns


@dataclass
class FileReport:
    name: str
    kind: str | None
    detected: str = ""
    notes: list[str] = field(default_factory=list)
    rows: list[RowOutcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r.status for r in self.rows)
        return {s: counted.get(s, 0) for s in ("new", "updated", "unchanged", "rejected")}
