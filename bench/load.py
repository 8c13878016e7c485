#!/usr/bin/env python
"""Load test (issue: "N real browser sessions against the served app while one upload runs"):
`.venv/bin/python bench/load.py [--sessions 30] [--port 8599] [--db PATH] [--scale demo|500]
[--warm-profiles | --cache warm cold] [--pin]`.

Not a timed test: a measurement, printed as Markdown and written to bench/LOAD.md.

1. The store: a copy, in a temporary folder, of the demo store ending 2026-10 (built once and cached as
   bench/pages.py does, `$TMPDIR/safety-bench/`), of the 500-unit store of bench/common.py with `--scale 500`
   (also cached; its first build takes a few minutes), or of `--db PATH`. The copy is what the upload writes
   to; the original is never touched. Only a demo store opens signed in: on any other store the app asks
   for a sign-in, which this script does not do, so it stops with that message.
2. The server: `streamlit run app.py` on that copy (SAFETY_DB), started as its own process on --port and
   stopped by its pid. One untimed visit of the overview first (module imports, the store's set-up and the
   default view's data cache, as on a server that has been running for a while; `--no-warmup` skips it),
   then one timed visit of a session alone, for reference (`--no-solo` skips it).
3. The sessions: one Chromium (/usr/bin/chromium, never downloaded; run at `--browser-nice`, default 10),
   one browser context per session (its own cookies, HTTP cache and Streamlit session), all N started at
   once with asyncio (`--ramp S` spreads the starts over S seconds). That is the cold mode (`--cache cold`,
   the default): every session a first-time visitor whose browser fetches and compiles Streamlit's 7 MiB of
   JavaScript. `--warm-profiles` (= `--cache warm`) makes them returning users instead: one persistent
   Chromium profile visits the app three times (so that its HTTP cache holds the bundles and V8's code
   cache their compiled code) and is closed; a copy of it is opened by one Chromium (launch_persistent_context)
   before the timed start (a returning user's browser is already open), and each session opens a new tab
   in it (its own renderer, websocket and Streamlit session). `--browser-per-session` gives each session its
   own copy and Chromium process instead. `--cache warm cold` runs both modes, one column each. Each session:
   a. first load: opens "/" and waits until the overview is complete: the title, the caption of the month
      (2026年10月 · …), 10 headline metrics, both Plotly charts drawn, the month published in the address
      (the script's last step), no "running" status widget and no stale element;
   b. rerun: picks 2026年9月 in the sidebar's 统计月份 box and waits until the same holds for September.
   A session succeeds if both finish within --timeout with no exception box and no error alert (the red
   veto banners of the overview, "一票否决…", are content, not errors). Contexts stay open until every
   session is done (N really concurrent sessions), then close.
4. The upload, in one more context started --upload-delay seconds after the sessions: opens /upload, puts a
   small CSV (month,subsidiary,indicator,value: 2026-09 for the first unit, four indicators, each value the
   stored one + 1, so the check finds changes) into the file uploader, waits for "校验通过", presses
   "确认提交" and waits for "已提交". Afterwards the store is read to confirm the four values were written.
5. Memory: the server's VmRSS (/proc/<pid>/status) before the sessions, sampled every 0.5 s during them
   (peak), and after they closed (+ --settle s); VmHWM as the kernel's own peak. CPU: the server's user +
   system time, and that of this script's other descendants (Playwright's driver and Chromium, which share
   the machine's cores with the server); the server's run-queue wait (schedstat); the server's side of each
   load read off the websocket frames (DevTools timestamps), and the Streamlit session id each websocket
   was given (so that N sessions are shown to be N Streamlit sessions, whatever their profiles share).
6. `--pin`: the server runs on CPU 0 (`taskset -c 0`) and this script with everything it starts
   (Playwright's node driver, Chromium) on CPU 1 (os.sched_setaffinity, inherited), so that the browsers
   cannot take the server's core: the server-side times are then the app's, and the end-to-end times
   those of N browsers sharing one core. The CPUs each process may use are read back from /proc and
   reported, with each core's busy share (CPU 0's time not used by the server is other processes').
7. `--run-limit S` (default 600): sessions not done S seconds after the start are stopped and counted as
   failures, so that no column runs longer than that.

Times are from the browser's side (time.perf_counter around Playwright calls; readiness polled every
100 ms, so they are up to 0.1 s late). Percentiles interpolate linearly between ranks (numpy's default).
`--sessions 10 30` runs each count in turn, each on a fresh store copy and a fresh server, into one report.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import ViewportSize, async_playwright
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

RESULTS = Path(__file__).resolve().parent / "LOAD.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
POLL_MS = 100
MAIN = "[data-testid='stMain']"
SIDEBAR = "[data-testid='stSidebar']"
OVERVIEW_TITLE = "集团安全生产指标看板"
UPLOAD_TITLE = "上传数据"
FIRST_MONTH, FIRST_LABEL = "2026-10", "2026年10月"
RERUN_MONTH, RERUN_LABEL = "2026-09", "2026年9月"
SOLO_MONTH, SOLO_LABEL = "2026-08", "2026年8月"  # the solo visit's rerun: leaves 2026-09 out of the cache
UPLOAD_MONTH = date(2026, 9, 1)
UPLOAD_INDICATORS = ("injuries", "hazards_found", "hazards_rectified", "training_hours")
AIM = {"sessions": 30, "success": 1.0, "first_p95": 5.0, "rerun_p95": 2.0}
CORES = sorted(os.sched_getaffinity(0))  # before --pin narrows this process to one of them
SERVER_CPU, BROWSER_CPU = 0, 1  # --pin
TEMPLATE_VISITS = 3  # V8 keeps a script's compiled code from its second run on and uses it from the third
PROFILE_SKIP = shutil.ignore_patterns("Singleton*", "DevToolsActivePort", "lockfile", "LOCK", "*.lock",
                                      "Crashpad", "BrowserMetrics*")

# The server, as `streamlit run` (the console script's own entry point), with two of Streamlit's runtime methods
# wrapped to note, on the server's event loop, when a session's run request arrives and when its script_finished
# is handed to the websocket: the server's side of a load in its own clock (CLOCK_MONOTONIC, the clock of this
# script's time.perf_counter too), whatever the browsers are doing. One line of text per event.
SERVER_HOOK = """
import os, sys, time
from streamlit.runtime import runtime as _runtime
from streamlit.web.cli import main
_events = open(os.environ["LOAD_SERVER_EVENTS"], "a", buffering=1)
_handle, _send = _runtime.Runtime.handle_backmsg, _runtime.Runtime._send_message
def handle_backmsg(self, session_id, msg, *args, **kwargs):
    if msg.WhichOneof("type") == "rerun_script":
        _events.write("%.6f run %s\\n" % (time.perf_counter(), session_id))
    return _handle(self, session_id, msg, *args, **kwargs)
def _send_message(self, session_info, msg):
    _send(self, session_info, msg)
    if msg.WhichOneof("type") == "script_finished" and msg.script_finished == msg.FINISHED_SUCCESSFULLY:
        _events.write("%.6f finished %s\\n" % (time.perf_counter(), session_info.session.id))
_runtime.Runtime.handle_backmsg, _runtime.Runtime._send_message = handle_backmsg, _send_message
sys.argv[0] = "streamlit"
sys.exit(main())
"""

# The overview is complete for `month`: truthy {ok: true} when done, {ok: false, why} on an error shown,
# false (keep polling) otherwise.
READY_JS = """([month, caption]) => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return false;
  const exc = document.querySelector("[data-testid='stException']");
  if (exc) return {ok: false, why: "exception box: " + exc.textContent.slice(0, 300)};
  if (main.querySelector("input[type='password']"))
    return {ok: false, why: "the app asks for a sign-in (not a demo store): this script does not sign in"};
  for (const alert of main.querySelectorAll("[data-testid='stAlertContentError']")) {
    if (!alert.closest("[data-stale='true']") && !alert.textContent.includes("一票否决"))
      return {ok: false, why: "error alert: " + alert.textContent.slice(0, 300)};
  }
  if (document.querySelector("[data-testid='stStatusWidget']")) return false;
  if (document.querySelector("[data-stale='true']")) return false;
  if (new URLSearchParams(location.search).get("month") !== month) return false;
  const h1 = main.querySelector("h1");
  if (!h1 || h1.textContent.trim() !== "%s") return false;
  const captions = [...main.querySelectorAll("[data-testid='stCaptionContainer']")];
  if (!captions.some(c => c.textContent.startsWith(caption))) return false;
  if (main.querySelectorAll("[data-testid='stMetric']").length < 10) return false;
  const charts = main.querySelectorAll(".js-plotly-plot");
  if (charts.length < 2) return false;
  for (const chart of charts) if (!chart.querySelector(".main-svg")) return false;
  return {ok: true};
}""" % OVERVIEW_TITLE  # noqa: UP031 - format() would need every JavaScript brace doubled
TITLE_JS = """(title) => {
  const h1 = document.querySelector("[data-testid='stMain'] h1");
  return (!!h1 && h1.textContent.trim() === title)
    || !!document.querySelector("[data-testid='stMain'] input[type='password']");  // READY_JS says why
}"""
# Navigation timing: the HTML and the app's script and style bundles (load event), and bytes fetched.
NAV_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  return {load: nav ? nav.loadEventEnd / 1000 : null,
          bytes: (nav ? nav.transferSize : 0) + resources.reduce((s, r) => s + (r.transferSize || 0), 0),
          requests: resources.length + 1,
          // served from the HTTP cache: a body, but nothing over the network
          cached: resources.filter(r => r.transferSize === 0 && r.decodedBodySize > 0).length};
}"""
# The upload page's outcome after a file was given or the commit button pressed.
UPLOAD_STATE_JS = """(wanted) => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return false;
  const exc = document.querySelector("[data-testid='stException']");
  if (exc) return {ok: false, why: "exception box: " + exc.textContent.slice(0, 300)};
  if (document.querySelector("[data-testid='stStatusWidget']")) return false;
  for (const alert of main.querySelectorAll(
      "[data-testid='stAlertContentError'], [data-testid='stAlertContentInfo']")) {
    if (!alert.closest("[data-stale='true']")) return {ok: false, why: alert.textContent.slice(0, 300)};
  }
  for (const alert of main.querySelectorAll("[data-testid='stAlertContentSuccess']")) {
    if (!alert.closest("[data-stale='true']") && alert.textContent.includes(wanted))
      return {ok: true, text: alert.textContent.trim()};
  }
  return false;
}"""


