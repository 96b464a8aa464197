"""Many people at once against the real server, as browsers talk to it: each simulated session
speaks Streamlit's WebSocket protocol (`/_stcore/stream`, BackMsg / ForwardMsg protobufs),
signs in with `?as=EMAIL`, and visits Overview, My work, Decisions, a decision, Approvals,
Readiness and Backlog in turn with a think time between pages, while a writer changes the data
through the services at a set rate. Prints p50 / p95 / max per page (from sending the rerun to
the script's end), the bytes a browser receives per page run (it holds the large elements it
has had, as Streamlit's browser does, so the server sends references to them), page runs per
second, server CPU per page run, errors, and checks that no write was lost; `--json PATH`
writes it all with the date, machine, load average and settings (benchmarks/capacity_table.py
makes the README's capacity table from such files).

    python benchmarks/bench_load.py --sessions 40 --think 2 --write-every 2 --processes 1
    python benchmarks/bench_load.py --sessions 100 --think 5 --write-every 1 --processes 2
    python benchmarks/bench_load.py --url http://127.0.0.1:8501 ...   # a server already running

With --processes 1 it starts `streamlit run streamlit_app.py` (the README's way); with more,
`scripts/serve --processes N` (HAProxy in front). The database is a private copy of the demo at
`--scale` (built once into /tmp/bench-s{scale}.db). Loopback only; every run is bounded by
--duration.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_pages import demo_database  # noqa: E402

from decisions import services, store  # noqa: E402
from decisions.store import decisions as decision_store  # noqa: E402

PAGES = ["overview", "my_work", "decisions", "decision", "approvals", "readiness", "backlog"]
PAGE_TIMEOUT = 120.0
WARM_UP = 20.0  # seconds: the first computations of every aggregate, sessions signing in
CACHED_MESSAGE_AGE = 2  # Streamlit's global.maxCachedMessageAge: runs a browser keeps one
TITLE = "Load benchmark change"


# -- the programme ------------------------------------------------------------------------------


def private_copy(source: Path, folder: Path) -> Path:
    target = folder / "decisions.db"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    store.connect(target).close()  # migrated before any server or the writer opens it
    return target


def people(db: Path, experts: int, managers: int) -> tuple[list[str], list[str], list[str]]:
    """Experts who sit in forums, managers, and decisions to open."""
    conn = store.connect(db, migrate=False)
    try:
        expert_emails = [r[0] for r in conn.execute(
            "SELECT m.expert FROM forum_members m JOIN experts e ON e.email = m.expert "
            "WHERE e.active = 1 GROUP BY m.expert ORDER BY count(*) DESC, m.expert LIMIT ?",
            (experts,))]  # fmt: skip
        manager_emails = [r[0] for r in conn.execute(
            "SELECT e.email FROM experts e JOIN expert_roles r ON r.expert = e.email "
            "WHERE r.role = 'manager' AND e.active = 1 ORDER BY e.email LIMIT ?",
            (managers,))]  # fmt: skip
        keys = [r[0] for r in conn.execute(
            "SELECT key FROM decisions WHERE stage != 'withdrawn' ORDER BY random() LIMIT 200")]  # fmt: skip
    finally:
        conn.close()
    return expert_emails, manager_emails, keys


# -- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers(
    db: Path, processes: int, log: Path, max_age: float | None, app_dir: Path = REPO
) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, "DECISIONS_DB": str(db)}
    if max_age is not None:
        env["DECISIONS_DASHBOARD_MAX_AGE"] = f"{max_age:g}"
    if processes == 1:
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                   "--server.port", str(port), "--server.address", "127.0.0.1",
                   "--server.headless", "true"]  # fmt: skip
    else:
        command = [sys.executable, str(app_dir / "scripts" / "serve"), "--processes", str(processes),
                   "--port", str(port), "--backend-port", str(free_port()), "--db", str(db)]  # fmt: skip
        if max_age is not None:
            command += ["--dashboard-max-age", f"{max_age:g}"]
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok" and (
                    processes == 1 or "serve: http://" in log.read_text(errors="replace")
                ):
                    return url, process
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become healthy in 300 s")


def cpu_seconds(group: int) -> float:
    """CPU seconds (user + system) used so far by the processes of the process group: a
    figure the other programs on a shared machine do not change much."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- one browser ---------------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.bytes: dict[str, list[int]] = defaultdict(list)  # received per page run
        self.starts: dict[str, list[float]] = defaultdict(list)  # when each run began
        self.began = time.monotonic()
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: list[str] = []
        self.cpu_before: float | None = None
        self.cpu_warm: float | None = None  # at WARM_UP s: the steady state's CPU from there
        self.cpu_after: float | None = None

    def error(self, page: str, message: str) -> None:
        self.errors[page] += 1
        if len(self.messages) < 10:
            self.messages.append(f"{page}: {message[:300]}")


