"""Open data for analysts beside the published log: the table readiness_now, refreshed from
the readiness the Readiness page computes (one rule, readiness.assess), with its codes in the
words of the programme's language."""

from __future__ import annotations

import sqlite3

from decisions import readiness, services
from decisions.i18n import _
from decisions.store import published
from decisions.words import OUTLOOK_WORDS, STATUS_WORDS


def readiness_rows(conn: sqlite3.Connection) -> list[dict]:
    """Every wave's criteria as readiness_now holds them, evaluated as of the programme's today."""
    _programme, waves = readiness.assess(conn)
    refreshed = services.now(conn)
    return [
        {
            "wave": wave.wave, "wave_name": wave.name, "go_live": wave.go_live.isoformat(),
            "as_of": wave.as_of.isoformat(), "wave_go": int(wave.go), "criterion": result.code,
            "name": result.criterion.name, "kind": result.criterion.kind,
            "metric": result.criterion.metric, "comparator": result.criterion.comparator,
            "threshold": result.criterion.threshold, "value": result.value,
            "status": result.status, "status_words": _(STATUS_WORDS[result.status]),
            "outlook": result.outlook, "outlook_words": _(OUTLOOK_WORDS[result.outlook]),
            "forecast": result.forecast.isoformat() if result.forecast else None,
            "refreshed_at": refreshed,
        }
        for wave in waves
        for result in wave.criteria
    ]  # fmt: skip


def refresh_readiness(conn: sqlite3.Connection) -> int:
    """Replace readiness_now with readiness as it stands; returns how many rows it holds."""
    rows = readiness_rows(conn)
    published.replace_readiness_now(conn, rows)
    return len(rows)
