"""Two Streamlit processes behind HAProxy, started by `scripts/serve`: a manager signs in
through the proxy, goes across pages and imports an upload on the Data page; every request of
the session (page, WebSocket, upload) reaches the one process the proxy's cookie names, the
proxy adds the security headers, and a second browser is sent to the other process. The proxy
does not serve Streamlit's metrics and logs no query string (no ?as=EMAIL). A process killed
mid-session is restarted by the supervisor while its browser carries on with the other one."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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
STARTED = re.compile(r"^serve: process on 127\.0\.0\.1:(\d+) started, pid (\d+)$", re.M)


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
    # The sign-in's ?as=EMAIL (and any other query string) stays out of the log.
    assert manager not in log.read_text(errors="replace")
    assert not [line for *_, line in rows if "?" in line], rows


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:  # not listening yet: a restarted process is still starting
        return 0


def test_the_proxy_does_not_serve_streamlits_metrics(proxy):
    url, log = proxy
    backend = int(STARTED.findall(log.read_text(errors="replace"))[0][0])
    assert status_of(f"http://127.0.0.1:{backend}/_stcore/metrics") == 200  # the process has it
    for path in ("/_stcore/metrics", "//_stcore//metrics", "/_stcore/%6Detrics",
                 "/x/../_stcore/metrics", "/_STCORE/metrics?x=1"):  # fmt: skip
        assert status_of(f"{url}{path}") == 404, path
    assert status_of(f"{url}/_stcore/health") == 200


def pid_on(log: Path, port: int) -> int:
    """The pid of the process the supervisor started last on `port`."""
    return [int(pid) for at, pid in STARTED.findall(log.read_text(errors="replace"))
            if int(at) == port][-1]  # fmt: skip


def test_a_process_killed_mid_session_is_restarted_and_the_browser_carries_on(
    proxy, demo_db_copy, page, wait_idle
):
    url, log = proxy
    ports = sorted({int(port) for port, _ in STARTED.findall(log.read_text(errors="replace"))})
    manager = a_manager(demo_db_copy)
    page.goto(f"{url}/?as={manager}")
    wait_idle(page)
    go_to(page, wait_idle, "Readiness")
    serving = {c["name"]: c for c in page.context.cookies()}[COOKIE]["value"]
    port = ports[int(serving.removeprefix("app")) - 1]
    killed = pid_on(log, port)

    assert parse_qs(urlsplit(page.url).query)["as"] == [manager]  # what a new session reads
    with page.expect_websocket(timeout=60_000) as reconnected:
        os.kill(killed, signal.SIGKILL)
    # The page's WebSocket broke; the browser opened a new one through the proxy, which sent it
    # to the other process (and says so in its cookie). The person goes on to other pages: the
    # new session there takes up their sign-in.
    assert "/_stcore/stream" in reconnected.value.url
    wait_idle(page)
    assert {c["name"]: c for c in page.context.cookies()}[COOKIE]["value"] != serving
    for name in ("Backlog", "Overview"):
        go_to(page, wait_idle, name)
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")).to_be_visible()

    # The supervisor starts the killed process again on its port, and the proxy takes it back.
    deadline = time.monotonic() + 120
    while not (
        pid_on(log, port) != killed and status_of(f"http://127.0.0.1:{port}/_stcore/health") == 200
    ):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    text = log.read_text(errors="replace")
    assert f"serve: process on 127.0.0.1:{port} exited (-9); restarting it" in text
    assert "stopping" not in text
    go_to(page, wait_idle, "Approvals")