class Browser:
    """One browser tab: the sticky cookie from loading the page, then one WebSocket."""

    def __init__(self, url: str, email: str, keys: list[str], results: Results):
        self.url, self.email, self.keys, self.results = url, email, keys, results
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.ws = None
        # As a browser does: the large elements it holds (hash -> run that last used it); the
        # server sends a reference in place of one it knows the browser has.
        self.cached: dict[str, int] = {}
        self.runs = 0

    def _cookie(self) -> str:
        with urllib.request.urlopen(f"{self.url}/?as={self.email}", timeout=30) as reply:
            reply.read()
            cookies = reply.headers.get_all("Set-Cookie") or []
        return "; ".join(c.split(";", 1)[0] for c in cookies)

    async def connect(self) -> None:
        cookie = await asyncio.to_thread(self._cookie)
        headers = {"Origin": self.url, **({"Cookie": cookie} if cookie else {})}
        self.ws = await websockets.connect(
            self.url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers=headers,
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )

    async def run(self, page: str) -> None:
        """Ask for `page` as a click on its link would, and wait for the run to end."""
        back = BackMsg()
        state = back.rerun_script
        query = f"as={self.email}"
        page_path = "overview" if page == "sign_in" else page
        if page_path == "decision":
            query += f"&key={random.choice(self.keys)}"
        state.query_string = query
        state.cached_message_hashes.extend(
            h for h, run in self.cached.items() if self.runs - run <= CACHED_MESSAGE_AGE
        )
        path = "" if page_path == "overview" else page_path
        if self.pages:
            state.page_script_hash = self.pages.get(path, "")
            state.page_name = path
        started = time.monotonic()
        await self.ws.send(back.SerializeToString())
        failed = None
        received = 0
        while True:
            data = await asyncio.wait_for(self.ws.recv(), PAGE_TIMEOUT)
            received += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":
                self.cached[msg.ref_hash] = self.runs
            elif msg.metadata.cacheable:
                self.cached[msg.hash] = self.runs
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                for p in msg.navigation.app_pages:
                    if p.is_default:
                        self.pages[""] = p.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "heading" and os.environ.get("BENCH_DEBUG"):
                    print(page, "->", element.heading.body, file=sys.stderr)
                if element.WhichOneof("type") == "exception":
                    failed = f"{element.exception.type}: {element.exception.message}"
                elif element.WhichOneof("type") == "alert" and "locked" in element.alert.body:
                    failed = element.alert.body
            elif kind == "script_finished":
                self.runs += 1
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun or switch_page: the next run follows
                break
        if failed:
            self.results.error(page, failed)
        else:
            self.results.times[page].append(time.monotonic() - started)
            self.results.starts[page].append(started - self.results.began)
            self.results.bytes[page].append(received)


