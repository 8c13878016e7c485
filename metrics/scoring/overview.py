"""What the dashboard shows for a month: headline figures and their changes, the ranking, safe days, series."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import pandas as pd

from metrics import store
from metrics.core import reporting
from metrics.core.codes import FATALITIES, LOST_TIME_INJURIES, LTIFR, RECTIFICATION_RATE
from metrics.core.months import add_months, month_end
from metrics.scoring import queries, scores
from metrics.store import Connection, schema

SELECT_GRADES = "SELECT * FROM grades ORDER BY min_score DESC"
MONTHS = "SELECT DISTINCT month FROM observations ORDER BY month"
HAS_MONTH = "SELECT count(*) > 0 FROM observations WHERE month = CAST($month AS DATE)"
SUBMITTED_UNITS = "SELECT DISTINCT subsidiary FROM observations WHERE month = CAST($month AS DATE)"
# Days since the last month with at least one event of an indicator, per unit, as of a month's end.
LAST_EVENT_MONTH = """
SELECT subsidiary, max(month) AS last_month
FROM observations
WHERE indicator = $indicator AND value > 0 AND month <= CAST($month AS DATE)
GROUP BY subsidiary
"""
FIRST_MONTH = "SELECT min(month) FROM observations"


@dataclass(frozen=True)
class SafeDays:
    """Days from the end of the last month with an event to the end of `as_of` (monthly data has no dates).

    `since_records` is True when no event is on record: the count then runs from the first month on record
    and is a lower bound.
    """
    days: int
    since_records: bool


@dataclass(frozen=True)
class Headline:
    """A headline figure with the same figure last month and in the same month last year (None: no data)."""
    value: float | None
    previous: float | None
    last_year: float | None
    lower_is_better: bool

    def change(self, other: float | None) -> float | None:
        return None if self.value is None or other is None else self.value - other


HEADLINE_INDICATORS = (FATALITIES, LTIFR, RECTIFICATION_RATE)


@dataclass(frozen=True)
class Overview:
    month: date
    basis: scores.Basis
    result: scores.ScoreResult
    """The month scored on the chosen basis (the ranking)."""
    ytd: scores.ScoreResult
    """The month scored year to date (headlines, flags and vetoes are judged on the year)."""
    units: pd.DataFrame
    """Ranked units: rank (None for a unit without a score), subsidiary, names, sector, unit_score, grade,
    vetoed, red, yellow, missing, reported, reason, previous_score, previous_grade, previous_rank, change,
    rank_change (up is positive), veto_reason (the red veto indicators of the year)."""
    headlines: dict[str, Headline]
    """fatalities, ltifr, rectification_rate (group, on the chosen basis), red, yellow (flags, year to date),
    reported (units that submitted the month) out of `expected` (units with targets)."""
    expected: int
    missing_units: list[str]
    """Units with targets that submitted nothing for the month."""
    deadline: datetime
    """The last moment the month's figures are on time."""
    deadline_passed: bool
    """Whether the missing units are overdue (未报) rather than still due (待报), as of the overview's now."""
    vetoed_units: pd.DataFrame
    """Units vetoed this year: subsidiary, name_zh, name_en, veto_reason."""
    safe_days_fatality: dict[str, SafeDays]
    safe_days_lost_time: dict[str, SafeDays]

    @property
    def ranked(self) -> int:
        """How many units have a rank (a unit that has not reported has none): "排名 3 / 11"."""
        return int(self.units["rank"].notna().sum())

    @property
    def red(self) -> int:
        return self._flag_count("red")

    @property
    def yellow(self) -> int:
        return self._flag_count("yellow")

    def _flag_count(self, status: str) -> int:
        value = self.headlines[status].value
        if value is None:
            raise ValueError(f"no {status} count: the month has no data")
        return int(value)


def safe_days(con: Connection, indicator: str, as_of: date,
              unit_codes: list[str]) -> dict[str, SafeDays]:
    """Safe days per unit and for the group ('*')."""
    first = store.scalar(con, FIRST_MONTH)
    last = store.query(con, LAST_EVENT_MONTH, {"indicator": indicator, "month": as_of})
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


def _ranked(current: scores.ScoreResult, previous: scores.ScoreResult) -> pd.DataFrame:
    """Scored units by score (a veto scores 0), then the units without a score (not reported, no targets) by
    code, with no rank: a unit that has not reported is neither last nor a decline (docs/rules.md, "Scoring")."""
    def order(units: pd.DataFrame) -> pd.DataFrame:
        units = units.sort_values(["unit_score", "subsidiary"], ascending=[False, True], na_position="last")
        scored = units["unit_score"].notna().to_numpy()
        ranks = pd.array([i + 1 if s else None for i, s in enumerate(scored)], dtype="Int64")
        return units.assign(rank=ranks)

    units = order(current.units.copy())
    # Last month's ranks among the units scored in both months: a unit that has not reported this month moves
    # nobody up, and one that was not scored last month has no change.
    scored_now = set(units.loc[units["unit_score"].notna(), "subsidiary"])
    prev = previous.units[previous.units["subsidiary"].isin(scored_now)]
    prev = order(prev.copy()).set_index("subsidiary")
    prev = prev[prev["unit_score"].notna()]
    units["previous_score"] = units["subsidiary"].map(prev["unit_score"])
    units["previous_grade"] = units["subsidiary"].map(prev["grade"])
    units["previous_rank"] = units["subsidiary"].map(prev["rank"]).astype("Int64")
    units["change"] = units["unit_score"] - units["previous_score"]
    units["rank_change"] = units["previous_rank"] - units["rank"]
    return units[["rank"] + [c for c in units.columns if c != "rank"]].reset_index(drop=True)


