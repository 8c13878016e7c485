"""Deterministic demo group: units and their profiles come from data/demo/, values from seeded draws.

Every (unit, month) draws from its own seed, so a month's values are the same whenever the demo is built.
Scripted stories: one coal mine has a fatality this year (vetoed), one unit has not reported the latest
month, one chemical plant's hazard rectification slips over the last five months, and a construction unit
had a fatality twenty months ago (so the days since the last fatality differ), a construction unit's
injuries jump in the latest month (out of statistical control), and the power plant finds no hazards in
the last three months while working full hours (suspicious silence), and a logistics unit submits the
latest month after the deadline (late). Each (unit, month) is its own submission, on a working day early in
the following month.
"""
from __future__ import annotations

import math
import zlib
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from metrics.core.months import add_months, months_ending
from metrics.core.paths import DATA, DEMO_DIR

MONTHS = 36
SLIPPING_RECTIFICATION = (0.93, 0.86, 0.79, 0.72, 0.64)


def demo_units() -> pd.DataFrame:
    return pd.read_csv(DEMO_DIR / "units.csv", dtype={"code": str, "role": str}, keep_default_na=False,
                       na_values={"coal_output": [""]})


def demo_months(end: date) -> list[date]:
    return months_ending(end, MONTHS)


def _season(month: date) -> float:
    """Winter peak: January 1.35 times the yearly mean, July 0.65."""
    return 1 + 0.35 * math.cos(2 * math.pi * (month.month - 1) / 12)


def _rng(unit: str, month: date) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{unit}:{month.isoformat()}".encode()))


def _unit_month(unit: pd.Series, month: date, end: date) -> dict[str, float]:
    rng = _rng(unit.code, month)
    season = _season(month)
    employees = round(unit.employees * rng.uniform(0.985, 1.015), 1)
    hours = round(employees * unit.hours_per_employee * rng.uniform(0.95, 1.05))
    injuries = int(rng.poisson(unit.injury_rate * hours / 1e6 * season))
    serious = int(rng.binomial(injuries, 0.15))
    fatalities = 0
    months_before_end = (end.year - month.year) * 12 + end.month - month.month
    if unit.role == "fatality" and month == max(date(end.year, 1, 1), add_months(end, -2)):
        fatalities = 1
    if unit.role == "past_fatality" and months_before_end == 20:
        fatalities = 1
    injuries += fatalities
    if unit.role == "injury_spike" and month == end:
        injuries += 5
    lost_days = int(rng.integers(10, 60, size=injuries - serious - fatalities).sum()) \
        + int(rng.integers(105, 300, size=serious).sum()) + 6000 * fatalities
    chemical = unit.sector == "chemical"
    fires = int(rng.poisson(0.03 if chemical else 0.01))
    found = int(rng.poisson(unit.hazards_per_month * (1 + 0.2 * (season - 1))))
    if unit.role == "quiet_hazards" and months_before_end < 3:
        found = 0
    share = 0.97
    overdue = int(rng.poisson(0.8))
    if unit.role == "slipping" and months_before_end < len(SLIPPING_RECTIFICATION):
        share = SLIPPING_RECTIFICATION[len(SLIPPING_RECTIFICATION) - 1 - months_before_end]
        overdue += 2 * (len(SLIPPING_RECTIFICATION) - months_before_end)
    requiring = round(unit.employees * 0.3)
    planned_invest = round(unit.employees * 0.04, 1)
    values = {
        "fatalities": fatalities,
        "serious_injuries": serious,
        "injuries": injuries,
        "lost_time_injuries": injuries,
        "lost_workdays": lost_days,
        "recordable_injuries": injuries + int(rng.poisson(1.2 * unit.injury_rate * hours / 1e6 * season)),
        "major_accidents": 0,
        "fires_explosions": fires,
        "hazchem_incidents": int(rng.poisson(0.06)) if chemical else 0,
        "direct_loss": round(injuries * rng.uniform(1.5, 8) + fires * 20 + fatalities * 150, 2),
        "occupational_disease_cases": int(rng.poisson(0.08 if unit.sector == "coal" else 0.02)),
        "near_misses": int(rng.poisson(unit.employees / 120 * season)),
        "hours_worked": hours,
        "avg_employees": employees,
        "hazards_found": found,
        "hazards_rectified": int(round(found * share)),
        "major_hazards": int(rng.poisson(0.03)),
        "hazards_overdue": overdue,
        "major_risk_points": int(unit.risk_points),
        "training_hours": round(unit.employees * 2 * rng.uniform(0.9, 1.15)),
        "staff_requiring_cert": requiring,
        "staff_certified": requiring - int(rng.binomial(2, 0.05)),
        "safety_investment_planned": planned_invest,
        "safety_investment_actual": round(planned_invest * rng.uniform(0.97, 1.1), 1),
        "inspections_planned": 20,
        "inspections_done": 20 - int(rng.binomial(2, 0.04)),
        "emergency_drills": int(rng.binomial(2, 0.6)),
    }
    if not math.isnan(unit.coal_output):
        values["coal_output"] = round(unit.coal_output * rng.uniform(0.9, 1.1) * (1 + 0.1 * (season - 1)), 2)
    return values


def demo_observations(end: date) -> pd.DataFrame:
    """Long frame (month, subsidiary, indicator, value, key of the submission) for the 36 months ending
    with `end`."""
    records = []
    for unit in demo_units().itertuples(index=False):
        for month in demo_months(end):
            if unit.role == "silent_latest" and month == end:
                continue
            for indicator, value in _unit_month(unit, month, end).items():
                records.append((month, unit.code, indicator, float(value)))
    frame = pd.DataFrame(records, columns=["month", "subsidiary", "indicator", "value"])
    return frame.assign(key=frame["subsidiary"] + ":" + frame["month"].map(lambda m: f"{m:%Y-%m}"))


def demo_submissions(end: date, now: datetime) -> pd.DataFrame:
    """When each (unit, month) of the demo was submitted: key, month, subsidiary, created_at (never after
    `now`), note ("CM01 2026-10": a code and a month read the same in both languages). Keys are "CODE:YYYY-MM",
    as in `demo_observations`."""
    records = []
    for unit in demo_units().itertuples(index=False):
        for month in demo_months(end):
            if unit.role == "silent_latest" and month == end:
                continue
            rng = np.random.default_rng(zlib.crc32(f"{unit.code}:{month.isoformat()}:submitted".encode()))
            submitted = datetime.combine(add_months(month, 1), datetime.min.time()) + timedelta(
                days=int(rng.integers(1, 8)), hours=int(rng.integers(9, 17)), minutes=int(rng.integers(0, 60)))
            if unit.role == "late_latest" and month == end:
                submitted = submitted.replace(day=13, hour=16, minute=20)
            records.append((f"{unit.code}:{month:%Y-%m}", month, unit.code, min(submitted, now),
                            f"{unit.code} {month:%Y-%m}"))
    return pd.DataFrame(records, columns=["key", "month", "subsidiary", "created_at", "note"])


def demo_targets(years: list[int]) -> pd.DataFrame:
    """Group defaults from data/default_targets.csv plus the demo units' overrides, for every year."""
    rows = pd.concat([pd.read_csv(DATA / "default_targets.csv", dtype={"subsidiary": str}),
                      pd.read_csv(DEMO_DIR / "target_overrides.csv", dtype={"subsidiary": str})])
    frames = [rows.assign(year=year) for year in years]
    return pd.concat(frames, ignore_index=True)[
        ["year", "subsidiary", "indicator", "target", "limit", "weight", "veto"]].astype(
        {"target": "float64", "limit": "float64", "weight": "float64", "veto": bool})
