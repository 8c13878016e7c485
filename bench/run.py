#!/usr/bin/env python
"""Group-scale benchmark (500 units × 28 base indicators × 120 months): `make bench`, or
`.venv/bin/python bench/run.py`.

1. Builds a synthetic store with the product's own functions (metrics.store, through bench/common.py): 500
   subsidiaries × every base indicator of the catalog × 120 months ending 2026-10, written as one batch per
   month (as the monthly uploads fill a store), targets for every year (group defaults plus a few per-unit
   overrides), in a temporary directory. A second copy written as one back-fill batch shows what month
   clustering is worth.
2. Times, as the median of several runs after one warm-up, and measures the peak memory of:
   a. year-to-date scoring of 2026-10 for every unit (`metrics.scoring.scores.score`, read-only connection);
   b. one indicator's 120-month series, month by month, for every unit, every sector and the group
      (`metrics.scoring.overview.series`, i.e. `metrics.scoring.queries.SERIES`, the way the pages call it);
   and the same two computations done by a straightforward pandas implementation on the whole
   observations table held in memory as a DataFrame (its load time is reported but not counted; the
   pandas trend computes units and the group only, the sector rows are extra work DuckDB does).
   The pandas results are checked against DuckDB's.
3. Prints a Markdown table and writes it, with the machine and the date, to bench/RESULTS.md.

Memory is measured two ways (see `_Memory`, bench/common.py): the growth of the process's peak resident set size
during a call (Linux VmHWM, reset through /proc/self/clear_refs before each call: everything, DuckDB's native
allocations included), and tracemalloc's peak (Python-side allocations only, numpy and pandas buffers
included, DuckDB's internals not).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb
import numpy as np
import pandas as pd

from bench.common import (
    END,
    MEMORY,
    SECTORS,
    Measurement,
    build_store,
    machine,
    measure,
    measure_together,
    mib,
    publish,
)
from metrics import store
from metrics.core.months import add_months, iso_month
from metrics.scoring import overview, queries
from metrics.scoring.scores import Basis, score
from metrics.store import schema

TREND_INDICATOR = "injury_freq_rate"
SCORE_BUDGET_S = 0.5
SPEEDUP_GOAL = 5.0
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PROFILE_DIR = Path(__file__).resolve().parent / "out"  # git-ignored
NONE = np.array(None, dtype=object)  # None as np.where takes it (numpy's stubs refuse a bare None)



# ---------------------------------------------------------------------------------------------------------
# The pandas baseline: the same rules as metrics/store/schema.py, written the way a pandas user would.
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Reference:
    """The small tables the pandas baseline needs beside the observations."""
    units: pd.DataFrame
    indicators: pd.DataFrame
    targets: pd.DataFrame
    grades: pd.DataFrame


def _round9(x: np.ndarray) -> np.ndarray:
    """DuckDB's round(x, 9): half away from zero."""
    return np.sign(x) * np.floor(np.abs(x) * 1e9 + 0.5) / 1e9


