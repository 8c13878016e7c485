#!/usr/bin/env python
"""The hazard ledger at group scale (issue 14, "Aims"): `.venv/bin/python bench/ledger.py [--units N] [--years Y]
[--quick]`, written to bench/LEDGER.md.

The store: N units (default 500) with Y years (default 3) of hazards, about 1,000 a unit a year (1.5 M for the
defaults), written straight into the ledger's tables by one INSERT … SELECT over DuckDB's range() (the steps'
checks and events cost is the import's, measured by its own bench): found days spread over the years, 3 % major,
deadlines 7–30 days after found, 90 % closed (most before the deadline), a few extended (a second deadline in
hazard_deadlines), 1 % void. Measured, each the median of 7 runs after one warm-up, on a read-only connection:
a. deriving one month's hazard indicators for every unit (metrics.ledger.indicators.monthly, the last complete
   month), aim ≤ 0.2 s;
b. the same for twelve months (a year-to-date score needs each month);
c. the ledger page's list of the open hazards (metrics.ledger.hazards.ledger_list for every unit, the open
   states chosen: its filter, order, counts and first 2,000 rows in SQL);
d. the ledger page's first render with its list of the open hazards (`?state=...`, every open state), driven by
   Streamlit's AppTest in this process (a new session, the data cache cleared, signed in as an administrator, the
   day SAFETY_NOW the list is judged at): aim ≤ 1.5 s for 100,000 open hazards; then its rerun after one filter
   changes (overdue only);
e. the page's first render of a drill-through, the hazards behind one unit's hazards_overdue of the last month
   (`?units=U0001&month=…&figure=hazards_overdue`).
The page's figures exclude the browser's drawing and the websocket (as bench/pages.py's).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import median_of  # noqa: E402
from metrics import store  # noqa: E402
from metrics.auth import users  # noqa: E402
from metrics.core.months import add_months, iso_month, months_ending  # noqa: E402
from metrics.ledger import hazards, indicators  # noqa: E402
from ui.auth import SESSION_USER  # noqa: E402

OUT = ROOT / "bench" / "LEDGER.md"
END = date(2026, 10, 1)
PER_UNIT_YEAR = 1000
APP = ROOT / "app.py"
PAGE = "pages/hazards.py"
ADMIN = "bench"
OPEN_STATES = tuple(sorted(s.value for s in hazards.OPEN))

# The generated ledger: $units units U0001…, $days days of hazards ending $end, $per_day hazards a unit a day on
# average (hash-spread); deterministic (hash of the row number).
GENERATE = """
INSERT INTO hazards BY NAME
WITH rows AS (
    SELECT r, hash(r) AS h FROM range(CAST($count AS BIGINT)) t(r)
),
shaped AS (
    SELECT r, h,
           'U' || lpad(CAST(r % $units + 1 AS VARCHAR), 4, '0') AS subsidiary,
           CAST($end AS DATE) - CAST(h % $days AS INTEGER) AS found_on,
           CAST(7 + (h >> 8) % 24 AS INTEGER) AS allowed,
           (h >> 16) % 100 AS fate,
           CAST((h >> 24) % 40 AS INTEGER) AS took
    FROM rows
)
SELECT subsidiary || '-' || year(found_on) || '-' || lpad(CAST(r AS VARCHAR), 8, '0') AS number,
       subsidiary, year(found_on) AS year, CAST(r AS INTEGER) AS sequence, 'daily' AS source,
       '部位' || CAST(h % 50 AS VARCHAR) AS place, '隐患描述' AS description,
       CASE WHEN fate < 3 THEN 'major' ELSE 'general' END AS level,
       CASE WHEN fate < 3 THEN 'coal' END AS criterion, CASE WHEN fate < 3 THEN '第十条' END AS clause,
       'thing' AS factor, 'machinery' AS accident_type, found_on, '检查员' AS found_by,
       '责任人' || CAST(h % 9 AS VARCHAR) AS owner, '整改措施' AS measures, 0.1 AS funds,
       found_on + allowed AS deadline, found_on AS deadline_since, found_on + allowed AS original_deadline,
       '预案' AS contingency,
       '验收人' AS verifier,
       CASE WHEN fate >= 99 THEN 'void'
            WHEN fate < 90 AND found_on + took <= CAST($end AS DATE) + 30 THEN 'closed'
            ELSE 'rectifying' END AS state,
       CASE WHEN fate < 90 AND found_on + took <= CAST($end AS DATE) + 30 THEN found_on + took END AS closed_on,
       0 AS sent_back, 0 AS extensions, now() AS created_at, now() AS updated_at
