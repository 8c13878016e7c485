#!/usr/bin/env python
"""Monthly upload benchmark (issue 3, "Speed"): `make bench`, or `.venv/bin/python bench/upload.py`.

Measures the upload end to end WITH validation through the product's own code path,
`metrics.ingest.upload.import_file(con, data, file_name, actor="bench", today=2026-11-23, raw_directory=...)` on a
read-write `metrics.store.connect(path)` connection, for:

1. a month's wide file (the template shape: 月份, 单位编码, 单位名称, one column per base indicator by its
   Chinese name) for 500 units, 2026-10, into a store holding 2016-11..2026-09 for those units (so the
   history warnings run against real context): CSV UTF-8 with BOM (`metrics.ingest.template.template_csv`), and the
   same as XLSX written by openpyxl with numeric cells, as Excel saves a filled template;
   and the CSV once through the command line (`python -m metrics import FILE --db PATH`, wall time including
   Python start-up);
2. the whole 120-month history of 500 units in one long file (`month,subsidiary,indicator,value`) into a store
   holding the units and targets but no observations;
3. re-uploading the file of case 1 unchanged (`unchanged`) and with 1% of its values changed (replacements).

Every run starts from a fresh copy of its store and an empty raw-file directory, so each run does the same
work. Each committed run is verified: ImportResult.rows against the values in the file and against
`SELECT count(*)` of the observations and history rows carrying the new batch id.

Stage times come from thin timing wrappers put around the module-level functions import_file calls
(read_grid, shape_cells, validate and its steps, _context, _changes, ...) and around the connection's
`execute` (per SQL statement of metrics/store/schema.py); the product code is not changed, and the wrappers cost
microseconds. Case 2 (and case 1) are also profiled once with cProfile (bench/out/, git-ignored).

Peak memory: growth of the process's peak resident set (Linux VmHWM, reset through /proc/self/clear_refs
after gc.collect() and malloc_trim, as bench/common.py does) over connect + import_file + close: Python,
pandas and DuckDB's native allocations; the file's bytes, already in memory, are not counted. The command
line's is its own ru_maxrss (os.wait4), Python start-up and imports included.
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import pandas as pd

import metrics.ingest.reader
import metrics.ingest.shape
import metrics.ingest.upload
import metrics.ingest.validation
from bench.common import (
    END,
    MEMORY,
    machine,
    make_observations,
    make_targets,
    make_units,
    make_values,
    mib,
    new_store,
    publish,
)
from metrics import store
from metrics.core.catalog import load_catalog
from metrics.core.months import add_months, iso_month
from metrics.ingest import initialise
from metrics.ingest.template import template_csv, template_frame
from tests.statements import every_statement

TODAY = date(2026, 11, 23)
WIDE_AIM_S = 1.0
LONG_AIM_S = 30.0
CHANGED_SHARE = 0.01
RESULTS = Path(__file__).resolve().parent / "UPLOAD.md"
PROFILE_DIR = Path(__file__).resolve().parent / "out"  # git-ignored
CONNECT = "connect + close around import_file (close checkpoints the WAL)"


# ---------------------------------------------------------------------------------------------------------
# Stage timing: wrappers around the functions import_file reaches, and around the connection's execute
# ---------------------------------------------------------------------------------------------------------

class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def reset(self) -> None:
        self.seconds, self.calls = {}, {}

    def add(self, name: str, elapsed: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        self.calls[name] = self.calls.get(name, 0) + 1


STAGES = Stages()

# (module, function, label); a label's indentation shows what it is part of.
WRAPPED = [
    (metrics.ingest.upload, "keep_raw_file", "keep_raw_file (write the raw file)"),
    (metrics.ingest.upload, "read_grid_isolated", "read_grid_isolated (read the file in the worker child)"),
    (metrics.ingest.upload, "shape_cells", "shape_cells (header, one row per cell → DataFrame)"),
    (metrics.ingest.shape, "_note_rows", "  _note_rows"),
    (metrics.ingest.upload, "validate", "validate (all calls)"),
    (metrics.ingest.validation, "_dedupe", "  _dedupe"),
    (metrics.ingest.upload, "_context", "_context (CONTEXT_VALUES → DataFrame)"),
    (metrics.ingest.upload, "_changes", "_changes (CHANGES → DataFrame)"),
]


def _wrap(fn, label):
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES.add(label, time.perf_counter() - t0)
    return timed


def install_stage_timers() -> None:
    for module, name, label in WRAPPED:
        setattr(module, name, _wrap(getattr(module, name), label))
    # Each declared upload check (validation.CHECKS, walked by validate) timed under its id.
    # A check may find lazily (a generator), so its findings are gathered inside the timing.
    checks = metrics.ingest.validation.CHECKS
    metrics.ingest.validation.CHECKS = tuple(
        replace(c, find=_wrap(lambda check, reading, find=c.find: list(find(check, reading)), f"  check {c.id}"))
        for c in checks)
    transaction = store.transaction

    @contextmanager
    def timed_transaction(con):
        t0 = time.perf_counter()
        try:
            with transaction(con) as c:
                yield c
        finally:
            STAGES.add("transaction (batch, history, upsert, COMMIT)", time.perf_counter() - t0)
    store.transaction = timed_transaction


_STATEMENT_NAMES = {" ".join(v.split()): k.rsplit(".", 1)[-1] for k, v in every_statement().items()}


class TimedConnection:
    """Delegates to a DuckDB connection, timing each execute by the name of its statement in metrics/store/schema.py.
    (execute runs the statement; turning a SELECT's result into a DataFrame is timed in the caller's stage.)"""

    def __init__(self, con) -> None:
        self._con = con

    def execute(self, statement, *args, **kwargs):
        name = _STATEMENT_NAMES.get(" ".join(statement.split()), statement.split()[0] + "…")
        t0 = time.perf_counter()
        try:
            return self._con.execute(statement, *args, **kwargs)
        finally:
            STAGES.add(f"{'' if name == 'SELECT_UNITS' else '  '}execute {name}", time.perf_counter() - t0)

    def __getattr__(self, name):
        return getattr(self._con, name)


# ---------------------------------------------------------------------------------------------------------
# Stores and files
# ---------------------------------------------------------------------------------------------------------

def fmt(values: np.ndarray) -> list[str]:
    """Numbers as a user's file holds them: 123 for whole numbers, 12.34 otherwise; "" for not reported."""
    return ["" if v != v else (str(int(v)) if v.is_integer() else repr(v)) for v in values.tolist()]