def pandas_score(obs: pd.DataFrame, ref: Reference, month: date, ytd: bool = True):
    """(unit rows, unit × indicator rows, sector and group aggregates) of one period."""
    inds = ref.indicators
    m = pd.Timestamp(month)
    first = pd.Timestamp(month.year, 1, 1) if ytd else m
    window = obs[(obs["month"] >= first) & (obs["month"] <= m)]

    # Base indicators rolled up per (unit, indicator) over every month reported in the period (the sector and
    # group totals take these); `last` is NaN where month m is not reported (values are never NULL).
    grouped = window.groupby(["subsidiary", "indicator"], sort=False)["value"]
    rolled = pd.DataFrame({"sum": grouped.sum(), "mean": grouped.mean()})
    in_month = window[window["month"] == m]
    last = in_month.set_index(["subsidiary", "indicator"])["value"].rename("last")
    rolled = rolled.join(last, how="left")
    rollup = rolled.index.get_level_values("indicator").map(inds.set_index("code")["rollup"]).to_numpy()
    if not np.isin(rollup, ["sum", "mean", "last"]).all():
        raise ValueError(f"unknown roll-up in {set(rollup)}")
    rolled["value"] = np.select([rollup == "sum", rollup == "mean"], [rolled["sum"], rolled["mean"]],
                                rolled["last"])

    unit_codes = ref.units["code"].to_numpy()
    base = inds[inds["numerator"].isna()]
    derived = inds[inds["numerator"].notna()]
    wide = rolled[["value", "last"]].unstack("indicator")
    all_months = wide["value"].reindex(index=unit_codes, columns=base["code"])
    last_missing = (all_months.notna() & wide["last"].reindex(index=unit_codes, columns=base["code"]).isna()) \
        .to_numpy()
    # A unit's own value needs the period's last month (the early breach is decided below, with the limits).
    base_wide = all_months.mask(last_missing)

    # Derived indicators: each unit's ratio of its period sums, both inputs with the period's last month.
    num = base_wide[derived["numerator"]].to_numpy()
    den = base_wide[derived["denominator"]].to_numpy()
    factor = derived["factor"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        derived_values = np.where(den != 0, num * factor / den, np.nan)
    derived_undefined = ~np.isnan(num) & (den == 0)

    codes = np.concatenate([base["code"].to_numpy(), derived["code"].to_numpy()])
    values = np.hstack([all_months.to_numpy(), derived_values])
    undefined = np.hstack([np.zeros(base_wide.shape, bool), derived_undefined])
    missing_last = np.hstack([last_missing, np.zeros(derived_values.shape, bool)])
    n_units, n_inds = values.shape
    long = pd.DataFrame({"subsidiary": np.repeat(unit_codes, n_inds), "indicator": np.tile(codes, n_units),
                         "value": values.ravel(), "undefined": undefined.ravel(),
                         "last_missing": missing_last.ravel()})

    # Effective targets: a unit's own row replaces the group default ('*') row as a whole.
    year_targets = ref.targets[ref.targets["year"] == month.year].copy()
    year_targets["lim"] = year_targets["limit_value"].fillna(year_targets["target"])
    cols = ["target", "lim", "weight", "veto"]
    defaults = year_targets.loc[year_targets["subsidiary"] == "*", ["indicator"] + cols]
    overrides = year_targets.loc[year_targets["subsidiary"] != "*", ["subsidiary", "indicator"] + cols]
    long = long.merge(defaults, on="indicator", how="left").merge(
        overrides, on=["subsidiary", "indicator"], how="left", suffixes=("_default", ""))
    has_override = long["weight"].notna().to_numpy()
    for c in cols:
        long[c] = np.where(has_override, long[c].to_numpy(object), long[c + "_default"].to_numpy(object))
    long = long.drop(columns=[c + "_default" for c in cols])
    long[["target", "lim", "weight"]] = long[["target", "lim", "weight"]].astype(float)
    long["veto"] = long["veto"].fillna(False).astype(bool)
    meta = inds.set_index("code").loc[long["indicator"], ["direction", "rollup", "position"]]
    direction = meta["direction"].to_numpy()
    rollup = meta["rollup"].to_numpy(object)
    long["position"] = meta["position"].to_numpy()

    # Thresholds of the period, status and score (docs/rules.md, "Status" and "Scoring").
    if not ytd:
        sum_scale = np.full(len(long), 1.0 / 12)
    else:
        sum_scale = np.where(direction == "higher_better", month.month / 12.0, 1.0)
    scale = np.where(rollup == "sum", sum_scale, 1.0)
    target = long["target"].to_numpy() * scale
    lim = long["lim"].to_numpy() * scale
    t9, l9 = _round9(target), _round9(lim)
    lower, higher = direction == "lower_better", direction == "higher_better"
    # Without month m a value is missing, except a lower-better sum already beyond its limit (an early breach:
    # values are never negative, so it can only grow; docs/rules.md, "Missing data" 3).
    all_months_value = long["value"].to_numpy()
    last_missing = long["last_missing"].to_numpy()
    early_breach = last_missing & lower & (rollup == "sum") & (_round9(all_months_value) > l9)
    value = np.where(last_missing & ~early_breach, np.nan, all_months_value)
    v9 = _round9(value)
    due = ~np.isnan(long["target"].to_numpy())
    if (due & ~lower & ~higher).any():
        raise ValueError("an indicator without direction has a target")
    status = np.select(
        [~due | long["undefined"].to_numpy(), np.isnan(value),
         lower & (v9 <= t9), lower & (v9 <= l9), lower,
         higher & (v9 >= t9), higher & (v9 >= l9), higher],
        ["none", "missing", "green", "yellow", "red", "green", "yellow", "red"], "none")
    with np.errstate(divide="ignore", invalid="ignore"):
        yellow_score = 100.0 * np.abs(lim - value) / np.abs(lim - target)
    score_ = np.select([status == "green", status == "yellow", status == "red", status == "missing"],
                       [100.0, yellow_score, 0.0, 0.0], np.nan)
    long["value"], long["partial"] = value, early_breach
    long["status"], long["score"], long["target"], long["limit"] = status, score_, target, lim
    long["due"] = due

    # Unit score: weighted mean of the due indicators' scores; a red veto indicator makes it 0; a unit that
    # reported nothing in month m has no score and no grade (docs/rules.md, "Missing data" 5).
    counted = status != "none"
    weight = long["weight"].to_numpy()
    by_unit = pd.DataFrame({
        "subsidiary": long["subsidiary"],
        "ws": np.where(counted, weight * score_, np.nan),
        "w": np.where(counted, weight, np.nan),
        "vetoed": long["veto"].to_numpy() & (status == "red"),
        "red": status == "red", "yellow": status == "yellow", "missing": status == "missing", "due": due,
    }).groupby("subsidiary", sort=True)
    per_unit = pd.concat([by_unit[["ws", "w"]].sum(min_count=1), by_unit[["vetoed"]].any(),
                          by_unit[["red", "yellow", "missing", "due"]].sum()], axis=1)
    per_unit["reported"] = per_unit.index.isin(in_month["subsidiary"].unique())
    weighted = per_unit["ws"] / per_unit["w"].replace(0, np.nan)
    bands = ref.grades.sort_values("min_score")
    mins = bands["min_score"].to_numpy()
    rounded = _round9(weighted.to_numpy())
    band = np.searchsorted(mins, rounded, side="right") - 1
    grade = np.where(np.isnan(rounded) | (band < 0), NONE, bands["grade"].to_numpy()[np.clip(band, 0, None)])
    vetoed, reported = per_unit["vetoed"].to_numpy(), per_unit["reported"].to_numpy()
    unit_rows = ref.units.rename(columns={"code": "subsidiary"}).set_index("subsidiary").join(per_unit)
    unit_rows["unit_score"] = np.where(vetoed, 0.0, np.where(reported, weighted, np.nan))
    unit_rows["grade"] = np.where(vetoed, "veto", np.where(reported, grade, NONE))
    unit_rows["reason"] = np.where(vetoed, NONE, np.where(per_unit["due"].to_numpy() == 0, "no_targets",
                                                          np.where(reported, NONE, "not_reported")))
    unit_rows = unit_rows.reset_index()[["subsidiary", "name_zh", "name_en", "sector", "unit_score", "grade",
                                         "vetoed", "red", "yellow", "missing", "due", "reported", "reason"]]
    indicator_rows = long.sort_values(["subsidiary", "position"], kind="stable")[
        ["subsidiary", "indicator", "value", "status", "score", "target", "limit", "weight", "veto", "partial"]]

    # Sector and group aggregates hold every value reported in the period (the earlier months of a unit whose
    # month m is missing included): base sums over the units that reported them; derived as ratios of sums
    # over the units that reported both inputs.
    sector_of = ref.units.set_index("code")["sector"]
    reported_values = rolled["value"].dropna().reset_index()
    reported_values["sector"] = reported_values["subsidiary"].map(sector_of)
    reported_values = reported_values[reported_values["sector"].notna()]
    frames = []
    for level, keys in (("sector", ["sector", "indicator"]), ("group", ["indicator"])):
        sums = reported_values.groupby(keys)["value"].agg(value="sum", units="count").reset_index()
        frames.append(sums.assign(level=level, undefined=False))
    pairs = []
    for d in derived.itertuples(index=False):
        n_, d_ = all_months[d.numerator], all_months[d.denominator]
        both = n_.notna() & d_.notna()
        pairs.append(pd.DataFrame({"sector": sector_of.loc[both[both].index].to_numpy(), "indicator": d.code,
                                   "factor": d.factor, "num": n_[both].to_numpy(), "den": d_[both].to_numpy()}))
    pairs = pd.concat(pairs, ignore_index=True)
    for level, keys in (("sector", ["sector", "indicator"]), ("group", ["indicator"])):
        s = pairs.groupby(keys).agg(num=("num", "sum"), den=("den", "sum"), factor=("factor", "first"),
                                    units=("num", "size")).reset_index()
        with np.errstate(divide="ignore", invalid="ignore"):
            s["value"] = np.where(s["den"] != 0, s["num"] * s["factor"] / s["den"], np.nan)
        s["undefined"] = s["den"] == 0
        frames.append(s.drop(columns=["num", "den", "factor"]).assign(level=level))
    aggregates = pd.concat(frames, ignore_index=True)
    aggregates["sector"] = aggregates["sector"].fillna("*")
    aggregates["position"] = aggregates["indicator"].map(inds.set_index("code")["position"])
    aggregates = aggregates.sort_values(["level", "sector", "position"])[
        ["level", "sector", "indicator", "value", "undefined", "units"]].reset_index(drop=True)
    return unit_rows, indicator_rows, aggregates


def pandas_trend(obs: pd.DataFrame, ref: Reference, code: str, first: date, last: date) -> pd.DataFrame:
    """Monthly value of one indicator per unit, and the group's ratio of sums as subsidiary '*'."""
    ind = ref.indicators.set_index("code").loc[code]
    num_code = ind["numerator"] if isinstance(ind["numerator"], str) else code
    den_code = ind["denominator"] if isinstance(ind["denominator"], str) else None
    wanted = [num_code] + ([den_code] if den_code else [])
    window = obs[(obs["month"] >= pd.Timestamp(first)) & (obs["month"] <= pd.Timestamp(last))
                 & obs["indicator"].isin(wanted)]
    wide = window.set_index(["month", "subsidiary", "indicator"])["value"].unstack("indicator") \
        .reindex(columns=wanted)
    num = wide[num_code]
    if den_code is None:
        unit_value, group_value = num, num.groupby(level="month").sum(min_count=1)
    else:
        den = wide[den_code]
        with np.errstate(divide="ignore", invalid="ignore"):
            unit_value = num * ind["factor"] / den.where(den != 0)
        group_num = num.where(den.notna()).groupby(level="month").sum(min_count=1)
        group_den = den.where(num.notna()).groupby(level="month").sum(min_count=1)
        group_value = group_num * ind["factor"] / group_den.where(group_den != 0)
    units_part = unit_value.rename("value").reset_index()
    group_part = group_value.rename("value").reset_index().assign(subsidiary="*")
    out = pd.concat([units_part, group_part], ignore_index=True)[["month", "subsidiary", "value"]]
    return out.sort_values(["subsidiary", "month"], ignore_index=True)



def _mem(m: Measurement) -> str:
    return f"{mib(m.rss_peak)} RSS / {mib(m.traced_peak)} py"


# ---------------------------------------------------------------------------------------------------------
# Checking the baseline against the product
# ---------------------------------------------------------------------------------------------------------

def _close(a: pd.Series, b: pd.Series, tol: float = 1e-6) -> bool:
    a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(len(a) == len(b) and (both_nan | (np.abs(a - b) <= tol * np.maximum(1, np.abs(b)))).all())


def _same(a: pd.Series, b: pd.Series) -> bool:
    a = a.astype(object).where(a.notna(), None).to_numpy()
    b = b.astype(object).where(b.notna(), None).to_numpy()
    return bool(len(a) == len(b) and all(x == y for x, y in zip(a, b)))


def check_scoring(duck, units_pd: pd.DataFrame, inds_pd: pd.DataFrame, aggs_pd: pd.DataFrame) -> dict:
    du = duck.units.sort_values("subsidiary", ignore_index=True)
    pu = units_pd.sort_values("subsidiary", ignore_index=True)
    checks = {"unit scores (1e-6)": bool(
        _same(du["subsidiary"], pu["subsidiary"])
        and (np.abs(du["unit_score"].astype(float) - pu["unit_score"].astype(float)).fillna(0) <= 1e-6).all()
        and (du["unit_score"].isna() == pu["unit_score"].isna()).all())}
    checks["grades, vetoes, red/yellow/missing/due counts, reported, reason"] = all(
        _same(du[c], pu[c]) for c in ("grade", "vetoed", "red", "yellow", "missing", "due", "reported", "reason"))
    di = duck.indicators.reset_index(drop=True)
    pi = inds_pd.reset_index(drop=True)
    checks["unit × indicator statuses, values, scores and partial"] = bool(
        len(di) == len(pi) and _same(di["subsidiary"], pi["subsidiary"]) and _same(di["indicator"], pi["indicator"])
        and _same(di["status"], pi["status"]) and _close(di["value"], pi["value"]) and _close(di["score"], pi["score"])
        and _same(di["partial"], pi["partial"]))
    da = duck.aggregates.reset_index(drop=True)
    checks["sector and group aggregates"] = bool(
        len(da) == len(aggs_pd) and all(_same(da[c], aggs_pd[c]) for c in ("level", "sector", "indicator", "undefined"))
        and _close(da["value"], aggs_pd["value"]) and _same(da["units"].astype(int), aggs_pd["units"].astype(int)))
    return checks


def check_trend(duck: pd.DataFrame, pdf: pd.DataFrame) -> bool:
    """`overview.series` output against `pandas_trend`: the unit rows and the group row ('*'), entity renamed
    subsidiary. SERIES has a row for every (unit, month), NULL where nothing was reported, while pandas has
    rows only where an input was reported, so both sides are compared on their non-missing values (a value
    missing on one side only changes the row count and fails the check)."""
    duck = duck[(duck["level"] == "unit") | ((duck["level"] == "group") & (duck["entity"] == "*"))]
    duck = duck.rename(columns={"entity": "subsidiary"})[["month", "subsidiary", "value"]]

    def tidy(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame["value"].notna()].assign(month=lambda f: pd.to_datetime(f["month"]))
        return frame.sort_values(["subsidiary", "month"], ignore_index=True)
    duck, pdf = tidy(duck), tidy(pdf)
    return bool(len(duck) > 0 and len(duck) == len(pdf) and _same(duck["subsidiary"], pdf["subsidiary"])
                and (duck["month"].to_numpy() == pdf["month"].to_numpy()).all()
                and _close(duck["value"], pdf["value"]))


# ---------------------------------------------------------------------------------------------------------
# Profiling the scoring statements (printed when scoring misses its budget, or with --profile)
# ---------------------------------------------------------------------------------------------------------

def _operators(node: dict, depth: int = 0) -> list[tuple[float, int, str, str, int]]:
    """(time, depth, operator, detail, rows) of every node; DuckDB 2.x and 1.x JSON profile layouts."""
    name = str(node.get("type") or node.get("operator_type") or node.get("operator_name") or "").strip()
    timing = float(node.get("timing", node.get("operator_timing", 0.0)) or 0.0)
    rows = int(node.get("intermediate_rows", node.get("operator_cardinality", 0)) or 0)
    extra = node.get("extra_info") or {}
    detail = ""
    if isinstance(extra, dict):
        keep = ("CTE Name", "Join Type", "Conditions", "Groups", "Aggregates", "Table", "Filters", "Partitions")
        detail = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}"
                           for k, v in extra.items() if k in keep)
    found = [(timing, depth, name, detail[:150], rows)] if name else []
    for child in node.get("children", []):
        found += _operators(child, depth + 1)
    return found


