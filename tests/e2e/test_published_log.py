"""The published decision log served by Debian's nginx with the README's server block, read in
headless Chromium: the search forgives a missing ø, a decision page shows its versions, every
kind of page passes axe-core's WCAG 2.1 AA rules, and nginx compresses and sets cache headers."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from decisions import store
from decisions.publish import publish
from tests.e2e.conftest import REPO, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def readme_server_block(root: Path, port: int) -> str:
    """The README's nginx server block, listening on `port` and serving `root`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)
    block = re.sub(r"listen [^;]+;", f"listen 127.0.0.1:{port};", block, count=1)
    return re.sub(r"root [^;]+;", f"root {root};", block, count=1)


@pytest.fixture(scope="module")
def published_site(tmp_path_factory, demo_db) -> Path:
    out = tmp_path_factory.mktemp("published") / "site"
    conn = store.connect(demo_db)
    try:
        publish(conn, out)
    finally:
        conn.close()
    return out


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, published_site) -> str:
    if not Path(NGINX).exists():
        pytest.fail("the published log's test needs Debian's nginx (apt-get install nginx)")
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's private tmp
    (prefix / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {readme_server_block(published_site, port)}
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode()
                raise RuntimeError(f"nginx did not start: {error}") from None
            time.sleep(0.1)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


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


def test_a_decision_page_shows_its_versions(page, nginx, demo_db):
    key = _a_revised_decision(demo_db)
    page.goto(f"{nginx}/beslutning/{key}")  # without the slash: nginx redirects to the folder
    expect(page.get_by_role("heading", name="Versjoner")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Versjon 2, fra \d\d\.\d\d\.\d{4}$"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Versjon 1, besluttet "))).to_be_visible()
    expect(page.get_by_text("Hvorfor").first).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/sok/?q=blodprove", "/fagomrade/", "/bolge/W2/", "REVISED"])
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
    with pytest.raises(urllib.error.HTTPError) as hidden:
        get("/.published.json")
    assert hidden.value.code == 404