# ---------------------------------------------------------------------------------------------------------
# Store, server, process figures
# ---------------------------------------------------------------------------------------------------------

def prepare_store(scale: str, db: Path | None, folder: Path) -> tuple[Path, str]:
    """A copy of the chosen store in `folder` (the upload writes to it), and a line describing it."""
    if db is not None:
        source, how = db, f"`{db}`"
    else:
        from bench import pages  # the cached stores of the page benchmark (imports Streamlit's AppTest)
        t0 = time.perf_counter()
        if scale == "demo":
            source, info = pages.demo_store(pages.DEFAULT_CACHE)
        else:
            source, info = pages.group_store(pages.DEFAULT_CACHE, 500, 120, 20261001)
        how = (f"`{source}` ({'reused from the cache' if info.get('reused') else 'built'} in "
               f"{time.perf_counter() - t0:.1f} s)")
    target = folder / "safety.duckdb"
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    from metrics import store
    with store.connect(target, read_only=True) as con:
        described = (f"{store.scalar(con, 'SELECT count(*) FROM subsidiaries')} units, "
                     f"{store.scalar(con, 'SELECT count(DISTINCT month) FROM observations')} months to "
                     f"{store.scalar(con, 'SELECT max(month) FROM observations'):%Y-%m}, "
                     f"{store.scalar(con, 'SELECT count(*) FROM observations'):,} observations, "
                     f"{target.stat().st_size / 2**20:.0f} MiB")
    return target, f"{described}; a copy of {how}"


def upload_file(path: Path) -> tuple[str, dict[str, float], bytes]:
    """The first unit's 2026-09 values of UPLOAD_INDICATORS, each + 1, as a long CSV."""
    from metrics import store
    with store.connect(path, read_only=True) as con:
        unit = store.scalar(con, "SELECT min(code) FROM subsidiaries")
        rows = con.execute("SELECT indicator, value FROM observations WHERE subsidiary = ? AND month = ?",
                           [unit, UPLOAD_MONTH]).fetchall()
    stored = dict(rows)
    values = {code: float(stored.get(code, 0)) + 1 for code in UPLOAD_INDICATORS}
    lines = ["month,subsidiary,indicator,value"]
    lines += [f"{UPLOAD_MONTH:%Y-%m},{unit},{code},{value:g}" for code, value in values.items()]
    return unit, values, ("\n".join(lines) + "\n").encode()


def stored_values(path: Path, unit: str) -> dict[str, float]:
    from metrics import store
    with store.connect(path, read_only=True) as con:
        return dict(con.execute("SELECT indicator, value FROM observations WHERE subsidiary = ? AND month = ?",
                                [unit, UPLOAD_MONTH]).fetchall())


