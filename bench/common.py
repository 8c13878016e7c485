"""What the bench scripts share: the synthetic group (a benchmark store of N units written with the product's
own functions), the timing and memory measurements, the machine's description and the Markdown writers.

Each script still says what it measures and how (its own docstring and results file); this module only keeps the
set-up they have in common in one place. The /proc readings a small launcher process needs are in bench/proc.py
(this module imports pandas and DuckDB, which a launcher must not load).
"""
from __future__ import annotations

import ctypes
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb
import numpy as np
import pandas as pd

from metrics import store
from metrics.core.catalog import Catalog, Kind, load_catalog
from metrics.core.months import add_months
from metrics.core.paths import DATA, SECTORS_FILE

END = date(2026, 10, 1)
"""The last month of every synthetic store (the demo's too)."""
SECTORS = ["coal", "chemical", "power", "logistics", "construction"]


# ---------------------------------------------------------------------------------------------------------
# Synthetic group
# ---------------------------------------------------------------------------------------------------------

def make_units(n: int) -> pd.DataFrame:
    sector_names = pd.read_csv(SECTORS_FILE, dtype=str).set_index("code")
    codes = [f"U{i:04d}" for i in range(1, n + 1)]
    sectors = [SECTORS[i % len(SECTORS)] for i in range(n)]
    return pd.DataFrame({
        "code": codes,
        "name_zh": [f"{sector_names.loc[s, 'name_zh']}{i + 1}号单位" for i, s in enumerate(sectors)],
        "name_en": [f"{sector_names.loc[s, 'name_en']} unit {i + 1}" for i, s in enumerate(sectors)],
        "sector": sectors,
    })


