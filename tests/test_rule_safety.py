"""Changes that must not bypass the workflow's intent: evidence dated later than now, a rule
field edited after the approvals are in, an approval rule changed and changed back, and two
people saving the same go-live criterion or wave from forms opened at the same time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conftest import snapshot

from decisions import evidence, services
from decisions.model import WorkflowError
from decisions.store import decisions as decision_store

MORNING = dt.datetime(2022, 9, 15, 10, 0, 0)


def stage(conn, key: str) -> str:
    return decision_store.get_decision(conn, key)["stage"]


# Evidence is never dated later than now ---------------------------------------------------------


def test_a_verdict_stamped_later_today_is_refused_as_in_the_future(programme, actor, decision_at):
    with time_machine.travel(MORNING, tick=False):
        key = decision_at("demonstrated")
        current = services.now(programme)
        later_today = current[:10] + "T23:59:00"
        assert later_today > current
        before = snapshot(programme)
        with pytest.raises(WorkflowError, match="in the future"):
            evidence.record_verdict(programme, actor("hanne@stolav.no"), key, "approve",
                                    date=later_today)  # fmt: skip
        assert snapshot(programme) == before


def test_a_bare_date_of_today_means_now_and_an_earlier_time_today_is_kept(programme):
    with time_machine.travel(MORNING, tick=False):
        current = services.now(programme)
        assert services.evidence_date(programme, current[:10], "date") == current
        assert services.evidence_date(programme, dt.date(2022, 9, 15), "date") == current
        assert (
            services.evidence_date(programme, "2022-09-15T08:30", "date") == "2022-09-15T08:30:00"
        )
        assert services.evidence_date(programme, "2022-09-14", "date") == "2022-09-14"
        with pytest.raises(WorkflowError, match="in the future"):
            services.evidence_date(programme, dt.datetime(2022, 9, 15, 10, 5), "date")
        with pytest.raises(WorkflowError, match="in the future"):
            services.evidence_date(programme, "2022-09-16", "date")