def profile_statement(db: Path, label: str, statement: str, params: dict, top: int = 10) -> list[str]:
    import json
    PROFILE_DIR.mkdir(exist_ok=True)
    out = PROFILE_DIR / f"profile_{label}.json"
    with store.connect(db, read_only=True) as con:
        con.execute(statement, params).fetchall()  # warm
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{out}'")
        con.execute(statement, params).fetchall()
        con.execute("PRAGMA disable_profiling")
    tree = json.loads(out.read_text())
    roots = tree.get("operator") or tree.get("children") or []
    ops = sorted((op for root in roots for op in _operators(root)), key=lambda o: -o[0])[:top]
    query = tree.get("query", tree)
    system = tree.get("system", {})
    total = float(query.get("total_time", tree.get("latency", 0.0)) or 0.0)
    cpu = float(query.get("cpu_time", tree.get("cpu_time", 0.0)) or 0.0)
    buffer_peak = system.get("peak_buffer_memory")
    lines = [f"{label}: {total:.3f} s wall, {cpu:.3f} s CPU, {query.get('total_intermediate_rows', '?')} "
             f"intermediate rows"
             + (f", DuckDB peak buffer memory {int(buffer_peak) / 2**20:.0f} MiB" if buffer_peak else "")
             + f" (plan: bench/out/{out.name}); slowest operators (CPU s, rows out):"]
    lines += [f"  {t:7.3f} s  {n:<24} {c:>9}  {d}" for t, _, n, d, c in ops]
    return lines


