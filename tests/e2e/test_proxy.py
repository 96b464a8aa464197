"""Two Streamlit processes behind HAProxy, started by `scripts/serve`: a manager signs in
through the proxy, goes across pages and imports an upload on the Data page; every request of
the session (page, WebSocket, upload) reaches the one process the proxy's cookie names, the
proxy adds the security headers, and a second browser is sent to the other process."""

from __future__ import annotations

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

from tests.e2e.conftest import REPO, free_port
from tests.e2e.test_data_journey import CSV, a_manager, organization

pytestmark = pytest.mark.e2e

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
COOKIE = "DECISIONS_BACKEND"
LOG_LINE = re.compile(
    r"^haproxy backend=(\S+) cookie=(\S+) status=(\d+) time_ms=\S+ request=\"(.*)\"$"
)


@pytest.fixture
def proxy(demo_db_copy, tmp_path):
    """(url, log path) of `scripts/serve --processes 2` on a private demo database."""
    if not Path(HAPROXY).exists():
        pytest.fail("the proxy test needs HAProxy: apt-get install -y haproxy")
    port = free_port()
    backend = free_port()  # the processes take this port and the next
    log = tmp_path / "serve.log"
    command = [
        str(REPO / "scripts" / "serve"), "--processes", "2", "--port", str(port),
        "--backend-port", str(backend), "--db", str(demo_db_copy),
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            if "serve: http://" in log.read_text(errors="replace"):
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.read().strip() == b"ok":
                            break
                except OSError:
                    pass
            time.sleep(0.3)
        yield url, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def requests_logged(log: Path) -> list[tuple[str, str, int, str]]:
    """(process, sticky cookie sent, status, request line) for every request the proxy logged."""
    rows = []
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(line.strip())
        if match:
            rows.append((match[1], match[2], int(match[3]), match[4]))
    return rows


def go_to(page, wait_idle, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=name).first).to_be_visible()


def test_a_journey_through_the_proxy_stays_on_one_process(
    proxy, demo_db_copy, browser, page, wait_idle, tmp_path
):
    url, log = proxy
    manager = a_manager(demo_db_copy)
    first = page.goto(f"{url}/?as={manager}")
    assert first.headers["x-frame-options"] == "DENY"
    assert first.headers["x-content-type-options"] == "nosniff"
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")).to_be_visible()
    sticky = {c["name"]: c for c in page.context.cookies()}[COOKIE]
    assert sticky["httpOnly"] and sticky["value"] in {"app1", "app2"}

    for name in ("Readiness", "Backlog", "Approvals", "Overview"):
        go_to(page, wait_idle, name)
    go_to(page, wait_idle, "Data")
    upload = tmp_path / "organizations.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    expect(page.get_by_test_id("stMetric").filter(has_text="New")).to_contain_text("2")
    wait_idle(page)
    page.get_by_role("button", name="Import 3 changed row(s)").click()
    expect(page.get_by_text("Imported organizations.csv: 2 new, 1 updated.")).to_be_visible()
    wait_idle(page)
    assert organization(demo_db_copy, "E2E1") == "Frøya kommune"

    # A second browser (no cookie yet) is sent to the other process, and sticks there.
    other = browser.new_context()
    try:
        second = other.new_page()
        second.goto(f"{url}/?as={manager}")
        wait_idle(second)
        other_sticky = {c["name"]: c for c in other.cookies()}[COOKIE]["value"]
        assert other_sticky != sticky["value"]
    finally:
        other.close()
    page.context.close()  # the WebSockets end, so the proxy logs them
    time.sleep(1.0)

    rows = requests_logged(log)
    ours = [row for row in rows if row[1] == sticky["value"]]
    assert {process for process, *_ in ours} == {sticky["value"]}, ours
    lines = [request for *_, request in ours]
    assert any("/_stcore/stream" in line for line in lines), lines
    assert any(line.startswith("PUT /_stcore/upload_file/") for line in lines), lines
    assert all(status < 400 or status == 101 for _, _, status, _ in ours), ours
    assert not [row for row in rows if row[2] >= 500], rows
    assert "database is locked" not in log.read_text(errors="replace")
