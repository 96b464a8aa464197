"""Browser tests: the real `streamlit run` on a free port, driven by headless Chromium.

Fixtures:
- `app_server`: base URL of an app whose database does not exist yet, so its first start
  builds the demo programme (module-scoped; `app_server_db` is that database's path).
- `demo_db_server`: base URL of an app on a small prebuilt demo (`demo --scale 0.2`), shared
  by the whole session (`demo_db` is its path). Tests that change data should each pick
  their own decisions, or take `demo_db_copy` (a private copy of it) and start their own
  server on it with `start_app`.
- `start_app(db_path) -> url`: start another server, stopped when the test ends.
- `page`: a Playwright page in a fresh browser context; a screenshot is saved to
  /tmp/shots/e2e-failure-<test>.png when the test fails.
Helpers, as fixtures that return the function (no import needed):
- `wait_idle(page)`: wait until connected and no script runs. Never sleep; after a click,
  wait for what should appear with `playwright.sync_api.expect(...)`, which retries.
- `sign_in_as(page, name_or_email)`: the demo sign-in in the sidebar.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = Path("/tmp/shots")
IDLE = "[data-testid='stApp'][data-test-connection-state='CONNECTED'][data-test-script-state='notRunning']"
SERVER_START_TIMEOUT = 60.0
TIMEOUT_MS = 30_000  # for actions and for expect(); generous: the test machine is shared
DEMO_SCALE = "0.2"


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = _skip_reason()
    for item in items:
        if here not in Path(item.fspath).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    """One `streamlit run streamlit_app.py` in its own process group, logging to a file;
    `options` are more `--section.option value` flags."""

    def __init__(self, db_path: Path, log_path: Path, options: tuple[str, ...] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "DECISIONS_DB": str(db_path)}
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            *options,
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_healthy(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Servers:
    """Starts servers and stops every one it started."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[AppProcess] = []

    def start(self, db_path: Path) -> str:
        app = AppProcess(Path(db_path), self.logs / f"server-{time.monotonic_ns()}.log")
        self.started.append(app)
        app.wait_healthy()
        return app.url

    def stop_all(self) -> None:
        for app in self.started:
            app.stop()


@pytest.fixture(scope="session")
def _shared_servers(tmp_path_factory):
    servers = Servers(tmp_path_factory.mktemp("streamlit-logs"))
    yield servers
    servers.stop_all()


@pytest.fixture
def start_app(tmp_path):
    """start_app(db_path) -> base URL of a healthy server on that database, stopped when the
    test ends."""
    servers = Servers(tmp_path)
    yield servers.start
    servers.stop_all()


@pytest.fixture(scope="module")
def app_server_db(tmp_path_factory) -> Path:
    """A database path that does not exist yet: the app's first start builds the demo."""
    path = tmp_path_factory.mktemp("first-start") / "decisions.db"
    assert not path.exists()
    return path


@pytest.fixture(scope="module")
def app_server(app_server_db):
    servers = Servers(app_server_db.parent)
    yield servers.start(app_server_db)
    servers.stop_all()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo programme, built once per session with the command line."""
    path = tmp_path_factory.mktemp("demo") / "decisions.db"
    subprocess.run(
        [sys.executable, "-m", "decisions", "demo", "--db", str(path), "--scale", DEMO_SCALE],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def demo_db_server(_shared_servers, demo_db) -> str:
    return _shared_servers.start(demo_db)


@pytest.fixture
def demo_db_copy(demo_db, tmp_path) -> Path:
    """A private copy of the small demo, for a test that needs data nobody else touches (a
    consistent copy even while `demo_db_server` has the demo open in WAL mode)."""
    copy = tmp_path / "decisions.db"
    source, target = sqlite3.connect(demo_db), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


# -- browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        page.screenshot(path=str(SHOTS / f"e2e-failure-{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def bokmal_browser(browser):
    """open(viewport) -> a new page of a browser whose preferred language is Norwegian bokmål;
    each is closed after the test."""
    contexts = []

    def open_page(viewport: dict):
        contexts.append(browser.new_context(locale="nb-NO", viewport=viewport))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


# -- helpers -------------------------------------------------------------------------------


def idle(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector(IDLE, timeout=timeout)


def sign_in(page, name_or_email: str) -> None:
    """Pick the person in the sidebar's demo sign-in (the option whose label holds the text)."""
    from playwright.sync_api import expect

    idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    person = sidebar.get_by_test_id("stSelectbox").filter(has_text="Person").locator("input")
    person.click()
    person.fill(name_or_email)
    page.get_by_role("option").filter(has_text=name_or_email).first.click()
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    idle(page)


@pytest.fixture
def wait_idle():
    """wait_idle(page): the app is connected and its script has finished running."""
    return idle


@pytest.fixture
def sign_in_as():
    """sign_in_as(page, name_or_email): the demo sign-in, as that person."""
    return sign_in


# -- accessibility -------------------------------------------------------------------------

AXE = REPO / "tests" / "axe"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_source() -> str:
    """axe-core's script from tests/axe (npm ci there first when it is missing)."""
    script = AXE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        subprocess.run(["npm", "ci", "--prefix", str(AXE), "--no-audit", "--no-fund"],
                       check=True, timeout=300, capture_output=True)  # fmt: skip
    return script.read_text(encoding="utf-8")


def wcag_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A and AA rules on the page as it stands: each violation's rule, impact,
    help text and up to five of its elements. Injected through the DevTools protocol, so a
    page's Content-Security-Policy does not stop it."""
    page.evaluate(axe_source() + "\n;undefined")
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map((v) => ({
                rule: v.id, impact: v.impact, help: v.help,
                elements: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
            }));
        }""",
        list(WCAG_21_AA),
    )


@pytest.fixture
def accessibility_violations():
    """accessibility_violations(page) -> the WCAG 2.1 AA violations axe-core finds ([] when
    none)."""
    return wcag_violations
