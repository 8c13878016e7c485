"""When a month's figures are due (data/reporting.toml; docs/rules.md, "Missing data", rule 7)."""
from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from functools import cache

from metrics import clock
from metrics.months import add_months
from metrics.paths import DATA

REPORTING_FILE = DATA / "reporting.toml"


@cache
def deadline_day() -> int:
    day = tomllib.loads(REPORTING_FILE.read_text(encoding="utf-8"))["deadline_day"]
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
