"""Small fixtures: a fresh database file, and a tiny programme with people in every role."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import pytest

from decisions import store
from decisions.model import STAGES
from decisions.store import decisions as decision_store
from decisions.store import reference
from decisions.workflow import ACTIONS

# The suite reads the app in English unless a test chooses bokmål (tests/test_i18n*.py); the
# catalogs' completeness is checked on its own, and strict mode makes a missing bokmål text fail.
os.environ.setdefault("DECISIONS_LANGUAGE", "en")
os.environ.setdefault("DECISIONS_I18N_STRICT", "1")
# Dashboards show current figures unless a test gives them a maximum age (test_aggregates.py):
# a test that changes the data behind a page's back expects its next run to show the change.
os.environ.setdefault("DECISIONS_DASHBOARD_MAX_AGE", "0")

# A frozen wall clock: the whole suite at a chosen moment -----------------------------------

WALL_CLOCK_ENV = "DECISIONS_TEST_WALL_CLOCK"
WALL_CLOCK_DIR = Path(__file__).parent / "wall_clock"  # its sitecustomize.py moves subprocesses


def pytest_addoption(parser):
    parser.addoption(
        "--wall-clock",
        metavar="MOMENT",
        default=os.environ.get(WALL_CLOCK_ENV) or None,
        help="run the tests as if the real clock read MOMENT (ISO 8601, e.g. "
        f"2026-03-29T00:59:30Z; default ${WALL_CLOCK_ENV}); it goes on ticking from there",
    )


def pytest_configure(config):
    moment = config.getoption("wall_clock")
    xdist_controller = config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput")
    if not moment or xdist_controller:  # pytest-xdist's workers run the tests and do this
        return
    import time_machine

    destination = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if destination.tzinfo is None:
        destination = destination.replace(tzinfo=dt.UTC)
    # Child processes (the CLI, `streamlit run`) start on the same clock: sitecustomize.py in
    # WALL_CLOCK_DIR reads these two and travels to the moment plus the real time gone since.
    os.environ[WALL_CLOCK_ENV] = destination.isoformat()
    os.environ[WALL_CLOCK_ENV + "_SINCE"] = repr(time.time())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(WALL_CLOCK_DIR), os.environ.get("PYTHONPATH")) if p
    )
    # A timestamp, not the datetime: time-machine would also set the process's time zone to
    # the datetime's, and a run with TZ=Europe/Oslo must keep Norway's summer-time changes.
    traveller = time_machine.travel(destination.timestamp(), tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config):
    moment = config.getoption("wall_clock")
    return f"wall clock frozen at {moment} (ticking)" if moment else None


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "programme.db"


@pytest.fixture
def fresh_db(db_path):
    conn = store.connect(db_path)
    yield conn
    conn.close()


PEOPLE = {
    # email: (organization, domains, roles, forums)
    "hanne@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "per@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "kari@stolav.no": ("STO", ["MED"], ["expert"], ["MED-H"]),
    "ola@trondheim.kommune.no": ("TRD", ["MED"], ["expert"], ["MED-M"]),
    "lab@stolav.no": ("STO", ["LAB"], ["expert"], ["LAB-H"]),
    "ana@hemit.no": ("STO", ["MED", "LAB"], ["analyst"], []),
    "tess@hemit.no": ("STO", ["MED", "LAB"], ["tester"], []),
    "mona@hemit.no": ("STO", [], ["manager"], []),
    "admin@hemit.no": ("STO", [], ["admin"], []),
    "vera@hemit.no": ("STO", [], ["viewer"], []),
}


def build_small_programme(conn) -> None:
    """Two organisations, two domains, forums at three levels, one wave, ten people."""
    with store.transaction(conn):
        reference.insert_rows(
            conn,
            "organizations",
            [
                {"code": "STO", "name": "St. Olavs hospital", "kind": "hospital"},
                {"code": "TRD", "name": "Trondheim kommune", "kind": "municipality"},
            ],
        )
        reference.insert_rows(
            conn,
            "domains",
            [
                {"code": "MED", "name": "Medication"},
                {"code": "LAB", "name": "Laboratory"},
            ],
        )
        reference.insert_rows(
            conn,
            "forums",
            [
                {
                    "code": "MED-H",
                    "name": "Medication hospital group",
                    "level": 1,
                    "scope": "hospital",
                },
                {
                    "code": "MED-M",
                    "name": "Medication municipal group",
                    "level": 1,
                    "scope": "municipality",
                },
                {"code": "LAB-H", "name": "Laboratory group", "level": 1, "scope": "hospital"},
                {"code": "FBG", "name": "Joint decision group", "level": 2, "scope": "joint"},
                {"code": "STEER", "name": "Steering group", "level": 3, "scope": "joint"},
            ],
        )
        reference.insert_rows(
            conn,
            "forum_domains",
            [
                {"forum": "MED-H", "domain": "MED"},
                {"forum": "MED-M", "domain": "MED"},
                {"forum": "LAB-H", "domain": "LAB"},
                {"forum": "FBG", "domain": "MED"},
            ],
        )
        reference.insert_rows(
            conn,
            "modules",
            [
                {"code": "MED-ADM", "name": "Medication administration", "domain": "MED"},
                {"code": "LAB-ORD", "name": "Lab orders", "domain": "LAB"},
            ],
        )
        reference.insert_rows(
            conn,
            "waves",
            [
                {"code": "W1", "name": "Wave 1", "go_live": "2022-11-12"},
            ],
        )
        reference.insert_rows(
            conn,
            "wave_organizations",
            [
                {"wave": "W1", "organization": "STO"},
                {"wave": "W1", "organization": "TRD"},
            ],
        )
        for email, (org, domains, roles, forums) in PEOPLE.items():
            reference.insert_rows(
                conn,
                "experts",
                [
                    {
                        "email": email,
                        "name": email.split("@")[0].title(),
                        "organization": org,
                        "allocation_pct": 50,
                    }
                ],
            )
            reference.insert_rows(
                conn, "expert_domains", [{"expert": email, "domain": d} for d in domains]
            )
            reference.insert_rows(
                conn, "expert_roles", [{"expert": email, "role": r} for r in roles]
            )
            reference.insert_rows(
                conn, "forum_members", [{"forum": f, "expert": email} for f in forums]
            )
        store.put_setting(conn, "clock", "2022-09-15")
        store.seal(conn, "2022-01-01T00:00:00")  # the rows above were written without events


@pytest.fixture
def programme(fresh_db):
    build_small_programme(fresh_db)
    return fresh_db


@pytest.fixture
def actor(programme):
    """actor('hanne@stolav.no') -> the Actor the services see."""
    return lambda email: decision_store.load_actor(programme, email)


# Driving decisions through the services (tests of the workflow core) ----------------------

DECISION_FIELDS = {
    "title": "Double-check of high-risk infusions",
    "domain": "MED",
    "module": "MED-ADM",
    "forum": "MED-H",
    "scope": "hospital",
    "organizations": ["STO"],
    "criticality": "medium",
}


def drive_decision(conn, stage: str, **fields) -> str:
    """A new decision (DECISION_FIELDS | fields) taken to `stage` through the services, with
    just enough evidence: one held demo, the approvers the default rule needs, one test case."""
    from decisions import evidence, services

    people = {email: decision_store.load_actor(conn, email) for email in PEOPLE}
    fields = DECISION_FIELDS | fields
    key = services.create_decision(conn, people["hanne@stolav.no"], fields)
    if stage == "withdrawn":
        services.set_manual_stage(conn, people["mona@hemit.no"], key, "withdraw", reason="dup")
        return key
    path = STAGES[1 : STAGES.index(stage) + 1]
    if "decided" in path:
        deciders = sorted(decision_store.forum_member_emails(conn, fields["forum"]))[:1]
        services.decide(conn, people["mona@hemit.no"], key, decision_text="As decided.",
                        decided_by=deciders)  # fmt: skip
    for step in ("start_build", "mark_built"):
        if ACTIONS[step].to_stage in path:
            services.set_manual_stage(conn, people["ana@hemit.no"], key, step)
    if "demonstrated" in path:
        evidence.save_demo(conn, people["ana@hemit.no"], module=fields["module"], date=None,
                           decisions=[key], presenter="ana@hemit.no",
                           attendees=["hanne@stolav.no"])  # fmt: skip
    if "approved" in path:
        approvers = ["hanne@stolav.no", "ola@trondheim.kommune.no" if fields["scope"] == "joint"
                     else "per@stolav.no", "kari@stolav.no"]  # fmt: skip
        for email in approvers[: 3 if fields["criticality"] == "critical" else 2]:
            evidence.record_verdict(conn, people[email], key, "approve")
    if "in_test" in path:
        case = evidence.save_test_case(conn, people["tess@hemit.no"], title=f"Test of {key}",
                                       kind="application", decisions=[key])  # fmt: skip
        result = "passed" if "tested" in path else "failed"
        evidence.record_test_run(conn, people["tess@hemit.no"], test_case=case, result=result)
    if "ready" in path:
        services.set_manual_stage(conn, people["mona@hemit.no"], key, "mark_ready")
    assert decision_store.get_decision(conn, key)["stage"] == stage
    return key


@pytest.fixture
def decision_at(programme):
    """decision_at('approved', scope='joint') -> key of a new decision at that stage."""
    return lambda stage, **fields: drive_decision(programme, stage, **fields)


@pytest.fixture
def time_of_day(monkeypatch):
    """time_of_day("09:00"): pin the real time of day that the programme clock puts on its
    date, for a test whose figures depend on it (days in a stage measured to an end of day,
    say); otherwise they would change with the hour the suite runs at."""
    from decisions import services

    def pin(clock: str) -> None:
        moment = dt.datetime.combine(services.wall_clock().date(), dt.time.fromisoformat(clock))
        monkeypatch.setattr(services, "wall_clock", lambda: moment)

    return pin


@pytest.fixture
def advance_clock(programme):
    """advance_clock(days=1): move the programme clock on, so what follows is dated later."""

    def advance(days: int = 1) -> str:
        clock = dt.date.fromisoformat(store.get_settings(programme)["clock"])
        clock += dt.timedelta(days=days)
        store.put_setting(programme, "clock", clock.isoformat())
        return clock.isoformat()

    return advance


def as_read(text: object) -> str:
    """Markdown source as a person reads it: the escapes ui.md puts before user text removed."""
    return re.sub(r"\\(.)", r"\1", str(text))


def every_tab_table(at, key: str = "my_work_tab") -> list:
    """The first table of each tab in turn, opening each (only the open tab is drawn); None
    for a tab without one."""
    tables = []
    for label in [t.label for t in at.tabs]:
        at.session_state[key] = label
        at.run()
        [tab] = [t for t in at.tabs if t.label == label]
        tables.append(tab.dataframe[0].value if tab.dataframe else None)
    return tables


def snapshot(conn) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused change wrote nothing."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: sorted((tuple(r) for r in conn.execute(f'SELECT * FROM "{t}"')), key=repr)
            for t in tables}  # fmt: skip


@pytest.fixture(autouse=True)
def _language_from_the_environment():
    """Each test starts with no language set in its thread, so it reads DECISIONS_LANGUAGE as
    the app's runs do (a test that set one would otherwise leave it to the next). AppTest draws
    a widget's option labels again in the test's thread when it sends a value back: in another
    language than the script's they would not be found."""
    from decisions import i18n

    token = i18n._language.set(None)
    yield
    i18n._language.reset(token)


@pytest.fixture(autouse=True)
def _navigation_only(monkeypatch):
    """AppTest: run every page through streamlit_app.py's st.navigation.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until the first
    st.navigation call, and AppTest resets that before every run; the page file would then run
    without the entry script (no connection, no sign-in) and the rerun that recovers from it
    swallows a clicked button. This keeps AppTest in st.navigation mode from the start."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _check_is_clean_after_every_import(monkeypatch):
    """Every import that writes, anywhere in the suite (the CLI, the Data page, the tests),
    leaves a database that `check` finds nothing wrong with."""
    from decisions import io, services

    original = io.import_sources

    def import_then_check(conn, *args, **kwargs):
        result = original(conn, *args, **kwargs)
        if result.written:
            assert services.check(conn) == [], "check after an import"
        return result

    monkeypatch.setattr(io, "import_sources", import_then_check)
