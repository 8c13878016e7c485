#!/usr/bin/env python
"""Load test (issue: "N real browser sessions against the served app while one upload runs"):
`.venv/bin/python bench/load.py [--sessions 30] [--port 8599] [--db PATH] [--scale demo|500]`.

Not a timed test: a measurement, printed as Markdown and written to bench/LOAD.md.

1. The store: a copy, in a temporary folder, of the demo store ending 2026-10 (built once and cached as
   bench/pages.py does, `$TMPDIR/safety-bench/`), of the 500-unit store of bench/run.py with `--scale 500`
   (also cached; its first build takes a few minutes), or of `--db PATH`. The copy is what the upload writes
   to; the original is never touched. Only a demo store opens signed in: on any other store the app asks
   for a sign-in, which this script does not do, so it stops with that message.
2. The server: `streamlit run app.py` on that copy (SAFETY_DB), started as its own process on --port and
   stopped by its pid. One untimed visit of the overview first (module imports, the store's set-up and the
   default view's data cache, as on a server that has been running for a while; `--no-warmup` skips it),
   then one timed visit of a session alone, for reference (`--no-solo` skips it).
3. The sessions: one Chromium (/usr/bin/chromium, never downloaded; run at `--browser-nice`, default 10),
   one browser context per session (its own cookies, HTTP cache and Streamlit session), all N started at
   once with asyncio (`--ramp S` spreads the starts over S seconds). Each session:
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
   load read off the websocket frames (DevTools timestamps).

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
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "LOAD.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
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
}""" % OVERVIEW_TITLE
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
          requests: resources.length + 1};
}"""
# The upload page's outcome after a file was given or the commit button pressed.
UPLOAD_STATE_JS = """(wanted) => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return false;
  const exc = document.querySelector("[data-testid='stException']");
  if (exc) return {ok: false, why: "exception box: " + exc.textContent.slice(0, 300)};
  if (document.querySelector("[data-testid='stStatusWidget']")) return false;
  for (const alert of main.querySelectorAll("[data-testid='stAlertContentError'], [data-testid='stAlertContentInfo']")) {
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
        one = lambda q: con.execute(q).fetchone()[0]  # noqa: E731
        described = (f"{one('SELECT count(*) FROM subsidiaries')} units, "
                     f"{one('SELECT count(DISTINCT month) FROM observations')} months to "
                     f"{one('SELECT max(month) FROM observations'):%Y-%m}, "
                     f"{one('SELECT count(*) FROM observations'):,} observations, "
                     f"{target.stat().st_size / 2**20:.0f} MiB")
    return target, f"{described}; a copy of {how}"


def upload_file(path: Path) -> tuple[str, dict[str, float], bytes]:
    """The first unit's 2026-09 values of UPLOAD_INDICATORS, each + 1, as a long CSV."""
    from metrics import store
    with store.connect(path, read_only=True) as con:
        unit = con.execute("SELECT min(code) FROM subsidiaries").fetchone()[0]
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


def start_server(store_path: Path, port: int, log_path: Path) -> subprocess.Popen:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use: pass another with --port")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "SAFETY_DB": str(store_path)}, stdout=log, stderr=subprocess.STDOUT)
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


def generator_cpu(exclude: int) -> float:
    """CPU seconds of this script's descendants (Playwright's driver, Chromium and their reaped children),
    except the server `exclude`."""
    parents, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)], cpu[int(entry.name)] = _stat(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    me, total = os.getpid(), 0.0
    for pid in cpu:
        p, chain = pid, set()
        while p and p not in chain and p != me and p != exclude:
            chain.add(p)
            p = parents.get(p, 0)
        if p == me and pid != me:
            total += cpu[pid]
    return total


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
    script_errors: list[str] = field(default_factory=list)
    frames: Frames = field(default_factory=Frames)
    server_first: float | None = None   # websocket: the browser's run request → the server's script_finished
    server_rerun: float | None = None


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


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:240] if text else ''}"