def _veto_reasons(result: scores.ScoreResult) -> pd.Series:
    vetoes = result.indicators[(result.indicators["status"] == "red") & result.indicators["veto"]]
    return vetoes.groupby("subsidiary")["indicator"].agg(list)


def _headlines(con: Connection, chosen: dict[date, scores.ScoreResult],
               ytd: dict[date, scores.ScoreResult], months: tuple[date, date, date]) -> dict[str, Headline]:
    """The group's figures on the chosen basis, the flags on the year (the basis of accountability)."""
    has = {m: bool(store.scalar(con, HAS_MONTH, {"month": m})) for m in months}

    def figure(by_month: dict[date, scores.ScoreResult], m: date, pick) -> float | None:
        return pick(by_month[m]) if has[m] else None

    def group(code: str):
        return lambda r: r.group_values().get(code)

    def flags(status: str):
        return lambda r: float((r.indicators["status"] == status).sum())

    def reported(m: date) -> float | None:
        if not has[m]:
            return None
        submitted = set(store.query(con, SUBMITTED_UNITS, {"month": m})["subsidiary"])
        due = ytd[m].units
        return float(len(submitted & set(due.loc[due["due"] > 0, "subsidiary"])))

    def three(get: Callable[[date], float | None]) -> tuple[float | None, float | None, float | None]:
        """The figure in each of `months`: this month, last month, the same month last year."""
        this, previous, last_year = months
        return get(this), get(previous), get(last_year)

    headlines = {code: Headline(*three(partial(figure, chosen, pick=group(code))),
                                lower_is_better=code != RECTIFICATION_RATE)
                 for code in HEADLINE_INDICATORS}
    for status in ("red", "yellow"):
        headlines[status] = Headline(*three(partial(figure, ytd, pick=flags(status))), lower_is_better=True)
    headlines["reported"] = Headline(*three(reported), lower_is_better=False)
    return headlines


def build_overview(con: Connection, month: date,
                   basis: scores.Basis = scores.Basis.YTD, now: datetime | None = None) -> Overview:
    """The month on `basis` as of `now` (default: `clock.now()`, which decides whether a unit that has not
    reported is still due or overdue)."""
    months = (month, add_months(month, -1), add_months(month, -12))
    ytd = scores.score_months(con, list(months), scores.Basis.YTD)
    chosen = ytd if basis is scores.Basis.YTD else scores.score_months(con, list(months), basis)
    current = chosen[month]
    units = _ranked(current, chosen[months[1]])
    reasons = _veto_reasons(ytd[month])
    units["veto_reason"] = units["subsidiary"].map(reasons)
    due = ytd[month].units
    expected = int((due["due"] > 0).sum())
    submitted = set(store.query(con, SUBMITTED_UNITS, {"month": month})["subsidiary"])
    vetoed = due[due["vetoed"]][["subsidiary", "name_zh", "name_en"]].copy()
    vetoed["veto_reason"] = vetoed["subsidiary"].map(reasons)
    codes = list(current.units["subsidiary"])
    return Overview(
        month=month, basis=basis, result=current, ytd=ytd[month], units=units,
        headlines=_headlines(con, chosen, ytd, months), expected=expected,
        missing_units=[c for c in due.loc[due["due"] > 0, "subsidiary"] if c not in submitted],
        deadline=reporting.deadline(month), deadline_passed=reporting.deadline_passed(month, now),
        vetoed_units=vetoed.reset_index(drop=True),
        safe_days_fatality=safe_days(con, FATALITIES, month, codes),
        safe_days_lost_time=safe_days(con, LOST_TIME_INJURIES, month, codes),
    )


def series(con: Connection, indicator: str, first_month: date, last_month: date,
           basis: scores.Basis = scores.Basis.MONTH, units: list[str] | None = None) -> pd.DataFrame:
    """One indicator per month on a basis: month, level (unit|sector|group), entity (unit or sector code;
    '*' for the group), value, status (units), target and limit of the period (units: their own; sectors
    and the group: the group default). Unit rows for `units` only (None: every unit; [] none)."""
    months, m = [], first_month
    while m <= last_month:
        months.append(m)
        m = add_months(m, 1)
    frame = store.query(con, queries.SERIES, {"indicator": indicator, "months": months, "basis": basis.value,
                                          "units": units})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def available_months(con: Connection) -> list[date]:
    return [pd.Timestamp(m).date() for m in store.query(con, MONTHS)["month"]]


@dataclass(frozen=True)
class Reference:
    indicators: pd.DataFrame
    grades: pd.DataFrame
    sectors: pd.DataFrame
    units: pd.DataFrame
    """code, name_zh, name_en, sector, sector_zh, sector_en."""


def reference(con: Connection) -> Reference:
    return Reference(indicators=store.query(con, schema.SELECT_INDICATORS),
                     grades=store.query(con, SELECT_GRADES),
                     sectors=store.query(con, schema.SELECT_SECTORS),
                     units=store.query(con, schema.SELECT_UNITS))