FROM shaped
"""
DEADLINES = """
INSERT INTO hazard_deadlines
SELECT number, found_on, original_deadline, 0 FROM hazards
UNION ALL
SELECT number, original_deadline - 1, original_deadline + 14, 0 FROM hazards WHERE hash(number) % 20 = 0;
UPDATE hazards SET deadline = original_deadline + 14, deadline_since = original_deadline - 1, extensions = 1
WHERE hash(number) % 20 = 0;
"""
UNITS = """
INSERT INTO subsidiaries (code, name_zh, name_en, sector)
SELECT 'U' || lpad(CAST(i AS VARCHAR), 4, '0'), '单位' || i, 'Unit ' || i, 'coal' FROM range(1, $units + 1) t(i)
"""


def build(path: Path, units: int, years: int) -> int:
    count = units * years * PER_UNIT_YEAR
    with store.connect(path) as con:
        store.migrate(con)
        store.load_reference_data(con)
        con.execute(UNITS, {"units": units})
        con.execute(GENERATE, {"count": count, "units": units, "days": 365 * years, "end": add_months(END, 1)})
        con.execute(DEADLINES)
        users.bootstrap_admin(con, ADMIN, "bench-password", operator="bench")  # a store that asks for sign-in
        return int(store.scalar(con, "SELECT count(*) FROM hazards"))


def page_run(query: dict[str, str], change: bool = False) -> float:
    """The ledger page's first render in a new session with a cold data cache (seconds of AppTest.run()); with
    `change`, the seconds of the rerun after the overdue-only toggle instead."""
    streamlit.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state[SESSION_USER] = ADMIN
    at.query_params.update(query)
    at.switch_page(PAGE)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    if at.exception:
        raise RuntimeError("; ".join(e.message for e in at.exception))
    if not change:
        return first
    at.toggle(key="hazard_overdue").set_value(True)
    started = time.perf_counter()
    at.run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 units, 1 year, 3 runs (a check that it runs)")
    args = parser.parse_args()
    units, years, runs = (50, 1, 3) if args.quick else (args.units, args.years, 7)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "ledger.duckdb"
        started = time.perf_counter()
        count = build(path, units, years)
        built = time.perf_counter() - started
        with store.connect(path, read_only=True) as con:
            one, month = median_of(lambda: indicators.monthly(con, [END]), runs)
            year, _ = median_of(lambda: indicators.monthly(con, months_ending(END, 12)), runs)
            as_of = add_months(END, 1)

            open_only = hazards.LedgerFilter(states=OPEN_STATES)
            page, listed = median_of(lambda: hazards.ledger_list(con, None, as_of, open_only), runs)
        os.environ |= {"SAFETY_DB": str(path), "SAFETY_NOW": f"{as_of.isoformat()}T10:00"}
        opened = {"state": ",".join(OPEN_STATES)}
        first, _ = median_of(lambda: page_run(opened), runs)
        rerun, _ = median_of(lambda: page_run(opened, change=True), runs)
        drilled, _ = median_of(lambda: page_run({"units": "U0001", "month": iso_month(END),
                                                 "figure": "hazards_overdue", "basis": "month"}), runs)
    assert isinstance(month, pd.DataFrame) and isinstance(listed, hazards.LedgerList)
    lines = [
        "# The hazard ledger at group scale", "",
        f"Generated by `bench/ledger.py{' --quick' if args.quick else ''}` (see its docstring): {units} units, "
        f"{years} years, {count:,} hazards ({listed.shown:,} open at {as_of:%Y-%m-%d}), built in {built:.1f} s. "
        f"Median of {runs} runs after a warm-up, read-only DuckDB connection.", "",
        "| measure | seconds | aim |", "|---|---|---|",
        f"| a. one month's hazard indicators, every unit ({month['subsidiary'].nunique()} units, "
        f"{len(month):,} values) | {one:.3f} | ≤ 0.2 |",
        f"| b. twelve months' hazard indicators, every unit | {year:.3f} | — |",
        f"| c. the ledger's list of the open hazards for every unit ({listed.shown:,}, its first {len(listed.rows):,} "
        f"rows) | {page:.3f} | — |",
        f"| d. the ledger page's first render, the open hazards (AppTest) | {first:.3f} | ≤ 1.5 |",
        f"| d'. its rerun after one filter changes (overdue only) | {rerun:.3f} | — |",
        f"| e. the page's first render of one unit's hazards_overdue of {END:%Y-%m} (a drill-through) | "
        f"{drilled:.3f} | — |",
    ]
    if not args.quick:
        OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
