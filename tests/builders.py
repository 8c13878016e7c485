"""Small real stores for tests: an in-memory DuckDB with the product's schema and catalog."""
from __future__ import annotations

from datetime import date, datetime, time

import duckdb
import pandas as pd

from metrics import store
from metrics.core.months import add_months, parse_month

UNITS = [("A", "甲煤矿", "Mine A", "coal"), ("B", "乙化工", "Chem B", "chemical"),
         ("C", "丙物流", "Log C", "logistics")]


def memory_store(units=UNITS) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    store.migrate(con)
    store.load_reference_data(con)
    store.upsert_units(con, pd.DataFrame(units, columns=["code", "name_zh", "name_en", "sector"]), actor="test")
    return con


def set_targets(con, rows) -> None:
    """rows: (year, subsidiary, indicator, target, limit or None, weight, veto)."""
    frame = pd.DataFrame(rows, columns=["year", "subsidiary", "indicator", "target", "limit", "weight", "veto"])
    store.replace_targets(con, frame.astype({"target": "float64", "limit": "float64", "weight": "float64"}),
                          actor="test")


def add_values(con, rows, submitted_at: datetime | None = None) -> None:
    """rows: (month 'YYYY-MM', subsidiary, indicator, value), submitted as one batch at `submitted_at` (by
    default on time: 09:00 on the first day after the latest month)."""
    frame = pd.DataFrame([(parse_month(m), u, i, float(v)) for m, u, i, v in rows],
                         columns=["month", "subsidiary", "indicator", "value"])
    on_time = datetime.combine(add_months(max(frame["month"]), 1), time(9))
    store.insert_new_batch(con, frame, actor="test", source="test", created_at=submitted_at or on_time)


ADMIN_PASSWORD = "correct horse battery"


def add_user(path, name: str, role: str = "admin", units: tuple[str, ...] = (), password: str = ADMIN_PASSWORD):
    """A user in the store at `path` (the first admin through the bootstrap, the others by that admin)."""
    from metrics.auth import users
    from metrics.auth.roles import Role, User

    with store.connect(path) as con:
        if role == "admin" and not store.scalar(con, "SELECT count(*) FROM users WHERE role = 'admin'"):
            return users.bootstrap_admin(con, name, password, operator="test")
        admin = User(name="test-admin", role=Role.ADMIN)
        return users.create_user(con, admin, name, Role(role), units=list(units), password=password)


def signed_in(at, name: str):
    """An AppTest whose session is signed in as `name` (the server-side session key the sign-in form sets)."""
    from ui.auth import SESSION_USER

    at.session_state[SESSION_USER] = name
    return at


def synthetic_group(path, units: int, months: int, seed: int = 20261001):
    """A store of `units` synthetic units × `months` months ending 2026-10, made by the benchmark's generator
    (bench/common.py: realistic gaps, every 50th unit silent in the last month), opened as the demo is: signed in
    as the demo administrator."""
    from bench.common import build_store
    from metrics.ingest.initialise import DEMO_KEY

    build_store(path, units, months, seed)
    with store.connect(path) as con:
        store.set_meta(con, DEMO_KEY, "true")
    return path


def asking_for_sign_in(path, admin: str | None = "admin"):
    """The demo store at `path` made a real one: demo mode off, so everyone signs in, and (unless `admin` is None)
    its first administrator `admin` with ADMIN_PASSWORD."""
    from metrics.ingest.initialise import DEMO_KEY

    with store.connect(path) as con:
        store.set_meta(con, DEMO_KEY, "false")
    if admin is not None:
        add_user(path, admin)
    return path


KEPT_LEDGER = {"CM01-2026-0001": (date(2026, 1, 12), date(2026, 2, 15)),
               **{f"CM01-2026-000{i}": (date(2026, 9, i), date(2026, 10, i)) for i in range(2, 7)},
               "CM01-2026-0007": (date(2026, 10, 20), date(2026, 11, 30))}
"""CM01's ledger in kept_ledger: number -> (found on, deadline). Open at the end of October 2026: 0001 to 0006 past
their deadline (6 overdue, red beyond the limit 5), 0007 not; found in October: 0007; in 2026: all 7."""


def kept_ledger(path) -> None:
    """The demo store at `path` with CM01 keeping its hazard ledger here from January 2026 (KEPT_LEDGER, each
    issued for rectification the day it was found, none closed) and CM02 one overdue hazard that it does not keep
    here (its figures stay typed)."""
    from metrics import access
    from metrics.ledger import figures
    from metrics.ledger.hazards import Change, NewHazard

    with store.connect(path) as con:
        admin = access.demo_user(con)
        ledger = [("CM01", found, deadline) for found, deadline in KEPT_LEDGER.values()]
        for unit, found, deadline in [*ledger, ("CM02", date(2026, 9, 3), date(2026, 10, 3))]:
            hazard = NewHazard(unit, "daily", "皮带机头", "托辊护罩缺失，转动部位外露", "general", "thing", "machinery",
                               found, "李工")
            number = access.register_hazard(con, admin, hazard)
            access.hazard_step(con, admin, number, "issue", Change(admin.name, found, "", {
                "owner": "王工", "measures": "加装护罩", "funds": 0.2, "deadline": deadline, "verifier": "赵主任"}))
        figures.keep_ledger(con, "CM01", date(2026, 1, 1), actor=admin.name)
