"""`init`: create or upgrade a store, load the catalog, and (with --demo) fill an empty store with demo data."""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from metrics import store
from metrics.core import clock
from metrics.core.catalog import load_catalog
from metrics.core.months import last_complete_month
from metrics.core.paths import db_path
from metrics.core.problems import gate
from metrics.ingest import demo
from metrics.ingest.targets import frame_rows, validate_targets
from metrics.store import schema

COUNT_OBSERVATIONS = "SELECT count(*) FROM observations"

DEMO_KEY = "demo"
"""Set in a store filled with demo data: the dashboard then opens signed in as a demo administrator, as long as
the store has no users (metrics.access.demo_user)."""


class NotEmpty(RuntimeError):
    """Demo data goes only into a store that holds no users, no units and no observations."""


def init_store(path: str | Path | None = None, *, with_demo: bool = False, end_month: date | None = None,
               today: date | None = None) -> Path:
    """Create or upgrade the store at `path`; nothing already in it is removed. `with_demo` fills an empty store
    with the demo group's monthly data; its hazard ledgers are metrics/ledger/demo.py's, filled after this by
    `metrics init --demo` (what `make run` calls), since ingest sits below the ledger and never calls it."""
    target = db_path(path)
    catalog = load_catalog()
    with store.connect(target) as con:
        store.migrate(con)
        store.load_reference_data(con, catalog)
        if not with_demo:
            return target
        if store.scalar(con, schema.COUNT_USERS):
            raise NotEmpty(f"{target} has users, so it is not made a demo: demo mode opens the dashboard without "
                           f"signing in. No demo data was loaded; put the demo in a store of its own (another --db)")
        if store.scalar(con, schema.COUNT_UNITS) or store.scalar(con, COUNT_OBSERVATIONS):
            raise NotEmpty(f"{target} already holds units or data; demo data goes only into an empty store "
                           f"(use another --db)")
        end = end_month or last_complete_month(today or clock.today())
        units = demo.demo_units()
        years = sorted({m.year for m in demo.demo_months(end)})
        targets = demo.demo_targets(years)
        validated, problems = validate_targets(frame_rows(targets), catalog, set(units["code"]))
        gate(problems)
        store.upsert_units(con, units, actor="demo")
        store.replace_targets(con, validated, actor="demo", source="demo")
        store.set_meta(con, DEMO_KEY, "true")
        now = datetime.combine(today, time(18)) if today else clock.now()
        store.insert_new_batches(con, demo.demo_observations(end), demo.demo_submissions(end, now),
                                 actor="demo", source="demo")
    return target
