"""The real single sign-on in a real browser: `streamlit run` with an `[auth]` section that points
at a real OpenID Connect provider (node-oidc-provider, tests/oidc/server.js) started here, on a
freshly `init`-ed programme whose only data is its people. Nothing is stubbed: Streamlit's
st.login, Authlib and httpx do the discovery, the authorization code flow with PKCE and the
token exchange; the app maps the ID token's email to the directory.

Covered: sign in to an empty programme (its Overview renders), reload, the provider's session
without the app's cookie (no password, only the account), sign out (the provider's session
ends too) and signing in again asks for the password; a copy of the sign-in cookie taken
before the sign-out is refused; a mixed-case email; an unknown, an
inactive, an unverified and a missing email are refused with the reason; a placeholder cookie
secret stops the app.

Set SIGNIN_SHOTS=/some/folder to keep screenshots of the journey there."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import REPO, SERVER_START_TIMEOUT, TIMEOUT_MS, AppProcess, free_port, idle
from e2e.conftest import SHOTS as FAILURE_SHOTS

pytestmark = pytest.mark.e2e

OIDC = REPO / "tests" / "oidc"
FIRST_RUN = 60_000  # the server's first run imports everything, on a busy machine
CLIENT = {"client_id": "decisions-app", "client_secret": secrets.token_urlsafe(24)}
ADMIN = "first.admin@hospital.example"
PEOPLE = (
    "email,name,organization,domains,roles,allocation_pct,active\n"
    f"{ADMIN},First Admin,HOS,,admin,10,yes\n"
    "mixed.case@hospital.example,Mixed Case,HOS,,viewer,10,yes\n"
    "retired@hospital.example,Retired Person,HOS,,viewer,10,no\n"
)
PASSWORD = "correct horse battery staple"
ACCOUNTS = {  # provider login -> the claims it puts in the ID token
    "admin": {"email": ADMIN, "email_verified": True, "name": "First Admin"},
    "mixed": {"email": "Mixed.Case@Hospital.Example", "email_verified": True},
    "stranger": {"email": "stranger@elsewhere.example", "email_verified": True},
    "retired": {"email": "retired@hospital.example", "email_verified": True},
    "impostor": {"email": ADMIN, "email_verified": False},  # claims the admin's address
    "no-email": {"name": "Nobody In Particular"},
}
SHOTS = Path(os.environ["SIGNIN_SHOTS"]) if os.environ.get("SIGNIN_SHOTS") else None


def shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-4000:]}")


class Provider:
    """node tests/oidc/server.js: the ACCOUNTS, and one client whose redirect_uri is given."""

    def __init__(self, folder: Path, redirect_uri: str):
        node = shutil.which("node")
        assert node, "the sign-in test needs Node.js (20 or later) for tests/oidc"
        if not (OIDC / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(["npm", "ci", "--prefix", str(OIDC)], check=True, timeout=300,
                           capture_output=True)  # fmt: skip
        port = free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        self.log_path = folder / "provider.log"
        env = {
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_CLIENT": json.dumps(CLIENT | {"redirect_uri": redirect_uri}),
            "OIDC_ACCOUNTS": json.dumps(
                {name: {"password": PASSWORD, "claims": c} for name, c in ACCOUNTS.items()}
            ),
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [node, str(OIDC / "server.js")], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(f"{self.issuer}/.well-known/openid-configuration", self.process, self.log_path)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class SignInApp(AppProcess):
    """`streamlit run` with an [auth] secrets file of its own, opened on localhost: the host of
    the redirect_uri, where Streamlit keeps the login state in a cookie."""

    def __init__(self, db_path: Path, folder: Path, port: int, auth: dict):
        self.port = port
        self.url = f"http://localhost:{port}"
        self.log_path = folder / "streamlit.log"
        secrets_file = folder / "secrets.toml"
        lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in auth.items())]
        secrets_file.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "DECISIONS_DB": str(db_path)}
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--secrets.files", str(secrets_file),
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip


def decisions_cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "decisions", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def programme(tmp_path_factory) -> Path:
    """A freshly initialised programme: one organisation and three people, nothing else."""
    folder = tmp_path_factory.mktemp("programme")
    db = folder / "programme.db"
    decisions_cli("init", "--db", str(db))
    (folder / "organizations.csv").write_text("code,name,kind\nHOS,The Hospital,hospital\n")
    (folder / "experts.csv").write_text(PEOPLE)
    decisions_cli("import", "--db", str(db), "organizations", str(folder / "organizations.csv"))
    decisions_cli("import", "--db", str(db), "experts", str(folder / "experts.csv"))
    return db


def start(db: Path, folder: Path, cookie_secret: str) -> tuple[SignInApp, Provider]:
    port = free_port()
    redirect_uri = f"http://localhost:{port}/oauth2callback"
    provider = Provider(folder, redirect_uri)
    auth = {
        "redirect_uri": redirect_uri,
        "cookie_secret": cookie_secret,
        **CLIENT,
        "server_metadata_url": f"{provider.issuer}/.well-known/openid-configuration",
    }
    return SignInApp(db, folder, port, auth), provider


@pytest.fixture(scope="module")
def app(programme, tmp_path_factory):
    """The base URL (on localhost) of the app signed in through the local provider."""
    server, provider = start(programme, tmp_path_factory.mktemp("app"), secrets.token_urlsafe(48))
    try:
        server.wait_healthy()
        yield server.url
    finally:
        server.stop()
        provider.stop()


@pytest.fixture
def new_page(browser, request):
    """new_page() -> a page in a fresh browser context (no cookies from another sign-in); on a
    failure each is saved to /tmp/shots like the `page` fixture's."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            FAILURE_SHOTS.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
            for page in context.pages:
                page.screenshot(path=str(FAILURE_SHOTS / f"e2e-failure-{name}-{number}.png"))
        context.close()


