"""Started by Python in a test's child process (tests/conftest.py puts this folder on
PYTHONPATH when the suite runs under --wall-clock): the child's clock reads the same moment as
the test session's, the frozen moment plus the real time gone since the session began."""

import datetime as dt
import os
import time

_moment = os.environ.get("DECISIONS_TEST_WALL_CLOCK")
if _moment:
    import time_machine

    _gone = time.time() - float(os.environ.get("DECISIONS_TEST_WALL_CLOCK_SINCE", time.time()))
    # a timestamp, so that the process keeps its own time zone (TZ=Europe/Oslo, say)
    time_machine.travel(dt.datetime.fromisoformat(_moment).timestamp() + _gone, tick=True).start()