async def session(url, email, keys, think, until, results, start_delay) -> None:
    await asyncio.sleep(start_delay)
    browser = Browser(url, email, keys, results)
    try:
        await browser.connect()
        await browser.run("sign_in")  # the first load (Overview), signing in from ?as=
        order = PAGES[1:] + PAGES[:1]
        i = random.randrange(len(order))  # browsers are not in step with each other
        while time.monotonic() < until:
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)
            if time.monotonic() >= until:
                break
            page = order[i % len(order)]
            i += 1
            await browser.run("decisions" if page == "decisions" else page)
    except Exception as error:
        results.error("connection", f"{type(error).__name__}: {error}")
    finally:
        if browser.ws is not None:
            await browser.ws.close()


# -- the writer ---------------------------------------------------------------------------------


class Writer(threading.Thread):
    """One change through the services every `every` seconds (a new proposal, as an analyst);
    counts what it wrote and what was refused."""

    def __init__(self, db: Path, every: float, until: float):
        super().__init__(daemon=True)
        self.db, self.every, self.until = db, every, until
        self.written = 0
        self.failed: list[str] = []

    def run(self) -> None:
        conn = store.connect(self.db, migrate=False)
        try:
            analyst = store.scalar(conn, "SELECT r.expert FROM expert_roles r JOIN experts e "
                                   "ON e.email = r.expert WHERE r.role = 'analyst' AND "
                                   "e.active = 1 ORDER BY r.expert LIMIT 1")  # fmt: skip
            actor = decision_store.load_actor(conn, analyst)
            template = dict(conn.execute(
                "SELECT domain, module, forum, scope, criticality, key FROM decisions d "
                "WHERE module IS NOT NULL AND EXISTS (SELECT 1 FROM decision_organizations o "
                "WHERE o.decision = d.key) LIMIT 1").fetchone())  # fmt: skip
            organizations = [r[0] for r in conn.execute(
                "SELECT organization FROM decision_organizations WHERE decision = ?",
                (template.pop("key"),))]  # fmt: skip
            next_at = time.monotonic()
            while time.monotonic() < self.until:
                try:
                    services.create_decision(conn, actor, {
                        **template, "organizations": organizations,
                        "title": f"{TITLE} {self.written + 1}"})  # fmt: skip
                    self.written += 1
                except Exception as error:
                    self.failed.append(f"{type(error).__name__}: {error}")
                next_at += self.every
                time.sleep(max(next_at - time.monotonic(), 0))
        finally:
            conn.close()

    def lost(self) -> int:
        conn = store.connect(self.db, migrate=False)
        try:
            stored = store.scalar(
                conn, "SELECT count(*) FROM decisions WHERE title LIKE ?", (f"{TITLE} %",)
            )
        finally:
            conn.close()
        return self.written - stored


# -- the run ------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(fraction * (len(ordered) - 1))), len(ordered) - 1)]


async def drive(url, args, db, group: int | None) -> tuple[Results, Writer, float]:
    experts, managers, keys = people(db, args.sessions, args.sessions)
    n_managers = max(1, round(args.sessions * args.managers))
    emails = [managers[i % len(managers)] for i in range(n_managers)]
    emails += [experts[i % len(experts)] for i in range(args.sessions - n_managers)]
    results = Results()
    ramp = min(args.think * 2, 10.0)
    started = results.began = time.monotonic()
    results.cpu_before = cpu_seconds(group) if group else None
    until = started + args.duration
    writer = Writer(db, args.write_every, until) if args.write_every > 0 else None
    if writer:
        writer.start()
    warm = asyncio.create_task(cpu_after_warm_up(results, group)) if group else None
    await asyncio.gather(*[
        session(url, email, keys, args.think, until, results, ramp * i / len(emails))
        for i, email in enumerate(emails)])  # fmt: skip
    if warm is not None:
        warm.cancel()
    elapsed = time.monotonic() - started
    results.cpu_after = cpu_seconds(group) if group else None
    if writer:
        writer.join(timeout=30)
    return results, writer, elapsed