def wide_frame(units: pd.DataFrame, catalog, month_values: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = template_frame(catalog, units, END)
    for ind in catalog.typed:
        frame[ind.name_zh] = fmt(month_values[ind.code])
    return frame


def wide_xlsx(frame: pd.DataFrame) -> bytes:
    """The filled template as Excel saves it: month, code and name as text, values as numbers."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(frame.columns))
    for record in frame.itertuples(index=False):
        row = list(record[:3])
        for text in record[3:]:
            row.append(None if text == "" else (int(text) if text.isdigit() else float(text)))
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def long_csv(observations: pd.DataFrame) -> bytes:
    months = {m: iso_month(m) for m in observations["month"].unique()}
    lines = ["month,subsidiary,indicator,value"]
    lines += [f"{m},{u},{i},{v}" for m, u, i, v in zip(observations["month"].map(months), observations["subsidiary"],
                                                         observations["indicator"],
                                                         fmt(observations["value"].to_numpy()))]
    return ("\n".join(lines) + "\n").encode("utf-8")


def change_share(frame: pd.DataFrame, catalog, share: float, seed: int) -> tuple[pd.DataFrame, int]:
    """A copy of the wide frame with `share` of its non-blank value cells increased by 1."""
    rng = np.random.default_rng(seed)
    changed = frame.copy()
    columns = [ind.name_zh for ind in catalog.typed]
    cells = [(r, c) for c in columns for r in range(len(frame)) if frame.at[r, c] != ""]
    picks = rng.choice(len(cells), size=round(share * len(cells)), replace=False)
    for k in picks:
        r, c = cells[k]
        changed.at[r, c] = fmt(np.array([float(frame.at[r, c]) + 1]))[0]
    return changed, len(picks)


# ---------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float  # import_file
    total: float  # connect + import_file + close
    cpu: float
    rss: int | None  # growth of the peak resident set over connect + import_file + close
    peak: int | None  # the process's peak resident set (meaningful in a fresh process)
    status: str
    rows: int
    replaced: int
    warnings: int
    errors: int
    stages: dict[str, float]
    calls: dict[str, int]
    fresh: bool = False
    verified: bool = False
    check: str = ""


@dataclass
class Case:
    key: str
    label: str
    file: str
    values: int
    expected: str  # committed | unchanged
    expected_rows: int
    expected_replaced: int
    aim: float | None = None
    runs: list[Run] = field(default_factory=list)
    first: Run | None = None  # warm-up
    fresh: Run | None = None  # the run in a fresh process: memory

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    @property
    def verified(self) -> bool:
        return all(r.verified for r in [*self.runs, self.first, self.fresh] if r is not None)


def _fresh(template_db: Path, work: Path) -> tuple[Path, Path]:
    """A copy of the case's store and an empty raw-file directory."""
    db, raw = work / "run.duckdb", work / "raw"
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(raw, ignore_errors=True)
    shutil.copyfile(template_db, db)
    return db, raw


def _count(db: Path, statement: str, params: dict | None = None) -> int:
    with store.connect(db, read_only=True) as con:
        return int(con.execute(statement, params or {}).fetchall()[0][0])


def _status_bytes(key: str) -> int:
    return MEMORY._status(key)


def _import(db: Path, raw: Path, data: bytes, file_name: str, profiler: cProfile.Profile | None = None,
            fresh: bool = False) -> tuple[Run, list[str], int | None]:
    """connect + import_file + close in this process: (measurements, first errors, batch id)."""
    STAGES.reset()
    baseline = MEMORY.reset()
    c0, t0 = time.process_time(), time.perf_counter()
    with store.connect(db) as con:
        t1 = time.perf_counter()
        if profiler:
            profiler.enable()
        timed_con = cast(store.Connection, TimedConnection(con))  # duck-typed: execute is all import_file calls
        result = metrics.ingest.upload.import_file(timed_con, data, file_name, actor="bench", today=TODAY,
                                            raw_directory=raw)
        if profiler:
            profiler.disable()
        t2 = time.perf_counter()
    t3, cpu = time.perf_counter(), time.process_time() - c0
    rss = MEMORY.peak_since(baseline)
    stages, calls = dict(STAGES.seconds), dict(STAGES.calls)
    stages[CONNECT] = (t1 - t0) + (t3 - t2)
    run = Run(seconds=t2 - t1, total=t3 - t0, cpu=cpu, rss=rss,
              peak=_status_bytes("VmHWM") if MEMORY.available else None, status=result.status, rows=result.rows,
              replaced=result.replaced, warnings=len(result.warnings), errors=len(result.errors), stages=stages,
              calls=calls, fresh=fresh)
    return run, [str(p) for p in result.errors[:3]], result.batch_id


def child_main(db: str, file: str, file_name: str, raw: str) -> int:
    """`bench/upload.py --child DB FILE NAME RAW`: one import in this fresh process, measurements as JSON."""
    install_stage_timers()
    data = Path(file).read_bytes()
    run, errors, batch_id = _import(Path(db), Path(raw), data, file_name, fresh=True)
    print(json.dumps({"run": run.__dict__, "errors": errors, "batch_id": batch_id}))
    return 0


def import_once(case: Case, template_db: Path, work: Path, data: bytes, profile: Path | None = None,
                fresh: bool = False) -> Run:
    """One verified run from a fresh copy of `template_db`: in this process, or in a fresh one (`fresh`)."""
    db, raw = _fresh(template_db, work)
    before = _count(db, initialise.COUNT_OBSERVATIONS)
    profiler = cProfile.Profile() if profile else None
    if fresh:
        path = work / "upload" / case.file
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(db), str(path), case.file,
                               str(raw)], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the child run failed: {done.stderr[-2000:]}")
        doc = json.loads(done.stdout.strip().splitlines()[-1])
        run, errors, batch_id = Run(**doc["run"]), doc["errors"], doc["batch_id"]
    else:
        run, errors, batch_id = _import(db, raw, data, case.file, profiler)

    after = _count(db, initialise.COUNT_OBSERVATIONS)
    raw_kept = any(raw.rglob("*")) if raw.exists() else False
    if run.status == "committed":
        in_history = _count(db, "SELECT count(*) FROM observation_history WHERE batch_id = $b", {"b": batch_id})
        current = _count(db, "SELECT count(*) FROM observations WHERE batch_id = $b", {"b": batch_id})
        verified = (run.rows == case.expected_rows == in_history == current
                    and run.replaced == case.expected_replaced
                    and after - before == run.rows - run.replaced and raw_kept)
        check = (f"rows {run.rows} = history rows of batch {in_history} = observations of batch {current}; "
                 f"observations {before:,} → {after:,}")
    else:
        batches = _count(db, "SELECT count(*) FROM batches WHERE file_name = $f", {"f": case.file})
        verified = run.rows == 0 and after == before and raw_kept and (
            case.expected != "unchanged" or batches == 1)  # only the batch of the original upload
        check = f"rows {run.rows}, observations {before:,} → {after:,}, batches of the file {batches}"
    run.verified, run.check = verified and run.status == case.expected, check
    if profiler is not None and profile is not None:
        profile.parent.mkdir(exist_ok=True)
        profiler.dump_stats(profile.with_suffix(".prof"))
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        text.write(f"cProfile of import_file, {case.label}: {run.seconds:.2f} s under the profiler "
                   f"(full profile: {profile.with_suffix('.prof').name}, e.g. for snakeviz)\n\n")
        stats.sort_stats("cumulative").print_stats(25)
        text.write("\nSame run, by own time (tottime):\n")
        stats.sort_stats("tottime").print_stats(15)
        profile.write_text(text.getvalue(), encoding="utf-8")
    if errors:
        print(f"    first errors: {errors}", flush=True)
    where = "fresh process" if fresh else "in-process"
    print(f"  {case.label} ({where}): import_file {run.seconds:.3f} s, connect+import+close {run.total:.3f} s, "
          f"CPU {run.cpu:.2f} s, peak RSS +{mib(run.rss)} (process peak {mib(run.peak)}); {run.status}, rows "
          f"{run.rows}, replaced {run.replaced}, warnings {run.warnings}, errors {run.errors}; "
          f"{'verified' if run.verified else 'VERIFICATION FAILED'} ({check})", flush=True)
    return run


