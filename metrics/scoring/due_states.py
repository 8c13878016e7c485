"""Where each unit stands with a month's figures: reported, late, pending or overdue (the calendar is
metrics/core/reporting.py). `first_submissions` is the one place that says when a unit submitted a month and
whether that was late; the breaches' "late" rule and the scorecard's submissions read it too."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

import pandas as pd

from metrics import store
from metrics.core.reporting import deadline, deadline_passed, is_late
from metrics.store import Connection

# Each unit's first submission of each month: the earliest batch that wrote a value for it. A later correction
# does not move it; a batch rolled back since still counts (it was submitted then); the hazard ledger's own
# batches are not submissions (they follow one). batch_id: that batch.
# Parameters: $month, $unit (each NULL: every month, every unit).
FIRST_SUBMISSIONS = """
SELECT h.subsidiary, h.month, min(b.created_at) AS first_submitted, arg_min(b.id, b.created_at) AS batch_id
FROM observation_history h
JOIN batches b ON b.id = h.batch_id
JOIN subsidiaries u ON u.code = h.subsidiary
WHERE h.value IS NOT NULL AND b.source <> 'ledger'
  AND ($month IS NULL OR h.month = CAST($month AS DATE))
  AND ($unit IS NULL OR h.subsidiary = $unit)
GROUP BY h.subsidiary, h.month
ORDER BY h.subsidiary, h.month
"""
# Every unit, and whether it holds values for the month now. Parameter: $month.
UNITS_REPORTED = """
SELECT u.code AS subsidiary, u.name_zh, u.name_en,
       EXISTS (SELECT 1 FROM observations o
               WHERE o.subsidiary = u.code AND o.month = CAST($month AS DATE)) AS reported
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


def first_submissions(con: Connection, month: date | None = None, unit: str | None = None) -> pd.DataFrame:
    """subsidiary, month (a date), first_submitted, batch_id (the batch that first submitted it) and late
    (reporting.is_late) for each unit and month submitted, of `month` and `unit` (None: all)."""
    frame = store.query(con, FIRST_SUBMISSIONS, {"month": month, "unit": unit})
    frame["month"] = [pd.Timestamp(m).date() for m in frame["month"]]
    frame["late"] = pd.Series([is_late(pd.Timestamp(s).to_pydatetime(), m)
                               for s, m in zip(frame["first_submitted"], frame["month"])],
                              index=frame.index, dtype=bool)
    return frame


def month_due(con: Connection, month: date, now: datetime | None = None) -> MonthDue:
    """Every unit's state for `month` at `now` (default `clock.now()`): reported, late, pending or overdue."""
    units = store.query(con, UNITS_REPORTED, {"month": month}).merge(
        first_submissions(con, month)[["subsidiary", "first_submitted", "late"]], on="subsidiary", how="left")
    waiting = Due.OVERDUE if deadline_passed(month, now) else Due.PENDING
    units["state"] = [((Due.LATE if late else Due.REPORTED) if reported else waiting).value
                      for reported, late in zip(units["reported"], units["late"].eq(True))]
    units["first_submitted"] = units["first_submitted"].where(units["reported"], None)
    return MonthDue(month, deadline(month), units[["subsidiary", "name_zh", "name_en", "state", "first_submitted"]])
