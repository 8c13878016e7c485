"""When a month's figures are due (data/reporting.toml; docs/rules.md, "Missing data", rule 7): the reporting
calendar, with no store in it. Where each unit stands with a month is metrics/scoring/due_states.py."""
from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from functools import cache

from metrics.core import clock
from metrics.core.months import add_months, last_complete_month, parse_month
from metrics.core.paths import DATA

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


def is_late(first_submitted: datetime, month: date) -> bool:
    """Whether a unit's first submission of `month` came after the deadline (迟报): the one place lateness is
    decided (the first submission is metrics/scoring/due_states.py's FIRST_SUBMISSIONS). A later correction never
    makes a month late, since only the first submission counts."""
    return first_submitted > deadline(month)


def deadline_passed(month: date, now: datetime | None = None) -> bool:
    """Whether `month`'s figures are overdue at `now` (default: `clock.now()`): before the deadline a unit that
    has not reported is pending (待报), after it the month is missing (未报)."""
    return (now or clock.now()) > deadline(month)


def due_month(today: date | None = None) -> date:
    """The month whose figures are due now: the last complete month (November, all through December)."""
    return last_complete_month(today or clock.today())