def measure(case: Case, template_db: Path, work: Path, data: bytes, runs: int, warm_up: bool,
            timed_fresh: bool = False) -> Case:
    """One run in a fresh process (memory; with `timed_fresh`, the timed runs are all fresh processes), then
    an optional in-process warm-up and `runs` timed in-process runs."""
    case.fresh = import_once(case, template_db, work, data, fresh=True)
    if timed_fresh:
        case.runs.append(case.fresh)
        for _ in range(runs - 1):
            case.runs.append(import_once(case, template_db, work, data, fresh=True))
        return case
    if warm_up:
        case.first = import_once(case, template_db, work, data)
    for _ in range(runs):
        case.runs.append(import_once(case, template_db, work, data))
    return case


# Runs a command and writes its wall time and rusage to argv[1]. The command line is started from this small
# process rather than from the benchmark: a child forked from a large process inherits that process's peak RSS
# in ru_maxrss (Linux keeps the pre-exec high-water mark), which would report the benchmark's memory.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
json.dump({"seconds": time.perf_counter() - t0, "exit": os.waitstatus_to_exitcode(status),
           "maxrss": usage.ru_maxrss * 1024}, open(sys.argv[1], "w"))
"""


def _launch(work: Path, command: list[str], out_path: Path, err_path: Path) -> dict:
    measured = work / "launch.json"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(measured), *command], cwd=ROOT, stdout=out,
                       stderr=err, check=True)
    return json.loads(measured.read_text())


def cli_once(case: Case, template_db: Path, work: Path, data: bytes) -> dict:
    db, raw = _fresh(template_db, work)
    path = work / "upload" / case.file
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = _count(db, initialise.COUNT_OBSERVATIONS)
    out_path, err_path = work / "cli.out", work / "cli.err"
    run = _launch(work, [sys.executable, "-m", "metrics", "import", str(path), "--db", str(db), "--json",
                         "--actor", "bench"], out_path, err_path)
    try:
        doc = json.loads(out_path.read_text(encoding="utf-8"))
    except ValueError:
        doc = {"status": "?", "rows": -1, "errors": err_path.read_text(errors="replace")[-500:]}
    after = _count(db, initialise.COUNT_OBSERVATIONS)
    # The same interpreter start-up and imports, without the import itself.
    startup = _launch(work, [sys.executable, "-c", "import metrics.cli.main"], work / "startup.out",
                      work / "startup.err")
    verified = (run["exit"] == 0 and doc.get("status") == "committed" and doc.get("rows") == case.expected_rows
                and after - before == case.expected_rows - case.expected_replaced)
    print(f"  command line, {case.label}: {run['seconds']:.2f} s wall, max RSS {mib(run['maxrss'])}, exit "
          f"{run['exit']}, {doc.get('status')} rows {doc.get('rows')}; observations {before:,} → {after:,}"
          f"{'' if verified else ' VERIFICATION FAILED'}; start-up alone (python -c 'import metrics.cli.main') "
          f"{startup['seconds']:.2f} s, max RSS {mib(startup['maxrss'])}", flush=True)
    return {**run, "startup": startup["seconds"], "startup_rss": startup["maxrss"], "status": doc.get("status"),
            "rows": doc.get("rows"), "verified": verified}


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------

# Display order of the stage table: a statement right after the stage that runs it.
DISPLAY = [
    "keep_raw_file (write the raw file)",
    "read_grid_isolated (read the file in the worker child)",
    "shape_cells (header, one row per cell → DataFrame)", "  _note_rows",
    "execute SELECT_UNITS",
    "validate (all calls)", *(f"  check {c.id}" for c in metrics.ingest.validation.CHECKS), "  _dedupe",
    "_context (CONTEXT_VALUES → DataFrame)", "  execute CONTEXT_VALUES",
    "_changes (CHANGES → DataFrame)", "  execute CHANGES",
    "transaction (batch, history, upsert, COMMIT)", "  execute BEGIN…", "  execute NEXT_BATCH_ID",
    "  execute INSERT_BATCH", "  execute INSERT_HISTORY_CHANGES", "  execute UPSERT_OBSERVATIONS", "  execute COMMIT…",
]
TOP_LEVEL = [label for label in DISPLAY if not label.startswith(" ")]


def _stage_table(cases: list[Case]) -> list[str]:
    labels: list[str] = []
    for case in cases:
        for run in case.runs:
            for label in run.stages:
                if label not in labels and label != CONNECT:
                    labels.append(label)
    ordered = [label for label in DISPLAY if label in labels] + [label for label in labels if label not in DISPLAY]
    lines = ["| stage (median s over the timed runs; calls if more than one) | "
             + " | ".join(c.key for c in cases) + " |", "|---|" + "---:|" * len(cases)]

    def row(label: str, values: list[str]) -> str:
        shown = label.replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;")
        return f"| {shown} | " + " | ".join(values) + " |"
    for label in ordered:
        cells = []
        for case in cases:
            times = [r.stages.get(label, 0.0) for r in case.runs]
            calls = case.runs[0].calls.get(label) if case.runs else None
            cells.append("" if not any(times) else f"{statistics.median(times):.3f}"
                         + (f" ({calls}×)" if calls and calls > 1 else ""))
        lines.append(row(label, cells))
    lines.append(row("rest of import_file (sha256, frames, problems)", [
        f"{statistics.median(r.seconds - sum(r.stages.get(t, 0.0) for t in TOP_LEVEL) for r in c.runs):.3f}"
        for c in cases]))
    lines.append(row("**import_file total**", [f"**{c.median('seconds'):.3f}**" for c in cases]))
    lines.append(row(CONNECT, [f"{statistics.median(r.stages[CONNECT] for r in c.runs):.3f}" for c in cases]))
    return lines


@dataclass
class Prepared:
    wide: bytes
    xlsx: bytes
    changed: bytes
    long: bytes
    wide_rows: int
    wide_values: int
    n_changed: int
    long_values: int
    history_values: int
    first_month: date
    empty_db: Path
    history_db: Path


def prepare(tmp: Path, args, catalog) -> Prepared:
    """The files and the stores. Only bytes and counts are returned, so that the millions of Python objects
    of the generated history do not stay alive and slow the timed runs down (garbage collection)."""
    months = [add_months(END, -i) for i in range(args.months - 1, -1, -1)]
    t0 = time.perf_counter()
    units = make_units(args.units)
    targets = make_targets(units, sorted({m.year for m in months}))
    observations = make_observations(units, months, catalog, args.seed)
    # make_observations draws its values first from the same seed: the month file is consistent with history
    values = make_values(units, months, catalog, np.random.default_rng(args.seed))
    month_values = {code: array[:, -1] for code, array in values.items()}
    wide = wide_frame(units, catalog, month_values)
    changed, n_changed = change_share(wide, catalog, CHANGED_SHARE, args.seed)
    data = Prepared(wide=template_csv(wide), xlsx=wide_xlsx(wide), changed=template_csv(changed),
                    long=long_csv(observations), wide_rows=len(wide),
                    wide_values=int(sum((~np.isnan(a)).sum() for a in month_values.values())), n_changed=n_changed,
                    long_values=len(observations), history_values=int((observations["month"] < END).sum()),
                    first_month=months[0], empty_db=tmp / "empty.duckdb", history_db=tmp / "history.duckdb")
    print(f"files: month file {data.wide_rows} rows × {len(catalog.typed)} indicators = {data.wide_values:,} values "
          f"(CSV {len(data.wide) / 2**10:.0f} KiB, XLSX {len(data.xlsx) / 2**10:.0f} KiB); {args.months}-month long "
          f"file {data.long_values:,} values ({len(data.long) / 2**20:.1f} MiB); {n_changed} values changed for "
          f"case 3b; generated in {time.perf_counter() - t0:.1f} s", flush=True)
    empty_s = new_store(data.empty_db, units, targets, catalog)
    history_s = new_store(data.history_db, units, targets, catalog, observations[observations["month"] < END])
    print(f"stores: units + targets in {empty_s:.1f} s; + {data.history_values:,} observations of "
          f"{iso_month(months[0])}..{iso_month(add_months(END, -1))} (one batch per month) in {history_s:.1f} s, "
          f"{data.history_db.stat().st_size / 2**20:.0f} MiB", flush=True)
    return data


def code_state() -> str:
    """The commit measured, and any uncommitted change to the product code (others edit it concurrently)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "metrics"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line.strip()]
    return f"commit {head}" + (f" plus uncommitted changes to {', '.join(changed)}" if changed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the month-file cases (default 3)")
    parser.add_argument("--long-runs", type=int, default=1, help="timed runs of the 120-month file (default 1)")
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/UPLOAD.md alone")
    parser.add_argument("--child", nargs=4, metavar=("DB", "FILE", "NAME", "RAW"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(*args.child)
    started = time.perf_counter()
    info = machine()
    state = code_state()
    print(f"machine: {info}\ncode: {state}", flush=True)
    install_stage_timers()
    catalog = load_catalog()

    with tempfile.TemporaryDirectory(prefix="safety-upload-bench-") as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "work"
        work.mkdir()
        data = prepare(tmp, args, catalog)  # only bytes and counts come back: no large frames stay alive
        gc.collect()
        wide_bytes, xlsx_bytes, changed_bytes, long_bytes = data.wide, data.xlsx, data.changed, data.long
        empty_db, history_db, after_db = data.empty_db, data.history_db, tmp / "after.duckdb"
        wide_values, n_changed, long_values = data.wide_values, data.n_changed, data.long_values

        csv_name, xlsx_name = f"safety_{iso_month(END)}.csv", f"safety_{iso_month(END)}.xlsx"
        cases = {
            "1 CSV": Case("1 CSV", f"1. month file, wide CSV UTF-8 BOM, {iso_month(END)}", csv_name, wide_values,
                          "committed", wide_values, 0, WIDE_AIM_S),
            "1 XLSX": Case("1 XLSX", "1. month file, wide XLSX", xlsx_name, wide_values, "committed", wide_values, 0,
                           WIDE_AIM_S),
            "2 long": Case("2 long", f"2. {args.months}-month history, long CSV", "history_long.csv",
                           long_values, "committed", long_values, 0, LONG_AIM_S),
            "3a same": Case("3a same", "3a. month file re-uploaded unchanged", csv_name, wide_values, "unchanged",
                            0, 0),
            "3b 1%": Case("3b 1%", f"3b. month file with {n_changed} values (1%) changed", "safety_changed.csv",
                          wide_values, "committed", n_changed, n_changed),
        }
        print("case 1 (one warm-up run, then timed runs):", flush=True)
        measure(cases["1 CSV"], history_db, work, wide_bytes, args.runs, warm_up=True)
        measure(cases["1 XLSX"], history_db, work, xlsx_bytes, args.runs, warm_up=True)

        # The store case 3 starts from: history plus the month file committed.
        shutil.copyfile(history_db, after_db)
        with store.connect(after_db) as con:
            first = metrics.ingest.upload.import_file(con, wide_bytes, csv_name, actor="bench", today=TODAY,
                                               raw_directory=tmp / "raw-after")
            con.execute("CHECKPOINT")
        assert first.status == "committed", first.status
        print("case 3:", flush=True)
        measure(cases["3a same"], after_db, work, wide_bytes, args.runs, warm_up=False)
        measure(cases["3b 1%"], after_db, work, changed_bytes, args.runs, warm_up=False)

        print("case 1 through the command line (once):", flush=True)
        cli = cli_once(cases["1 CSV"], history_db, work, wide_bytes)

        print("case 2:", flush=True)
        measure(cases["2 long"], empty_db, work, long_bytes, args.long_runs, warm_up=False, timed_fresh=True)

        profiles = {}
        if not args.no_profile:
            print("profiling (cProfile; its overhead inflates Python-heavy code, so these times are longer):",
                  flush=True)
            profiles["1 CSV"] = PROFILE_DIR / "upload_profile_month_csv.txt"
            import_once(cases["1 CSV"], history_db, work, wide_bytes, profile=profiles["1 CSV"])
            profiles["2 long"] = PROFILE_DIR / "upload_profile_long.txt"
            import_once(cases["2 long"], empty_db, work, long_bytes, profile=profiles["2 long"])

    order = ["1 CSV", "1 XLSX", "2 long", "3a same", "3b 1%"]
    rows = ["| case | values in file | timed runs | import_file median s (min) | connect + import + close s "
            "| CPU s | fresh process: import_file s | peak RSS growth | process peak RSS "
            "| outcome (rows, replaced, warnings) | aim | verified |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for k in order:
        c = cases[k]
        last, fresh = c.runs[-1], c.fresh
        assert fresh is not None, k  # every case has its fresh-process run
        where = " (fresh processes)" if fresh in c.runs else ""
        aim = "" if c.aim is None else (f"< {c.aim:g} s: **{'met' if c.median('seconds') < c.aim else 'MISSED'}**")
        rows.append(f"| {c.label} | {c.values:,} | {len(c.runs)}{where} | {c.median('seconds'):.3f} "
                    f"(min {min(r.seconds for r in c.runs):.3f}) | {c.median('total'):.3f} | {c.median('cpu'):.2f} | "
                    f"{fresh.seconds:.3f} | {mib(fresh.rss)} | {mib(fresh.peak)} | "
                    f"{last.status} ({last.rows:,}, {last.replaced:,}, {last.warnings}) | {aim} | "
                    f"{'yes' if c.verified else '**NO**'} |")
    rows.append(f"| 1. month file CSV through the command line (`python -m metrics import`, once) | {wide_values:,} | "
                f"1 | {cli['seconds']:.3f} wall, of which start-up and imports {cli['startup']:.2f} | | | | | "
                f"{mib(cli['maxrss'])} (start-up alone {mib(cli['startup_rss'])}) | {cli['status']} ({cli['rows']}) "
                f"| < 1 s: **{'met' if cli['seconds'] < WIDE_AIM_S else 'MISSED'}** | "
                f"{'yes' if cli['verified'] else '**NO**'} |")
    first_runs = ", ".join(f"{k} {first_run.seconds:.3f} s" for k in order if (first_run := cases[k].first))
    doc = [
        "# Upload benchmark",
        "",
        f"Generated by `make bench` (`bench/upload.py`) on {datetime.now().strftime('%Y-%m-%d %H:%M')}, total run "
        f"time {time.perf_counter() - started:.0f} s. Load average at the start {info['load']}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}: other work on the machine makes timings vary.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python {info['python']}, "
        f"DuckDB {info['duckdb']}, pandas {info['pandas']}, numpy {info['numpy']}. Code measured: {state}.",
        "",
        *rows,
        "",
        "Where the time goes (stage wrappers, no profiler overhead; indented rows are part of the row above; "
        "`execute X` is the statement's run, its conversion to a DataFrame falls in the enclosing stage):",
        "",
        *_stage_table([cases[k] for k in order]),
        "",
        "Method:",
        f"- Data: the synthetic group of bench/common.py ({args.units} units U0001.., sectors in turn, "
        f"{len(catalog.typed)} typed indicators, coal_output for coal units only, targets of every year). Case 1: "
        f"the template (`metrics.ingest.template.template_frame`: 月份, 单位编码, 单位名称, one column per base "
        f"indicator by "
        f"its Chinese name) filled with {iso_month(END)}'s values, {data.wide_rows} rows, {wide_values:,} values, "
        f"written by `template_csv` (UTF-8 with BOM, {len(wide_bytes) / 2**10:.0f} KiB) and by openpyxl with "
        f"numeric cells ({len(xlsx_bytes) / 2**10:.0f} KiB), into a store holding {data.history_values:,} observations "
        f"of {iso_month(data.first_month)}..{iso_month(add_months(END, -1))} written one batch per month. Case 2: "
        f"every observation of the {args.months} months as `month,subsidiary,indicator,value` by code, UTF-8 "
        f"({len(long_bytes) / 2**20:.1f} MiB; about 1% of unit-months and 0.2% of values unreported, as in "
        f"bench/run.py), into a store with units and targets only. Case 3: case 1's CSV again into the store after "
        f"case 1 committed, unchanged, and with {n_changed} of its values (1%) increased by 1.",
        f"- Each run: a fresh copy of the case's store and an empty raw-file directory, then "
        f"`metrics.store.connect(path)` (read-write) and "
        f"`metrics.ingest.upload.import_file(con, data, name, actor=\"bench\", "
        f"today={TODAY.isoformat()}, raw_directory=...)`. Times: wall clock of import_file alone, and of connect + "
        f"import_file + close (close checkpoints the write-ahead log into the file); CPU: process time, all "
        f"threads. Month-file cases: median of {args.runs} runs (case 1 after one warm-up run: {first_runs}); "
        f"case 2: {args.long_runs} run(s). DuckDB's default thread count.",
        "- Verified: each committed run's ImportResult.rows equals the values in the file (or the values changed) "
        "and `SELECT count(*)` of the history rows and current observations carrying the new batch id, replaced "
        "equals the values changed, the observation count grows by rows − replaced, and the raw file was kept; "
        "`unchanged` writes nothing and no batch.",
        "- Peak memory, measured in a fresh process per case (this script re-run with `--child`: one extra run "
        "of each case; case 2's timed run is that run), so that memory DuckDB's allocator kept from earlier runs "
        "does not hide growth: `peak RSS growth` is the growth of the peak resident set over connect + "
        "import_file + close (Linux VmHWM reset through /proc/self/clear_refs after gc.collect() and "
        "malloc_trim(0) just before connecting, as bench/common.py does), Python, pandas and DuckDB's native "
        "allocations, the file's bytes (read before) not counted; `process peak RSS` is that process's VmHWM, "
        "interpreter and imports included. The fresh-process time is a cold run (first calls, lazy imports). "
        "Command line: ru_maxrss of the process (os.wait4, started from a small launcher process: a child forked "
        "straight from the benchmark would inherit the benchmark's own peak in ru_maxrss).",
        "- Stage times: thin timing wrappers around the module-level functions import_file calls and around the "
        "connection's execute, installed by the benchmark (the product code is unchanged).",
    ]
    if profiles:
        doc.append("- cProfile of one run each (top 25 by cumulative time, then top 15 by own time): "
                   + ", ".join(f"`bench/out/{p.name}` ({k})" for k, p in profiles.items())
                   + " (git-ignored). The profiler inflates Python-heavy code, so use it for call counts and "
                     "relative weight, the stage table for times.")
    publish("\n".join(doc) + "\n", args.out, write=not args.no_write)
    ok = all(c.verified for c in cases.values()) and cli["verified"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
