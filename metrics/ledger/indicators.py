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

# One row per (month, unit) that the ledger holds any hazard for by the month's end; $months: the first days of
# the months. Each count reads only the hazards it needs: those found in the month, and those open at its end
# (found before it ends, closed after it or not yet), whose deadline in force is the latest set before it ends.
MONTHLY = """
WITH months AS (
    SELECT m, CAST(m + INTERVAL 1 MONTH AS DATE) AS next_month FROM unnest(CAST($months AS DATE[])) AS t(m)
),
kept AS (
    SELECT number, subsidiary, level, found_on, coalesce(closed_on, DATE '9999-12-31') AS closed_on, deadline,
           deadline_since
    FROM hazards
    WHERE state <> 'void' AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
),
present AS (
    SELECT m.m, f.subsidiary
    FROM (SELECT subsidiary, min(found_on) AS first_found FROM kept GROUP BY subsidiary) f
    JOIN months m ON f.first_found < m.next_month
),
found AS (
    SELECT m.m, k.subsidiary, count(*) AS hazards_found,
           count(*) FILTER (WHERE k.level = 'major') AS major_hazards,
           count(*) FILTER (WHERE k.closed_on < m.next_month) AS hazards_rectified
    FROM kept k JOIN months m ON k.found_on >= m.m AND k.found_on < m.next_month
    GROUP BY m.m, k.subsidiary
),
still_open AS (
    SELECT m.m, m.next_month, k.number, k.subsidiary, k.deadline, k.deadline_since
    FROM (SELECT * FROM kept WHERE closed_on >= (SELECT min(next_month) FROM months)) k
    JOIN months m ON k.found_on < m.next_month AND k.closed_on >= m.next_month
),
-- A hazard's current deadline is the one in force at a month's end unless it took effect after that end: then
-- the latest set before it (few hazards: those whose deadline moved since).
in_force AS (
    SELECT m, next_month, subsidiary, deadline FROM still_open WHERE deadline_since < next_month
    UNION ALL
    SELECT o.m, o.next_month, o.subsidiary, arg_max(d.deadline, d.effective_from)
    FROM (SELECT * FROM still_open WHERE deadline_since >= next_month) AS o
    JOIN (SELECT * FROM hazard_deadlines
          WHERE number IN (SELECT number FROM still_open WHERE deadline_since >= next_month)) AS d
        ON d.number = o.number AND d.effective_from < o.next_month
    GROUP BY o.m, o.next_month, o.subsidiary, o.number
),
overdue AS (
    SELECT m, subsidiary, count(*) FILTER (WHERE deadline < CAST(next_month - INTERVAL 1 DAY AS DATE)) AS n
    FROM in_force GROUP BY m, subsidiary
)
SELECT p.m AS month, p.subsidiary, coalesce(f.hazards_found, 0) AS hazards_found,
       coalesce(f.major_hazards, 0) AS major_hazards, coalesce(f.hazards_rectified, 0) AS hazards_rectified,
       coalesce(o.n, 0) AS hazards_overdue
FROM present p
LEFT JOIN found f ON f.m = p.m AND f.subsidiary = p.subsidiary
LEFT JOIN overdue o ON o.m = p.m AND o.subsidiary = p.subsidiary
ORDER BY p.subsidiary, p.m
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
