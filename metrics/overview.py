"""What the dashboard shows for a month: unit ranking with changes, headline counts, safe days, trends."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from metrics import scoring, sql, store
from metrics.months import add_months, month_end


@dataclass(frozen=True)
class SafeDays:
    """Days from the end of the last month with an event to the end of `as_of` (monthly data has no dates).

    `since_records` is True when no event is on record: the count then runs from the first month on record
    and is a lower bound.
    """
    days: int
    since_records: bool


@dataclass(frozen=True)
class Overview:
    month: date
    basis: scoring.Basis
    result: scoring.ScoreResult
    units: pd.DataFrame
    """Ranked units: rank, subsidiary, names, sector, unit_score, grade, vetoed, red, yellow, missing,
    previous_score, previous_grade, change, veto_reason (the red veto indicators)."""
    red: int
    yellow: int
    vetoed: int
    not_reported: int
    previous_red: int | None
    previous_yellow: int | None
    safe_days_fatality: dict[str, SafeDays]
    safe_days_lost_time: dict[str, SafeDays]


def safe_days(con: duckdb.DuckDBPyConnection, indicator: str, as_of: date,
              unit_codes: list[str]) -> dict[str, SafeDays]:
    """Safe days per unit and for the group ('*')."""
    first = store.scalar(con, sql.FIRST_MONTH)
    last = store.query(con, sql.LAST_EVENT_MONTH, {"indicator": indicator, "month": as_of})
    last_by_unit = dict(zip(last["subsidiary"], last["last_month"]))
    end = month_end(as_of)

    def days_since(event_month) -> SafeDays:
        if event_month is None or pd.isna(event_month):
            start = first or as_of
            return SafeDays((end - start).days + 1, since_records=True)
        return SafeDays((end - month_end(pd.Timestamp(event_month).date())).days, since_records=False)

    result = {code: days_since(last_by_unit.get(code)) for code in unit_codes}
    result["*"] = days_since(max(last_by_unit.values()) if last_by_unit else None)
    return result


def build_overview(con: duckdb.DuckDBPyConnection, month: date,
                   basis: scoring.Basis = scoring.Basis.YTD) -> Overview:
    current = scoring.score(con, month, basis)
    previous_month = add_months(month, -1)
    previous = scoring.score(con, previous_month, basis)
    has_previous = bool(store.scalar(con, sql.HAS_MONTH, {"month": previous_month}))
    units = current.units.copy()
    prev = previous.units.set_index("subsidiary")
    units["previous_score"] = units["subsidiary"].map(prev["unit_score"])
    units["previous_grade"] = units["subsidiary"].map(prev["grade"])
    units["change"] = units["unit_score"] - units["previous_score"]
    vetoes = current.indicators[(current.indicators["status"] == "red") & current.indicators["veto"]]
    units["veto_reason"] = units["subsidiary"].map(vetoes.groupby("subsidiary")["indicator"].agg(list))
    units = units.sort_values(["unit_score", "subsidiary"], ascending=[False, True], na_position="last")
    units.insert(0, "rank", range(1, len(units) + 1))
    codes = list(current.units["subsidiary"])
    return Overview(
        month=month, basis=basis, result=current, units=units.reset_index(drop=True),
        red=int(current.units["red"].sum()), yellow=int(current.units["yellow"].sum()),
        vetoed=int(current.units["vetoed"].sum()),
        not_reported=int((current.units["missing"] > 0).sum()),
        previous_red=int(previous.units["red"].sum()) if has_previous else None,
        previous_yellow=int(previous.units["yellow"].sum()) if has_previous else None,
        safe_days_fatality=safe_days(con, "fatalities", month, codes),
        safe_days_lost_time=safe_days(con, "lost_time_injuries", month, codes),
    )


def trend(con: duckdb.DuckDBPyConnection, indicator: str, first_month: date, last_month: date) -> pd.DataFrame:
    """Monthly values of one indicator: one row per (month, subsidiary); subsidiary '*' is the group."""
    frame = store.query(con, sql.TREND, {"indicator": indicator, "first_month": first_month,
                                         "last_month": last_month})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def available_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    return [pd.Timestamp(m).date() for m in store.query(con, sql.MONTHS)["month"]]


@dataclass(frozen=True)
class Reference:
    indicators: pd.DataFrame
    grades: pd.DataFrame
    sectors: pd.DataFrame


def reference(con: duckdb.DuckDBPyConnection) -> Reference:
    return Reference(indicators=store.query(con, sql.SELECT_INDICATORS),
                     grades=store.query(con, sql.SELECT_GRADES),
                     sectors=store.query(con, sql.SELECT_SECTORS))