async def cpu_after_warm_up(results: Results, group: int) -> None:
    await asyncio.sleep(WARM_UP)
    results.cpu_warm = cpu_seconds(group)


def page_figures(times: list[float], sizes: list[int], errors: int) -> dict:
    figures = {"runs": len(times), "errors": errors}
    if times:
        figures |= {
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "max": max(times),
            "bytes": statistics.mean(sizes),
        }
    return figures


def after_warm_up(results: Results) -> dict:
    """p95 per page and of all pages over the runs that began after the first WARM_UP s."""
    warm = {page: [t for t, began in zip(results.times.get(page, []), results.starts[page],
                                         strict=True) if began >= WARM_UP]
            for page in PAGES}  # fmt: skip
    every = [t for times in warm.values() for t in times]
    figures = {page: percentile(times, 0.95) for page, times in warm.items() if times}
    return {"pages": figures, "all": percentile(every, 0.95) if every else None,
            "runs": len(every)}  # fmt: skip


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())  # fmt: skip
    return {"cores": os.cpu_count(), "cpu": model, "system": platform.platform(terse=True)}


def result(args, results: Results, writer: Writer | None, elapsed: float, load) -> dict:
    """Everything the run measured and how, as the JSON that benchmarks/capacity_table.py
    turns into the README's capacity table."""
    pages = {}
    steady_times, steady_bytes = [], []
    for page in [*PAGES, "sign_in", "connection"]:
        times, sizes = results.times.get(page, []), results.bytes.get(page, [])
        if times or results.errors.get(page):
            pages[page] = page_figures(times, sizes, results.errors.get(page, 0))
        if page in PAGES:
            steady_times += times
            steady_bytes += sizes
    runs = sum(len(t) for t in results.times.values())
    used = None if results.cpu_before is None else results.cpu_after - results.cpu_before
    steady = None if results.cpu_warm is None else results.cpu_after - results.cpu_warm
    steady_runs = sum(began >= WARM_UP for starts in results.starts.values() for began in starts)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load": {"start": load[0], "end": load[1]},
        "settings": {
            "sessions": args.sessions, "managers": args.managers, "think": args.think,
            "write_every": args.write_every, "scale": args.scale, "processes": args.processes,
            "duration": args.duration, "dashboard_max_age": args.dashboard_max_age,
            "app_dir": str(args.app_dir), "commit": commit(args.app_dir),
            # DECISIONS_AGGREGATE_WORKER=0 in the benchmark's environment reaches the server
            "aggregate_worker": os.environ.get("DECISIONS_AGGREGATE_WORKER", "1").strip() != "0",
        },  # fmt: skip
        "elapsed": elapsed,
        "pages": pages,
        "all": page_figures(steady_times, steady_bytes, sum(results.errors.values())),
        "warm_up": WARM_UP,
        "after_warm_up": after_warm_up(results),
        "runs_per_second": runs / elapsed,
        "server_cpu": None if used is None else {
            "seconds": used, "per_run": used / max(runs, 1),
            # without the start (imports, first computations, sign-ins): what a run costs
            "per_run_after_warm_up": None if steady is None else steady / max(steady_runs, 1)},
        "writes": None if writer is None else {
            "done": writer.written, "refused": len(writer.failed), "lost": writer.lost()},
    }  # fmt: skip


