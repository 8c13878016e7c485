#!/usr/bin/env python
"""What a file the upload limits allow costs, and whether the dashboard keeps answering while one is checked
(issue 17): `.venv/bin/python bench/limits.py [--quick]`, written to bench/LIMITS.md.

1. Memory and time across the sizes data/limits.toml allows. Every file goes through the command line
   (`python -m metrics import FILE --db COPY --json`, SAFETY_NOW=2026-11-23), each in a fresh process on a fresh
   copy of its store: the process reads the file in its worker child (metrics/ingest/worker.py, RLIMIT_AS = memory_mb,
   `seconds`) and shapes, validates and commits it itself. Peak memory two ways: ru_maxrss of os.wait4 (the
   largest single process of the two: Linux reports the larger of a process's own peak and its children's), and
   the sum of VmRSS over the command and its worker, sampled every 20 ms (both are alive at once: the command
   holds the file's bytes while the worker reads them). Cases:
   a. dense long CSV (month,subsidiary,indicator,value by code, distinct keys: the newest months of every unit
      of bench/upload.py's 500-unit synthetic group) of 8, 16, 32, 48 MiB and just under 64 MiB (file_mb), into
      the store of units and targets (bench/common.py `new_store`): committed; the same sizes as UTF-16 (BOM);
   b. the same observations as a long .xlsx (shared strings, as Excel writes text) expanding to 64 and 128 MiB,
      at the rows limit, and just under 256 MiB (xlsx_expanded_mb) with inline strings;
   c. each crafted file of tests/hostile.py at the largest size the limits let through their pre-checks (file
      size, lines, expanded size, size of a part other than a sheet), into the demo store as tools/hostile_run.py
      does.
   The largest dense CSV and .xlsx are also run once in a probe child (`--probe`) that calls
   metrics.ingest.upload.import_file with each stage wrapped to note its time and the process's peak RSS over it.
2. Responsiveness: the dashboard (tools/serve.py) on a copy of the synthetic store with 24 months of history,
   marked as a demo store so that it opens signed in as the demo administrator. Two Chromium sessions: B
   alternates the overview's month (统计月份: 2026年10月 / 2026年9月, both cached after the first visit) and
   times each rerun from the click on the option until the page is whole for that month (bench/load.py's
   READY_JS: no status widget, no stale element, caption, metrics and charts drawn); first with nothing else
   running (baseline), then while session A's ~60 MB dense long CSV is read and checked on /upload.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd

from bench.common import END, machine, make_observations, make_targets, make_units, new_store, publish
from bench.proc import children, status_bytes, tree_rss
from bench.upload import fmt
from metrics.core.catalog import load_catalog
from metrics.core.limits import MB, load_limits
from metrics.core.months import add_months, iso_month
from tests import hostile
from tools.hostile_run import first_line, make_store

RESULTS = Path(__file__).resolve().parent / "LIMITS.md"
NOW = "2026-11-23"
AIM_MB, AIM_S = 1536, 60.0
SAMPLE_S = 0.02
ADDRESS_CAP = 12 << 30  # the command's own address space: a runaway case stops here, not in the machine's swap
TIMEOUT_S = 240.0
MONTHS = 160  # 500 units x about 27 indicators x 160 months: more distinct keys than the rows limit
HISTORY_MONTHS = 24  # the served store's history
UPLOADS = 3  # the 60 MB upload, one after another, each in a new session A
LIMITS = load_limits()
HEADER = "month,subsidiary,indicator,value"


# ---------------------------------------------------------------------------------------------------------
# Processes: wall time, ru_maxrss and the sampled sum of the tree's resident sets
# ---------------------------------------------------------------------------------------------------------

# Runs a command and writes its wall time, its ru_maxrss (os.wait4) and the peak of the sampled sum of VmRSS over it
# and its descendants to argv[1]; argv[2] is the timeout, argv[3] the address-space cap. Started as a small process
# of its own: a child forked from the benchmark (which holds the synthetic group) would inherit the benchmark's
# peak in ru_maxrss (Linux keeps the pre-exec high-water mark), as bench/upload.py notes.
LAUNCHER = r"""
import json, os, resource, signal, subprocess, sys, time
from bench.proc import tree_rss

