"""The moment the product takes as now: whether a month's reporting deadline has passed, which month is the last
complete one, whether an uploaded month lies in the future.

`SAFETY_NOW` (an ISO date or date and time, e.g. 2026-12-02T09:00) sets it for a demonstration or a test of the
reporting calendar ("the dashboard on 2 December"); unset, it is the machine's clock. Audit and batch timestamps
always take the machine's clock.
"""
from __future__ import annotations

import os
from datetime import date, datetime

ENVIRONMENT_VARIABLE = "SAFETY_NOW"


def now() -> datetime:
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return datetime.now()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={text!r} is not an ISO date or date and time "
                         "(e.g. 2026-12-02 or 2026-12-02T09:00)") from None


def today() -> date:
    return now().date()
