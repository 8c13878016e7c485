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
from metrics.core import codes
from metrics.core.catalog import Catalog, load_catalog
from metrics.core.months import add_months
from metrics.ledger.vocabulary import load_vocabulary
from metrics.store import Connection

# The statement's shared part: the months ($months: their first days; $first, the first of them, $end the day
# after the last, $first_end the day after the first), the hazards counted (every one not void, of $units; NULL:
# every unit), the unit-months the ledger holds any hazard for by the month's end (`present`), and the rows the
# counts read: the hazards found in a month; those closed in it; those open at its end (found before it ends,
# closed after it or not yet) with the deadline in force at its end, the latest set before it ends; and those whose
# deadline in force at its end falls in it (`due`). $outside: the sources outside the unit. `kept` is not
# materialised: each use reads the table through its own date filter, which the scan applies first, so a month
# reads the hazards of that month and the open ones, not the whole ledger.
_ROWS = """
WITH months AS (
    SELECT m, CAST(m + INTERVAL 1 MONTH AS DATE) AS next_month FROM unnest(CAST($months AS DATE[])) AS t(m)
),
kept AS NOT MATERIALIZED (
    SELECT number, subsidiary, level, source, place, factor, found_on, closed_on, deadline, deadline_since,
           extensions, sent_back
    FROM hazards
    WHERE state <> 'void' AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
),
present AS (
    SELECT m.m, f.subsidiary
    FROM (SELECT subsidiary, min(found_on) AS first_found FROM kept GROUP BY subsidiary) f
    JOIN months m ON f.first_found < m.next_month
),
found AS (
    SELECT m.m, m.next_month, k.number, k.subsidiary, k.level, k.source, k.place, k.factor, k.found_on,
           coalesce(k.closed_on, DATE '9999-12-31') AS closed_on
    FROM (SELECT * FROM kept WHERE found_on >= $first AND found_on < $end) k
    JOIN months m ON k.found_on >= m.m AND k.found_on < m.next_month
),
closed AS (
    SELECT m.m, k.number, k.subsidiary, k.found_on, k.closed_on, k.extensions, k.sent_back
    FROM (SELECT * FROM kept WHERE closed_on >= $first AND closed_on < $end) k
    JOIN months m ON k.closed_on >= m.m AND k.closed_on < m.next_month
),
still_open AS (
    SELECT m.m, m.next_month, k.number, k.subsidiary, k.level, k.deadline, k.deadline_since
    FROM (SELECT * FROM kept WHERE found_on < $end AND (closed_on IS NULL OR closed_on >= $first_end)) k
    JOIN months m ON k.found_on < m.next_month AND (k.closed_on IS NULL OR k.closed_on >= m.next_month)
),
-- The hazards whose deadline moved after the first month's end, and the deadlines they had (few: only for them
-- is the deadline in force at a month's end not the current one, but the latest set before that end).
moved AS (
    SELECT number FROM kept WHERE deadline_since >= $first_end AND found_on < $end
),
history AS MATERIALIZED (
    SELECT number, effective_from, deadline FROM hazard_deadlines WHERE number IN (SELECT number FROM moved)
),
in_force AS (
    SELECT m, next_month, number, subsidiary, level, deadline FROM still_open WHERE deadline_since < next_month
    UNION ALL
    SELECT o.m, o.next_month, o.number, o.subsidiary, o.level, arg_max(d.deadline, d.effective_from)
    FROM (SELECT * FROM still_open WHERE deadline_since >= next_month) AS o
    JOIN history d ON d.number = o.number AND d.effective_from < o.next_month
    GROUP BY o.m, o.next_month, o.subsidiary, o.number, o.level
),
due AS (
    SELECT m.m, k.number, k.subsidiary, k.deadline, coalesce(k.closed_on, DATE '9999-12-31') AS closed_on
    FROM (SELECT * FROM kept WHERE deadline >= $first AND deadline < $end) k
    JOIN months m ON k.deadline >= m.m AND k.deadline < m.next_month AND k.deadline_since < m.next_month
    UNION ALL
    SELECT m, number, subsidiary, deadline, closed_on FROM (
        SELECT m.m, m.next_month, k.number, k.subsidiary, coalesce(k.closed_on, DATE '9999-12-31') AS closed_on,
               arg_max(d.deadline, d.effective_from) AS deadline
        FROM (SELECT * FROM kept WHERE deadline_since >= $first_end AND found_on < $end) k
        JOIN months m ON k.deadline_since >= m.next_month AND k.found_on < m.next_month
        JOIN history d ON d.number = k.number AND d.effective_from < m.next_month
        GROUP BY ALL
    )
    WHERE deadline >= m AND deadline < next_month
)"""
_PAST_DEADLINE = "deadline < CAST(next_month - INTERVAL 1 DAY AS DATE)"
"""Past the deadline at the end of the month's last day."""
_EACH = "SELECT m, subsidiary, number, 1 AS value"
COUNTED: dict[str, str] = {
    codes.HAZARDS_FOUND: f"{_EACH} FROM found",
    codes.MAJOR_HAZARDS: f"{_EACH} FROM found WHERE level = 'major'",
    codes.HAZARDS_RECTIFIED: f"{_EACH} FROM found WHERE closed_on < next_month",
    codes.HAZARDS_OVERDUE: f"{_EACH} FROM in_force WHERE {_PAST_DEADLINE}",
    codes.HAZARDS_DUE: f"{_EACH} FROM due",
    codes.HAZARDS_CLOSED_ON_TIME: f"{_EACH} FROM due WHERE closed_on <= deadline",
    codes.HAZARDS_CLOSED: f"{_EACH} FROM closed",
    codes.CLOSURE_DAYS: "SELECT m, subsidiary, number, date_diff('day', found_on, closed_on) AS value FROM closed",
    codes.HAZARDS_CLOSED_EXTENDED: f"{_EACH} FROM closed WHERE extensions > 0",
    codes.HAZARDS_CLOSED_SENT_BACK: f"{_EACH} FROM closed WHERE sent_back > 0",
    codes.MAJOR_HAZARDS_OPEN: f"{_EACH} FROM still_open WHERE level = 'major'",
    codes.MAJOR_HAZARDS_OVERDUE: f"{_EACH} FROM in_force WHERE level = 'major' AND {_PAST_DEADLINE}",
    codes.REPEAT_HAZARDS: f"""{_EACH} FROM found f SEMI JOIN (
            SELECT subsidiary, place, factor, found_on FROM kept
            WHERE found_on >= CAST($first AS DATE) - 90 AND found_on < $end) e
        ON e.subsidiary = f.subsidiary AND e.place = f.place AND e.factor = f.factor
       AND e.found_on BETWEEN f.found_on - 90 AND f.found_on - 1""",
    codes.OUTSIDE_HAZARDS_FOUND: f"{_EACH} FROM found WHERE list_contains(CAST($outside AS VARCHAR[]), source)",
    codes.OUTSIDE_HAZARDS_RECTIFIED: f"{_EACH} FROM found "
                               "WHERE list_contains(CAST($outside AS VARCHAR[]), source) AND closed_on < next_month",
}
"""Each indicator the ledger counts, declared once: the statement giving, for every month and unit, the hazards
behind its figure (month m, subsidiary, number) and what each adds to it (value). `monthly` sums them and `behind`
lists them, so a figure and the hazards it opens to cannot disagree."""

