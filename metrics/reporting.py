"""When a month's figures are due (data/reporting.toml; docs/rules.md, "Missing data", rule 7), and where each unit
stands with them."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from functools import cache

import duckdb
import pandas as pd

from metrics import clock, sql, store
from metrics.months import add_months, last_complete_month, parse_month
from metrics.paths import DATA

REPORTING_FILE = DATA / "reporting.toml"


@cache
def _settings() -> dict:
    return tomllib.loads(REPORTING_FILE.read_text(encoding="utf-8"))


@cache
def earliest_month() -> date:
    """The earliest month an upload may carry (data/reporting.toml, `earliest_month`)."""
    text = _settings()["earliest_month"]
    try:
        return parse_month(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{REPORTING_FILE}: earliest_month must be a month such as \"2000-01\", not {text!r}") from exc


@cache
def deadline_day() -> int:
    day = _settings()["deadline_day"]
    if not isinstance(day, int) or not 1 <= day <= 28:
        raise ValueError(f"{REPORTING_FILE}: deadline_day must be a whole number from 1 to 28, not {day!r}")
    return day


def deadline(month: date) -> datetime:
    """The last moment a submission of `month` is on time: the end of the deadline day of the next month."""
    due = add_months(month, 1).replace(day=deadline_day())
    return datetime.combine(due, time.max)


def deadline_passed(month: date, now: datetime | None = None) -> bool:
    """Whether `month`'s figures are overdue at `now` (default: `clock.now()`): before the deadline a unit that
    has not reported is pending (待报), after it the month is missing (未报)."""
    return (now or clock.now()) > deadline(month)


class Due(str, Enum):
    """Where a unit stands with a month's figures."""
    REPORTED = "reported"  # submitted by the deadline
    LATE = "late"  # first submitted after the deadline
    PENDING = "pending"  # nothing yet, before the deadline (待报)
    OVERDUE = "overdue"  # nothing yet, after the deadline (逾期未报)


@dataclass(frozen=True)
class MonthDue:
    month: date
    deadline: datetime
    units: pd.DataFrame
    """subsidiary, name_zh, name_en, state (the value of a Due), first_submitted (NaT: nothing submitted)."""


def due_month(today: date | None = None) -> date:
    """The month whose figures are due now: the last complete month (November, all through December)."""
    return last_complete_month(today or clock.today())


def month_due(con: duckdb.DuckDBPyConnection, month: date, now: datetime | None = None) -> MonthDue:
    """Every unit's state for `month` at `now` (default `clock.now()`): reported, late, pending or overdue."""
    units = store.query(con, sql.MONTH_SUBMISSIONS, {"month": month})
    due = deadline(month)
    late = units["first_submitted"].notna() & (pd.to_datetime(units["first_submitted"]) > due)
    waiting = Due.OVERDUE if deadline_passed(month, now) else Due.PENDING
    units["state"] = [((Due.LATE if is_late else Due.REPORTED) if reported else waiting).value
                      for reported, is_late in zip(units["reported"], late)]
    units["first_submitted"] = units["first_submitted"].where(units["reported"], None)
    return MonthDue(month, due, units[["subsidiary", "name_zh", "name_en", "state", "first_submitted"]])