out, timeout, cap = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
t0 = time.perf_counter()
child = subprocess.Popen(sys.argv[4:], preexec_fn=limit)
peak, timed_out = 0, False
while True:
    done, status, usage = os.wait4(child.pid, os.WNOHANG)
    if done:
        break
    peak = max(peak, tree_rss(child.pid))
    if time.perf_counter() - t0 > timeout:
        os.kill(child.pid, signal.SIGKILL)
        _, status, usage = os.wait4(child.pid, 0)
        timed_out = True
        break
    time.sleep(SAMPLE_S)
code = "timeout" if timed_out else (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                                    else str(os.WEXITSTATUS(status)))
json.dump({"seconds": time.perf_counter() - t0, "exit": code, "maxrss": usage.ru_maxrss * 1024,
           "tree_peak": peak}, open(out, "w"))
""".replace("SAMPLE_S", repr(SAMPLE_S))


@dataclass
class Measured:
    seconds: float
    exit: str
    maxrss: int  # bytes: the larger of the command's and its worker's peaks
    tree_peak: int  # bytes: sampled sum over the command and its descendants
    out: Path
    err: Path


def measured_run(command: list[str], work: Path, name: str, env: dict[str, str], timeout: float = TIMEOUT_S
                 ) -> Measured:
    out, err, measured = work / f"{name}.out", work / f"{name}.err", work / f"{name}.json"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run([sys.executable, "-c", LAUNCHER, str(measured), str(timeout), str(ADDRESS_CAP), *command],
                       cwd=ROOT, env=env, stdout=stdout, stderr=stderr, check=True)
    doc = json.loads(measured.read_text())
    return Measured(doc["seconds"], doc["exit"], doc["maxrss"], doc["tree_peak"], out, err)


# ---------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Group:
    units: pd.DataFrame
    observations: pd.DataFrame  # newest month first, then unit, then indicator
    lines: list[str]  # the long CSV's data lines, in that order


def make_group(catalog) -> Group:
    months = [add_months(END, -i) for i in range(MONTHS - 1, -1, -1)]
    units = make_units(500)
    observations = make_observations(units, months, catalog, 20261001)
    observations = observations[observations["value"].notna()]
    observations = observations.sort_values(["month", "subsidiary", "indicator"], ascending=[False, True, True],
                                            ignore_index=True)
    month_text = observations["month"].map({m: iso_month(m) for m in observations["month"].unique()})
    lines = [f"{m},{u},{i},{v}\n" for m, u, i, v in zip(month_text, observations["subsidiary"],
                                                       observations["indicator"],
                                                       fmt(observations["value"].to_numpy()))]
    return Group(units, observations, lines)


def dense_csv(group: Group, path: Path, size: int, encoding: str = "utf-8", skip: int = 0) -> tuple[Path, int]:
    """The first data lines (after `skip`) that fit in `size` bytes, under the header, and no more lines than the
    rows limit allows: (path, values)."""
    unit = 2 if encoding == "utf-16" else 1
    budget = size // unit - len(HEADER) - 2 - (1 if unit == 2 else 0)  # header, newline, BOM
    lines: list[str] = []
    used = 0
    for line in group.lines[skip:]:
        if used + len(line) > budget or len(lines) >= LIMITS.rows - 1:
            break
        lines.append(line)
        used += len(line)
    path.write_bytes((HEADER + "\n" + "".join(lines)).encode(encoding))
    return path, len(lines)


def _xlsx_rows(group: Group, strings: dict[str, int], inline: bool, count: int) -> Iterator[str]:
    yield hostile.row(1, HEADER.split(","))
    table = group.observations.iloc[:count]
    month_text = table["month"].map({m: iso_month(m) for m in table["month"].unique()})
    for r, (m, u, i, v) in enumerate(zip(month_text, table["subsidiary"], table["indicator"],
                                         fmt(table["value"].to_numpy())), start=2):
        if inline:
            yield (f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{m}</t></is></c><c r="B{r}" t="inlineStr"><is>'
                   f'<t>{u}</t></is></c><c r="C{r}" t="inlineStr"><is><t>{i}</t></is></c><c r="D{r}"><v>{v}</v>'
                   f'</c></row>')
        else:
            yield (f'<row r="{r}"><c r="A{r}" t="s"><v>{strings[m]}</v></c><c r="B{r}" t="s"><v>{strings[u]}</v></c>'
                   f'<c r="C{r}" t="s"><v>{strings[i]}</v></c><c r="D{r}"><v>{v}</v></c></row>')


def _row_bytes(group: Group, strings: dict[str, int], inline: bool, count: int) -> list[int]:
    return [len(text) for text in _xlsx_rows(group, strings, inline, count)]


def long_xlsx(group: Group, path: Path, expanded: int | None, inline: bool = False,
              rows: int | None = None) -> tuple[Path, int]:
    """The observations as a one-sheet long workbook (tests/hostile.py's minimal SpreadsheetML): as many rows as
    make the parts expand to just under `expanded` bytes, or `rows` rows (header included): (path, values)."""
    texts = sorted({iso_month(m) for m in group.observations["month"].unique()}) + list(group.units["code"]) + \
        sorted(group.observations["indicator"].unique())
    strings = {text: k for k, text in enumerate(texts)}
    sst = b"" if inline else b"".join(hostile.sst_xml(texts, len(texts)))
    limit = rows - 1 if rows else min(len(group.observations), LIMITS.rows - 1)
    if expanded is not None:
        sizes = np.cumsum(_row_bytes(group, strings, inline, limit))
        budget = expanded - len(sst) - 8 * 1024  # the other parts and the sheet's own head and tail
        limit = int(np.searchsorted(sizes, budget, side="right")) - 1  # data rows after the header row
    parts = hostile.package(hostile.sheet_xml(_xlsx_rows(group, strings, inline, limit)),
                            None if inline else [sst])
    return hostile.write_zip(path, parts), limit


def expanded_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def other_part_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return max(info.file_size for info in archive.infolist() if not info.filename.startswith("xl/worksheets/"))


def lines_of(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))


def file_ratio(path: Path) -> float:
    return path.stat().st_size / (LIMITS.file_mb * MB)


def csv_ratio(path: Path) -> float:
    return max(file_ratio(path), (lines_of(path) + 1) / LIMITS.rows)


def xlsx_ratio(path: Path) -> float:
    return max(file_ratio(path), expanded_size(path) / (LIMITS.xlsx_expanded_mb * MB),
               other_part_size(path) / (LIMITS.xlsx_part_mb * MB))


def fitted(make: Callable[[int], Path], start: int, ratio: Callable[[Path], float]) -> tuple[Path, int]:
    """make(n) with the largest n near `start` whose file is within the pre-checks (ratio <= 1)."""
    n = start
    for _ in range(4):
        path = make(n)
        over = ratio(path)
        if over <= 1:
            return path, n
        n = int(n / over * 0.995)
    raise RuntimeError(f"{path.name} did not fit within the limits")


@dataclass
class Hostile:
    name: str
    knob: str | None = None
    start: Callable[[], int] | None = None
    ratio: Callable[[Path], float] | None = None
    extra: dict = field(default_factory=dict)


def _lg02_block() -> int:
    return len("".join(line + "\n" for line in hostile.lg02_rows()).encode())


HOSTILE = [
    Hostile("csv_control"), Hostile("xlsx_control"),
    Hostile("xlsx_million_rows", "rows", lambda: LIMITS.rows, xlsx_ratio),
    Hostile("xlsx_padding_bomb", "rows", lambda: LIMITS.rows, xlsx_ratio, {"column": "IV"}),
    Hostile("xlsx_huge_string_cell", "cell_bytes", lambda: LIMITS.xlsx_expanded_mb * MB - 64 * 1024, xlsx_ratio),
    Hostile("xlsx_huge_string_cell", "cell_bytes", lambda: LIMITS.xlsx_part_mb * MB - 4 * 1024, xlsx_ratio,
            {"shared": True}),
    Hostile("xlsx_shared_strings_bomb", "entries", lambda: LIMITS.xlsx_part_mb * MB // 30, xlsx_ratio),
    Hostile("xlsx_bad_shared_string_index"), Hostile("xlsx_lying_sizes"), Hostile("xlsx_missing_workbook"),
    Hostile("xlsx_truncated_sheet"), Hostile("xlsx_not_a_zip"),
    Hostile("csv_huge_cell", "cell_bytes", lambda: LIMITS.file_mb * MB - 64 * 1024, csv_ratio),
    Hostile("csv_unterminated_quote", "rows", lambda: LIMITS.rows - 8, csv_ratio),
    Hostile("csv_long_valid", "size", lambda: LIMITS.file_mb * MB - 256 * 1024, csv_ratio),
    Hostile("csv_duplicates_then_bad", "size",
            lambda: min(LIMITS.file_mb * MB - 64 * 1024, (LIMITS.rows - 8) // 15 * _lg02_block()), csv_ratio),
    Hostile("csv_month_1900"), Hostile("csv_month_column_twice"),
    Hostile("csv_many_columns", "columns", lambda: LIMITS.columns, csv_ratio),
    Hostile("csv_many_rows_empty", "empty", lambda: LIMITS.rows - 3, csv_ratio),
]


# ---------------------------------------------------------------------------------------------------------
# Part 1: the cases
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Row:
    case: str
    size: int
    values: int | None
    outcome: str
    seconds: float
    maxrss: int
    tree_peak: int
    exit: str

    @property
    def within(self) -> bool:
        return self.tree_peak <= AIM_MB * 2**20 and self.seconds <= AIM_S and self.exit in ("0", "1")


def _env() -> dict[str, str]:
    return {**os.environ, "SAFETY_NOW": NOW, "PYTHONPATH": str(ROOT)}


def import_case(case: str, file: Path, pristine: Path, work: Path, values: int | None) -> Row:
    db = work / "case.duckdb"
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(pristine, db)
    run = measured_run([sys.executable, "-m", "metrics", "import", "--db", str(db), str(file), "--json"], work,
                       "case", _env())
    said = first_line(run.out, run.err)
    row = Row(case, file.stat().st_size, values, said, run.seconds, run.maxrss, run.tree_peak, run.exit)
    print(f"  {case}: {row.size:,} B, {row.seconds:.1f} s, maxrss {row.maxrss / 2**20:.0f} MiB, tree "
          f"{row.tree_peak / 2**20:.0f} MiB, exit {row.exit}: {said[:160]}", flush=True)
    return row


def dense_cases(group: Group, store_db: Path, work: Path, quick: bool) -> list[Row]:
    sizes = [8, 16, 32, 48, 64] if not quick else [8, 64]
    rows = []
    for encoding, label in (("utf-8", "UTF-8"), ("utf-16", "UTF-16")):
        for mib in sizes:
            size = mib * MB - (64 * 1024 if mib * MB >= LIMITS.file_mb * MB else 0)
            path, values = dense_csv(group, work / f"dense-{mib}.csv", size, encoding)
            rows.append(import_case(f"dense long CSV {label}, {mib} MiB{' (just under)' if mib == 64 else ''}",
                                    path, store_db, work, values))
            path.unlink()
    return rows


def xlsx_cases(group: Group, store_db: Path, work: Path, quick: bool) -> list[Row]:
    cap = LIMITS.xlsx_expanded_mb * MB
    plans: list[tuple[str, dict[str, Any]]] = [
             ("long .xlsx, shared strings, 64 MiB expanded", {"expanded": 64 * MB}),
             ("long .xlsx, shared strings, 128 MiB expanded", {"expanded": 128 * MB}),
             (f"long .xlsx, shared strings, at the rows limit ({LIMITS.rows:,} rows)", {"expanded": None,
                                                                                        "rows": LIMITS.rows}),
             ("long .xlsx, inline strings, just under 256 MiB expanded", {"expanded": cap - 256 * 1024,
                                                                              "inline": True})]
    rows = []
    for label, plan in plans[:1] + plans[-1:] if quick else plans:
        path, values = long_xlsx(group, work / "long.xlsx", **plan)
        grown = expanded_size(path)
        rows.append(import_case(f"{label}: {grown / MB:,.1f} MiB", path, store_db, work, values))
        path.unlink()
    return rows


def _sized(make: Callable[..., Path], knob: str, value: int) -> Path:
    """The hostile file `make` builds with its size knob at `value`."""
    return make(**{knob: value})


def hostile_cases(work: Path, quick: bool) -> list[Row]:
    demo = make_store(work / "demo.duckdb")
    rows = []
    for spec in HOSTILE:
        if quick and spec.knob is not None and spec.name not in ("csv_duplicates_then_bad", "xlsx_padding_bomb"):
            continue
        maker = functools.partial(hostile.FILES[spec.name], work, **spec.extra)
        if spec.knob is None:
            path, label = maker(), spec.name
        else:
            assert spec.start is not None and spec.ratio is not None, spec.name  # declared with its knob
            path, n = fitted(functools.partial(_sized, maker, spec.knob), spec.start(), spec.ratio)
            extra = "".join(f", {k}={v!r}" for k, v in spec.extra.items())
            label = f"{spec.name} ({spec.knob}={n:,}{extra})"
        rows.append(import_case(label, path, demo, work, None))
        path.unlink()
    return rows


# ---------------------------------------------------------------------------------------------------------
# The probe: import_file in this process, each stage's time and peak RSS
# ---------------------------------------------------------------------------------------------------------

def _status(key: str) -> int:
    return status_bytes(os.getpid(), key)


def probe_main(db: str, file: str) -> int:
    """`--probe DB FILE`: import_file with its stages wrapped; one JSON line of (stage, s, RSS after, peak over
    the stage, the worker's peak) on stdout."""
    from metrics import store
    from metrics.ingest import upload

    stages: list[dict] = []

    def wrap(module, name: str) -> None:
        fn = getattr(module, name)

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            Path("/proc/self/clear_refs").write_text("5")
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages.append({"stage": name, "seconds": time.perf_counter() - t0, "rss": _status("VmRSS"),
                               "peak": _status("VmHWM"),
                               "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024})
        setattr(module, name, timed)

    for name in ("read_grid_isolated", "shape_cells", "_context", "validate", "_changes"):
        wrap(upload, name)
    data = Path(file).read_bytes()
    start = _status("VmRSS")
    t0 = time.perf_counter()
    with store.connect(Path(db)) as con:
        Path("/proc/self/clear_refs").write_text("5")
        result = upload.import_file(con, data, Path(file).name, actor="bench",
                                    today=date.fromisoformat(NOW), raw_directory=Path(db).parent / "raw")
        stages.append({"stage": "commit (transaction) and the rest", "seconds": None, "rss": _status("VmRSS"),
                       "peak": _status("VmHWM"), "children": None})
    print(json.dumps({"start": start, "seconds": time.perf_counter() - t0, "status": result.status,
                      "rows": result.rows, "stages": stages}))
    return 0


def probe(file: Path, pristine: Path, work: Path, label: str) -> dict:
    db = work / "probe" / "case.duckdb"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir()
    shutil.copyfile(pristine, db)
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--probe", str(db), str(file)], cwd=ROOT,
                          check=False, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    doc["label"] = label
    print(f"  probe {label}: {doc['seconds']:.1f} s, {doc['status']}", flush=True)
    return doc


# ---------------------------------------------------------------------------------------------------------
# Part 2: another session's reruns during a 60 MB upload
# ---------------------------------------------------------------------------------------------------------

MONTH_A, MONTH_B = ("2026-10", "2026年10月"), ("2026-09", "2026年9月")
SPINNER = "[data-testid='stMain'] [data-testid='stSpinner']"
DONE_JS = """() => {
  // When the check's spinner, once seen, is gone: the outcome is on the page (the page's own alerts about what is
  // due were there before and are not the outcome).
  window.__uploadDone = null;
  let seen = false;
  const poll = setInterval(() => {
    if (document.querySelector("[data-testid='stMain'] [data-testid='stSpinner']")) { seen = true; return; }
    if (seen && !document.querySelector("[data-testid='stStatusWidget']")) {
      window.__uploadDone = Date.now();
      clearInterval(poll);
    }
  }, 20);
}"""
OUTCOME = "[data-testid='stMain'] [data-testid='stAlertContentSuccess'], [data-testid='stMain'] " \
          "[data-testid='stAlertContentError']"


def served_store(group: Group, catalog, work: Path) -> Path:
    """The synthetic group's units and targets with its newest HISTORY_MONTHS months, marked as a demo store."""
    from metrics import store
    from metrics.ingest.initialise import DEMO_KEY

    first = add_months(END, -(HISTORY_MONTHS - 1))
    path = work / "served.duckdb"
    months = sorted(group.observations["month"].unique())
    targets = make_targets(group.units, sorted({m.year for m in months}))
    new_store(path, group.units, targets, catalog, group.observations[group.observations["month"] >= first])
    with store.connect(path) as con:
        store.set_meta(con, DEMO_KEY, "true")
    return path


def server_pid(port: str) -> int | None:
    for child in children(os.getpid()):
        try:
            if port in Path(f"/proc/{child}/cmdline").read_text():
                return child
        except OSError:
            continue
    return None


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def upload_once(browser, url: str, upload: Path, rerun: Callable[[], float], pid: int | None) -> dict:
    """Session A (a new context) gives `upload` to the uploader of /upload; session B reruns while the check's
    spinner is shown. The reruns that began and ended with the spinner shown, the upload's time from giving the
    file until the spinner was gone, its outcome, and the server tree's RSS sampled between reruns."""
    from tests.browser import VIEWPORT

    a = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
    a.goto(f"{url}/upload")
    a.locator("[data-testid='stFileUploaderDropzoneInput']").wait_for(state="attached", timeout=120_000)
    a.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")", polling=50)
    a.evaluate(DONE_JS)
    started = a.evaluate("Date.now()")
    t0 = time.perf_counter()
    a.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
    a.locator(SPINNER).wait_for(state="visible", timeout=120_000)
    spinner_after = time.perf_counter() - t0
    during, peak = [], 0
    while a.locator(SPINNER).count():
        seconds = rerun()
        if a.locator(SPINNER).count():  # the whole rerun fell within the check
            during.append(seconds)
        if pid:
            peak = max(peak, tree_rss(pid))
    a.wait_for_function("() => window.__uploadDone", polling=50, timeout=300_000)
    done = a.evaluate("window.__uploadDone")
    said = " / ".join(text.strip() for text in a.locator(OUTCOME).all_inner_texts())
    a.context.close()
    rss, hwm = (status_bytes(pid, "VmRSS"), status_bytes(pid, "VmHWM")) if pid else (0, 0)
    print(f"  upload: {(done - started) / 1000:.1f} s, {len(during)} reruns during it; server VmRSS "
          f"{rss / 2**20:.0f} MiB, VmHWM {hwm / 2**20:.0f} MiB", flush=True)
    return {"during": during, "seconds": (done - started) / 1000, "said": said, "spinner_after": spinner_after,
            "peak": peak, "rss_after": rss, "hwm_after": hwm}


def responsiveness(group: Group, catalog, work: Path, quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.load import READY_JS
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
    from tools.serve import dashboard

    db = served_store(group, catalog, work)
    history_rows = int((group.observations["month"] >= add_months(END, -(HISTORY_MONTHS - 1))).sum())
    upload, values = dense_csv(group, work / "upload-60mb.csv", 60 * 10**6, skip=history_rows)
    baseline_n = 10 if quick else 30
    result: dict = {"file": upload.stat().st_size, "values": values, "history": history_rows}
    with dashboard(db, work / "streamlit.log", timeout=120) as url, sync_playwright() as p:
        pid = server_pid(url.rsplit(":", 1)[1])
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            b = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
            b.goto(f"{url}/?month={MONTH_A[0]}")
            b.wait_for_function(READY_JS, arg=[MONTH_A[0], f"{MONTH_A[1]} · "], polling=20, timeout=120_000)
            month = [MONTH_A, MONTH_B]

            def rerun() -> float:
                month.reverse()
                box = b.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
                    has=b.get_by_text("统计月份", exact=True)).locator("input[role='combobox']")
                box.click()
                option = b.get_by_role("option", name=month[0][1], exact=True)
                option.wait_for()
                t0 = time.perf_counter()
                option.click()
                state = b.wait_for_function(READY_JS, arg=[month[0][0], f"{month[0][1]} · "], polling=20,
                                            timeout=120_000).json_value()
                if not state.get("ok"):
                    raise RuntimeError(state)
                return time.perf_counter() - t0

            for _ in range(3):  # both months scored and cached
                rerun()
            result["baseline"] = [rerun() for _ in range(baseline_n)]
            rss_before = status_bytes(pid, "VmRSS") if pid else 0

            runs = [upload_once(browser, url, upload, rerun, pid) for _ in range(1 if quick else UPLOADS)]
            result.update(during=[s for run in runs for s in run["during"]], uploads=runs,
                          upload_s=statistics.median(run["seconds"] for run in runs), upload_said=runs[0]["said"],
                          spinner_after=statistics.median(run["spinner_after"] for run in runs),
                          server_rss_before=rss_before, server_hwm=status_bytes(pid, "VmHWM") if pid else 0,
                          server_tree_sampled=max(run["peak"] for run in runs))
        finally:
            browser.close()
    print(f"  baseline median {statistics.median(result['baseline']):.2f} s, during upload "
          f"{len(result['during'])} reruns median {statistics.median(result['during'] or [float('nan')]):.2f} s; "
          f"upload {result['upload_s']:.1f} s: {result['upload_said'][:80]}", flush=True)
    return result


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------

def _mb(n: int | None) -> str:
    return "" if not n else f"{n / 2**20:,.0f}"


def case_table(rows: list[Row]) -> list[str]:
    lines = [("| case | bytes | values | outcome (exit; status or first line) | wall s | peak RSS MB, largest process "
             "(wait4) | peak RSS MB, command + worker (sampled sum) | within 1.5 GB and 60 s |"),
             "|---|---:|---:|---|---:|---:|---:|---|"]
    for r in rows:
        said = r.outcome.replace("|", "\\|").replace(" row None:", ":")
        said = said if len(said) <= 130 else said[:129] + "…"
        lines.append(f"| {r.case} | {r.size:,} | {'' if r.values is None else f'{r.values:,}'} | {r.exit}; {said} "
                     f"| {r.seconds:.1f} | {_mb(r.maxrss)} | {_mb(r.tree_peak)} | "
                     f"{'yes' if r.within else '**NO**'} |")
    return lines


def probe_table(probes: list[dict]) -> list[str]:
    if not probes:
        return []
    lines = ["| stage | " + " | ".join(p["label"] for p in probes) + " |", "|---|" + "---:|" * len(probes)]
    names = [s["stage"] for s in probes[0]["stages"]]
    for name in names:
        cells = []
        for p in probes:
            found = [s for s in p["stages"] if s["stage"] == name]
            if not found:
                cells.append("")
                continue
            s = found[0]
            time_part = f"{s['seconds']:.1f} s, " if s["seconds"] is not None else ""
            worker = f", worker peak {_mb(s['children'])}" if name == "read_grid_isolated" else ""
            cells.append(f"{time_part}peak {_mb(s['peak'])}, after {_mb(s['rss'])}{worker}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| process RSS before connecting (file's bytes read) | "
                 + " | ".join(_mb(p["start"]) for p in probes) + " |")
    lines.append("| import_file total | " + " | ".join(f"{p['seconds']:.1f} s, {p['status']} {p['rows']:,}"
                                                      for p in probes) + " |")
    return lines


def _stat_line(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"{len(values)} reruns: median {statistics.median(values):.2f} s, p95 {percentile(values, 95):.2f} s, "
            f"max {max(values):.2f} s")


def report(args, info: dict, load_start: str, started: datetime, total: float, rows: list[Row], probes: list[dict],
           browse: dict | None) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    doc = [
        "# Upload limits benchmark",
        "",
        (f"Generated by `bench/limits.py{' --quick' if args.quick else ''}` on {started:%Y-%m-%d %H:%M}, total run "
        f"time {total:.0f} s. Load average at the start {load_start}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}: other work on the machine makes timings vary."),
        "",
        (f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python "
        f"{info['python']}, DuckDB {info['duckdb']}, pandas {info['pandas']}. Code measured: commit {commit}. "
        f"Limits: data/limits.toml ({', '.join(f'{k} {v:,}' for k, v in LIMITS.__dict__.items())}); MB = MiB."),
        "",
        "## 1. What a file within the limits costs",
        "",
        (f"Aim (issue 17): imported or refused within {AIM_MB:,} MB and {AIM_S:.0f} s, judged on the wall time and "
        "the sampled sum (the memory the machine gives the upload), with exit 0 or 1 (a message, no crash)."),
        "",
        *case_table(rows),
        "",
    ]
    if probes:
        doc += [("Where the memory goes (the probe: `import_file` in one fresh process, each stage's peak resident "
                "set of that process, VmHWM reset before the stage; the worker's peak is its own ru_maxrss; MB):"),
                "", *probe_table(probes), ""]
    if browse:
        times = [run["seconds"] for run in browse["uploads"]]
        doc += [
            "## 2. Another session's rerun during a 60 MB upload",
            "",
            (f"- Upload: {browse['file']:,} bytes, {browse['values']:,} values (dense long CSV, months before the "
             f"store's history, so all new), checked on /upload by session A, {len(times)} time(s), each in a new "
             f"session: {', '.join(f'{t:.1f}' for t in times)} s (median {browse['upload_s']:.1f} s) from giving the "
             f"file to the uploader until the check's spinner was gone; outcome {browse['upload_said'][:120]!r}; "
             f"the spinner appeared after {browse['spinner_after']:.1f} s (median)."),
            f"- Session B, overview month switch, nothing else running: {_stat_line(browse['baseline'])}.",
            (f"- Session B, the same reruns while A's check ran (spinner shown before and after the rerun): "
            f"{_stat_line(browse['during'])}."),
            (f"- Server: VmRSS {_mb(browse['server_rss_before'])} MB before the upload, its own peak (VmHWM) "
            f"{_mb(browse['server_hwm'])} MB; server + worker sampled between reruns up to "
            f"{_mb(browse['server_tree_sampled'])} MB. After each upload (its session closed): VmRSS "
             f"{', '.join(_mb(run['rss_after']) for run in browse['uploads'])} MB, VmHWM "
             f"{', '.join(_mb(run['hwm_after']) for run in browse['uploads'])} MB."),
            (f"- Store: bench/upload.py's 500 units and targets with the newest {HISTORY_MONTHS} months "
            f"({browse['history']:,} observations), marked as a demo store so the dashboard opens as the demo "
            "administrator; served by tools/serve.py; one Chromium (tests/browser.py's settings), a context per "
            "session. A rerun: from the click on the month option in 统计月份 (alternating 2026年10月 / "
            "2026年9月, both in the data cache) until bench/load.py's READY_JS holds for that month (polled every "
            "20 ms)."),
            "",
        ]
    doc += [
        "Method:",
        ("- Each case: a fresh copy of its store, `python -m metrics import --db COPY FILE --json` with "
        f"SAFETY_NOW={NOW}, in a process capped at {ADDRESS_CAP >> 30} GiB of address space and killed after "
        f"{TIMEOUT_S:.0f} s. Its worker child (metrics/ingest/worker.py) has RLIMIT_AS = memory_mb and `seconds`. Wall "
        "time includes Python's start-up (about 1 s). `largest process` is ru_maxrss of os.wait4 (Linux: the larger "
        "of the command's own peak and its worker's, not their sum; the worker's counts the command's resident set "
        "when it started the worker, as Linux keeps the high-water mark across fork and exec, so it is an upper "
        "bound); `sampled sum` adds VmRSS of the command and "
        f"its descendants every {SAMPLE_S * 1000:.0f} ms (a peak shorter than that can be missed)."),
        (f"- Dense files: the synthetic group of bench/common.py (500 units, {MONTHS} months to {iso_month(END)}, "
        "about 1% of unit-months and 0.2% of values unreported), newest month first, cut at a line to the size "
        "(and to the rows limit); into a store with the units and targets only (bench/common.py `new_store`). "
        "UTF-16: the same text encoded with a BOM (two bytes a character, so half the values at a size). .xlsx: "
        "tests/hostile.py's minimal SpreadsheetML writer (no styles), numbers as numbers; `expanded` is the sum "
        "of the zip directory's sizes, the figure xlsx_expanded_mb bounds."),
        ("- Crafted files: tests/hostile.py into the demo store ending 2026-10 (tools/hostile_run.py's store). "
        "The knob of each was raised to the largest value whose file passes the checks made before reading "
        "(file_mb, the line count against rows, xlsx_expanded_mb, xlsx_part_mb), so the check while reading is "
        "what must stop it; files without a size knob are run as generated."),
    ]
    return "\n".join(doc) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and reruns")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-cases", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--probe", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return probe_main(*args.probe)
    started, t_start = datetime.now(), time.perf_counter()
    info = machine()
    load_start = info["load"]
    print(f"machine: {info['nproc']} CPUs, {info['memory']}, load {load_start}", flush=True)
    catalog = load_catalog()
    work = Path(tempfile.mkdtemp(prefix="bench-limits-"))
    rows: list[Row] = []
    probes: list[dict] = []
    browse = None
    try:
        group = make_group(catalog)
        print(f"group: {len(group.lines):,} values of {MONTHS} months", flush=True)
        if not args.skip_cases:
            store_db = work / "units.duckdb"
            new_store(store_db, group.units, make_targets(group.units, sorted({m.year for m in
                                                                              group.observations["month"]})),
                      catalog)
            rows += dense_cases(group, store_db, work, args.quick)
            rows += xlsx_cases(group, store_db, work, args.quick)
            rows += hostile_cases(work, args.quick)
            largest, _ = dense_csv(group, work / "probe-dense.csv", LIMITS.file_mb * MB - 64 * 1024)
            probes.append(probe(largest, store_db, work, "dense CSV, 64 MiB"))
            book, _ = long_xlsx(group, work / "probe.xlsx", 128 * MB)
            probes.append(probe(book, store_db, work, ".xlsx, 128 MiB expanded"))
        if not args.skip_browser:
            browse = responsiveness(group, catalog, work, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, info, load_start, started, time.perf_counter() - t_start, rows, probes, browse)
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
