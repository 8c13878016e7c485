#!/usr/bin/env python
"""Page render benchmark (issue: "each page's first render and a rerun after changing one filter, at group
scale"): `make bench`, or `.venv/bin/python bench/pages.py`.

1. Two stores, each built once and then reused from a cache directory keyed by its parameters (default
   `$TMPDIR/safety-bench/`): the demo store (`metrics.ingest.initialise.init_store(with_demo=True)`, 12 units, 36
   months ending 2026-10) and the synthetic group of bench/common.py (`bench.common.build_store`: 500 units × every
   base indicator × 120 months ending 2026-10, one batch per month, targets for every year with per-unit
   overrides, so scoring has something to score).
2. Every page is driven headless with `streamlit.testing.v1.AppTest` (in-process: the script runs in a
   thread of this process, so the figures exclude the browser's rendering and the websocket transfer), with
   `SAFETY_DB` pointing at the store. Per repetition: `st.cache_data.clear()`, a new AppTest, a timed
   `run()` (the cold first render of a new session), then one filter changed and a timed `run()` (the
   rerun). The overview also times a second rerun after changing the sidebar month. Before timing, every
   page is run once per store untimed, as a running server would have done (module imports, the store's
   `st.cache_resource` set-up); that warm-up is reported separately.
3. `at.exception` is checked after every run: a page that raises is reported, not timed.
4. For every figure that misses its aim (first render < 2 s, rerun < 0.5 s at 500 units) one extra run is
   profiled with cProfile (in the script thread) and its main costs are listed.
5. Prints a Markdown report and writes it, with the machine and the date, to bench/PAGES.md.
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb
import pandas as pd
import streamlit
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

from bench.common import END, build_store, machine, publish, table
from metrics import store
from metrics.auth import users
from metrics.core.months import add_months
from metrics.core.paths import DATA, DEMO_DIR
from metrics.ingest.initialise import init_store
from metrics.scoring.breaches import RULES
from ui.auth import SESSION_USER

APP = ROOT / "app.py"
FIRST_AIM_S = 2.0
RERUN_AIM_S = 0.5
RESULTS = Path(__file__).resolve().parent / "PAGES.md"
PROFILE_DIR = Path(__file__).resolve().parent / "out"  # git-ignored
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "safety-bench"


# ---------------------------------------------------------------------------------------------------------
# Stores, built once per set of parameters and kept in the cache directory
# ---------------------------------------------------------------------------------------------------------

def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256(f"schema {store.SCHEMA_VERSION}".encode())
    for f in sorted(files):
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def _cached(path: Path, build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """Build into a temporary name and rename on success, so an interrupted build is never reused."""
    if path.exists():
        return path, {"reused": True}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)
    t0 = time.perf_counter()
    info = build(partial)
    info = {**info, "reused": False, "build_s": time.perf_counter() - t0}
    os.replace(partial, path)
    return path, info


BENCH_USER = "bench"


def group_store(cache: Path, units: int, months: int, seed: int) -> tuple[Path, dict]:
    key = _fingerprint([ROOT / "bench" / "common.py", DATA / "catalog.toml", DATA / "default_targets.csv",
                        DATA / "sectors.csv", DATA / "grades.csv"])
    path = cache / f"group-u{units}-m{months}-s{seed}-{key}.duckdb"
    path, info = _cached(path, lambda p: build_store(p, units, months, seed))
    with store.connect(path) as con:  # a store without demo data asks for sign-in: the pages run as its admin
        store.migrate(con)
        if users.active_user(con, BENCH_USER) is None:
            users.bootstrap_admin(con, BENCH_USER, "bench-password", operator="bench")
    return path, info


def demo_store(cache: Path) -> tuple[Path, dict]:
    key = _fingerprint([ROOT / "metrics" / "ingest" / "demo.py", DATA / "catalog.toml", DATA / "default_targets.csv",
                        DATA / "sectors.csv", DATA / "grades.csv", *DEMO_DIR.iterdir()])
    path = cache / f"demo-{END:%Y%m}-{key}.duckdb"
    return _cached(path, lambda p: (init_store(p, with_demo=True, end_month=END), {})[1])


def describe(path: Path) -> dict:
    with store.connect(path, read_only=True) as con:
        def one(query: str) -> Any:
            row = con.execute(query).fetchone()
            assert row is not None  # an aggregate has a row
            return row[0]

        return {"units": one("SELECT count(*) FROM subsidiaries"),
                "months": one("SELECT count(DISTINCT month) FROM observations"),
                "first": one("SELECT min(month) FROM observations"), "last": one("SELECT max(month) FROM observations"),
                "rows": one("SELECT count(*) FROM observations"), "targets": one("SELECT count(*) FROM targets"),
                "batches": one("SELECT count(*) FROM batches"),
                "mb": path.stat().st_size / 2**20}


# ---------------------------------------------------------------------------------------------------------
# The script thread: its own wall time, and cProfile when asked (AppTest runs the page in a thread)
# ---------------------------------------------------------------------------------------------------------

class ScriptThread:
    profiler: cProfile.Profile | None = None
    seconds: float = 0.0
    _original = LocalScriptRunner._run_script_thread

    @classmethod
    def install(cls) -> None:
        def timed(runner: LocalScriptRunner) -> None:
            profiler = cls.profiler
            t0 = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                cls._original(runner)
            finally:
                if profiler is not None:
                    profiler.disable()
                cls.seconds = time.perf_counter() - t0
        setattr(LocalScriptRunner, "_run_script_thread", timed)  # noqa: B010  # replacing a method on purpose


# ---------------------------------------------------------------------------------------------------------
# Pages and their "one filter"
# ---------------------------------------------------------------------------------------------------------

def _other(options: list, current) -> object:
    return next(o for o in options if o != current)


def change_indicator(at: AppTest) -> str:
    box = at.selectbox(key="indicator")
    box.set_value("ltifr" if box.value != "ltifr" else "trir")
    return f"indicator → {box.value}"


def change_month(at: AppTest) -> str:
    box = at.sidebar.selectbox(key="month")
    assert box.value is not None  # the sidebar always has a month
    box.set_value(add_months(box.value, -1))
    return f"sidebar month → {box.value:%Y-%m}"


def change_sectors(at: AppTest) -> str:
    at.multiselect(key="ranking_sectors").select("coal")
    return "sector filter → coal"


def change_trend_view(at: AppTest) -> str:
    at.radio(key="trend_view").set_value("ytd")
    return "view → ytd"


def change_breach_kind(at: AppTest) -> str:
    box = at.multiselect(key="breach_kinds")
    offered = set(box.options)
    kinds = [r.kind for r in RULES if box.format_func(r.kind) in offered]
    pick = "red" if "red" in kinds else kinds[0]
    box.select(pick)
    return f"kind filter → {pick}"


def change_unit(at: AppTest) -> str:
    box = at.selectbox(key="unit")
    codes = [found.group(1) for o in box.options if (found := re.search(r"\(([^()]+)\)$", o))]
    box.set_value(_other(codes[1:], box.value))
    return f"unit → {box.value}"


def change_target_year(at: AppTest) -> str:
    box = at.selectbox(key="target_year")
    box.set_value(_other([int(o) for o in box.options], box.value))
    return f"target year → {box.value}"


def change_template_month(at: AppTest) -> str:
    box = at.selectbox(key="template_month")
    assert box.value is not None  # the template always has a month
    box.set_value(add_months(box.value, -1))
    return f"template month → {box.value:%Y-%m}"


@dataclass(frozen=True)
class Page:
    name: str
    script: str
    changes: tuple[tuple[str, Callable[[AppTest], str]], ...]  # (figure label, widget change), in order


PAGES = (
    Page("overview (app.py)", "app.py", (("rerun", change_indicator), ("rerun: month", change_month))),
    Page("ranking", "pages/ranking.py", (("rerun", change_sectors),)),
    Page("trends", "pages/trends.py", (("rerun", change_trend_view),)),
    Page("breaches", "pages/breaches.py", (("rerun", change_breach_kind),)),
    Page("unit", "pages/unit.py", (("rerun", change_unit),)),
    Page("indicators", "pages/indicators.py", (("rerun", change_target_year),)),
    Page("upload", "pages/upload.py", (("rerun", change_template_month),)),
)


# ---------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------

class PageRaised(Exception):
    pass


@dataclass
class Figure:
    times: list[float] = field(default_factory=list)  # at.run() wall
    script: list[float] = field(default_factory=list)  # the script thread alone
    cpu: list[float] = field(default_factory=list)  # process CPU time during at.run(), all threads
    change: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def script_median(self) -> float:
        return statistics.median(self.script)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


@dataclass
class PageResult:
    page: Page
    figures: dict[str, Figure] = field(default_factory=dict)  # "first", "rerun", "rerun: month"
    error: str | None = None


def _run(at: AppTest) -> tuple[float, float, float]:
    """(wall s of at.run(), wall s of the script thread, process CPU s during at.run())."""
    c0, t0 = time.process_time(), time.perf_counter()
    at.run()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if at.exception:
        raise PageRaised("; ".join(e.message for e in at.exception))
    return elapsed, ScriptThread.seconds, cpu


def new_app(page: Page) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state[SESSION_USER] = BENCH_USER  # ignored on the demo store, which signs in as its demo admin
    if page.script != "app.py":
        at.switch_page(page.script)
    return at


def session(page: Page, cold: bool = True) -> tuple[AppTest, list[tuple[str, str, float, float, float]]]:
    """One visit: first render, then each filter change in turn; (label, change, wall s, script s, CPU s)."""
    if cold:
        streamlit.cache_data.clear()
    at = new_app(page)
    out = [("first", "", *_run(at))]
    for label, change in page.changes:
        what = change(at)
        out.append((label, what, *_run(at)))
    return at, out


def measure_store(db: Path, runs: int) -> tuple[dict[str, PageResult], dict[str, float]]:
    os.environ["SAFETY_DB"] = str(db)
    # What a running server has done already: imports, the store's cache_resource set-up, one visit per page.
    streamlit.cache_resource.clear()
    warmup: dict[str, float] = {}
    for page in PAGES:
        try:
            _, out = session(page)
            warmup[page.name] = out[0][2]
        except Exception:  # noqa: BLE001 - reported below when the timed runs raise too
            warmup[page.name] = float("nan")
    results = {p.name: PageResult(p) for p in PAGES}
    for rep in range(runs):
        for page in PAGES:  # pages in turn, so each sees the same background load
            result = results[page.name]
            if result.error:
                continue
            try:
                _, out = session(page)
            except PageRaised as exc:
                result.error = str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a timeout or a failure in AppTest itself
                result.error = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                continue
            for label, what, wall, script, cpu in out:
                fig = result.figures.setdefault(label, Figure(change=what))
                fig.times.append(wall)
                fig.script.append(script)
                fig.cpu.append(cpu)
            print(f"  [{rep + 1}/{runs}] {page.name}: "
                  + ", ".join(f"{label} {wall:.3f} s" for label, _, wall, _, _ in out), flush=True)
    return results, warmup


# ---------------------------------------------------------------------------------------------------------
# Profiling a figure that misses its aim
# ---------------------------------------------------------------------------------------------------------

def _short(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    parts = Path(filename).parts
    if "site-packages" in parts:
        where = "/".join(parts[parts.index("site-packages") + 1:])
    else:
        try:
            where = str(Path(filename).resolve().relative_to(ROOT))
        except (ValueError, OSError):
            where = filename
    return f"{where}:{line}({name})"


def _project(func: tuple[str, int, str]) -> bool:
    try:
        rel = Path(func[0]).resolve().relative_to(ROOT)
    except (ValueError, OSError):
        return False
    return rel.parts[0] in ("metrics", "ui", "pages") or rel.name == "app.py"


def profile_figure(db: Path, page: Page, label: str, top: int) -> tuple[list[str], str]:
    """Profile one more visit, the profiler on only during the run of `label`; the page's own top-level calls
    (the script's direct callees, by cumulative time from the script) and the product's slowest functions;
    and a one-line summary (the three largest top-level calls)."""
    os.environ["SAFETY_DB"] = str(db)
    streamlit.cache_data.clear()
    at = new_app(page)
    profiler = cProfile.Profile()
    steps = [("first", None), *page.changes]
    wall = 0.0
    for step, change in steps:
        if change is not None:
            change(at)
        if step == label:
            ScriptThread.profiler = profiler
        try:
            wall, _, _ = _run(at)
        finally:
            ScriptThread.profiler = None
        if step == label:
            break
    PROFILE_DIR.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "_", f"{Path(page.script).stem}_{label}").strip("_")
    profiler.dump_stats(PROFILE_DIR / f"pages_{slug}.prof")
    stats = pstats.Stats(profiler, stream=io.StringIO())
    raw = stats.stats  # type: ignore[attr-defined]  # {func: (primitive calls, calls, tottime, cumtime, callers)}
    script = next((f for f in raw if f[2] == "<module>" and Path(f[0]).resolve() == (ROOT / page.script)), None)
    lines = [f"**{page.name}, {label}** — profiled run {wall:.2f} s wall under cProfile "
             f"(`bench/out/pages_{slug}.prof`)."]
    summary = f"- {page.name}, {label}: profiled {wall:.1f} s"
    if script is not None:
        total = raw[script][3]
        direct = []
        wrapper = next((f for f in raw if f[2] == "wrapped_func" and f[0].endswith("metrics_util.py")), None)
        for func, (_, _, _, _, callers) in raw.items():
            if script in callers and func != wrapper:
                cc, nc, tt, ct = callers[script]
                direct.append((ct, nc, _short(func)))
            elif (wrapper is not None and func != wrapper and wrapper in callers and script in raw[wrapper][4]
                  and "streamlit/runtime/caching/" not in Path(func[0]).as_posix()):
                # st.* commands go through one telemetry wrapper: show the command itself (its calls from
                # setup_page and the like are included, they are small)
                cc, nc, tt, ct = callers[wrapper]
                direct.append((ct, nc, f"st.{func[2]} ({_short(func)})"))
        direct = sorted(((ct, nc, "st.cache_data calls (the functions of ui/data.py below)"
                          if f.startswith("streamlit/runtime/caching/") else f) for ct, nc, f in direct),
                        reverse=True)
        summary += ", of which " + "; ".join(f"`{f}` {ct:.2f} s ({100 * ct / total:.0f}%)"
                                               for ct, _, f in direct[:3] if total)
        lines += ["", f"The page script's top-level calls (cumulative from `{page.script}`, which took "
                      f"{total:.2f} s; `st.*` commands listed by name):", "",
                  *table(["s", "calls", "function"], "rrl",
                         ([f"{ct:.3f}", nc, f"`{f}`"] for ct, nc, f in direct[:top]))]
    own = sorted(((v[3], v[1], v[2], f) for f, v in raw.items() if _project(f) and f != script), reverse=True)
    lines += ["", "Slowest functions of the product (`metrics/`, `ui/`, page code), cumulative:", "",
              *table(["cumulative s", "own s", "calls", "function"], "rrrl",
                     ([f"{ct:.3f}", f"{tt:.3f}", nc, f"`{_short(f)}`"] for ct, nc, tt, f in own[:top]))]
    lib = sorted(((v[2], v[1], f) for f, v in raw.items() if not _project(f)), reverse=True)
    lines += ["", "Largest own time outside the product (where the time is actually spent):", "",
              *table(["own s", "calls", "function"], "rrl",
                     ([f"{tt:.3f}", nc, f"`{_short(f)}`"] for tt, nc, f in lib[:8]))]
    return lines, summary


# ---------------------------------------------------------------------------------------------------------

def _cell(result: PageResult | None, label: str) -> str:
    if result is None:
        return "—"
    if result.error:
        return "raised"
    fig = result.figures.get(label)
    return "—" if fig is None else f"{fig.median:.2f}"


def _aim(result: PageResult, label: str) -> bool | None:
    fig = result.figures.get(label)
    if result.error or fig is None:
        return None
    return fig.median < (FIRST_AIM_S if label == "first" else RERUN_AIM_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure, median reported (default 3)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where the stores are built once and reused (default {DEFAULT_CACHE})")
    parser.add_argument("--rebuild", action="store_true", help="build the stores again even if cached")
    parser.add_argument("--top", type=int, default=12, help="rows per profile table (default 12)")
    parser.add_argument("--no-profile", action="store_true", help="skip profiling the figures that miss the aim")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file (default bench/PAGES.md)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = machine()
    print(f"machine: {info}", flush=True)
    ScriptThread.install()

    if args.rebuild and args.cache.exists():
        for f in args.cache.glob("*.duckdb*"):
            f.unlink()
    print(f"stores in {args.cache} ...", flush=True)
    demo_db, demo_built = demo_store(args.cache)
    group_db, group_built = group_store(args.cache, args.units, args.months, args.seed)
    stores = {"demo": (demo_db, demo_built), "group": (group_db, group_built)}
    described = {}
    for name, (db, built) in stores.items():
        described[name] = describe(db)
        how = "reused" if built["reused"] else f"built in {built['build_s']:.1f} s"
        print(f"  {name}: {db} ({how}): {described[name]}", flush=True)

    measured: dict[str, dict[str, PageResult]] = {}
    warmups: dict[str, dict[str, float]] = {}
    for name, (db, _) in stores.items():
        print(f"pages on the {name} store ({described[name]['units']} units), {args.runs} runs:", flush=True)
        measured[name], warmups[name] = measure_store(db, args.runs)
    for name in measured:
        for r in measured[name].values():
            if r.error:
                print(f"  {name}: {r.page.name} RAISED: {r.error}", flush=True)

    group = measured["group"]
    missed = [(r.page, label) for r in group.values() for label in r.figures if _aim(r, label) is False]
    profiles: list[str] = []
    summaries: list[str] = []
    if missed and not args.no_profile:
        print(f"profiling {len(missed)} figure(s) that miss the aim ...", flush=True)
        for page, label in missed:
            try:
                lines, summary = profile_figure(group_db, page, label, args.top)
                profiles += ["", *lines]
                summaries.append(summary)
            except Exception as exc:  # noqa: BLE001
                profiles += ["", f"**{page.name}, {label}**: profiling failed: {type(exc).__name__}: {exc}"]
    os.environ.pop("SAFETY_DB", None)

    # -------------------------------------------------------------------------------- the report
    demo_units, group_units = described["demo"]["units"], described["group"]["units"]
    table = [f"| page | first render (s) {demo_units} units | rerun (s) {demo_units} units | "
             f"first render (s) {group_units} units | rerun (s) {group_units} units | aim met? | rerun = |",
             "|---|---:|---:|---:|---:|---|---|"]
    for page in PAGES:
        d, g = measured["demo"][page.name], group[page.name]
        for label, _ in page.changes:
            name = page.name if label == "rerun" else f"{page.name}, {label.split(': ')[1]} change"
            first_cells = (_cell(d, "first"), _cell(g, "first")) if label == "rerun" else ("″", "″")
            if g.error:
                verdict = f"page raised: {g.error}"
            else:
                checks = ([("first", _aim(g, "first"))] if label == "rerun" else []) + [(label, _aim(g, label))]
                failed = [("first render" if lbl == "first" else "rerun") for lbl, ok in checks if ok is False]
                verdict = "yes" if not failed else "**no** (" + ", ".join(failed) + ")"
            fig = g.figures.get(label) or d.figures.get(label)
            table.append(f"| {name} | {first_cells[0]} | {_cell(d, label)} | {first_cells[1]} | {_cell(g, label)} "
                         f"| {verdict} | {fig.change if fig else ''} |")

    detail = ["| store | page | figure | at.run() runs (s) | median (s) | script thread median (s) | "
              "AppTest overhead (s) | process CPU median (s) |", "|---|---|---|---|---:|---:|---:|---:|"]
    for name in ("demo", "group"):
        for page in PAGES:
            r = measured[name][page.name]
            for label, fig in r.figures.items():
                detail.append(f"| {described[name]['units']} units | {page.name} | {label} | "
                              f"{', '.join(f'{t:.2f}' for t in fig.times)} | {fig.median:.2f} | "
                              f"{fig.script_median:.2f} | {fig.median - fig.script_median:.2f} | "
                              f"{fig.cpu_median:.2f} |")
    warm = [f"- {described[n]['units']} units: " + ", ".join(
        f"{p} {s:.2f} s" for p, s in warmups[n].items()) for n in ("demo", "group")]
    errors = [f"- {described[n]['units']} units, {r.page.name}: `{r.error}`"
              for n in measured for r in measured[n].values() if r.error]

    def store_line(name: str) -> str:
        s, built = described[name], stores[name][1]
        how = "reused from the cache" if built["reused"] else f"built in {built['build_s']:.0f} s"
        return (f"{s['units']} units, {s['months']} months {s['first']:%Y-%m}..{s['last']:%Y-%m}, "
                f"{s['rows']:,} observations, {s['targets']:,} target rows, {s['batches']} batches, "
                f"{s['mb']:.0f} MiB ({how}: `{stores[name][0]}`)")

    command = " ".join([".venv/bin/python bench/pages.py", *(sys.argv[1:] if argv is None else argv)])
    doc = [
        "# Page render benchmark",
        "",
        f"Generated by `{command}` (part of `make bench`) on {datetime.now():%Y-%m-%d %H:%M}, total run time "
        f"{time.perf_counter() - started:.0f} s. Load average (1, 5, 15 min) {info['load']} at the start, "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python "
        f"{info['python']}, Streamlit {streamlit.__version__}, DuckDB {duckdb.__version__}, pandas {pd.__version__}.",
        "",
        f"Stores: demo — {store_line('demo')}; group scale — {store_line('group')}, from `bench.common.build_store` "
        f"(targets of every year: group defaults plus per-unit overrides).",
        "",
        f"Aim (issue): first render under {FIRST_AIM_S:g} s, rerun under {RERUN_AIM_S:g} s, judged on the "
        f"{group_units}-unit figures. Medians of {args.runs} runs, seconds of `AppTest.run()` wall time.",
        "",
        *table,
        "",
        "″: the same visit as the row above (first render, indicator change, then the month change).",
        "",
        "How it is measured:",
        "- Each page is driven headless by `streamlit.testing.v1.AppTest` (`AppTest.from_file(\"app.py\", "
        "default_timeout=120)`, `switch_page(...)` before the first run for the other pages) with `SAFETY_DB` "
        "pointing at the store. AppTest runs the script **in this process**: the figures cover the script run "
        "(queries, pandas, building the Plotly figures and the Arrow tables, protobuf messages) plus AppTest's "
        "parsing of the messages, and **exclude the browser's rendering and the websocket transfer** (a 500-row "
        "table or a 500-bar chart costs the browser more than it costs the server).",
        "- First render = a new session with a cold data cache: `st.cache_data.clear()` (process-wide), a new "
        "AppTest, `run()`. `st.cache_resource` (the store's set-up), imported modules and the OS page cache of "
        "the store file stay warm, as on a server that has already served a page: before timing, every page was "
        "run once per store (that warm-up, first page = a server's first request, is listed below).",
        "- Rerun = in the same session, one widget changed (column \"rerun =\") and `run()` again; the data "
        "cache then holds what the first render computed, and only what the change needs is computed. The "
        "overview also changes the sidebar month after that (a month nobody has looked at yet: scoring again).",
        "- `at.exception` is checked after every run; a page that raises is reported, not timed. Repetitions "
        "visit the pages in turn, so all see the same background load.",
        "",
        "Every run: `at.run()` wall times; the script thread's own wall time (the rest is AppTest setting up "
        "its runner and parsing the messages); and the process CPU time during `at.run()` (all threads, "
        "DuckDB's included: less sensitive to other work on the machine than the wall time):",
        "",
        *detail,
        "",
        "Warm-up visits (untimed above; the first page of each store includes the store's `st.cache_resource` "
        "set-up, `init_store`, and on the first store the imports):",
        *warm,
    ]
    if errors:
        doc += ["", "Pages that raised (not timed):", *errors]
    if missed:
        doc += ["", f"## Where the time goes ({group_units} units, figures missing the aim)", "",
                "cProfile of one more visit (cold data cache, as in the table), the profiler on in the script "
                "thread during the figure's run only; cProfile roughly doubles the time of Python-heavy code, so "
                "read the shares, not the seconds. `metrics/store/connection.py:query`'s own time is DuckDB "
                "executing the statement (cProfile does not see into the DuckDB module), "
                "`metrics/store/connection.py:connect`'s is opening the file; turning a result into pandas shows up "
                "as pandas' `from_dict` / `sanitize_array` / "
                "`string_arrow._from_sequence`.", "", "In short (the three largest top-level calls of the page "
                "script in each profiled run):", *summaries]
        doc += profiles if profiles else ["", "(profiling skipped: --no-profile)"]
    else:
        doc += ["", f"Every page meets the aim at {group_units} units."]
    publish("\n".join(doc) + "\n", args.out, write=not args.no_write)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
