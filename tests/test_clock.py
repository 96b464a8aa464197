"""The programme clock: a fixed date with the real time of day, never running backwards."""

import datetime as dt
import subprocess
import sys
import time

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
    assert services.today(programme) == services.wall_clock().date()


def test_the_time_of_day_comes_from_the_wall_clock_alone(programme, time_of_day):
    time_of_day("23:59:30")
    assert services.now(programme) == "2022-09-15T23:59:30"
    time_of_day("00:00:30")
    assert services.now(programme) == "2022-09-15T00:00:30"


def test_a_child_process_reads_the_same_clock_as_the_tests(request):
    """Under --wall-clock the tests (in pytest-xdist's workers too), the CLI and `streamlit
    run` all read the frozen clock, ticking on from the moment given."""
    moment = request.config.getoption("wall_clock")
    if moment:
        started = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
        assert 0 <= time.time() - started < 3600
    child = subprocess.run([sys.executable, "-c", "import time; print(time.time())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert abs(float(child.stdout) - time.time()) < 60