def browser_command(folder: Path, nice: int) -> str:
    """Chromium, or a wrapper in `folder` that starts it at a lower CPU priority (every process and thread it
    starts inherits the nice value)."""
    if not nice:
        return CHROMIUM
    wrapper = folder / "chromium-nice"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(nice)} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def start_server(store_path: Path, port: int, log_path: Path, pin: bool = False,
                 events_path: Path | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on `store_path`; with `pin`, through `taskset -c 0` (which execs it: the pid is
    the server's); with `events_path`, through SERVER_HOOK, which notes each run's start and end there."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use: pass another with --port") from None
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            (["taskset", "-c", str(SERVER_CPU)] if pin else []) +
            ([str(ROOT / ".venv" / "bin" / "python"), "-c", SERVER_HOOK] if events_path else
             [str(ROOT / ".venv" / "bin" / "streamlit")]) + ["run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "SAFETY_DB": str(store_path),
                           **({"LOAD_SERVER_EVENTS": str(events_path)} if events_path else {})},
            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise SystemExit(f"streamlit did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.25)
    return server


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / TICK


def cpu_seconds(pid: int) -> float:
    """User + system time of one process (threads included), without its children."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def descendants(exclude: int) -> dict[int, float]:
    """This script's descendants (Playwright's driver, Chromium), except the server `exclude` and its own:
    pid → CPU seconds (with their reaped children)."""
    parents, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)], cpu[int(entry.name)] = _stat(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    me, found = os.getpid(), {}
    for pid in cpu:
        p, chain = pid, set()
        while p and p not in chain and p != me and p != exclude:
            chain.add(p)
            p = parents.get(p, 0)
        if p == me and pid != me:
            found[pid] = cpu[pid]
    return found


def generator_cpu(exclude: int) -> float:
    """CPU seconds of this script's descendants (Playwright's driver, Chromium and their reaped children),
    except the server `exclude`."""
    return sum(descendants(exclude).values())


def process_kind(pid: int) -> str:
    """What a browser-side process is: Chromium's --type (its zygote children rewrite their command line into
    one string, hence the split on spaces), "browser" for Chromium's main process, or the program's name."""
    words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    kind = next((w.split("=", 1)[1] for w in words if w.startswith("--type=")), None)
    if kind == "utility":
        sub = next((w.split("=", 1)[1] for w in words if w.startswith("--utility-sub-type=")), "?")
        return sub.split(".")[0]  # network.mojom.NetworkService → network
    if kind:
        return kind
    program = Path(words[0]).name if words else "?"
    return "browser" if "chrom" in program else "Playwright driver" if program == "node" else program


def cpu_by_kind(exclude: int) -> dict[str, float]:
    """This script's descendants' CPU seconds by process_kind (a process that ended is counted in its reaping
    parent, if any)."""
    found: dict[str, float] = {}
    for pid, cpu in descendants(exclude).items():
        try:
            kind = process_kind(pid)
        except OSError:
            continue
        found[kind] = found.get(kind, 0.0) + cpu
    return found


def browser_side(exclude: int) -> tuple[int, int, set[str]]:
    """This script's descendants: how many, their summed VmRSS (KiB; shared pages count once per process)
    and the CPU lists they may run on."""
    count, rss, allowed = 0, 0, set()
    for pid in descendants(exclude):
        try:
            rss += status_kib(pid, "VmRSS")
            allowed.add(cpus_allowed(pid))
            count += 1
        except (OSError, ValueError):
            pass
    return count, rss, allowed


def cpus_allowed(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return "?"


def cores_busy() -> dict[int, tuple[float, float]]:
    """Per core: (busy, total) CPU seconds since boot (/proc/stat's cpuN lines; idle and iowait are not busy)."""
    found = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            fields = [int(x) for x in values]
            found[int(name[3:])] = ((sum(fields[:8]) - fields[3] - fields[4]) / TICK, sum(fields[:8]) / TICK)
    return found


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used since boot (every core; /proc/stat, not idle or
    iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


class Sampler(threading.Thread):
    """The server's VmRSS and CPU time every `interval` s while running."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int, float]] = []  # (monotonic s, RSS KiB, CPU s)
        self.threads: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}  # tid: (first, last) (run, wait) ns
        self._stop_event = threading.Event()

    def _schedstat(self, started: bool) -> None:
        """Per thread of the server: time on a CPU and time waiting in the run queue for one (schedstat).
        A thread born after the first sample starts from zero; one that lives less than a sample is missed."""
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                run_ns, wait_ns = (int(x) for x in (task / "schedstat").read_text().split()[:2])
            except (OSError, ValueError):
                continue
            tid = int(task.name)
            first = self.threads.get(tid, (None,))[0] or ((run_ns, wait_ns) if not started else (0, 0))
            self.threads[tid] = (first, (run_ns, wait_ns))

    def run(self) -> None:
        started = False
        while True:
            try:
                self.samples.append((time.monotonic(), status_kib(self.pid, "VmRSS"), cpu_seconds(self.pid)))
                self._schedstat(started)
                started = True
            except OSError:
                return
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def waited(self, main_only: bool = False) -> tuple[float, float]:
        """Seconds the server's threads (or its main thread alone: the event loop serving the websockets and
        files) ran on a CPU and waited for one, over the sampling."""
        threads = [v for tid, v in self.threads.items() if tid == self.pid or not main_only]
        ran = sum(last[0] - first[0] for first, last in threads) / 1e9
        waited = sum(last[1] - first[1] for first, last in threads) / 1e9
        return ran, waited

    def peak_rss(self) -> int:
        return max((s[1] for s in self.samples), default=0)

    def busy(self) -> tuple[float, float]:
        """Mean and highest CPU use of the server between samples, in % of one core."""
        rates = [(b[2] - a[2]) / (b[0] - a[0]) * 100 for a, b in zip(self.samples, self.samples[1:]) if b[0] > a[0]]
        if not rates:
            return 0.0, 0.0
        span = self.samples[-1][0] - self.samples[0][0]
        return (self.samples[-1][2] - self.samples[0][2]) / span * 100, max(rates)


# ---------------------------------------------------------------------------------------------------------
# Browser sessions
# ---------------------------------------------------------------------------------------------------------

class Frames:
    """A page's websocket frames, heard through the DevTools protocol, whose timestamps are the browser
    network stack's own (not delayed by a busy driver or this script): when the browser asks for a script run
    (BackMsg rerun_script) and when the server reports a run finished (ForwardMsg script_finished). The span
    between them is the server's side of a load, without the browser's drawing."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, float]] = []  # (perf_counter when heard, "run" | "finished", stamp)
        self.received = 0  # bytes
        self.session_ids: set[str] = set()  # Streamlit's session id(s) this websocket was given (new_session)

    async def watch(self, context, page) -> None:
        cdp = await context.new_cdp_session(page)

        def frame(kind: str, params: dict) -> None:
            response = params.get("response", {})
            if response.get("opcode") != 2:  # binary: Streamlit's protobuf messages
                return
            try:
                payload = base64.b64decode(response.get("payloadData", ""))
                if kind == "sent":
                    if BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                        self.events.append((time.perf_counter(), "run", params["timestamp"]))
                else:
                    self.received += len(payload)
                    msg = ForwardMsg.FromString(payload)
                    if msg.WhichOneof("type") == "new_session" and msg.new_session.initialize.session_id:
                        self.session_ids.add(msg.new_session.initialize.session_id)
                    if (msg.WhichOneof("type") == "script_finished"
                            and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY):
                        self.events.append((time.perf_counter(), "finished", params["timestamp"]))
            except Exception:
                pass

        cdp.on("Network.webSocketFrameSent", lambda params: frame("sent", params))
        cdp.on("Network.webSocketFrameReceived", lambda params: frame("received", params))
        await cdp.send("Network.enable")

    async def settled_span(self, after: float, before: float | None = None, wait: float = 10.0) -> float | None:
        """`span`, once the finishing frame has been heard (the page can show the result a moment before)."""
        deadline = time.perf_counter() + wait
        while (found := self.span(after, before)) is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        return found

    def span(self, after: float, before: float | None = None) -> float | None:
        """From the first run request heard at or after `after` (perf_counter; and before `before`) to the
        next finished run, in the browser's timestamps."""
        asked = next((stamp for heard, kind, stamp in self.events if kind == "run" and heard >= after
                      and (before is None or heard < before)), None)
        if asked is None:
            return None
        return next((stamp - asked for _, kind, stamp in self.events if kind == "finished" and stamp >= asked),
                    None)


class ServerEvents:
    """SERVER_HOOK's notes: per Streamlit session, when the server got a run request and when it handed a
    finished run's script_finished to the websocket (perf_counter, this script's clock)."""

    def __init__(self, path: Path) -> None:
        self.by_session: dict[str, list[tuple[float, str]]] = {}
        text = path.read_text() if path.exists() else ""
        for line in text.splitlines():
            try:
                stamp, kind, session = line.split()
                self.by_session.setdefault(session, []).append((float(stamp), kind))
            except ValueError:
                pass

    def span(self, sessions: set[str], after: float | None, before: float | None = None) -> float | None:
        """As Frames.span, in the server's own notes of the sessions `sessions`."""
        if after is None:
            return None
        events = sorted(e for session in sessions for e in self.by_session.get(session, []))
        asked = next((stamp for stamp, kind in events if kind == "run" and stamp >= after
                      and (before is None or stamp < before)), None)
        if asked is None:
            return None
        return next((stamp - asked for stamp, kind in events if kind == "finished" and stamp >= asked), None)


@dataclass
class Visit:
    index: int
    ok: bool = False
    error: str | None = None
    start: float | None = None          # s after the sessions started
    title: float | None = None          # s from goto to the title shown
    page_load: float | None = None      # s from navigation start to the load event (HTML, bundles)
    first: float | None = None          # s from goto to the overview complete
    rerun_start: float | None = None    # s after the sessions started
    rerun: float | None = None          # s from picking the month to the overview complete again
    done: float | None = None           # s after the sessions started
    bytes: int = 0
    requests: int = 0
    cached: int = 0                     # requests answered by the HTTP cache
    script_errors: list[str] = field(default_factory=list)
    frames: Frames = field(default_factory=Frames)
    server_first: float | None = None   # websocket: the browser's run request → the server's script_finished
    server_rerun: float | None = None   # (in the browser renderer's clock: DevTools timestamps)
    own_first: float | None = None      # the same in the server's own clock (SERVER_HOOK)
    own_rerun: float | None = None
    t_start: float | None = None        # perf_counter at goto and at the month picked
    t_pick: float | None = None

    def own(self, events: ServerEvents) -> None:
        ids = self.frames.session_ids
        self.own_first = events.span(ids, self.t_start, self.t_pick)
        self.own_rerun = events.span(ids, self.t_pick)


@dataclass
class Upload:
    ok: bool = False
    error: str | None = None
    start: float | None = None          # s after the sessions started
    page: float | None = None           # opening /upload
    check: float | None = None          # file given → "校验通过"
    commit: float | None = None         # 确认提交 pressed → "已提交"
    commit_at: float | None = None      # s after the sessions started, when 确认提交 was pressed
    committed_at: float | None = None
    message: str = ""
    verified: bool | None = None
    frames: Frames = field(default_factory=Frames)
    server_check: float | None = None   # websocket: run request → script_finished, as for the sessions
    server_commit: float | None = None
    own_check: float | None = None      # the same in the server's own clock
    own_commit: float | None = None
    t_given: float | None = None
    t_pressed: float | None = None

    def own(self, events: ServerEvents) -> None:
        ids = self.frames.session_ids
        self.own_check = events.span(ids, self.t_given, self.t_pressed)
        self.own_commit = events.span(ids, self.t_pressed)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:240] if text else ''}"


async def _ready(page, month: str, label: str, timeout_ms: int) -> None:
    handle = await page.wait_for_function(READY_JS, arg=[month, f"{label} · "], polling=POLL_MS,
                                          timeout=timeout_ms)
    state = await handle.json_value()
    if not state.get("ok"):
        raise RuntimeError(state.get("why", "not ready"))


async def _page(context):
    """A persistent context opens with a blank tab: use it (one tab a user); a new context has none."""
    return context.pages[0] if context.pages else await context.new_page()


async def visit(open_context, url: str, result: Visit, t0: float, timeout_ms: int, contexts: list,
                delay: float = 0.0, rerun_month: tuple[str, str] = (RERUN_MONTH, RERUN_LABEL)) -> Visit:
    """One session in the context `await open_context()` gives (a new one, or a returning user's browser
    launched beforehand), filling `result` as it goes (a session stopped at the run limit keeps its part)."""
    await asyncio.sleep(delay)
    try:
        context = await open_context()
        contexts.append(context)
        page = await _page(context)
        page.set_default_timeout(timeout_ms)
        page.on("pageerror", lambda error: result.script_errors.append(str(error)[:200]))
        await result.frames.watch(context, page)
        started = time.perf_counter()
        result.start, result.t_start = started - t0, started
        await page.goto(f"{url}/", wait_until="commit", timeout=timeout_ms)
        await page.wait_for_function(TITLE_JS, arg=OVERVIEW_TITLE, polling=POLL_MS, timeout=timeout_ms)
        result.title = time.perf_counter() - started
        await _ready(page, FIRST_MONTH, FIRST_LABEL, timeout_ms)
        result.first = time.perf_counter() - started
        nav = await page.evaluate(NAV_JS)
        result.page_load, result.bytes, result.requests = nav["load"], nav["bytes"], nav["requests"]
        result.cached = nav["cached"]

        month_box = page.locator(f"{SIDEBAR} [data-testid='stSelectbox']").filter(
            has=page.get_by_text("统计月份", exact=True)).locator("input[role='combobox']")
        await month_box.click()
        option = page.get_by_role("option", name=rerun_month[1], exact=True)
        await option.wait_for()
        picked = time.perf_counter()
        result.rerun_start, result.t_pick = picked - t0, picked
        await option.click()
        await _ready(page, *rerun_month, timeout_ms)
        result.rerun = time.perf_counter() - picked
        result.server_first = result.frames.span(started, picked)
        result.server_rerun = await result.frames.settled_span(picked)
        result.ok = True
    except Exception as exc:  # a failed session is a result, not the end of the run
        result.error = _short(exc)
    result.done = time.perf_counter() - t0
    return result


