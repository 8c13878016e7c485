"""The dashboard served for a browser: `streamlit run app.py` on a store and a free port, stopped afterwards.

One way to start it for the browser tests, the README screenshots and the load benchmark: the server's own
process (its pid is the Popen's), its output in a log file that a failure to start quotes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServerDidNotStart(RuntimeError):
    """Streamlit exited or did not answer its health check in time (the message holds its log)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


@contextmanager
def dashboard(store: Path, log_path: Path, *, timeout: float = 60.0) -> Iterator[str]:
    """Yield the URL of `streamlit run app.py` serving `store`; stop the server when the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "SAFETY_DB": str(store)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServerDidNotStart(f"streamlit did not start on {url} (exit {server.poll()}):\n"
                                        f"{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
