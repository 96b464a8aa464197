"""Every page on a programme as a new customer first sees it: `python -m decisions init`, then
the first administrator imported from a file, then single sign-on. No waves, no decisions, no
evidence yet; each page must render and say so, not crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_core import COOKIE_SECRET

from decisions import readiness
from decisions.standing import approved_share

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")
TIMEOUT = 60
ADMIN = "first.admin@hospital.example"
AUTH = {
    "client_id": "decisions",
    "client_secret": "not-used-by-apptest",
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": COOKIE_SECRET,
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}
PAGES = sorted(f"pages/{path.name}" for path in (REPO / "pages").glob("*.py"))


def decisions_cli(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "decisions", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def empty_programme(tmp_path_factory) -> Path:
    """A freshly initialised database with one organisation and its first administrator."""
    folder = tmp_path_factory.mktemp("empty")
    db = folder / "programme.db"
    decisions_cli("init", "--db", str(db))
    (folder / "organizations.csv").write_text("code,name,kind\nHOS,The Hospital,hospital\n")
    (folder / "experts.csv").write_text(
        f"email,name,organization,domains,roles,allocation_pct\n{ADMIN},First Admin,HOS,,admin,10\n"
    )
    decisions_cli("import", "--db", str(db), "organizations", str(folder / "organizations.csv"))
    decisions_cli("import", "--db", str(db), "experts", str(folder / "experts.csv"))
    return db


@pytest.mark.parametrize("page", PAGES, ids=lambda p: Path(p).stem)
def test_every_page_renders_on_a_freshly_initialised_programme(empty_programme, monkeypatch, page):
    monkeypatch.setenv("DECISIONS_DB", str(empty_programme))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": ADMIN, "email_verified": True}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["_actor"].email == ADMIN
    at.switch_page(str(page)).run()
    assert not at.exception, f"{Path(page).name}: {at.exception}"
    assert not at.error, f"{Path(page).name}: {[e.value for e in at.error]}"


def test_the_approved_share_of_no_waves_is_empty():
    # An empty frame's boolean mask is of object dtype, which pandas reads as column labels.
    assert approved_share(readiness.stages_per_wave([])) == {}


def test_the_overview_of_an_empty_programme_says_there_is_nothing_yet(empty_programme, monkeypatch):
    monkeypatch.setenv("DECISIONS_DB", str(empty_programme))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": ADMIN, "email_verified": True}
    at.run()
    shown = [m.value for m in at.markdown]
    assert "No wave is planned after today." in shown
    assert "No decisions in any wave's scope yet." in shown
    assert any(m.startswith("No decisions yet") for m in shown)  # not a chart of zeros
    assert not at.get("vega_lite_chart")