async def upload(open_context, url: str, content: bytes, delay: float, t0: float, timeout_ms: int,
                 contexts: list, result: Upload) -> Upload:
    await asyncio.sleep(delay)
    try:
        context = await open_context()
        contexts.append(context)
        page = await _page(context)
        page.set_default_timeout(timeout_ms)
        await result.frames.watch(context, page)
        started = time.perf_counter()
        result.start = started - t0
        await page.goto(f"{url}/upload", wait_until="commit", timeout=timeout_ms)
        await page.wait_for_function(TITLE_JS, arg=UPLOAD_TITLE, polling=POLL_MS, timeout=timeout_ms)
        if await page.locator(f"{MAIN} input[type='password']").count():
            raise RuntimeError("the app asks for a sign-in (not a demo store): this script does not sign in")
        file_input = page.locator(f"{MAIN} [data-testid='stFileUploader'] input[type='file']")
        await file_input.wait_for(state="attached")
        await page.locator("[data-testid='stStatusWidget']").wait_for(state="detached")
        result.page = time.perf_counter() - started

        given = time.perf_counter()
        result.t_given = given
        await file_input.set_input_files(files=[{"name": "load-test-2026-09.csv", "mimeType": "text/csv",
                                                 "buffer": content}])
        handle = await page.wait_for_function(UPLOAD_STATE_JS, arg="校验通过", polling=POLL_MS, timeout=timeout_ms)
        state = await handle.json_value()
        if not state.get("ok"):
            raise RuntimeError(f"check: {state.get('why')}")
        result.check = time.perf_counter() - given

        button = page.get_by_role("button", name="确认提交")
        await button.wait_for()
        pressed = time.perf_counter()
        result.commit_at, result.t_pressed = pressed - t0, pressed
        await button.click()
        handle = await page.wait_for_function(UPLOAD_STATE_JS, arg="已提交", polling=POLL_MS, timeout=timeout_ms)
        state = await handle.json_value()
        if not state.get("ok"):
            raise RuntimeError(f"commit: {state.get('why')}")
        result.commit = time.perf_counter() - pressed
        result.committed_at = time.perf_counter() - t0
        result.message = state.get("text", "")
        result.server_check = result.frames.span(given, pressed)
        result.server_commit = await result.frames.settled_span(pressed)
        result.ok = True
    except Exception as exc:
        result.error = _short(exc)
    return result


async def warm_up(browser, url: str, timeout_ms: int) -> float:
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(f"{url}/", wait_until="commit", timeout=timeout_ms)
        await _ready(page, FIRST_MONTH, FIRST_LABEL, timeout_ms)
        return time.perf_counter() - started
    finally:
        await context.close()


async def _persistent(p, executable: str, profile: Path):
    """A Chromium process of its own on the user data folder `profile` (headless, as the shared browser)."""
    return await p.chromium.launch_persistent_context(str(profile), executable_path=executable,
                                                      args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT,
                                                      locale="zh-CN")


async def build_template(p, executable: str, url: str, template: Path,
                         timeout_ms: int) -> list[tuple[float, int, int, int]]:
    """A returning user's profile: TEMPLATE_VISITS visits of the overview in one persistent profile, then
    closed (Chromium writes its caches out). Each visit: (s to the overview complete, bytes fetched,
    requests, requests answered by the HTTP cache)."""
    context = await _persistent(p, executable, template)
    visits = []
    try:
        page = await _page(context)
        for _ in range(TEMPLATE_VISITS):
            started = time.perf_counter()
            await page.goto(f"{url}/", wait_until="commit", timeout=timeout_ms)
            await _ready(page, FIRST_MONTH, FIRST_LABEL, timeout_ms)
            seconds = time.perf_counter() - started
            nav = await page.evaluate(NAV_JS)
            visits.append((seconds, nav["bytes"], nav["requests"], nav["cached"]))
            await asyncio.sleep(1.0)  # V8 hands its code cache to the browser process after the run
    finally:
        await context.close()
    return visits


def folder_bytes(path: Path, part: str | None = None) -> int:
    """Bytes of the files under `path` (those with a folder named `part` on their path, if given)."""
    return sum(f.stat().st_size for f in path.rglob("*")
               if f.is_file() and not f.is_symlink() and (part is None or part in f.relative_to(path).parts))


class Tab:
    """A tab of the shared warm browser, standing in for a context: its own page, renderer process, websocket
    and Streamlit session; closing it closes the tab."""

    def __init__(self, context, page) -> None:
        self.context, self.pages = context, [page]

    async def new_cdp_session(self, page):
        return await self.context.new_cdp_session(page)

    async def close(self) -> None:
        await self.pages[0].close()


async def launch_profiles(p, executable: str, template: Path, folder: Path,
                          count: int) -> tuple[list, float, float]:
    """`count` copies of the template, each opened by a Chromium process of its own: (contexts, s to copy,
    s to launch)."""
    started = time.perf_counter()
    profiles = []
    for i in range(count):
        profile = folder / f"profile-{i:02d}"
        shutil.copytree(template, profile, symlinks=True, ignore=PROFILE_SKIP)
        profiles.append(profile)
    copied = time.perf_counter() - started
    limit = asyncio.Semaphore(4)

    async def one(profile: Path):
        async with limit:
            return await _persistent(p, executable, profile)

    started = time.perf_counter()
    contexts = await asyncio.gather(*(one(profile) for profile in profiles), return_exceptions=True)
    launched = time.perf_counter() - started
    failed = [c for c in contexts if isinstance(c, BaseException)]
    if failed:
        await asyncio.gather(*(c.close() for c in contexts if not isinstance(c, BaseException)),
                             return_exceptions=True)
        raise SystemExit(f"{len(failed)} of {count} persistent profiles did not open: {_short(failed[0])}")
    return list(contexts), copied, launched


