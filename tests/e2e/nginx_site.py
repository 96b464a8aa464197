"""Debian's nginx serving a published log with the README's server block, on a free port: for
the browser test of the published log and for benchmarks/bench_publish.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import REPO, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def readme_server_block(root: Path, port: int) -> str:
    """The README's nginx server block, listening on `port` and serving `root`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)
    block = re.sub(r"listen [^;]+;", f"listen 127.0.0.1:{port};", block, count=1)
    return re.sub(r"root [^;]+;", f"root {root};", block, count=1)


class NginxSite:
    """nginx in the foreground in its own process group, its files under `prefix`; `workers`
    worker processes."""

    def __init__(self, root: Path, prefix: Path, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers read a private tmp
        config = prefix / "nginx.conf"
        config.write_text(
            f"""{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {readme_server_block(root, self.port)}
}}
"""
        )
        self.process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip

    def wait_serving(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).close()
                return self.url
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    error = self.process.stderr.read().decode()
                    raise RuntimeError(f"nginx did not start: {error}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
