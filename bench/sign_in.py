#!/usr/bin/env python
"""How long a refused sign-in takes, by the account's state: `.venv/bin/python bench/sign_in.py [--runs N]`.

The answer must not tell an unknown name, an account without a password, a deactivated one, a locked one and a
wrong password apart, in its words or in its time (metrics.auth.users.authenticate: one argon2id verification in
every case). The tests count the verifications rather than time them; this measures the wall time of
`users.authenticate` itself (the hashing, the user lookup, the failure written to the store and the audit
trail) on a store in a temporary folder, the cases interleaved round by round so a load change on the machine
touches each alike. Prints the median and the spread of each case; not part of `make bench`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Role, User
from metrics.ingest.initialise import init_store

PASSWORD = "bench password 2026"
NOW = datetime(2026, 11, 23, 9, 0)
CASES = {"wrong password": "active", "unknown name": "nobody", "no password set": "sso",
         "deactivated": "gone", "locked": "locked"}


def accounts(con) -> None:
    admin = User("bench", Role.ADMIN)
    users.bootstrap_admin(con, "bench", PASSWORD, operator="bench")
    for name in ("active", "gone", "locked"):
        users.create_user(con, admin, name, Role.EXECUTIVE, password=PASSWORD)
    users.create_user(con, admin, "sso", Role.EXECUTIVE)
    users.set_active(con, admin, "gone", False)
    for attempt in range(users.MAX_FAILURES):
        try:
            users.authenticate(con, "locked", f"wrong {attempt}", now=NOW)
        except users.SignInFailed:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    times: dict[str, list[float]] = {case: [] for case in CASES}
    answers: dict[str, set[str]] = {case: set() for case in CASES}
    with tempfile.TemporaryDirectory() as folder:
        path = init_store(Path(folder) / "sign_in.duckdb")
        with store.connect(path) as con:
            accounts(con)
            for _ in range(args.runs):
                for case, name in CASES.items():
                    if case == "wrong password":  # stays below the lock-out: the case is a plain wrong password
                        con.execute("UPDATE users SET failed_attempts = 0 WHERE name = 'active'")
                    start = time.perf_counter()
                    try:
                        users.authenticate(con, name, "not the password", now=NOW)
                    except users.SignInFailed as refused:
                        answers[case].add(refused.message("en"))
                    times[case].append(time.perf_counter() - start)
    print(f"| case | median ms | min–max ms | answer |  ({args.runs} runs each, {datetime.now():%Y-%m-%d})")
    print("|---|---:|---:|---|")
    for case, measured in times.items():
        ms = [t * 1000 for t in measured]
        print(f"| {case} | {statistics.median(ms):.0f} | {min(ms):.0f}–{max(ms):.0f} | {' / '.join(answers[case])} |")


if __name__ == "__main__":
    main()
