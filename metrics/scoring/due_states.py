"""Where each unit stands with a month's figures: reported, late, pending or overdue (the calendar is
metrics/core/reporting.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

import pandas as pd

from metrics import store
from metrics.core.reporting import deadline, deadline_passed
from metrics.store import Connection

# Every unit's submission of one month: whether it holds values for the month now, and when it first submitted
# any (the earliest batch that wrote a value for it, as LATE_SUBMISSIONS). Parameter: $month.
MONTH_SUBMISSIONS = """
SELECT u.code AS subsidiary, u.name_zh, u.name_en,
       EXISTS (SELECT 1 FROM observations o
               WHERE o.subsidiary = u.code AND o.month = CAST($month AS DATE)) AS reported,
       (SELECT min(b.created_at) FROM observation_history h JOIN batches b ON b.id = h.batch_id
        WHERE h.subsidiary = u.code AND h.month = CAST($month AS DATE) AND h.value IS NOT NULL) AS first_submitted
FROM subsidiaries u
ORDER BY u.code
"""


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


def month_due(con: Connection, month: date, now: datetime | None = None) -> MonthDue:
    """Every unit's state for `month` at `now` (default `clock.now()`): reported, late, pending or overdue."""
    units = store.query(con, MONTH_SUBMISSIONS, {"month": month})
    due = deadline(month)
    late = units["first_submitted"].notna() & (pd.to_datetime(units["first_submitted"]) > due)
    waiting = Due.OVERDUE if deadline_passed(month, now) else Due.PENDING
    units["state"] = [((Due.LATE if is_late else Due.REPORTED) if reported else waiting).value
                      for reported, is_late in zip(units["reported"], late)]
    units["first_submitted"] = units["first_submitted"].where(units["reported"], None)
    return MonthDue(month, due, units[["subsidiary", "name_zh", "name_en", "state", "first_submitted"]])
