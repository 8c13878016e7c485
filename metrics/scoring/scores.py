"""Scoring units against their targets for a month or the year to date (the rules: docs/rules.md, sections 2–6)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import Enum

import pandas as pd

from metrics import store
from metrics.core.months import iso_month
from metrics.scoring import queries
from metrics.store import Connection

SELECT_INDICATOR_CODES = "SELECT code FROM indicators ORDER BY position"

UNIT_COLUMNS = ["subsidiary", "name_zh", "name_en", "sector", "unit_score", "grade", "vetoed", "red", "yellow",
                "missing", "due", "reported", "reason"]


class Basis(str, Enum):
    YTD = "ytd"
    MONTH = "month"
    ROLLING12 = "rolling12"


@dataclass(frozen=True)
class ScoreResult:
    month: date
    basis: Basis
    indicators: pd.DataFrame
    """One row per (unit, indicator): value, status, score, target and limit of the period, weight, veto, and
    partial (the value holds only the months reported: a lower-better sum beyond its limit before the period's
    last month is in)."""
    units: pd.DataFrame
    """One row per unit: unit_score, grade (A B C D veto or None), vetoed, red, yellow, missing, due, reported
    (anything submitted for the month) and reason (why there is no score: 'not_reported' or 'no_targets';
    None when scored or vetoed)."""
    aggregates: pd.DataFrame
    """Sector and group values per indicator: level (sector|group), sector, indicator, value, undefined."""
    codes: tuple[str, ...] = ()
    """Every indicator code of the store's catalog, in catalog order."""

    def group_values(self) -> dict[str, float | None]:
        """Every indicator's group value, None where no unit reported it, in catalog order."""
        group = self.aggregates[self.aggregates["level"] == "group"]
        values = {r.indicator: _num(r.value) for r in group.itertuples(index=False)}
        return {code: values.get(code) for code in self.codes}

    def unit_indicators(self, subsidiary: str) -> pd.DataFrame:
        return self.indicators[self.indicators["subsidiary"] == subsidiary]


def _period_params(months: list[date], basis: Basis) -> dict:
    return {"months": list(months), "basis": basis.value}


def score_months(con: Connection, months: list[date],
                 basis: Basis = Basis.YTD) -> dict[date, ScoreResult]:
    """Several periods in one pass (the overview needs this month, the last and the same month last year)."""
    params = _period_params(months, basis)
    rows = store.query(con, queries.SCORE_UNITS, params)
    aggregates = store.query(con, queries.AGGREGATE_VALUES, params)
    codes = tuple(store.query(con, SELECT_INDICATOR_CODES)["code"])
    row_months, aggregate_months = pd.to_datetime(rows["month"]), pd.to_datetime(aggregates["month"])
    results = {}
    for month in months:
        of_month = rows[row_months == pd.Timestamp(month)].drop(columns="month")
        units = of_month[UNIT_COLUMNS].drop_duplicates("subsidiary").reset_index(drop=True)
        indicators = of_month.drop(columns=[c for c in UNIT_COLUMNS if c != "subsidiary"]).reset_index(drop=True)
        results[month] = ScoreResult(
            month=month, basis=basis, indicators=indicators, units=units, codes=codes,
            aggregates=aggregates[aggregate_months == pd.Timestamp(month)].drop(columns="month").reset_index(drop=True))
    return results


def score(con: Connection, month: date, basis: Basis = Basis.YTD) -> ScoreResult:
    return score_months(con, [month], basis)[month]


def score_history(con: Connection, months: list[date], basis: Basis = Basis.YTD,
                  units: list[str] | None = None) -> pd.DataFrame:
    """Unit scores and grades per month of `units` (None: every unit): month, subsidiary, unit_score, grade,
    vetoed, red, yellow, missing, due."""
    frame = store.query(con, queries.SCORE_HISTORY, _period_params(months, basis) | {"units": units})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def _num(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def to_json(result: ScoreResult) -> dict:
    """The documented `score --json` object."""
    by_unit = {code: frame for code, frame in result.indicators.groupby("subsidiary", sort=False)}
    units = []
    for u in result.units.itertuples(index=False):
        indicators = {
            r.indicator: {"value": _num(r.value), "status": r.status, "score": _num(r.score)}
            | ({"partial": True} if r.partial else {})
            for r in by_unit[u.subsidiary].itertuples(index=False)
        }
        units.append({
            "subsidiary": u.subsidiary,
            "name": u.name_zh,
            "sector": u.sector,
            "score": _num(u.unit_score),
            "grade": None if pd.isna(u.grade) else u.grade,
            "veto": bool(u.vetoed),
            "red": int(u.red),
            "yellow": int(u.yellow),
            "missing": int(u.missing),
            "reported": bool(u.reported),
            "reason": None if pd.isna(u.reason) else u.reason,
            "indicators": indicators,
        })
    sectors: dict[str, dict] = {}
    for r in result.aggregates[result.aggregates["level"] == "sector"].itertuples(index=False):
        sectors.setdefault(r.sector, {"indicators": {}})["indicators"][r.indicator] = {"value": _num(r.value)}
    return {
        "month": iso_month(result.month),
        "basis": result.basis.value,
        "units": units,
        "group": {"indicators": {code: {"value": v} for code, v in result.group_values().items()}},
        "sectors": sectors,
    }
