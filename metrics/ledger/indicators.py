"""The monthly hazard indicators as the ledger counts them (docs/rules.md, "9. The hazard ledger", rule 8), on
the catalog's definitions (data/catalog.toml):

- hazards_found: hazards found in the month (by the day found);
- major_hazards: of those, the major (重大) ones;
- hazards_rectified: of those, the ones closed (verified) by the month's end;
- hazards_overdue: hazards open at the month's end past the deadline in force at the month's end, found in
  that month or before (a stock);
rectification_rate is the catalog's ratio of the two. A void hazard (作废, entered in error) counts nowhere.
Every figure is read from the records' dates, so a month's figure is what the ledger says of that month now:
a closure entered late changes the month it falls in.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from metrics import store
from metrics.core.codes import HAZARDS_FOUND, HAZARDS_OVERDUE, HAZARDS_RECTIFIED, MAJOR_HAZARDS
from metrics.store import Connection

DERIVED = (HAZARDS_FOUND, MAJOR_HAZARDS, HAZARDS_RECTIFIED, HAZARDS_OVERDUE)
"""The indicators the ledger derives for a unit that keeps it."""

# One row per (month, unit) that the ledger holds any hazard for; $months: the first days of the months.
MONTHLY = """
WITH months AS (
    SELECT m, CAST(m + INTERVAL 1 MONTH AS DATE) AS next_month FROM unnest(CAST($months AS DATE[])) AS t(m)
),
kept AS (
    SELECT number, subsidiary, level, found_on, closed_on FROM hazards
    WHERE state <> 'void' AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
),
in_force AS (
    SELECT k.number, m.m, arg_max(d.deadline, d.effective_from) AS deadline
    FROM kept k JOIN months m ON k.found_on < m.next_month
    JOIN hazard_deadlines d ON d.number = k.number AND d.effective_from < m.next_month
    GROUP BY k.number, m.m
)
SELECT m.m AS month, k.subsidiary,
       count(*) FILTER (WHERE k.found_on >= m.m) AS hazards_found,
       count(*) FILTER (WHERE k.found_on >= m.m AND k.level = 'major') AS major_hazards,
       count(*) FILTER (WHERE k.found_on >= m.m AND k.closed_on < m.next_month) AS hazards_rectified,
       count(*) FILTER (WHERE (k.closed_on IS NULL OR k.closed_on >= m.next_month)
                        AND f.deadline < CAST(m.next_month - INTERVAL 1 DAY AS DATE)) AS hazards_overdue
FROM kept k
JOIN months m ON k.found_on < m.next_month
LEFT JOIN in_force f ON f.number = k.number AND f.m = m.m
GROUP BY m.m, k.subsidiary
ORDER BY k.subsidiary, m.m
"""


def monthly(con: Connection, months: Iterable[date], units: Iterable[str] | None = None) -> pd.DataFrame:
    """month, subsidiary, indicator, value: the derived indicators of `months` for `units` (None: every unit)
    that the ledger holds any hazard for by that month's end; a unit with none has no row (not a 0: whether it
    keeps its ledger here is not the ledger's to say)."""
    wide = store.query(con, MONTHLY, {"months": list(months), "units": None if units is None else list(units)})
    long = wide.melt(id_vars=["month", "subsidiary"], value_vars=list(DERIVED), var_name="indicator")
    long["month"] = pd.to_datetime(long["month"]).dt.date
    long["value"] = long["value"].astype(float)
    return long.sort_values(["subsidiary", "month", "indicator"], ignore_index=True)