async def _ready(page, month: str, label: str, timeout_ms: int) -> None:
    handle = await page.wait_for_function(READY_JS, arg=[month, f"{label} · "], polling=POLL_MS,
                                          timeout=timeout_ms)
    state = await handle.json_value()
    if not state.get("ok"):
        raise RuntimeError(state.get("why", "not ready"))


async def visit(browser, url: str, index: int, t0: float, timeout_ms: int, contexts: list,
                delay: float = 0.0, rerun_month: tuple[str, str] = (RERUN_MONTH, RERUN_LABEL)) -> Visit:
    result = Visit(index)
    await asyncio.sleep(delay)
    try:
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        page.on("pageerror", lambda error: result.script_errors.append(str(error)[:200]))
        await result.frames.watch(context, page)
        started = time.perf_counter()
        result.start = started - t0
        await page.goto(f"{url}/", wait_until="commit", timeout=timeout_ms)
        await page.wait_for_function(TITLE_JS, arg=OVERVIEW_TITLE, polling=POLL_MS, timeout=timeout_ms)
        result.title = time.perf_counter() - started
        await _ready(page, FIRST_MONTH, FIRST_LABEL, timeout_ms)
        result.first = time.perf_counter() - started
        nav = await page.evaluate(NAV_JS)
        result.page_load, result.bytes, result.requests = nav["load"], nav["bytes"], nav["requests"]

        month_box = page.locator(f"{SIDEBAR} [data-testid='stSelectbox']").filter(
            has=page.get_by_text("统计月份", exact=True)).locator("input[role='combobox']")
        await month_box.click()
        option = page.get_by_role("option", name=rerun_month[1], exact=True)
        await option.wait_for()
        picked = time.perf_counter()
        result.rerun_start = picked - t0
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


async def upload(browser, url: str, content: bytes, delay: float, t0: float, timeout_ms: int,
                 contexts: list) -> Upload:
    result = Upload()
    await asyncio.sleep(delay)
    try:
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
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
        result.commit_at = pressed - t0
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


# ---------------------------------------------------------------------------------------------------------
# One run: a fresh store copy, a fresh server, N sessions and the upload
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Run:
    sessions: int
    store: str = ""
    warmup: float | None = None
    solo: Visit | None = None
    visits: list[Visit] = field(default_factory=list)
    upload: Upload | None = None
    upload_unit: str = ""
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
    log_tail: str = ""


