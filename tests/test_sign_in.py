"""Single sign-on as the app sees it (AppTest sets st.user the way Streamlit fills it from the
identity token): which claims let a person in, and the checks before anyone may sign in. The
real login against a real OpenID Connect provider is tests/e2e/test_sign_in_oidc.py."""

from __future__ import annotations

import importlib.util
import secrets
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_core import AUTH, TIMEOUT, make_programme, texts

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def real_db(tmp_path, monkeypatch):
    path = tmp_path / "real.db"
    make_programme(path, demo=False)
    monkeypatch.setenv("DECISIONS_DB", str(path))
    return path


def run(auth: dict, **user) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = auth
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("claims", "sees"),
    [
        ({"email": "hanne@stolav.no", "email_verified": True}, "My work"),
        ({"email": "hanne@stolav.no"}, "has not verified"),  # only exactly true verifies
        ({"email": "hanne@stolav.no", "email_verified": 0}, "has not verified"),
        ({"email": "hanne@stolav.no", "email_verified": 1}, "has not verified"),
        ({"email": "hanne@stolav.no", "email_verified": "true"}, "has not verified"),
        ({"email": "Hanne@Stolav.NO", "email_verified": True}, "My work"),
        ({"email": "hanne@stolav.no", "email_verified": False}, "has not verified"),
        ({"email": "hanne@stolav.no", "email_verified": "false"}, "has not verified"),
        ({}, "did not include an email address"),
        ({"email": ""}, "did not include an email address"),
        (
            {"email": "stranger@example.org", "email_verified": True},
            "not in this programme's directory",
        ),
    ],
)
def test_the_identity_token_claims_decide_who_gets_in(real_db, claims, sees):
    at = run(AUTH, is_logged_in=True, **claims)
    assert sees in texts(at)
    signed_in = sees == "My work"  # an expert lands on their own work
    assert (at.session_state["_actor"] is not None) is signed_in
    assert bool(at.dataframe) or not signed_in
    if not signed_in:
        assert "None" not in texts(at) and [b.label for b in at.button] == ["Sign out"]


def test_a_refusal_shows_the_email_as_typed(real_db):
    at = run(AUTH, is_logged_in=True, email="**bold**@example.org", email_verified=False)
    assert "\\*\\*bold\\*\\*@example\\.org" in at.error[0].value


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("a long random string", "placeholder"),
        ("xxx", "placeholder"),
        ("short-but-random-0123456789", "20 bytes of key material"),
        ("x" * 32, "repeats itself"),
        ("q" * 48, "repeats itself"),
        ("", "`cookie_secret` is not set"),
    ],
)
def test_a_weak_cookie_secret_stops_the_app_and_says_how_to_fix_it(real_db, secret, why):
    auth = {**AUTH, "cookie_secret": secret}
    at = run(auth, is_logged_in=True, email="hanne@stolav.no", email_verified=True)
    assert "will not start" in at.error[0].value and why in at.error[0].value
    assert any("secrets.token_urlsafe(48)" in block.value for block in at.code)
    assert "_actor" not in at.session_state or at.session_state["_actor"] is None
    assert not at.dataframe and not at.button and "Overview" not in texts(at)


def test_a_weak_cookie_secret_stops_even_the_sign_in_page(real_db):
    at = run({**AUTH, "cookie_secret": "a long random string"}, is_logged_in=False)
    assert "will not start" in at.error[0].value and not at.button


def test_a_secret_of_32_random_bytes_is_enough(real_db):
    auth = {**AUTH, "cookie_secret": secrets.token_urlsafe(32)}
    at = run(auth, is_logged_in=True, email="hanne@stolav.no", email_verified=True)
    assert "My work" in texts(at) and not at.error


def test_signing_out_refuses_a_copy_of_the_sign_in_cookie(real_db):
    signed_in = {"is_logged_in": True, "email": "hanne@stolav.no", "email_verified": True,
                 "iat": int(time.time()) - 5}  # fmt: skip
    at = run(AUTH, **signed_in)
    at.sidebar.button(key="_sign_out").click().run()
    # The cookie copied before the sign-out carries the same identity token: refused.
    again = run(AUTH, **signed_in)
    assert "You signed out after this sign-in" in again.error[0].value
    assert again.session_state["_actor"] is None
    fresh = run(AUTH, **(signed_in | {"iat": int(time.time()) + 1}))
    assert "My work" in texts(fresh) and not fresh.error


def test_the_readme_placeholder_secret_is_refused():
    text = README.read_text()
    start = text.index("[auth]")
    line = next(ln for ln in text[start:].splitlines() if ln.strip().startswith("cookie_secret"))
    placeholder = line.split("=", 1)[1].split("#")[0].strip().strip('"')
    auth = {**AUTH, "cookie_secret": placeholder}
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = auth
    at.user = {"is_logged_in": False}
    at.run()
    assert "will not start" in at.error[0].value
    assert "secrets.token_urlsafe(48)" in text and "rotate" in text.lower()


def test_sign_in_without_the_http_client_says_what_to_install(real_db, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "httpx" else find_spec(name)
    )
    at = run(AUTH, is_logged_in=False)
    assert "httpx" in at.error[0].value and "requirements.txt" in at.error[0].value
    assert not at.button


def test_the_requirements_install_the_http_client_authlib_needs():
    requirements = (README.parent / "requirements.txt").read_text().lower().split()
    assert any(line.startswith("httpx==") for line in requirements)
    assert any(line.startswith("authlib==") for line in requirements)