async def browsers_quiet(exclude: int, limit: float = 60.0, threshold: float = 0.05,
                         window: float = 1.0) -> float:
    """Wait until the browser side (Chromium's start-up work: a launched Chromium keeps a core busy for a few
    seconds) uses under `threshold` of a core over `window` s, at most `limit` s: the s waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = generator_cpu(exclude)
        await asyncio.sleep(window)
        if (generator_cpu(exclude) - before) / window < threshold:
            break
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------------------
# One run: a fresh store copy, a fresh server, N sessions and the upload
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Run:
    sessions: int
    cache: str = "cold"                 # "cold": new contexts, empty caches; "warm": copies of a warm profile
    pinned: bool = False
    load_start: str = ""                # load average when the column started
    store: str = ""
    warmup: float | None = None
    solo: Visit | None = None
    visits: list[Visit] = field(default_factory=list)
    upload: Upload | None = None
    upload_unit: str = ""
    stopped: int = 0                    # sessions (and upload) stopped at --run-limit
    wall: float = 0.0                   # sessions started → all done
    rss_start: int = 0                  # KiB, server just started
    rss_before: int = 0                 # after the warm-up, before the sessions
    rss_peak: int = 0
    rss_end: int = 0                    # all done, contexts still open
    rss_after: int = 0                  # contexts closed + settle
    hwm: int = 0
    server_cpu: float = 0.0
    generator_cpu: float = 0.0
    machine_cpu: float = 0.0            # every process of the machine over the same span
    script_cpu: float = 0.0             # this script itself
    span: float = 0.0                   # s over which the CPU figures are taken
    busy_mean: float = 0.0
    busy_peak: float = 0.0
    threads_ran: float = 0.0
    threads_waited: float = 0.0
    loop_ran: float = 0.0
    loop_waited: float = 0.0
    cores: dict[int, float] = field(default_factory=dict)  # core → busy share over the span
    server_cpus: str = ""               # Cpus_allowed_list of the server
    browser_cpus: set[str] = field(default_factory=set)  # ... of the browser side's processes
    browser_procs: int = 0              # browser side processes at the end, contexts open
    browser_rss: int = 0                # KiB, summed
    template_visits: list[tuple[float, int, int, int]] = field(default_factory=list)
    profile_bytes: int = 0              # the warm template: all, HTTP cache, V8 code cache
    http_cache_bytes: int = 0
    code_cache_bytes: int = 0
    profiles: int = 0                   # persistent profiles launched (sessions, upload, solo)
    copy_s: float = 0.0
    launch_s: float = 0.0
    cpu_kinds: dict[str, float] = field(default_factory=dict)  # browser side CPU s over the sessions, by kind
    per_session: bool = False           # warm: one Chromium per session rather than one tab each
    quiet_s: float = 0.0                # waited for the browser side to be idle before the sessions
    log_tail: str = ""


async def run_once(sessions: int, args, folder: Path, cache: str = "cold") -> Run:
    run = Run(sessions, cache=cache, pinned=args.pin, per_session=args.browser_per_session,
              load_start=" ".join(f"{x:.2f}" for x in os.getloadavg()))
    store_path, run.store = prepare_store(args.scale, args.db, folder)
    unit, values, content = upload_file(store_path)
    run.upload_unit = unit
    log_path = folder / "streamlit.log"
    events_path = folder / "server-events.txt"
    server = start_server(store_path, args.port, log_path, args.pin, events_path)
    run.server_cpus = cpus_allowed(server.pid)
    url = f"http://127.0.0.1:{args.port}"
    timeout_ms = int(args.timeout * 1000)
    try:
        run.rss_start = status_kib(server.pid, "VmRSS")
        async with async_playwright() as p:
            executable = browser_command(folder, args.browser_nice)
            browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            warm: list = []  # returning users' browsers: sessions 0..N-1, the upload (N), the solo visit (N+1)
            try:
                if not args.no_warmup:
                    try:
                        run.warmup = await warm_up(browser, url, timeout_ms)
                    except Exception as exc:
                        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
                        raise SystemExit(f"the warm-up visit failed ({_short(exc)}); server log:\n{tail}") from exc
                if cache == "warm":
                    template = folder / "profile-template"
                    run.template_visits = await build_template(p, executable, url, template, timeout_ms)
                    run.profile_bytes = folder_bytes(template)
                    run.http_cache_bytes = folder_bytes(template, "Cache")
                    run.code_cache_bytes = folder_bytes(template, "Code Cache")
                    run.profiles = (sessions + 1 + (0 if args.no_solo else 1)) if args.browser_per_session else 1
                    warm, run.copy_s, run.launch_s = await launch_profiles(p, executable, template, folder,
                                                                           run.profiles)
                    await browsers_quiet(server.pid)

                def opener(i: int):
                    async def returning():
                        if args.browser_per_session:
                            return warm[i]
                        return Tab(warm[0], await warm[0].new_page())  # a new tab of the shared browser

                    async def new():
                        return await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
                    return returning if cache == "warm" else new

                if not args.no_solo:
                    solo_contexts: list = []
                    run.solo = await visit(opener(sessions + 1), url, Visit(-1), time.perf_counter(), timeout_ms,
                                           solo_contexts, rerun_month=(SOLO_MONTH, SOLO_LABEL))
                    for context in solo_contexts:
                        await context.close()
                run.quiet_s = await browsers_quiet(server.pid)
                await asyncio.sleep(1.0)
                run.rss_before = status_kib(server.pid, "VmRSS")
                sampler = Sampler(server.pid)
                server_cpu0, generator_cpu0 = cpu_seconds(server.pid), generator_cpu(server.pid)
                kinds0 = cpu_by_kind(server.pid)
                machine0, own0, span0, cores0 = machine_busy(), own_cpu(), time.perf_counter(), cores_busy()
                sampler.start()
                contexts: list = []
                uploaded = Upload()
                run.visits, run.upload = [Visit(i) for i in range(sessions)], uploaded
                t0 = time.perf_counter()
                step = args.ramp / (sessions - 1) if sessions > 1 else 0.0
                tasks: list[asyncio.Task[Visit | Upload]] = [
                    asyncio.create_task(visit(opener(i), url, run.visits[i], t0, timeout_ms, contexts, i * step))
                    for i in range(sessions)]
                tasks.append(asyncio.create_task(upload(opener(sessions), url, content, args.upload_delay, t0,
                                                        timeout_ms, contexts, uploaded)))
                _, pending = await asyncio.wait(tasks, timeout=args.run_limit)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                run.stopped = len(pending)
                ended: list[Visit | Upload] = [*run.visits, uploaded]
                for result in ended:
                    if not result.ok and result.error is None:
                        result.error = f"stopped: not done {args.run_limit:g} s after the start (--run-limit)"
                run.wall = time.perf_counter() - t0
                run.rss_end = status_kib(server.pid, "VmRSS")
                run.browser_procs, run.browser_rss, run.browser_cpus = browser_side(server.pid)
                cores1 = cores_busy()
                run.cores = {core: (cores1[core][0] - cores0[core][0]) / max(cores1[core][1] - cores0[core][1], 1e-9)
                             for core in CORES if core in cores0 and core in cores1}
                # before the contexts close: closing a returning user's context ends its Chromium, whose CPU
                # time would then be lost
                run.generator_cpu = generator_cpu(server.pid) - generator_cpu0
                kinds1 = cpu_by_kind(server.pid)
                run.cpu_kinds = {kind: kinds1[kind] - kinds0.get(kind, 0.0) for kind in kinds1}
                run.server_cpu = cpu_seconds(server.pid) - server_cpu0
                run.machine_cpu, run.script_cpu = machine_busy() - machine0, own_cpu() - own0
                run.span = time.perf_counter() - span0
                await asyncio.gather(*(context.close() for context in contexts), return_exceptions=True)
                await asyncio.sleep(args.settle)
                sampler.stop()
                run.busy_mean, run.busy_peak = sampler.busy()
                run.threads_ran, run.threads_waited = sampler.waited()
                run.loop_ran, run.loop_waited = sampler.waited(main_only=True)
                run.rss_peak = sampler.peak_rss()
                run.rss_after = status_kib(server.pid, "VmRSS")
                run.hwm = status_kib(server.pid, "VmHWM")
            finally:
                await asyncio.gather(*(context.close() for context in warm), return_exceptions=True)
                await browser.close()
    finally:
        stop_server(server)
        run.log_tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    events = ServerEvents(events_path)
    measured: list[Visit | Upload] = [*run.visits, *([run.solo] if run.solo else []),
                                      *([run.upload] if run.upload else [])]
    for result in measured:
        result.own(events)
    if run.upload is not None and run.upload.ok:
        written = stored_values(store_path, unit)
        run.upload.verified = all(written.get(code) == value for code, value in values.items())
    return run


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------

def percentile(values: Sequence[float | None], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), of the values measured (not None)."""
    measured = sorted(v for v in values if v is not None)
    if not measured:
        return None
    position = (len(measured) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(measured) - 1)
    return measured[low] + (measured[high] - measured[low]) * (position - low)


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _aim(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def _solo(solo: Visit | None) -> str:
    if solo is None:
        return "—"
    if not solo.ok:
        return f"**failed**: {solo.error}"
    return (f"{_s(solo.first)} / {_s(solo.rerun)} (server side {_s(solo.own_first)} / {_s(solo.own_rerun)}; "
            f"as the renderer saw it {_s(solo.server_first)} / {_s(solo.server_rerun)})")


def _others(run: Run) -> str:
    others = max(run.machine_cpu - run.server_cpu - run.generator_cpu - run.script_cpu, 0.0)
    capacity = run.span * len(CORES)
    return f"{others:.1f} s ({others / capacity:.0%} of {capacity:.0f} core-s)" if capacity else "—"


def _bytes(n: float | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB" if n >= 2**10 else f"{n:.0f} B"


def label(run: Run) -> str:
    return (f"{run.sessions} sessions, {'warm profiles' if run.cache == 'warm' else 'cold'}"
            + (", pinned" if run.pinned else ""))


def where_browsers(run: Run) -> str:
    return (f"CPU {BROWSER_CPU}, the server on CPU {SERVER_CPU}" if run.pinned
            else f"the same {len(CORES)} cores as the server")


@dataclass
class Figures:
    """The p95s and verdicts of one run, server side (the app) and end to end (the browsers)."""
    ok: int
    total: int
    first95: float | None
    rerun95: float | None
    server_first95: float | None        # the server's own clock (SERVER_HOOK)
    server_rerun95: float | None
    ws_first95: float | None            # the same spans as the browsers' renderers saw them (DevTools)
    ws_rerun95: float | None

    @property
    def success(self) -> bool:
        return self.total > 0 and self.ok / self.total >= AIM["success"]

    @staticmethod
    def below(value: float | None, aim: float) -> bool:
        return value is not None and value < aim

    @property
    def app_met(self) -> bool:
        return (self.success and self.below(self.server_first95, AIM["first_p95"])
                and self.below(self.server_rerun95, AIM["rerun_p95"]))

    @property
    def browsers_met(self) -> bool:
        return (self.success and self.below(self.first95, AIM["first_p95"])
                and self.below(self.rerun95, AIM["rerun_p95"]))


def figures(run: Run) -> Figures:
    return Figures(sum(v.ok for v in run.visits), len(run.visits),
                   percentile([v.first for v in run.visits], 95), percentile([v.rerun for v in run.visits], 95),
                   percentile([v.own_first for v in run.visits], 95),
                   percentile([v.own_rerun for v in run.visits], 95),
                   percentile([v.server_first for v in run.visits], 95),
                   percentile([v.server_rerun for v in run.visits], 95))


def _profile(run: Run) -> tuple[str, str]:
    if run.cache != "warm":
        return "—", "—"
    ordinal = ("1st", "2nd", "3rd", "4th", "5th")
    visits = "; ".join(f"{ordinal[i] if i < len(ordinal) else f'{i + 1}th'} {seconds:.2f} s, {_bytes(fetched)}, "
                       f"{cached}/{requests} from the cache"
                       for i, (seconds, fetched, requests, cached) in enumerate(run.template_visits))
    copies = (f"{_bytes(run.profile_bytes)} (HTTP cache {_bytes(run.http_cache_bytes)}, V8 code cache "
              f"{_bytes(run.code_cache_bytes)}); {run.profiles} {'copies' if run.profiles > 1 else 'copy'} in "
              f"{run.copy_s:.1f} s, {'their' if run.profiles > 1 else 'its'} {run.profiles} Chromium "
              f"process{'es' if run.profiles > 1 else ''} launched in {run.launch_s:.1f} s, before the start")
    return visits, copies


def summary_rows(run: Run, args) -> dict[str, str]:
    firsts = [v.first for v in run.visits if v.first is not None]
    reruns = [v.rerun for v in run.visits if v.rerun is not None]
    titles = [v.title for v in run.visits if v.title is not None]
    loads = [v.page_load for v in run.visits if v.page_load is not None]
    server_firsts = [v.own_first for v in run.visits if v.own_first is not None]
    server_reruns = [v.own_rerun for v in run.visits if v.own_rerun is not None]
    ws_firsts = [v.server_first for v in run.visits if v.server_first is not None]
    ws_reruns = [v.server_rerun for v in run.visits if v.server_rerun is not None]
    ws_median = percentile([v.frames.received for v in run.visits if v.frames.received], 50)
    fig = figures(run)
    rate = fig.ok / fig.total if fig.total else 0.0
    up = run.upload
    if up is None:
        upload_text, upload_times = "—", "—"
    elif up.ok:
        upload_text = f"committed, {'verified in the store' if up.verified else '**values not found in the store**'}"
        upload_times = (f"page {_s(up.page)} s, check {_s(up.check)} s (server side {_s(up.own_check)} s), "
                        f"commit {_s(up.commit)} s (server side {_s(up.own_commit)} s); pressed at "
                        f"+{_s(up.commit_at, 1)} s, done at +{_s(up.committed_at, 1)} s")
    else:
        upload_text, upload_times = f"**failed**: {up.error}", "—"
    after_commit = (sum(1 for v in run.visits if v.rerun_start is not None and up is not None and up.commit_at
                        is not None and v.rerun_start + (v.rerun or 0) > up.commit_at)
                    if up is not None and up.commit_at is not None else 0)
    with_bytes = [v for v in run.visits if v.bytes]
    bytes_median = percentile([v.bytes for v in with_bytes], 50)
    requests_median = percentile([v.requests for v in with_bytes], 50)
    cached_median = percentile([v.cached for v in with_bytes], 50)
    sockets: list[Visit | Upload] = [*run.visits, *([up] if up is not None else [])]
    ids = [i for r in sockets for i in r.frames.session_ids]
    heard = sum(1 for r in sockets if r.frames.session_ids)
    template_visits, profile_copies = _profile(run)
    cores = ", ".join(f"CPU {core} {share:.0%}" for core, share in sorted(run.cores.items()))
    if run.pinned and SERVER_CPU in run.cores and run.span:
        others0 = max(run.cores[SERVER_CPU] - run.server_cpu / run.span, 0.0)
        cores += f"; of CPU {SERVER_CPU}, not the server's (other processes): {others0:.0%}"
    appside = "the app, server side (its own clock: run request in → script_finished out)"
    return {
        "browsers": ((f"one Chromium process per session ({run.profiles} in all, with the upload's and the solo "
                      "visit's), each on its own copy of the warm profile" if run.per_session else
                      "one Chromium on a copy of the warm profile, one new tab per session (shared warm HTTP "
                      "and code caches, a renderer process each)") if run.cache == "warm" else
                     "one Chromium, one new context per session (empty HTTP cache)"),
        "CPUs the processes may use: server / browser side (Cpus_allowed_list)":
            f"{run.server_cpus} / {', '.join(sorted(run.browser_cpus)) or '—'}"
            + (" (pinned)" if run.pinned else " (not pinned)"),
        "load average (1, 5, 15 min) when the column started": run.load_start,
        "sessions + 1 upload": f"{run.sessions} + 1, " + ("all started at once" if not args.ramp else
                                                           f"started over {args.ramp:g} s"),
        "success rate": f"{fig.ok}/{fig.total} ({rate:.0%}) — aim 100%: {_aim(fig.success)}"
                        + (f" ({run.stopped} stopped at the run limit)" if run.stopped else ""),
        "Streamlit sessions: distinct session ids on the websockets": f"{len(set(ids))} ids for {len(sockets)} "
                                                                       f"browser sessions ({heard} heard)",
        f"**{appside}**, first load p50 / p95 (s)":
            f"{_s(percentile(server_firsts, 50))} / **{_s(fig.server_first95)}** — aim p95 < "
            f"{AIM['first_p95']:g} s: {_aim(fig.below(fig.server_first95, AIM['first_p95']))}",
        f"**{appside}**, rerun p50 / p95 (s)":
            f"{_s(percentile(server_reruns, 50))} / **{_s(fig.server_rerun95)}** — aim p95 < "
            f"{AIM['rerun_p95']:g} s: {_aim(fig.below(fig.server_rerun95, AIM['rerun_p95']))}",
        "&nbsp;&nbsp;the same spans as the browsers' renderers saw them (DevTools), first load / rerun p50 / p95 (s)":
            f"{_s(percentile(ws_firsts, 50))} / {_s(fig.ws_first95)}; {_s(percentile(ws_reruns, 50))} / "
            f"{_s(fig.ws_rerun95)}",
        "end to end (in the browsers), first load p50 / p95 / max (s)":
            f"{_s(percentile(firsts, 50))} / **{_s(fig.first95)}** / {_s(max(firsts, default=None))} — aim p95 < "
            f"{AIM['first_p95']:g} s: {_aim(fig.below(fig.first95, AIM['first_p95']))}",
        "&nbsp;&nbsp;of which: HTML + bundles loaded, p50 / p95 (s)": f"{_s(percentile(loads, 50))} / "
                                                                      f"{_s(percentile(loads, 95))}",
        "&nbsp;&nbsp;of which: title shown, p50 / p95 (s)": f"{_s(percentile(titles, 50))} / "
                                                            f"{_s(percentile(titles, 95))}",
        "end to end (in the browsers), rerun after the month change p50 / p95 / max (s)":
            f"{_s(percentile(reruns, 50))} / **{_s(fig.rerun95)}** / {_s(max(reruns, default=None))} — aim p95 < "
            f"{AIM['rerun_p95']:g} s: {_aim(fig.below(fig.rerun95, AIM['rerun_p95']))}",
        "bytes fetched by one first load (median); requests, of which answered by the HTTP cache (median)":
            f"{_bytes(bytes_median)}; {_s(requests_median, 0)}, {_s(cached_median, 0)}",
        "warm profile: the template's visits (s, bytes fetched, requests from the cache)": template_visits,
        "warm profile: size; copies": profile_copies,
        "reruns still running when the commit was pressed, or later": f"{after_commit}",
        "all sessions done after (s)": _s(run.wall, 1),
        "upload (1 session, CSV of 4 values)": upload_text,
        "upload times": upload_times,
        "server RSS before / peak / after": f"{_mib(run.rss_before)} / {_mib(run.rss_peak)} / {_mib(run.rss_after)} "
                                            f"(at the end, sessions open: {_mib(run.rss_end)}; kernel peak VmHWM "
                                            f"{_mib(run.hwm)}; just started {_mib(run.rss_start)})",
        "server RSS growth (after − before; peak − before)": (
            f"{(run.rss_after - run.rss_before) / 1024:+.0f} MiB; {(run.rss_peak - run.rss_before) / 1024:+.0f} MiB "
            f"({(run.rss_peak - run.rss_before) / 1024 / max(run.sessions, 1):.1f} MiB a session)"),
        "server CPU (s) / busy, mean and highest 0.5 s (% of one core)": f"{run.server_cpu:.1f} / "
                                                                        f"{run.busy_mean:.0f}%, {run.busy_peak:.0f}%",
        "cores busy over the sessions (% of each core)": cores or "—",
        "browser side CPU (s): Playwright + Chromium (+ this script); a session's share":
            f"{run.generator_cpu:.1f} (+ {run.script_cpu:.1f}); {run.generator_cpu / (run.sessions + 1):.1f}",
        "browser side CPU by process (s)": ", ".join(
            f"{kind} {cpu:.1f}" for kind, cpu in sorted(run.cpu_kinds.items(), key=lambda kv: -kv[1])
            if cpu >= 0.05) or "—",
        "browser side processes, summed RSS at the end (sessions open; shared pages counted in each)":
            f"{run.browser_procs}, {run.browser_rss / 2**20:.1f} GiB",
        "server on a CPU / ready but waiting for one (s): main thread (event loop); all threads summed":
            f"{run.loop_ran:.1f} / {run.loop_waited:.1f}; {run.threads_ran:.1f} / {run.threads_waited:.1f}",
        "server CPU a session (server CPU / (sessions + 1)) (s)": f"{run.server_cpu / (run.sessions + 1):.2f}",
        "browser CPU ÷ server CPU": f"{run.generator_cpu / run.server_cpu:.0f}×" if run.server_cpu else "—",
        "other work on the machine meanwhile: CPU s (of the cores' capacity)": _others(run),
        "websocket bytes received by one session (median)":
            "—" if ws_median is None else f"{ws_median / 2**10:.0f} KiB",
        "warm-up visit before the sessions (s)": _s(run.warmup),
        "waited for the browser side to be idle before the start (s)": _s(run.quiet_s, 1),
        "one session alone before (first load / rerun (s), server side)": _solo(run.solo),
        "aims met by **the app** (server side: success, p95 first load, p95 rerun)":
            "yes" if fig.app_met else "**no**",
        f"aims met **end to end** ({run.sessions} browsers on the same machine)":
            "yes" if fig.browsers_met else "**no**",
    }


def verdict(run: Run) -> str:
    fig = figures(run)

    def aims(first: float | None, rerun: float | None, met: bool) -> str:
        return (f"p95 first load {_s(first)} s ({_aim(fig.below(first, AIM['first_p95']))}), p95 rerun "
                f"{_s(rerun)} s ({_aim(fig.below(rerun, AIM['rerun_p95']))}): "
                + ("all aims met" if met else "aims **not** all met"))
    success = f"{fig.ok}/{fig.total} sessions succeeded ({_aim(fig.success)})"
    if run.pinned:
        server0 = run.server_cpu / run.span if run.span else 0.0
        where = (f"the server alone on CPU {SERVER_CPU} (busy {run.cores.get(SERVER_CPU, 0):.0%}, of which the "
                 f"server {server0:.0%})")
    else:
        where = (f"the server sharing the {len(CORES)} cores with the browsers (its event loop waited "
                 f"{run.loop_waited:.0f} s for a core): slower than on a core of its own")
    busy = (f"CPU {BROWSER_CPU} busy {run.cores.get(BROWSER_CPU, 0):.0%}" if run.pinned else
            "cores busy " + ", ".join(f"{share:.0%}" for _, share in sorted(run.cores.items())))
    return (f"- **{label(run)}** — {success}. **The app** ({where}): "
            f"{aims(fig.server_first95, fig.server_rerun95, fig.app_met)}. **End to end** ({run.sessions} "
            f"browsers on {where_browsers(run)}, {busy}): {aims(fig.first95, fig.rerun95, fig.browsers_met)}.")


def code_time() -> datetime:
    files = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("metrics/*.py")]
    return datetime.fromtimestamp(max(f.stat().st_mtime for f in files))


def report(runs: list[Run], args, started: float, load_start: str, when: datetime) -> str:
    from bench.common import machine
    info = machine()
    import streamlit
    from playwright._repo_version import version as playwright_version
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    argv = " ".join(sys.argv[1:])
    caches = {run.cache for run in runs}
    sharing = (f"With `--pin` the server runs on CPU {SERVER_CPU} and the browser side (this script, Playwright's "
               f"node driver, every Chromium) on CPU {BROWSER_CPU}: the server has a core of its own (other "
               "processes of the machine may still use it: reported), the browsers share the other one."
               if args.pin else "The browsers run on the same machine as the server and share its cores.")
    lines = [
        "# Load test",
        "",
        f"Generated by `.venv/bin/python bench/load.py{(' ' + argv) if argv else ''}` on {when:%Y-%m-%d %H:%M}, "
        f"total run time {time.perf_counter() - started:.0f} s. Load average (1, 5, 15 min) {load_start} at the "
        f"start, {info['load']} at the end.",
        "",
        f"Machine: **{len(CORES)} CPUs** ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python "
        f"{info['python']}, Streamlit {streamlit.__version__}, DuckDB {info['duckdb']}, Playwright "
        f"{playwright_version}, {chromium}. {sharing} Code measured: the working tree as of "
        f"{code_time():%Y-%m-%d %H:%M} (newest app file).",
        "",
        f"Store: {runs[0].store}. Upload: unit {runs[0].upload_unit}, 2026-09, "
        f"{', '.join(UPLOAD_INDICATORS)} (each stored value + 1), started {args.upload_delay:g} s after the "
        f"sessions.",
        "",
        f"Aim (issue): {AIM['sessions']} concurrent sessions, 100% success, p95 first load under "
        f"{AIM['first_p95']:g} s, p95 rerun under {AIM['rerun_p95']:g} s.",
        "",
        "Which figure answers what: the **server-side** times (each session's run request arriving at the "
        "server → the server handing that run's script_finished to the websocket, in the server's own clock) "
        "are the app's: what real users, each on a machine of their own, wait for the server, to which their "
        "own browser adds its drawing (the solo visit's end-to-end time is that, on one core of this machine); "
        "the **end-to-end** times (goto or month picked → overview complete "
        f"in the browser) are what {' or '.join(str(n) for n in sorted({run.sessions for run in runs}))} "
        "headless browsers get when "
        f"they run on this {len(CORES)}-core machine themselves"
        + (f", on one core (CPU {BROWSER_CPU})" if args.pin else "") + ": a measure of the test's browsers as "
        "much as of the app.",
        "",
        *[verdict(run) for run in runs],
        "",
    ]
    table = [summary_rows(run, args) for run in runs]
    lines.append("| figure | " + " | ".join(label(run) for run in runs) + " |")
    lines.append("|---|" + "---|" * len(runs))
    for key in table[0]:
        lines.append(f"| {key} | " + " | ".join(row[key] for row in table) + " |")
    for run in runs:
        failed = [v for v in run.visits if not v.ok]
        errors = sorted({e for v in run.visits for e in v.script_errors})
        if failed or errors:
            lines += ["", f"{label(run)} — failures and script errors:"]
            lines += [f"- session {v.index}: {v.error}" for v in failed[:10]]
            if len(failed) > 10:
                lines.append(f"- … and {len(failed) - 10} more")
            lines += [f"- browser script error: {e}" for e in errors[:5]]
            lines += ["", "Server log (last lines):", "", "```", run.log_tail, "```"]
    lines += ["", "Sessions over time (s after the start; first load = goto → overview complete, rerun = month "
                  "picked → complete again; server side in brackets):", ""]
    for run in runs:
        ordered = sorted(run.visits, key=lambda v: (v.first is None, v.first or 0))
        spans = ", ".join(f"{_s(v.first, 1)} [{_s(v.own_first, 1)}]" for v in ordered)
        reruns = ", ".join(f"{_s(v.rerun, 1)} [{_s(v.own_rerun, 1)}]@{_s(v.rerun_start, 1)}" for v in ordered)
        lines += [f"- {label(run)}, first loads sorted: {spans}",
                  f"- {label(run)}, reruns (time@start), same order: {reruns}"]
    browsers = []
    if "cold" in caches:
        browsers.append(
            "- Browser, cold (`--cache cold`, the default): one Debian Chromium (headless, no GPU)"
            + (f" started with `nice -n {args.browser_nice}`, so that when the two compete the server gets the "
               "CPU first" if args.browser_nice else "") +
            ", one context per session (own Streamlit session, cookies and an empty HTTP cache, so every first "
            "load fetches Streamlit's bundles from the server and compiles them: first-time visitors), "
            "viewport 1400×1000, locale zh-CN.")
    if "warm" in caches:
        browsers.append(
            "- Browser, warm profiles (`--warm-profiles`): returning users. After the server's warm-up, one "
            "persistent profile (`launch_persistent_context`, the same Chromium, headless, no GPU"
            + (f", `nice -n {args.browser_nice}`" if args.browser_nice else "") +
            f") visits the overview {TEMPLATE_VISITS} times and is closed, so that its HTTP cache holds "
            "Streamlit's bundles (served `immutable, max-age` one year: not requested again) and V8's code cache "
            "their compiled code. The profile is then copied (lock files left out) and opened by one Chromium, "
            "launched before the timed start (a returning user has the browser open and types the address); "
            "each session, the upload and the solo visit open a new tab in it: a renderer process of their own, "
            "so a first load has the disk caches but not the in-memory ones of the template's visits. "
            "`--browser-per-session` gives each its own copy and Chromium process instead (on one shared core "
            "that costs several times the browser CPU: one GPU process compositing per session). A launched "
            "Chromium keeps a core busy for a few seconds: the script waits until the browser side is idle "
            "before the solo visit and again before the start. The tabs share cookies but not a websocket: a "
            "Streamlit session is one websocket, and the table counts the distinct session ids the server gave "
            "them.")
    pins = []
    if args.pin:
        pins.append(
            f"- Pinning (`--pin`): the server is started through `taskset -c {SERVER_CPU}`; this script narrows "
            f"itself to CPU {BROWSER_CPU} with `os.sched_setaffinity` before starting anything, so Playwright's "
            "node driver and every Chromium process inherit it. The table shows the CPU lists read back from "
            "/proc/<pid>/status (Cpus_allowed_list) of the server and of every browser-side process, and each "
            "core's busy share over the sessions (/proc/stat); CPU 0's share not used by the server is other "
            "processes of the machine.")
    lines += [
        "",
        "How it is measured:",
        "- Server: `.venv/bin/streamlit run app.py --server.port PORT --server.headless true` (plus address "
        "127.0.0.1, no usage stats, no file watcher; started as `python -c SERVER_HOOK run app.py …`, the same "
        "entry point with two timing notes, see \"Server side\" below) with `SAFETY_DB` on a temporary copy of the "
        "store; a fresh copy and a fresh server for every column. Before the sessions: one untimed overview visit "
        "(imports, the store's set-up, the default view's data cache: a server that has been running), one "
        "timed visit of a session alone (first load, then a rerun to 2026-08, which leaves 2026-09 uncached), "
        "then 1 s of rest.",
        *browsers,
        *pins,
        ("- All sessions start at once (`asyncio.gather`)" if not args.ramp else
         f"- Session starts spread evenly over {args.ramp:g} s")
        + "; their contexts stay open until the last session is done (sessions not done "
        f"{args.run_limit:g} s after the start are stopped and count as failures).",
        "- First load: from `page.goto('/')` until the overview is complete: title, the month's caption, 10 "
        "headline metrics, both Plotly charts drawn, `month=2026-10` published in the address (the script's "
        "last step), no running status widget, no stale element. \"HTML + bundles\" is the navigation's load "
        "event; \"title shown\" is when the script's first output was drawn. \"Server side\": from the "
        "session's run request (BackMsg rerun_script) to its run's script_finished, i.e. the script's wait for "
        "a thread, the GIL and the store's lock, and its run, without the transfer or the browser's drawing. "
        "It is taken in the server's own clock: the server is `streamlit run` started through a few lines "
        "(SERVER_HOOK in this script) that wrap two methods of Streamlit's Runtime, handle_backmsg and "
        "_send_message, to note on the event loop the time a run request arrives and a successful "
        "script_finished leaves for the websocket, with the session's id; the script matches them to its "
        "sessions by the session id each websocket was given (new_session) and by time (CLOCK_MONOTONIC for "
        "both). The same span is also read off the page's websocket frames (Streamlit's protobuf frames, "
        "decoded here; DevTools timestamps, taken in the page's renderer): when the browsers are short of CPU "
        "that one is an upper bound, the server's frames waiting until the renderer reads them. Rerun: from choosing "
        "2026年9月 in the sidebar's 统计月份 box until the same holds for 2026-09 (a month not yet in the data cache: "
        "the first session to ask scores it, the others find it cached unless the upload's commit cleared the cache). "
        f"Readiness is polled every {POLL_MS} ms. Bytes fetched: the navigation's and its resources' "
        "transferSize (Resource Timing; 0 for an answer from the HTTP cache, headers only for a revalidation).",
        "- Success: both loads complete within the timeout "
        f"({args.timeout:g} s) with no exception box and no error alert other than the overview's veto banners.",
        "- Upload: its own context (with warm profiles: its own tab) opens /upload, gives the CSV to the file "
        "uploader, waits for 校验通过, presses 确认提交, waits for 已提交; the store is then read to check the four "
        "values. The commit clears the data cache of the whole server (`st.cache_data.clear()`) and changes the "
        "store's version, so sessions rendering after it recompute.",
        "- Memory: the server process's VmRSS from /proc before the sessions (after the warm-up), every 0.5 s "
        f"during them (peak) and after their contexts closed + {args.settle:g} s (Streamlit keeps a "
        "disconnected session for 120 s, so \"after\" still holds them); VmHWM is the kernel's peak. CPU: user "
        "+ system time of the server, and of this script's other descendants (Playwright's node driver and "
        "Chromium); \"other work\" is the machine's whole CPU time (/proc/stat) over the sessions minus the "
        "server's, the browsers' and this script's: processes that are not part of the test. Run-queue wait: the sum "
        "over the server's threads of /proc/<pid>/task/<tid>/schedstat's wait time (sampled every 0.5 s; a thread that "
        "lives less than that is missed): how long the server was ready to work but had no core. Summed over "
        "threads it also counts script threads woken in turn to ask for the GIL, so the main thread's figure "
        "(Streamlit's event loop: websockets and static files) is the cleaner sign of the server lacking a core.",
        "- Percentiles interpolate linearly between ranks (with 10 sessions p95 lies between the two slowest).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sessions", type=int, nargs="+", default=[30],
                        help="concurrent sessions; several values run one after the other (default 30)")
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--db", type=Path, help="a store to copy instead of the cached demo store")
    parser.add_argument("--scale", choices=("demo", "500"), default="demo",
                        help="demo store (12 units) or bench/common.py's 500 units × 120 months (default demo)")
    parser.add_argument("--warm-profiles", action="store_true",
                        help="returning users: each session its own Chromium on a copy of a profile whose HTTP "
                             "and code caches are warm (= --cache warm)")
    parser.add_argument("--cache", choices=("cold", "warm"), nargs="+",
                        help="browser caches, one column each in this order: cold (new contexts, the default) "
                             "and/or warm (as --warm-profiles)")
    parser.add_argument("--browser-per-session", action="store_true",
                        help="with warm profiles: one Chromium process per session, each on its own copy of the "
                             "profile, instead of one Chromium on one copy with a tab per session (on a shared "
                             "core the N Chromium processes cost several times the CPU: N GPU processes)")
    parser.add_argument("--pin", action="store_true",
                        help=f"server on CPU {SERVER_CPU} (taskset), this script, Playwright and Chromium on CPU "
                             f"{BROWSER_CPU}")
    parser.add_argument("--upload-delay", type=float, default=1.0,
                        help="seconds after the sessions start that the upload session starts (default 1)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a load may take (default 300)")
    parser.add_argument("--run-limit", type=float, default=600.0,
                        help="seconds after the start at which sessions still running are stopped and count as "
                             "failures (default 600)")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="spread the sessions' starts evenly over this many seconds (default 0: all at once)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds after the contexts closed before the 'after' memory (default 3)")
    parser.add_argument("--no-warmup", action="store_true", help="no untimed overview visit before the sessions")
    parser.add_argument("--no-solo", action="store_true", help="no timed visit of one session alone first")
    parser.add_argument("--browser-nice", type=int, default=10,
                        help="run Chromium at this nice value, so that the server gets the CPU first and its "
                             "figures are the server's rather than the browsers' (default 10; 0: same as the "
                             "server)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"Markdown report (default {RESULTS})")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.warm_profiles and args.cache and "warm" not in args.cache:
        parser.error("--warm-profiles contradicts --cache without warm")
    caches = args.cache or (["warm"] if args.warm_profiles else ["cold"])
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (`make system-deps` installs it)")
    if args.pin:
        if shutil.which("taskset") is None:
            raise SystemExit("--pin needs taskset (util-linux)")
        if not {SERVER_CPU, BROWSER_CPU} <= set(CORES):
            raise SystemExit(f"--pin needs CPUs {SERVER_CPU} and {BROWSER_CPU}; this process may use {CORES}")
        os.sched_setaffinity(0, {BROWSER_CPU})  # before any thread or child: they inherit it
    started, when = time.perf_counter(), datetime.now()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = []
    for n in args.sessions:
        for cache in caches:
            run = Run(n, cache=cache, pinned=args.pin)
            print(f"{label(run)} ...", flush=True)
            with tempfile.TemporaryDirectory(prefix="safety-load-") as folder:
                run = asyncio.run(run_once(n, args, Path(folder), cache))
            fig = figures(run)
            print(f"  {fig.ok}/{n} ok; server side p95 first {_s(fig.server_first95)} s, rerun "
                  f"{_s(fig.server_rerun95)} s; end to end p95 first {_s(fig.first95)} s, rerun {_s(fig.rerun95)} s; "
                  f"upload {'ok' if run.upload and run.upload.ok else run.upload.error if run.upload else '—'}",
                  flush=True)
            runs.append(run)
    from bench.common import publish  # imports pandas and DuckDB: not before the sessions are measured

    publish(report(runs, args, started, load_start, when), args.out, write=not args.no_write)
    ok = all(v.ok for run in runs for v in run.visits) and all(run.upload and run.upload.ok for run in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