# The hazards behind every figure, one row each: (indicator, m, subsidiary, number, value).
MEMBERS = _ROWS + ",\nmembers AS (\n" + "\nUNION ALL\n".join(
    f"SELECT '{code}' AS indicator, * FROM ({sql})" for code, sql in COUNTED.items()) + "\n)\n"
# One row per (month, unit) that the ledger holds any hazard for by the month's end and indicator of $codes: each
# count summed by itself (cheaper than summing `members` by indicator too).
MONTHLY = _ROWS + ",\nsums AS (\n" + "\nUNION ALL\n".join(
    f"SELECT '{code}' AS indicator, m, subsidiary, sum(value) AS value FROM ({sql}) GROUP BY m, subsidiary"
    for code, sql in COUNTED.items()) + """
)
SELECT p.m AS month, p.subsidiary, c.indicator, coalesce(s.value, 0) AS value
FROM present p
CROSS JOIN (SELECT unnest(CAST($codes AS VARCHAR[])) AS indicator) c
LEFT JOIN sums s ON s.m = p.m AND s.subsidiary = p.subsidiary AND s.indicator = c.indicator
ORDER BY p.subsidiary, p.m, c.indicator
"""
BEHIND = MEMBERS + "SELECT DISTINCT number FROM members WHERE indicator = $code ORDER BY number"


def _params(months: Iterable[date], units: Iterable[str] | None) -> dict:
    """The statement's parameters for `months` and `units` (None: every unit)."""
    firsts = sorted(set(months))
    bounds = ({"first": firsts[0], "end": add_months(firsts[-1], 1), "first_end": add_months(firsts[0], 1)} if firsts
              else dict.fromkeys(("first", "end", "first_end")))
    return bounds | {"months": firsts, "units": None if units is None else list(units),
                     "outside": [term.code for term in load_vocabulary().terms["source"] if term.outside]}


def derived(catalog: Catalog | None = None) -> list[str]:
    """The indicators the ledger counts: the catalog's (`ledger = "kept" | "only"`), each of which COUNTED must
    declare."""
    counted = (catalog or load_catalog()).from_ledger()
    unknown = [code for code in counted if code not in COUNTED]
    if unknown:
        raise ValueError(f"data/catalog.toml marks {', '.join(unknown)} as counted from the hazard ledger, but "
                         f"metrics/ledger/indicators.py (COUNTED) does not count it: declare how, or drop the "
                         f"ledger field")
    return counted


def monthly(con: Connection, months: Iterable[date], units: Iterable[str] | None = None,
            catalog: Catalog | None = None) -> pd.DataFrame:
    """month, subsidiary, indicator, value: the derived indicators of `months` for `units` (None: every unit)
    that the ledger holds any hazard for by that month's end; a unit with none has no row (not a 0: whether it
    keeps its ledger here is not the ledger's to say)."""
    found = store.query(con, MONTHLY, _params(months, units) | {"codes": derived(catalog)})
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
    frame = store.query(con, BEHIND, _params([month], units) | {"code": code})
    return list(frame["number"])