# ---------------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--runs", type=int, default=7, help="timed runs after one warm-up (default 7)")
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file (default bench/RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    parser.add_argument("--profile", action="store_true", help="profile the scoring statements even if fast")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = machine()
    print(f"machine: {info}", flush=True)

    with tempfile.TemporaryDirectory(prefix="safety-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        print(f"building {args.units} units × {args.months} months in {db} ...", flush=True)
        built = build_store(db, args.units, args.months, args.seed)
        print(f"  {built['rows']:,} observations ({built['base']} base indicators) in {built['batches']} monthly "
              f"batches, {built['target_rows']} target rows: generated in {built['generate_s']:.1f} s, written in "
              f"{built['write_s']:.1f} s, file {built['file_mb']:.0f} MiB", flush=True)

        trend_first = add_months(END, -(args.months - 1))

        def duck_series(c: duckdb.DuckDBPyConnection) -> pd.DataFrame:
            return overview.series(c, TREND_INDICATOR, trend_first, END, Basis.MONTH)
        score_params = {"months": [END], "basis": Basis.YTD.value}
        results: dict[str, Measurement] = {}

        print("loading the observations into pandas (not timed below):", flush=True)
        t0 = time.perf_counter()
        baseline_rss = MEMORY.reset()
        with store.connect(db, read_only=True) as con:
            obs = con.execute("SELECT month, subsidiary, indicator, value FROM observations").df()
            ref = Reference(
                units=store.query(con, "SELECT code, name_zh, name_en, sector FROM subsidiaries ORDER BY code"),
                indicators=store.query(con, schema.SELECT_INDICATORS),
                targets=store.query(con, "SELECT * FROM targets"),
                grades=store.query(con, overview.SELECT_GRADES))
        load_s = time.perf_counter() - t0
        frame_mb = obs.memory_usage(deep=True).sum() / 2**20
        load_rss = MEMORY.peak_since(baseline_rss)
        print(f"  {load_s:.2f} s, DataFrame {frame_mb:.0f} MiB (deep), dtypes {dict(obs.dtypes.astype(str))}",
              flush=True)

        print("(a) scoring, DuckDB on a read-only connection held open, pandas in turn:", flush=True)
        with store.connect(db, read_only=True) as con:
            results["score"], results["pd_score"] = measure_together([
                ("DuckDB score (YTD 2026-10)", lambda: score(con, END, Basis.YTD)),
                ("pandas score", partial(pandas_score, obs, ref, END, ytd=True))], args.runs)
            duck_score = score(con, END, Basis.YTD)
        print("(b) trend, likewise:", flush=True)
        with store.connect(db, read_only=True) as con:
            results["trend"], results["pd_trend"] = measure_together([
                (f"DuckDB series ({TREND_INDICATOR}, {args.months} months, units + sectors + group)",
                 lambda: duck_series(con)),
                ("pandas trend (units + group)", partial(pandas_trend, obs, ref, TREND_INDICATOR, trend_first, END))],
                args.runs)
            duck_trend = duck_series(con)

        print("(a) in parts:", flush=True)
        with store.connect(db, read_only=True) as con:
            literal = {"$months": f"CAST([DATE '{END.isoformat()}'] AS DATE[])",
                       "$basis": f"'{Basis.YTD.value}'"}

            def prepare_both():
                for i, statement in enumerate((queries.SCORE_UNITS, queries.AGGREGATE_VALUES)):
                    for name, value in literal.items():
                        statement = statement.replace(name, value)
                    con.execute(f"PREPARE bench_plan_{i} AS {statement}")
            (results["score_units"], results["aggregate"], results["score_units_count"],
             results["plan"]) = measure_together([
                ("SCORE_UNITS alone", lambda: con.execute(queries.SCORE_UNITS, score_params).df()),
                ("AGGREGATE_VALUES alone", lambda: con.execute(queries.AGGREGATE_VALUES, score_params).df()),
                ("SCORE_UNITS without result transfer (count(*) over it)",
                 lambda: con.execute(f"SELECT count(*) FROM ({queries.SCORE_UNITS})", score_params).fetchall()),
                ("planning only (PREPARE of both statements)", prepare_both)], args.runs)

        def per_call_score():
            with store.connect(db, read_only=True) as c:
                return score(c, END, Basis.YTD)
        print("(a) with a connection per call (the app's short-lived connections):", flush=True)
        results["score_per_call"] = measure("connect + score + close", per_call_score, args.runs)

        pd_units, pd_inds, pd_aggs = pandas_score(obs, ref, END, ytd=True)
        score_checks = check_scoring(duck_score, pd_units, pd_inds, pd_aggs)
        trend_ok = check_trend(duck_trend, pandas_trend(obs, ref, TREND_INDICATOR, trend_first, END))
        grades = duck_score.units["grade"].value_counts(dropna=False).to_dict()
        statuses = duck_score.indicators["status"].value_counts().to_dict()
        obs_dtypes = ", ".join(f"{k} {v}" for k, v in obs.dtypes.astype(str).items())
        del obs

        backfill_db = Path(tmp) / "backfill.duckdb"
        print("the same data as a single back-fill batch in indicator-major order (not clustered by month):",
              flush=True)
        backfill = build_store(backfill_db, args.units, args.months, args.seed, layout="backfill")
        with store.connect(backfill_db, read_only=True) as con:
            results["backfill_score"] = measure("score (YTD 2026-10), back-fill layout",
                                                lambda: score(con, END, Basis.YTD), args.runs)
        with store.connect(backfill_db, read_only=True) as con:
            results["backfill_trend"] = measure("series, back-fill layout",
                                                lambda: duck_series(con), args.runs)

        profile_lines: list[str] = []
        goals_missed = (results["score"].median > SCORE_BUDGET_S
                        or results["pd_score"].median / results["score"].median < SPEEDUP_GOAL)
        if goals_missed or args.profile:
            print("profiling the scoring statements ...", flush=True)
            profile_lines += profile_statement(db, "SCORE_UNITS", queries.SCORE_UNITS, score_params)
            profile_lines += profile_statement(db, "AGGREGATE_VALUES", queries.AGGREGATE_VALUES, score_params)

    s, t = results["score"], results["trend"]
    ps, pt = results["pd_score"], results["pd_trend"]
    score_ratio, trend_ratio = ps.median / s.median, pt.median / t.median
    table = [
        "| Operation | DuckDB median s (min) | DuckDB CPU s | DuckDB peak memory | pandas median s (min) "
        "| pandas CPU s | pandas peak memory | pandas ÷ DuckDB (median wall) | pandas ÷ DuckDB (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| (a) YTD scoring of {iso_month(END)}, all {args.units} units (`scores.score`) | {s.cell} | "
        f"{s.cpu:.3f} | {_mem(s)} | {ps.cell} | {ps.cpu:.3f} | {_mem(ps)} | {score_ratio:.1f}× | "
        f"{ps.cpu / s.cpu:.1f}× |",
        f"| (b) `{TREND_INDICATOR}` monthly series, {args.months} months × all units + sectors + group "
        f"(`overview.series`; pandas: units + group) | {t.cell} | "
        f"{t.cpu:.3f} | {_mem(t)} | {pt.cell} | {pt.cpu:.3f} | {_mem(pt)} | {trend_ratio:.1f}× | "
        f"{pt.cpu / t.cpu:.1f}× |",
    ]
    breakdown = [
        "| DuckDB detail | median s (min) | first call (s) | peak memory |",
        "|---|---:|---:|---:|",
        f"| (a) of which `SCORE_UNITS` | {results['score_units'].cell} | {results['score_units'].first_s:.3f} | "
        f"{_mem(results['score_units'])} |",
        f"| (a) of which `AGGREGATE_VALUES` | {results['aggregate'].cell} | {results['aggregate'].first_s:.3f} | "
        f"{_mem(results['aggregate'])} |",
        f"| (a) `SCORE_UNITS` executed without result transfer (`count(*)` over it) | "
        f"{results['score_units_count'].cell} | {results['score_units_count'].first_s:.3f} | "
        f"{_mem(results['score_units_count'])} |",
        f"| (a) planning only: `PREPARE` of both statements (parse, bind, optimise) | {results['plan'].cell} | "
        f"{results['plan'].first_s:.3f} | {_mem(results['plan'])} |",
        f"| (a) with a fresh read-only connection per call (connect + score + close, as the app does) | "
        f"{results['score_per_call'].cell} | {results['score_per_call'].first_s:.3f} | "
        f"{_mem(results['score_per_call'])} |",
        f"| (a) first call on a fresh connection (cold buffer pool) | {s.first_s:.3f} | | "
        f"{mib(s.rss_first)} RSS |",
        f"| (b) first call on a fresh connection | {t.first_s:.3f} | | {mib(t.rss_first)} RSS |",
        f"| (a) on the back-fill layout (one batch, indicator-major: no month clustering) | "
        f"{results['backfill_score'].cell} | {results['backfill_score'].first_s:.3f} | "
        f"{_mem(results['backfill_score'])} |",
        f"| (b) on the back-fill layout | {results['backfill_trend'].cell} | "
        f"{results['backfill_trend'].first_s:.3f} | {_mem(results['backfill_trend'])} |",
    ]
    verdicts = [
        f"- Scoring budget (< {SCORE_BUDGET_S} s): **{'met' if s.median < SCORE_BUDGET_S else 'MISSED'}** "
        f"({s.median:.3f} s).",
        f"- Scoring at least {SPEEDUP_GOAL:.0f}× faster than pandas: "
        f"**{'met' if score_ratio >= SPEEDUP_GOAL else 'MISSED'}** "
        f"({score_ratio:.1f}×); trend: {trend_ratio:.1f}×.",
    ]
    checks = [f"- {name}: **{'match' if ok else 'MISMATCH'}**" for name, ok in score_checks.items()]
    checks.append(f"- trend (`overview.series` unit rows and group row against pandas), values (1e-6): "
                  f"**{'match' if trend_ok else 'MISMATCH'}**")
    all_match = all(score_checks.values()) and trend_ok

    doc = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`bench/run.py`) on {datetime.now().strftime('%Y-%m-%d %H:%M')}, "
        f"total run time {time.perf_counter() - started:.0f} s. Load average (1, 5, 15 min) {info['load']} at the "
        f"start, {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end: other work on the machine makes single "
        f"timings vary by ±30%, hence medians.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python {info['python']}, "
        f"DuckDB {info['duckdb']}, pandas {info['pandas']}, numpy {info['numpy']}.",
        "",
        f"Data: synthetic group of {args.units} subsidiaries (sectors {', '.join(SECTORS)} in turn) × "
        f"{built['base']} base indicators "
        f"(coal_output for coal units only) × {args.months} months "
        f"{iso_month(built['first_month'])}..{iso_month(END)} = **{built['rows']:,} observations** (about 1% of "
        f"unit-months and 0.2% of values left unreported; every 50th unit has not reported {iso_month(END)}), "
        f"plus {built['derived']} derived indicators and {built['target_rows']:,} target rows (group defaults of "
        f"`data/default_targets.csv` for every year, per-unit overrides for fatality_per_mt on coal units and "
        f"injuries on every tenth unit). Written through `metrics.store` (migrate, reference data, units, targets, "
        f"then one `insert_new_batch` per month in month order, {built['batches']} batches, as monthly uploads "
        f"would) in **{built['write_s']:.1f} s** after {built['generate_s']:.1f} s of generation; store file "
        f"{built['file_mb']:.0f} MiB. The same data written as one back-fill batch took {backfill['write_s']:.1f} s "
        f"({backfill['file_mb']:.0f} MiB).",
        "",
        *table,
        "",
        *verdicts,
        "",
        *breakdown,
        "",
        "How it is measured:",
        f"- Times: median of {args.runs} runs after one warm-up call, wall clock (`time.perf_counter`), and the "
        "median process CPU time (`time.process_time`, all threads: less sensitive to other work on the machine, "
        "but it counts both of DuckDB's threads); each DuckDB "
        "operation and its pandas counterpart run alternately, so both see the same background load. DuckDB on a "
        "read-only connection opened before timing (a fresh one per operation, so the warm-up call is the cold one); "
        f"DuckDB uses its default thread count ({info['nproc']}).",
        "- (a) is the whole `metrics.scoring.scores.score` call: `SCORE_UNITS` plus `AGGREGATE_VALUES`, results as "
        "DataFrames. The pandas baseline does the same work: the year's months filtered, roll-up per (unit, indicator) "
        "by sum/last/mean (a unit's own value missing without the period's last month, except a lower-better sum "
        "already beyond its limit: red, partial, and a veto), derived indicators as ratios of sums, effective "
        "targets (unit override else `*`), thresholds, status and score, weighted unit score, veto, grade, counts, "
        "reported and reason (a unit that reported nothing for the month has no score or grade unless vetoed), and "
        "the sector and group aggregates over every value reported in the period (docs/rules.md, \"Missing data\").",
        f"- (b) is the whole `metrics.scoring.overview.series` call as the pages make it (`SERIES`, basis `month`, "
        f"every "
        f"unit): per month, each unit's value, status and period target/limit, each sector's and the group's "
        f"value (a derived indicator as the ratio of the sums over the units reporting both inputs) and the "
        f"group-default target/limit, {args.months} × ({args.units} units + {len(SECTORS)} sectors + group) rows. "
        f"The pandas baseline computes the unit and group values only (no sectors, statuses or targets), so "
        f"DuckDB does more work here; the check compares the unit rows and the group row.",
        f"- pandas works on the whole observations table loaded into one DataFrame beforehand: loading it "
        f"(`SELECT … FROM observations` → `.df()`, {load_s:.2f} s, {frame_mb:.0f} MiB deep, peak RSS growth "
        f"{mib(load_rss)}) is **not** counted in its times; columns as DuckDB hands them over "
        f"({obs_dtypes}).",
        "- Peak memory `RSS`: growth of the process's peak resident set size during one call (Linux VmHWM, reset "
        "through `/proc/self/clear_refs` after `gc.collect()` and `malloc_trim(0)` just before the call); the "
        "largest over the warm-up and the timed runs. It covers DuckDB's native allocations and, on the first call "
        "of a fresh connection, reading the table's blocks into DuckDB's buffer pool. The data already resident "
        "before the call (pandas: the loaded DataFrame) is not counted. `py`: tracemalloc peak of one extra call, "
        "Python-side allocations only (numpy/pandas buffers, DuckDB's result conversion), not DuckDB's internals.",
        "",
        f"Check of the pandas baseline against DuckDB ({'all match' if all_match else 'SOME MISMATCH'}):",
        *checks,
        f"- Scoring outcome at {iso_month(END)} (DuckDB): grades {grades}; statuses {statuses}.",
    ]
    if profile_lines:
        doc += ["", "Profile of the scoring statements (DuckDB JSON profiler):", "", "```", *profile_lines, "```"]
    publish("\n".join(doc) + "\n", args.out, write=not args.no_write)
    return 0 if all_match else 1


if __name__ == "__main__":
    sys.exit(main())