def commit(app_dir: Path) -> str | None:
    done = subprocess.run(["git", "-C", str(app_dir), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or None


def report(args, measured: dict, results: Results, writer: Writer | None) -> None:
    max_age = "default" if args.dashboard_max_age is None else f"{args.dashboard_max_age:g} s"
    print(f"\n{args.sessions} sessions ({args.managers:.0%} managers), think {args.think:g} s, "
          f"{'no writes' if not writer else f'one change every {args.write_every:g} s'}, "
          f"scale {args.scale:g}, {args.processes} process(es), dashboards' max age {max_age}, "
          f"{measured['elapsed']:.0f} s, load {measured['load']['start']:.1f} -> "
          f"{measured['load']['end']:.1f}")  # fmt: skip
    print(f"{'page':<12} {'runs':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'errors':>7} "
          f"{'kB/run':>8}")  # fmt: skip
    rows = [*measured["pages"].items(), ("all pages", measured["all"])]
    for page, figures in rows:
        if figures["runs"]:
            print(f"{page:<12} {figures['runs']:>6} {figures['p50']:>7.2f} {figures['p95']:>7.2f} "
                  f"{figures['max']:>7.2f} {figures['errors']:>7} {figures['bytes'] / 1000:>8.1f}")  # fmt: skip
        else:
            print(f"{page:<12} {0:>6} {'':>7} {'':>7} {'':>7} {figures['errors']:>7}")
    warm = measured["after_warm_up"]
    if warm["all"] is not None:
        print(f"after the first {WARM_UP:g} s ({warm['runs']} runs): p95 {warm['all']:.2f} s; "
              + ", ".join(f"{page} {p95:.2f}" for page, p95 in warm["pages"].items()))  # fmt: skip
    print(f"throughput: {measured['runs_per_second']:.1f} page runs/s ('all pages' leaves the "
          "sign-in out)")  # fmt: skip
    if measured["server_cpu"]:
        used, elapsed = measured["server_cpu"]["seconds"], measured["elapsed"]
        print(f"server CPU: {used:.0f} s in {elapsed:.0f} s ({used / elapsed:.2f} cores), "
              f"{measured['server_cpu']['per_run']:.3f} s per page run")  # fmt: skip
        steady = measured["server_cpu"]["per_run_after_warm_up"]
        if steady is not None:
            print(f"server CPU after the first {WARM_UP:g} s: {steady:.3f} s per page run")
    print(f"benchmark's own CPU: {time.process_time():.0f} s (simulated browsers and writer)")
    if writer:
        print(f"writes: {writer.written} done, {len(writer.failed)} refused, "
              f"{measured['writes']['lost']} lost")  # fmt: skip
        for message in writer.failed[:5]:
            print(f"  write failed: {message}")
    for message in results.messages:
        print(f"  error: {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between pages")
    parser.add_argument("--write-every", type=float, default=2.0, help="0: no writes")
    parser.add_argument("--managers", type=float, default=0.2, help="share of managers")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument(
        "--dashboard-max-age", type=float, help="seconds; without it, the app's default"
    )
    parser.add_argument("--json", type=Path, help="write the figures and settings here")
    parser.add_argument("--url", help="a server already running on the database --db")
    parser.add_argument("--db", type=Path, help="with --url: the database it serves")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--app-dir", type=Path, default=REPO, help="run the app from this checkout (before/after)"
    )
    args = parser.parse_args()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        if args.url:
            if not args.db:
                parser.error("--url needs --db (the writer writes to it)")
            url, db, process = args.url.rstrip("/"), args.db, None
        else:
            db = private_copy(demo_database(args.scale), Path(folder))
            log = Path(folder) / "server.log"
            url, process = start_servers(
                db, args.processes, log, args.dashboard_max_age, args.app_dir
            )
        load_before = os.getloadavg()[0]
        try:
            results, writer, elapsed = asyncio.run(
                drive(url, args, db, process.pid if process else None)
            )
        finally:
            if process is not None:
                stop(process)
                server_log = log.read_text(errors="replace")
                if "database is locked" in server_log:
                    print("the server's log says: database is locked")
                if os.environ.get("BENCH_KEEP_LOG"):
                    shutil.copy(log, os.environ["BENCH_KEEP_LOG"])
        measured = result(args, results, writer, elapsed, (load_before, os.getloadavg()[0]))
        report(args, measured, results, writer)
        if args.json:
            args.json.write_text(json.dumps(measured, indent=2) + "\n")


if __name__ == "__main__":
    main()
