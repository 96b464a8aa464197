"""The published decision log served by Debian's nginx with the README's server block, read in
headless Chromium: the search forgives a missing ø, a decision page shows its versions, every
kind of page passes axe-core's WCAG 2.1 AA rules, and nginx compresses and sets cache headers."""

from __future__ import annotations

import gzip
import re
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import store
from decisions.publish import publish
from tests.e2e.nginx_site import NGINX, NginxSite


@pytest.fixture(scope="module")
def published_site(tmp_path_factory, demo_db) -> Path:
    """The small demo published (from a copy: publishing refreshes its readiness_now)."""
    folder = tmp_path_factory.mktemp("published")
    source, copy = sqlite3.connect(demo_db), sqlite3.connect(folder / "decisions.db")
    source.backup(copy)
    source.close()
    copy.close()
    conn = store.connect(folder / "decisions.db")
    try:
        publish(conn, folder / "site")
    finally:
        conn.close()
    return folder / "site"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, published_site) -> str:
    if not Path(NGINX).exists():
        pytest.fail("the published log's test needs Debian's nginx (apt-get install nginx)")
    site = NginxSite(published_site, tmp_path_factory.mktemp("nginx"))
    yield site.wait_serving()
    site.stop()


def _a_revised_decision(db: Path) -> str:
    conn = store.connect(db)
    try:
        return store.scalar(
            conn, "SELECT key FROM decisions WHERE version >= 2 AND stage <> 'withdrawn' "
            "AND decided_at IS NOT NULL ORDER BY key LIMIT 1",
        )  # fmt: skip
    finally:
        conn.close()


def test_searching_soknad_finds_soknad_with_its_o_slashed(page, nginx):
    page.goto(f"{nginx}/")
    page.get_by_label("Søk i beslutningene").fill("soknad")
    page.get_by_role("button", name="Søk").click()
    expect(page).to_have_url(re.compile(r"/sok/\?q=soknad$"))
    results = page.locator("#search-list li a")
    expect(results.first).to_contain_text("søknad")
    expect(page.get_by_role("status")).to_contain_text("funnet")
    results.first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("søknad")


def test_many_hits_are_shown_twenty_at_a_time(page, nginx):
    page.goto(f"{nginx}/sok/?q=hvordan")
    expect(page.get_by_role("status")).to_contain_text("funnet")
    expect(page.locator("#search-list li")).to_have_count(20)
    page.get_by_role("button", name="Vis flere").click()
    expect(page.locator("#search-list li")).to_have_count(40)


def test_a_decision_page_shows_its_versions(page, nginx, demo_db):
    key = _a_revised_decision(demo_db)
    page.goto(f"{nginx}/beslutning/{key}")  # without the slash: nginx redirects to the folder
    expect(page.get_by_role("heading", name="Versjoner")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Versjon 2, fra \d\d\.\d\d\.\d{4}$"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Versjon 1, besluttet "))).to_be_visible()
    expect(page.get_by_text("Hvorfor").first).to_be_visible()


@pytest.mark.parametrize(
    "path", ["/", "/sok/?q=blodprove", "/fagomrade/", "/bolge/W2/", "/tilgjengelighet/", "REVISED"]
)
def test_every_kind_of_page_meets_wcag_2_1_aa(page, nginx, demo_db, path, accessibility_violations):
    if path == "REVISED":
        path = f"/beslutning/{_a_revised_decision(demo_db)}/"
    page.goto(nginx + path)
    if "?q=" in path:
        expect(page.get_by_role("status")).to_contain_text("funnet")
    assert accessibility_violations(page) == []


def test_nginx_compresses_and_sets_cache_headers(nginx, published_site):
    def get(path: str) -> tuple[dict, bytes]:
        request = urllib.request.Request(nginx + path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as reply:
            return dict(reply.headers), reply.read()

    headers, body = get("/")
    assert headers["Content-Encoding"] == "gzip" and b"<html" in gzip.decompress(body)
    assert headers["Cache-Control"] == "public, max-age=300"
    fragment = next((published_site / "pagefind" / "fragment").iterdir()).name
    headers, _ = get(f"/pagefind/fragment/{fragment}")
    assert "immutable" in headers["Cache-Control"]
    meta = next((published_site / "pagefind").glob("*.pf_meta")).name
    assert "immutable" in get(f"/pagefind/{meta}")[0]["Cache-Control"]
    with pytest.raises(urllib.error.HTTPError) as hidden:
        get("/.published.json")
    assert hidden.value.code == 404
