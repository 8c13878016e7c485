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
from metrics.core.catalog import Catalog, load_catalog
from metrics.core.codes import HAZARDS_FOUND, HAZARDS_OVERDUE, HAZARDS_RECTIFIED, MAJOR_HAZARDS
from metrics.store import Connection

# The statement's shared part: the months ($months: their first days), the hazards counted (every one not void,
# of $units; NULL: every unit), the unit-months the ledger holds any hazard for by the month's end (`present`), and
# the rows the counts read: the hazards found in a month, and those open at its end (found before it ends, closed
# after it or not yet) with the deadline in force at its end, the latest set before it ends.
_ROWS = """
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
    SELECT m.m, m.next_month, k.number, k.subsidiary, k.level, k.closed_on
    FROM kept k JOIN months m ON k.found_on >= m.m AND k.found_on < m.next_month
),
still_open AS (
    SELECT m.m, m.next_month, k.number, k.subsidiary, k.deadline, k.deadline_since
    FROM (SELECT * FROM kept WHERE closed_on >= (SELECT min(next_month) FROM months)) k
    JOIN months m ON k.found_on < m.next_month AND k.closed_on >= m.next_month
),
-- A hazard's current deadline is the one in force at a month's end unless it took effect after that end: then
-- the latest set before it (few hazards: those whose deadline moved since).
in_force AS (
    SELECT m, next_month, number, subsidiary, deadline FROM still_open WHERE deadline_since < next_month
    UNION ALL
    SELECT o.m, o.next_month, o.number, o.subsidiary, arg_max(d.deadline, d.effective_from)
    FROM (SELECT * FROM still_open WHERE deadline_since >= next_month) AS o
    JOIN (SELECT * FROM hazard_deadlines
          WHERE number IN (SELECT number FROM still_open WHERE deadline_since >= next_month)) AS d
        ON d.number = o.number AND d.effective_from < o.next_month
    GROUP BY o.m, o.next_month, o.subsidiary, o.number
)"""
COUNTED: dict[str, str] = {
    HAZARDS_FOUND: "SELECT m, subsidiary, number, 1 AS value FROM found",
    MAJOR_HAZARDS: "SELECT m, subsidiary, number, 1 AS value FROM found WHERE level = 'major'",
    HAZARDS_RECTIFIED: "SELECT m, subsidiary, number, 1 AS value FROM found WHERE closed_on < next_month",
    HAZARDS_OVERDUE: "SELECT m, subsidiary, number, 1 AS value FROM in_force "
                     "WHERE deadline < CAST(next_month - INTERVAL 1 DAY AS DATE)",
}
"""Each indicator the ledger counts, declared once: the statement giving, for every month and unit, the hazards
behind its figure (month m, subsidiary, number) and what each adds to it (value). `monthly` sums them and `behind`
lists them, so a figure and the hazards it opens to cannot disagree."""

# The hazards behind every figure, one row each: (indicator, m, subsidiary, number, value).
MEMBERS = _ROWS + ",\nmembers AS (\n" + "\nUNION ALL\n".join(
    f"SELECT '{code}' AS indicator, * FROM ({sql})" for code, sql in COUNTED.items()) + "\n)\n"
# One row per (month, unit) that the ledger holds any hazard for by the month's end and indicator of $codes.
MONTHLY = MEMBERS + """
SELECT p.m AS month, p.subsidiary, c.indicator, coalesce(s.value, 0) AS value
FROM present p
CROSS JOIN (SELECT unnest(CAST($codes AS VARCHAR[])) AS indicator) c
LEFT JOIN (SELECT m, subsidiary, indicator, sum(value) AS value FROM members GROUP BY ALL) s
    ON s.m = p.m AND s.subsidiary = p.subsidiary AND s.indicator = c.indicator
ORDER BY p.subsidiary, p.m, c.indicator
"""
BEHIND = MEMBERS + "SELECT DISTINCT number FROM members WHERE indicator = $code ORDER BY number"


def derived(catalog: Catalog | None = None) -> list[str]:
    """The indicators the ledger counts: the catalog's (`ledger = "kept" | "only"`), each of which COUNTED must
    declare."""
    codes = (catalog or load_catalog()).from_ledger()
    unknown = [code for code in codes if code not in COUNTED]
    if unknown:
        raise ValueError(f"data/catalog.toml marks {', '.join(unknown)} as counted from the hazard ledger, but "
                         f"metrics/ledger/indicators.py (COUNTED) does not count it: declare how, or drop the "
                         f"ledger field")
    return codes


def monthly(con: Connection, months: Iterable[date], units: Iterable[str] | None = None,
            catalog: Catalog | None = None) -> pd.DataFrame:
    """month, subsidiary, indicator, value: the derived indicators of `months` for `units` (None: every unit)
    that the ledger holds any hazard for by that month's end; a unit with none has no row (not a 0: whether it
    keeps its ledger here is not the ledger's to say)."""
    found = store.query(con, MONTHLY, {"months": list(months), "units": None if units is None else list(units),
                                       "codes": derived(catalog)})
    found["month"] = pd.to_datetime(found["month"]).dt.date
    found["value"] = found["value"].astype(float)
    return found


def behind(con: Connection, code: str, month: date, units: Iterable[str] | None = None) -> list[str]:
    """The numbers of the hazards behind the figure of `code` (an indicator the ledger counts) of `month` (its
    first day) for `units` (their sum; None: every unit), in order: as many as `monthly` counts for a count. A
    void hazard is behind none."""
    if code not in COUNTED:
        raise ValueError(f"{code} is not counted from the hazard ledger; the ledger counts "
                         f"{', '.join(COUNTED)}")
    frame = store.query(con, BEHIND, {"months": [month], "units": None if units is None else list(units),
                                      "code": code})
    return list(frame["number"])
