"""The programme clock: a fixed date with the real time of day, never running backwards."""

import datetime as dt

from decisions import services, store


def test_now_is_on_the_programme_date(programme):
    assert services.now(programme)[:10] == "2022-09-15"
    assert services.today(programme) == dt.date(2022, 9, 15)


def test_now_never_runs_back_before_the_last_event(programme):
    late = "2022-09-15T23:59:58"
    with store.transaction(programme):
        store.append_events(programme, [{"at": late, "actor": "system", "entity": "test",
                                         "entity_key": "x", "action": "late"}])  # fmt: skip
    assert services.now(programme) > late


def test_without_a_clock_now_is_the_real_date(programme):
    with store.transaction(programme):
        programme.execute("DELETE FROM settings WHERE key = 'clock'")
    assert services.today(programme) == dt.date.today()