def make_values(units: pd.DataFrame, months: list[date], catalog: Catalog,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every base indicator as a (units × months) array; NaN where the unit does not report it."""
    n_units, n_months = len(units), len(months)
    shape = (n_units, n_months)
    sector = units["sector"].to_numpy()
    coal, chemical = sector == "coal", sector == "chemical"
    moy = np.array([m.month for m in months])
    season = (1 + 0.35 * np.cos(2 * np.pi * (moy - 1) / 12))[None, :]

    employees_base = np.clip(rng.lognormal(np.log(800), 0.6, n_units), 50, 10_000)
    hours_per_employee = rng.uniform(150, 190, n_units)
    sector_rate = {"coal": 3.0, "chemical": 1.5, "power": 0.8, "logistics": 2.0, "construction": 2.5}
    injury_rate = np.array([sector_rate[s] for s in sector]) * rng.lognormal(0, 0.4, n_units)
    hazards_per_month = employees_base / 40 * rng.uniform(0.5, 1.5, n_units)
    overdue_rate = rng.uniform(0.3, 3.0, n_units)
    risk_points = rng.poisson(2.5, n_units)
    rectified_share = np.clip(rng.normal(0.96, 0.03, n_units), 0.7, 1.0)
    inspections = rng.integers(10, 31, n_units)

    def col(a):  # per-unit vector as a column
        return np.asarray(a, dtype=float)[:, None]

    employees = np.round(col(employees_base) * rng.uniform(0.985, 1.015, shape), 1)
    hours = np.round(employees * col(hours_per_employee) * rng.uniform(0.95, 1.05, shape))
    lam = col(injury_rate) * hours / 1e6 * season
    fatalities = rng.poisson(np.where(coal, 0.004, 0.0015)[:, None], shape).astype(float)
    injuries = rng.poisson(lam).astype(float) + fatalities
    serious = rng.binomial((injuries - fatalities).astype(int), 0.15).astype(float)
    minor = injuries - serious - fatalities
    fires = rng.poisson(np.where(chemical, 0.03, 0.01)[:, None], shape).astype(float)
    found = rng.poisson(col(hazards_per_month) * (1 + 0.2 * (season - 1))).astype(float)
    requiring = np.round(employees * 0.3)
    planned_invest = np.round(employees * 0.04, 1)
    values = {
        "fatalities": fatalities,
        "serious_injuries": serious,
        "injuries": injuries,
        "lost_time_injuries": injuries - rng.binomial(injuries.astype(int), 0.1),
        "lost_workdays": minor * rng.integers(10, 60, shape) + serious * rng.integers(105, 300, shape)
                         + 6000 * fatalities,
        "recordable_injuries": injuries + rng.poisson(1.2 * lam),
        "major_accidents": rng.poisson(0.0005, shape).astype(float),
        "fires_explosions": fires,
        "hazchem_incidents": np.where(chemical[:, None], rng.poisson(0.06, shape), 0).astype(float),
        "direct_loss": np.round(injuries * rng.uniform(1.5, 8, shape) + fires * 20 + fatalities * 150, 2),
        "occupational_disease_cases": rng.poisson(np.where(coal, 0.08, 0.02)[:, None], shape).astype(float),
        "near_misses": rng.poisson(employees / 120 * season).astype(float),
        "hours_worked": hours,
        "avg_employees": employees,
        "coal_output": np.where(coal[:, None], np.round(employees * 0.02 * rng.uniform(0.9, 1.1, shape)
                                                         * (1 + 0.1 * (season - 1)), 2), np.nan),
        "hazards_found": found,
        "hazards_rectified": np.rint(found * col(rectified_share)),
        "major_hazards": rng.poisson(0.03, shape).astype(float),
        "hazards_overdue": rng.poisson(np.broadcast_to(col(overdue_rate), shape)).astype(float),
        "major_risk_points": col(risk_points) + rng.binomial(1, 0.05, shape),
        "training_hours": np.round(employees * 2 * rng.uniform(0.9, 1.15, shape)),
        "staff_requiring_cert": requiring,
        "staff_certified": np.maximum(requiring - rng.binomial(3, 0.05, shape), 0),
        "safety_investment_planned": planned_invest,
        "safety_investment_actual": np.round(planned_invest * rng.uniform(0.93, 1.1, shape), 1),
        "inspections_planned": np.broadcast_to(col(inspections), shape).copy(),
        "inspections_done": col(inspections) - rng.binomial(3, 0.05, shape),
        "emergency_drills": rng.binomial(2, 0.6, shape).astype(float),
    }
    out = {}
    for ind in catalog.typed:  # any typed indicator added to the catalog later gets generic values
        if ind.code in values:
            out[ind.code] = np.asarray(values[ind.code], dtype=float)
        elif ind.kind is Kind.COUNT:
            out[ind.code] = rng.poisson(5, shape).astype(float)
        else:
            out[ind.code] = np.round(rng.lognormal(3, 0.5, shape), 2)
    return out


def make_observations(units: pd.DataFrame, months: list[date], catalog: Catalog,
                      seed: int) -> pd.DataFrame:
    """The long frame `store.insert_new_batch` takes, with realistic gaps: about 1% of (unit, month)
    submissions absent, 0.2% of single values left blank, and every 50th unit silent in the last month."""
    rng = np.random.default_rng(seed)
    values = make_values(units, months, catalog, rng)
    n_units, n_months = len(units), len(months)
    submitted = rng.random((n_units, n_months)) >= 0.01
    submitted[::50, -1] = False
    unit_idx = np.repeat(np.arange(n_units), n_months)
    month_idx = np.tile(np.arange(n_months), n_units)
    month_objs = np.array(months, dtype=object)
    unit_codes = units["code"].to_numpy(dtype=object)
    parts = []
    for code, array in values.items():
        assert (np.nan_to_num(array) >= 0).all(), code
        keep = (submitted & ~np.isnan(array) & (rng.random(array.shape) >= 0.002)).ravel()
        parts.append(pd.DataFrame({
            "month": month_objs[month_idx[keep]],
            "subsidiary": unit_codes[unit_idx[keep]],
            "indicator": code,
            "value": array.ravel()[keep],
        }))
    return pd.concat(parts, ignore_index=True)


def make_targets(units: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """data/default_targets.csv as the group default of every year, plus per-unit overrides:
    fatality_per_mt for every coal unit (it has no group default) and looser injury caps for every tenth."""
    defaults = pd.read_csv(DATA / "default_targets.csv", dtype={"subsidiary": str})
    coal_units = units.loc[units["sector"] == "coal", "code"]
    overrides = pd.concat([
        pd.DataFrame({"subsidiary": coal_units, "indicator": "fatality_per_mt", "target": 0.0, "limit": 0.1,
                      "weight": 5.0, "veto": False}),
        pd.DataFrame({"subsidiary": units["code"].iloc[::10], "indicator": "injuries", "target": 4.0,
                      "limit": 8.0, "weight": 10.0, "veto": False}),
    ])
    rows = pd.concat([defaults, overrides], ignore_index=True)
    return pd.concat([rows.assign(year=y) for y in years], ignore_index=True)[
        ["year", "subsidiary", "indicator", "target", "limit", "weight", "veto"]].astype(
        {"target": "float64", "limit": "float64", "weight": "float64", "veto": bool})


def monthly_batches(observations: pd.DataFrame) -> list[pd.DataFrame]:
    """One batch per month in month order, each by unit and indicator, as the monthly uploads fill a store (the
    table ends up clustered by month)."""
    return [part.sort_values(["subsidiary", "indicator"]) for _, part in observations.groupby("month", sort=True)]


def write_store(path: Path, catalog: Catalog, units: pd.DataFrame, targets: pd.DataFrame,
                batches: Iterable[pd.DataFrame], source: str) -> None:
    """A store at `path` written with the product's own functions: schema, catalog, units, targets, then each
    batch as one submission, checkpointed."""
    with store.connect(path) as con:
        store.migrate(con)
        store.load_reference_data(con, catalog)
        store.upsert_units(con, units, actor="bench")
        store.replace_targets(con, targets, actor="bench")
        for batch in batches:
            store.insert_new_batch(con, batch, actor="bench", source=source)
        con.execute("CHECKPOINT")


def new_store(path: Path, units: pd.DataFrame, targets: pd.DataFrame, catalog: Catalog,
              history: pd.DataFrame | None = None) -> float:
    """A store of `units` and `targets` (and `history`, one batch per month, as the monthly uploads fill a
    store); the seconds writing it took."""
    t0 = time.perf_counter()
    write_store(path, catalog, units, targets, [] if history is None else monthly_batches(history),
                "bench/upload.py synthetic history")
    return time.perf_counter() - t0


def build_store(path: Path, n_units: int, n_months: int, seed: int, layout: str = "monthly") -> dict:
    """layout "monthly": one `insert_new_batch` per month, in month order, as the monthly uploads fill a store
    (the table ends up clustered by month); "backfill": the whole history as one batch in the generator's
    indicator-major order, as a one-off import of a historical export might arrive."""
    catalog = load_catalog()
    months = [add_months(END, -i) for i in range(n_months - 1, -1, -1)]
    t0 = time.perf_counter()
    units = make_units(n_units)
    observations = make_observations(units, months, catalog, seed)
    targets = make_targets(units, sorted({m.year for m in months}))
    if layout == "monthly":
        batches = monthly_batches(observations)
    elif layout == "backfill":
        batches = [observations]
    else:
        raise ValueError(layout)
    t1 = time.perf_counter()
    write_store(path, catalog, units, targets, batches, f"bench/run.py synthetic group ({layout})")
    t2 = time.perf_counter()
    return {"units": n_units, "months": n_months, "first_month": months[0], "base": len(catalog.typed),
            "derived": len(catalog.derived), "rows": len(observations), "target_rows": len(targets),
            "batches": len(batches), "generate_s": t1 - t0, "write_s": t2 - t1,
            "file_mb": path.stat().st_size / 2**20}

# ---------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------

class _Memory:
    """Peak resident-set growth of one call: VmHWM is reset to the current RSS (clear_refs 5, Linux ≥ 4.0)
    just before the call, after a garbage collection and malloc_trim so freed memory is handed back first."""

    def __init__(self) -> None:
        self._libc: ctypes.CDLL | None
        try:
            self._libc = ctypes.CDLL("libc.so.6")
        except OSError:
            self._libc = None
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.available = True
        except OSError:
            self.available = False

    @staticmethod
    def _status(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(key)

    def reset(self) -> int:
        gc.collect()
        if self._libc is not None:
            self._libc.malloc_trim(0)
        if self.available:
            Path("/proc/self/clear_refs").write_text("5")
        return self._status("VmRSS")

    def peak_since(self, baseline: int) -> int | None:
        return self._status("VmHWM") - baseline if self.available else None


MEMORY = _Memory()


@dataclass
class Measurement:
    name: str
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)  # process CPU time, all threads
    first_s: float = 0.0
    rss_peak: int | None = None  # bytes, largest growth over the warm-up and the timed runs
    rss_first: int | None = None  # bytes, growth during the first (cold) call
    traced_peak: int = 0  # bytes, tracemalloc

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_times)

    @property
    def cell(self) -> str:
        return f"{self.median:.3f} (min {min(self.times):.3f})"


def _call(fn: Callable[[], object]) -> tuple[float, float, int | None]:
    baseline = MEMORY.reset()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return elapsed, cpu, MEMORY.peak_since(baseline)


def measure_together(jobs: list[tuple[str, Callable[[], object]]], runs: int) -> list[Measurement]:
    """One warm-up call of each job (measured for memory, not in the median), then `runs` rounds calling
    each job once in turn, so that jobs compared with each other see the same background load."""
    results = [Measurement(name) for name, _ in jobs]
    growth: list[list[int | None]] = [[] for _ in jobs]
    for round_no in range(runs + 1):
        for k, (_, fn) in enumerate(jobs):
            elapsed, cpu, grown = _call(fn)
            growth[k].append(grown)
            if round_no == 0:
                results[k].first_s = elapsed
            else:
                results[k].times.append(elapsed)
                results[k].cpu_times.append(cpu)
    for k, (name, fn) in enumerate(jobs):
        result = results[k]
        if MEMORY.available:
            result.rss_first, result.rss_peak = growth[k][0], max(g for g in growth[k] if g is not None)
        gc.collect()
        tracemalloc.start()
        fn()
        result.traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {name}: median {result.median:.3f} s, min {min(result.times):.3f} s, CPU {result.cpu:.3f} s "
              f"(first call "
              f"{result.first_s:.3f} s; runs {', '.join(f'{t:.3f}' for t in result.times)})", flush=True)
    return results


def measure(name: str, fn: Callable[[], object], runs: int) -> Measurement:
    return measure_together([(name, fn)], runs)[0]

def median_of(job: Callable[[], object], runs: int) -> tuple[float, object]:
    """One untimed warm-up call, then the median wall time of `runs` calls, and the last call's result."""
    job()
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = job()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


# ---------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------

def machine() -> dict:
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "memory": f"{mem / 2**20:.1f} GiB",
            "python": platform.python_version(), "duckdb": duckdb.__version__, "pandas": pd.__version__,
            "numpy": np.__version__, "os": f"{platform.system()} {platform.release()}",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}



def mib(n: int | None) -> str:
    """Bytes as whole MiB ("n/a" where not measured)."""
    return "n/a" if n is None else f"{n / 2**20:.0f} MiB"


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table's lines: `align` has one letter a column, "l" (left) or "r" (right, for numbers)."""
    assert len(align) == len(header), (header, align)
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    return ["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def publish(text: str, out: Path, write: bool = True) -> None:
    """Prints a script's Markdown and, unless told not to (--no-write), writes it to its results file."""
    print()
    print(text)
    if write:
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}")