async def run_once(sessions: int, args, folder: Path) -> Run:
    run = Run(sessions)
    store_path, run.store = prepare_store(args.scale, args.db, folder)
    unit, values, content = upload_file(store_path)
    run.upload_unit = unit
    log_path = folder / "streamlit.log"
    server = start_server(store_path, args.port, log_path)
    url = f"http://127.0.0.1:{args.port}"
    timeout_ms = int(args.timeout * 1000)
    try:
        run.rss_start = status_kib(server.pid, "VmRSS")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=browser_command(folder, args.browser_nice),
                                              args=CHROMIUM_ARGS)
            try:
                if not args.no_warmup:
                    try:
                        run.warmup = await warm_up(browser, url, timeout_ms)
                    except Exception as exc:
                        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
                        raise SystemExit(f"the warm-up visit failed ({_short(exc)}); server log:\n{tail}")
                if not args.no_solo:
                    solo_contexts: list = []
                    run.solo = await visit(browser, url, -1, time.perf_counter(), timeout_ms, solo_contexts,
                                           rerun_month=(SOLO_MONTH, SOLO_LABEL))
                    for context in solo_contexts:
                        await context.close()
                await asyncio.sleep(1.0)
                run.rss_before = status_kib(server.pid, "VmRSS")
                sampler = Sampler(server.pid)
                server_cpu0, generator_cpu0 = cpu_seconds(server.pid), generator_cpu(server.pid)
                machine0, own0, span0 = machine_busy(), own_cpu(), time.perf_counter()
                sampler.start()
                contexts: list = []
                t0 = time.perf_counter()
                step = args.ramp / (sessions - 1) if sessions > 1 else 0.0
                tasks = [visit(browser, url, i, t0, timeout_ms, contexts, i * step) for i in range(sessions)]
                up = upload(browser, url, content, args.upload_delay, t0, timeout_ms, contexts)
                *run.visits, run.upload = await asyncio.gather(*tasks, up)
                run.wall = time.perf_counter() - t0
                run.rss_end = status_kib(server.pid, "VmRSS")
                for context in contexts:
                    await context.close()
                run.generator_cpu = generator_cpu(server.pid) - generator_cpu0
                run.server_cpu = cpu_seconds(server.pid) - server_cpu0
                run.machine_cpu, run.script_cpu = machine_busy() - machine0, own_cpu() - own0
                run.span = time.perf_counter() - span0
                await asyncio.sleep(args.settle)
                sampler.stop()
                run.busy_mean, run.busy_peak = sampler.busy()
                run.threads_ran, run.threads_waited = sampler.waited()
                run.loop_ran, run.loop_waited = sampler.waited(main_only=True)
                run.rss_peak = sampler.peak_rss()
                run.rss_after = status_kib(server.pid, "VmRSS")
                run.hwm = status_kib(server.pid, "VmHWM")
            finally:
                await browser.close()
    finally:
        stop_server(server)
        run.log_tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    if run.upload is not None and run.upload.ok:
        written = stored_values(store_path, unit)
        run.upload.verified = all(written.get(code) == value for code, value in values.items())
    return run


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    position = (len(values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


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
    return (f"{_s(solo.first)} / {_s(solo.rerun)} (server side {_s(solo.server_first)} / "
            f"{_s(solo.server_rerun)})")


def _others(run: Run) -> str:
    others = max(run.machine_cpu - run.server_cpu - run.generator_cpu - run.script_cpu, 0.0)
    capacity = run.span * len(os.sched_getaffinity(0))
    return f"{others:.1f} s ({others / capacity:.0%} of {capacity:.0f} core-s)" if capacity else "—"


def summary_rows(run: Run, args) -> dict[str, str]:
    ok = [v for v in run.visits if v.ok]
    firsts = [v.first for v in run.visits if v.first is not None]
    reruns = [v.rerun for v in run.visits if v.rerun is not None]
    titles = [v.title for v in run.visits if v.title is not None]
    loads = [v.page_load for v in run.visits if v.page_load is not None]
    server_firsts = [v.server_first for v in run.visits if v.server_first is not None]
    server_reruns = [v.server_rerun for v in run.visits if v.server_rerun is not None]
    ws_median = percentile([v.frames.received for v in run.visits if v.frames.received], 50)
    rate = len(ok) / len(run.visits) if run.visits else 0.0
    first95, rerun95 = percentile(firsts, 95), percentile(reruns, 95)
    up = run.upload
    if up is None:
        upload_text, upload_times = "—", "—"
    elif up.ok:
        upload_text = f"committed, {'verified in the store' if up.verified else '**values not found in the store**'}"
        upload_times = (f"page {_s(up.page)} s, check {_s(up.check)} s (server side {_s(up.server_check)} s), "
                        f"commit {_s(up.commit)} s (server side {_s(up.server_commit)} s); pressed at "
                        f"+{_s(up.commit_at, 1)} s, done at +{_s(up.committed_at, 1)} s")
    else:
        upload_text, upload_times = f"**failed**: {up.error}", "—"
    after_commit = (sum(1 for v in run.visits if v.rerun_start is not None and up is not None and up.commit_at
                        is not None and v.rerun_start + (v.rerun or 0) > up.commit_at)
                    if up is not None and up.commit_at is not None else 0)
    bytes_median = percentile([v.bytes for v in run.visits if v.bytes], 50)
    met = (rate >= AIM["success"] and first95 is not None and first95 < AIM["first_p95"]
           and rerun95 is not None and rerun95 < AIM["rerun_p95"])
    return {
        "sessions + 1 upload": f"{run.sessions} + 1, " + ("all started at once" if not args.ramp else
                                                           f"started over {args.ramp:g} s"),
        "success rate": f"{len(ok)}/{len(run.visits)} ({rate:.0%}) — aim 100%: {_aim(rate >= AIM['success'])}",
        "first load p50 / p95 / max (s)": f"{_s(percentile(firsts, 50))} / **{_s(first95)}** / "
                                          f"{_s(max(firsts, default=None))} — aim p95 < {AIM['first_p95']:g} s: "
                                          f"{_aim(first95 is not None and first95 < AIM['first_p95'])}",
        "&nbsp;&nbsp;of which: HTML + bundles loaded, p50 / p95 (s)": f"{_s(percentile(loads, 50))} / {_s(percentile(loads, 95))}",
        "&nbsp;&nbsp;of which: title shown, p50 / p95 (s)": f"{_s(percentile(titles, 50))} / {_s(percentile(titles, 95))}",
        "rerun after the month change p50 / p95 / max (s)": f"{_s(percentile(reruns, 50))} / **{_s(rerun95)}** / "
                                                            f"{_s(max(reruns, default=None))} — aim p95 < "
                                                            f"{AIM['rerun_p95']:g} s: "
                                                            f"{_aim(rerun95 is not None and rerun95 < AIM['rerun_p95'])}",
        "&nbsp;&nbsp;server side: run request → script finished, first load p50 / p95 (s)":
            f"{_s(percentile(server_firsts, 50))} / {_s(percentile(server_firsts, 95))}",
        "&nbsp;&nbsp;server side: run request → script finished, rerun p50 / p95 (s)":
            f"{_s(percentile(server_reruns, 50))} / {_s(percentile(server_reruns, 95))}",
        "reruns still running when the commit was pressed, or later": f"{after_commit}",
        "all sessions done after (s)": _s(run.wall, 1),
        "upload (1 session, CSV of 4 values)": upload_text,
        "upload times": upload_times,
        "server RSS before / peak / after": f"{_mib(run.rss_before)} / {_mib(run.rss_peak)} / {_mib(run.rss_after)} "
                                            f"(at the end, sessions open: {_mib(run.rss_end)}; kernel peak VmHWM "
                                            f"{_mib(run.hwm)}; just started {_mib(run.rss_start)})",
        "server RSS growth (after − before; peak − before)": f"{(run.rss_after - run.rss_before) / 1024:+.0f} MiB; "
                                                             f"{(run.rss_peak - run.rss_before) / 1024:+.0f} MiB "
                                                             f"({(run.rss_peak - run.rss_before) / 1024 / max(run.sessions, 1):.1f} MiB a session)",
        "server CPU (s) / busy, mean and highest 0.5 s (% of one core)": f"{run.server_cpu:.1f} / {run.busy_mean:.0f}%, "
                                                                        f"{run.busy_peak:.0f}%",
        "browser side CPU (s): Playwright + Chromium (+ this script); a session's share":
            f"{run.generator_cpu:.1f} (+ {run.script_cpu:.1f}); {run.generator_cpu / (run.sessions + 1):.1f}",
        "server on a CPU / ready but waiting for one (s): main thread (event loop); all threads summed":
            f"{run.loop_ran:.1f} / {run.loop_waited:.1f}; {run.threads_ran:.1f} / {run.threads_waited:.1f}",
        "server CPU a session (server CPU / (sessions + 1)) (s)": f"{run.server_cpu / (run.sessions + 1):.2f}",
        "browser CPU ÷ server CPU": f"{run.generator_cpu / run.server_cpu:.0f}×" if run.server_cpu else "—",
        "other work on the machine meanwhile: CPU s (of the cores' capacity)": _others(run),
        "bytes fetched by one first load (median)": "—" if bytes_median is None else f"{bytes_median / 2**20:.1f} MiB",
        "websocket bytes received by one session (median)":
            "—" if ws_median is None else f"{ws_median / 2**10:.0f} KiB",
        "warm-up visit before the sessions (s)": _s(run.warmup),
        "one session alone before (first load / rerun (s), server side)": _solo(run.solo),
        "all aims met": "yes" if met else "**no**",
    }


def code_time() -> datetime:
    files = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("metrics/*.py")]
    return datetime.fromtimestamp(max(f.stat().st_mtime for f in files))


def report(runs: list[Run], args, started: float, load_start: str, when: datetime) -> str:
    from bench.run import machine
    info = machine()
    import streamlit
    from playwright._repo_version import version as playwright_version
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    argv = " ".join(sys.argv[1:])
    lines = [
        "# Load test",
        "",
        f"Generated by `.venv/bin/python bench/load.py{(' ' + argv) if argv else ''}` on {when:%Y-%m-%d %H:%M}, "
        f"total run time {time.perf_counter() - started:.0f} s. Load average (1, 5, 15 min) {load_start} at the "
        f"start, {info['load']} at the end.",
        "",
        f"Machine: **{info['nproc']} CPUs** ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python "
        f"{info['python']}, Streamlit {streamlit.__version__}, DuckDB {info['duckdb']}, Playwright "
        f"{playwright_version}, {chromium}. The browsers run on the same machine as the server and share its "
        f"cores. Code measured: the working tree as of {code_time():%Y-%m-%d %H:%M} (newest app file).",
        "",
        f"Store: {runs[0].store}. Upload: unit {runs[0].upload_unit}, 2026-09, "
        f"{', '.join(UPLOAD_INDICATORS)} (each stored value + 1), started {args.upload_delay:g} s after the "
        f"sessions.",
        "",
        f"Aim (issue): {AIM['sessions']} concurrent sessions, 100% success, p95 first load under "
        f"{AIM['first_p95']:g} s, p95 rerun under {AIM['rerun_p95']:g} s.",
        "",
    ]
    table = [summary_rows(run, args) for run in runs]
    lines.append("| figure | " + " | ".join(f"{run.sessions} sessions" for run in runs) + " |")
    lines.append("|---|" + "---|" * len(runs))
    for key in table[0]:
        lines.append(f"| {key} | " + " | ".join(row[key] for row in table) + " |")
    for run in runs:
        failed = [v for v in run.visits if not v.ok]
        errors = sorted({e for v in run.visits for e in v.script_errors})
        if failed or errors:
            lines += ["", f"{run.sessions} sessions — failures and script errors:"]
            lines += [f"- session {v.index}: {v.error}" for v in failed[:10]]
            if len(failed) > 10:
                lines.append(f"- … and {len(failed) - 10} more")
            lines += [f"- browser script error: {e}" for e in errors[:5]]
            lines += ["", "Server log (last lines):", "", "```", run.log_tail, "```"]
    lines += ["", "Sessions over time (s after the start; first load = goto → overview complete, rerun = month "
                  "picked → complete again):", ""]
    for run in runs:
        ordered = sorted(run.visits, key=lambda v: (v.first is None, v.first or 0))
        spans = ", ".join(f"{_s(v.first, 1)}" for v in ordered)
        reruns = ", ".join(f"{_s(v.rerun, 1)}@{_s(v.rerun_start, 1)}" for v in ordered)
        lines += [f"- {run.sessions} sessions, first loads sorted: {spans}",
                  f"- {run.sessions} sessions, reruns (time@start), same order: {reruns}"]
    lines += [
        "",
        "How it is measured:",
        "- Server: `.venv/bin/streamlit run app.py --server.port PORT --server.headless true` (plus address "
        "127.0.0.1, no usage stats, no file watcher) with `SAFETY_DB` on a temporary copy of the store; a "
        "fresh copy and a fresh server for every column. Before the sessions: one untimed overview visit "
        "(imports, the store's set-up, the default view's data cache: a server that has been running), one "
        "timed visit of a session alone (first load, then a rerun to 2026-08, which leaves 2026-09 uncached), "
        "then 1 s of rest.",
        "- Browser: one Debian Chromium (headless, no GPU)"
        + (f" started with `nice -n {args.browser_nice}`, so that when the two compete the server gets the CPU "
           "first" if args.browser_nice else "") +
        ", one context per session (own Streamlit session, cookies and an empty HTTP cache, so every first "
        "load fetches Streamlit's bundles from the server), viewport 1400×1000, locale zh-CN. "
        + ("All sessions start at once (`asyncio.gather`)" if not args.ramp else
           f"Session starts spread evenly over {args.ramp:g} s") +
        "; their contexts stay open until the last session is done.",
        "- First load: from `page.goto('/')` until the overview is complete: title, the month's caption, 10 "
        "headline metrics, both Plotly charts drawn, `month=2026-10` published in the address (the script's "
        "last step), no running status widget, no stale element. \"HTML + bundles\" is the navigation's load "
        "event; \"title shown\" is when the script's first output was drawn. \"Server side\" is read off "
        "the session's websocket (Streamlit's protobuf frames, decoded here): from the browser's run request "
        "(BackMsg rerun_script) to the server's script_finished, i.e. the script's wait for a thread, the "
        "GIL and the store's lock, its run and the transfer, without the browser's drawing (DevTools "
        "timestamps of the browser's network stack). When the browsers are short of CPU this is an upper bound: "
        "the server's frames then wait in the socket until the browser reads them. Rerun: from choosing 2026年9月 in the "
        "sidebar's 统计月份 box until the same holds for 2026-09 (a month not yet in the data cache: the first "
        "session to ask scores it, the others find it cached unless the upload's commit cleared the cache). "
        f"Readiness is polled every {POLL_MS} ms.",
        "- Success: both loads complete within the timeout "
        f"({args.timeout:g} s) with no exception box and no error alert other than the overview's veto banners.",
        "- Upload: its own context opens /upload, gives the CSV to the file uploader, waits for 校验通过, presses "
        "确认提交, waits for 已提交; the store is then read to check the four values. The commit clears the data "
        "cache of the whole server (`st.cache_data.clear()`) and changes the store's version, so sessions "
        "rendering after it recompute.",
        "- Memory: the server process's VmRSS from /proc before the sessions (after the warm-up), every 0.5 s "
        f"during them (peak) and after their contexts closed + {args.settle:g} s (Streamlit keeps a "
        "disconnected session for 120 s, so \"after\" still holds them); VmHWM is the kernel's peak. CPU: user "
        "+ system time of the server, and of this script's other descendants (Playwright's node driver and "
        "Chromium); \"other work\" is the machine's whole CPU time (/proc/stat) over the sessions minus the "
        "server's, the browsers' and this script's: processes that are not part of the test. Run-queue wait: the sum over the "
        "server's threads of /proc/<pid>/task/<tid>/schedstat's wait time (sampled every 0.5 s; a thread that "
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
                        help="demo store (12 units) or bench/run.py's 500 units × 120 months (default demo)")
    parser.add_argument("--upload-delay", type=float, default=1.0,
                        help="seconds after the sessions start that the upload session starts (default 1)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a load may take (default 300)")
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
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (`make system-deps` installs it)")
    started, when = time.perf_counter(), datetime.now()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = []
    for n in args.sessions:
        print(f"{n} sessions ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="safety-load-") as folder:
            run = asyncio.run(run_once(n, args, Path(folder)))
        ok = sum(v.ok for v in run.visits)
        print(f"  {ok}/{n} ok, first p95 {_s(percentile([v.first for v in run.visits], 95))} s, rerun p95 "
              f"{_s(percentile([v.rerun for v in run.visits], 95))} s, upload "
              f"{'ok' if run.upload and run.upload.ok else run.upload.error if run.upload else '—'}", flush=True)
        runs.append(run)
    text = report(runs, args, started, load_start, when)
    print(text)
    if not args.no_write:
        args.out.write_text(text)
    ok = all(v.ok for run in runs for v in run.visits) and all(run.upload and run.upload.ok for run in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