def sign_in(page, app_url: str, login: str) -> None:
    """From the app's sign-in page through the provider's login form and back."""
    page.goto(app_url)
    idle(page, timeout=FIRST_RUN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert page.url.startswith("http://127.0.0.1:"), page.url  # the provider's own page
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app_url}/**")
    idle(page)


def main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def test_sign_in_reload_sign_out_and_sign_in_again(app, new_page):
    page = new_page()
    page.goto(app)
    idle(page, timeout=FIRST_RUN)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(page, "01-sign-in-page")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert page.url.startswith("http://127.0.0.1:"), page.url  # the provider's own page
    shot(page, "02-provider-login")
    page.get_by_label("Login").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app}/**")
    idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    # The empty programme's Overview renders (it crashed with KeyError 'wave').
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(sidebar.get_by_text("First Admin")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    shot(page, "03-signed-in-overview")

    page.reload()
    idle(page)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(sidebar.get_by_text("First Admin")).to_be_visible()

    # Without the app's cookie but with the provider's session, the provider only asks which
    # account (prompt=select_account), no password: what the sign-out below must end.
    page.context.clear_cookies(domain="localhost")
    page.reload()
    idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Continue as admin").click()
    page.wait_for_url(f"{app}/**")
    idle(page)
    expect(sidebar.get_by_text("First Admin")).to_be_visible()

    sidebar.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider ends its session
    page.wait_for_url(f"{app}/**")
    idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)

    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_be_visible()  # asked again, not let straight in
    expect(page.get_by_role("button", name="Continue as admin")).to_have_count(0)


def test_a_sign_in_cookie_copied_before_the_sign_out_no_longer_signs_in(app, new_page):
    page = new_page()
    sign_in(page, app, "admin")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("First Admin")).to_be_visible()
    copied = [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert copied, page.context.cookies()
    page.wait_for_timeout(1100)  # the sign-out is a later second than the sign-in
    sidebar.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{app}/**")
    idle(page)

    thief = new_page()
    thief.context.add_cookies(copied)
    thief.goto(app)
    idle(thief, timeout=FIRST_RUN)
    expect(thief.get_by_test_id("stAlert")).to_contain_text("You signed out after this sign-in")
    expect(thief.get_by_role("heading", name="Overview")).to_have_count(0)
    expect(thief.get_by_test_id("stSidebarNav")).to_have_count(0)

    # Signing in again (a new identity token) lets the person in.
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Login").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app}/**")
    idle(page)
    expect(sidebar.get_by_text("First Admin")).to_be_visible()


def test_a_mixed_case_email_finds_its_person(app, new_page):
    page = new_page()
    sign_in(page, app, "mixed")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Mixed Case")).to_be_visible()


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("stranger", "stranger@elsewhere.example is not in this programme's directory"),
        ("retired", "retired@hospital.example is not in this programme's directory"),
        ("impostor", f"The sign-in service has not verified {ADMIN}"),
        ("no-email", "Your sign-in did not include an email address"),
    ],
)
def test_who_may_not_sign_in_is_told_why(app, new_page, login, message):
    page = new_page()
    sign_in(page, app, login)
    expect(page.get_by_test_id("stAlert")).to_contain_text(message)
    expect(page.get_by_role("heading", name="Overview")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert "None" not in main_text(page)
    if login == "stranger":
        shot(page, "04-refused-unknown-email")


def test_a_placeholder_cookie_secret_stops_the_app(programme, tmp_path, new_page):
    server, provider = start(programme, tmp_path, "a long random string")
    try:
        server.wait_healthy()
        page = new_page()
        page.goto(server.url)
        idle(page, timeout=FIRST_RUN)
        expect(page.get_by_test_id("stAlert")).to_contain_text("The app will not start")
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
        expect(page.get_by_text("secrets.token_urlsafe(48)")).to_be_visible()
        shot(page, "05-placeholder-secret-refused")
    finally:
        server.stop()
        provider.stop()
