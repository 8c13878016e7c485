"""The built-in user store: hashed passwords only, sign-in, lock-out, the first administrator, and user
changes refused for anyone but an administrator — on real DuckDB stores."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Forbidden, Role, User
from metrics.auth.users import LOCK_MINUTES, MAX_FAILURES, SignInFailed, UserError
from metrics.ingest.initialise import init_store
from metrics.store import audit

PASSWORD = "Kuangshan-2026!"
ADMIN = User(name="boss", role=Role.ADMIN)
NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def con(db):
    with store.connect(db) as connection:
        users.bootstrap_admin(connection, "boss", PASSWORD, operator="test")
        yield connection


def actions(con) -> list[str]:
    return list(audit.entries(con)["action"])


def test_the_store_holds_an_argon2id_hash_never_the_password(con, tmp_path):
    users.create_user(con, ADMIN, "zhang.san", Role.UNIT, units=["CM01"], password="Zhang-san-pw-1")
    hashes = store.query(con, "SELECT name, password_hash FROM users ORDER BY name")
    assert all(h.startswith("$argon2id$") for h in hashes["password_hash"])
    assert hashes["password_hash"].nunique() == 2  # each with its own salt
    everything = " ".join(str(v) for name in ("users", "audit_log")
                          for v in store.query(con, f"SELECT * FROM {name}").to_numpy().ravel())
    assert PASSWORD not in everything and "Zhang-san-pw-1" not in everything
    con.execute("CHECKPOINT")
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    raw = open(path, "rb").read()
    assert PASSWORD.encode() not in raw and b"Zhang-san-pw-1" not in raw


def test_the_right_password_signs_in_and_is_recorded(con):
    user = users.authenticate(con, "boss", PASSWORD, now=NOW)
    assert (user.name, user.role, user.units) == ("boss", Role.ADMIN, ())
    assert actions(con)[0] == "sign_in"


@pytest.mark.parametrize("name, password", [("boss", "wrong-password-1"), ("nobody", PASSWORD),
                                            ("boss", ""), (" boss ", "Kuangshan-2026")])
def test_a_wrong_name_or_password_gets_one_answer(con, name, password):
    with pytest.raises(SignInFailed) as failed:
        users.authenticate(con, name, password, now=NOW)
    assert (failed.value.message("zh"), failed.value.message("en")) == ("用户名或密码不正确", "wrong name or password")
    assert actions(con)[0] == "sign_in_failed"


@pytest.fixture
def accounts(con):
    """Besides boss: an account locked by five wrong passwords, a deactivated one, one without a password."""
    users.create_user(con, ADMIN, "locked", Role.EXECUTIVE, password="Locked-password-1")
    users.create_user(con, ADMIN, "gone", Role.EXECUTIVE, password="Gone-password-1")
    users.create_user(con, ADMIN, "sso", Role.EXECUTIVE)  # signs in through the identity provider only
    users.set_active(con, ADMIN, "gone", False)
    for attempt in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            users.authenticate(con, "locked", f"wrong-{attempt}-password", now=NOW)
    return con


REFUSALS = {"wrong password": "boss", "unknown user": "nobody", "no password set": "sso",
            "deactivated, wrong password": "gone", "locked, wrong password": "locked"}
"""The sign-ins refused before a password is proven, by the reason the audit trail records for each."""


def test_before_the_password_is_right_every_account_gets_one_answer_after_one_hash_of_the_same_cost(accounts,
                                                                                                    monkeypatch):
    """Unknown, without a password, deactivated, locked or plain wrong: the same sentence, and the same argon2id
    work (one verification against a hash of the same parameters), so neither the answer nor its time tells the
    account's state. Counted rather than timed: a timing assertion would be flaky; bench figures in the README."""
    verified: list[str] = []
    verify = PasswordHasher.verify

    def counted(hasher, hashed, password):
        verified.append(hashed)
        return verify(hasher, hashed, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    answers, work = {}, {}
    for reason, name in REFUSALS.items():
        verified.clear()
        with pytest.raises(SignInFailed) as failed:
            users.authenticate(accounts, name, "not-the-password", now=NOW + timedelta(minutes=1))
        answers[reason] = (failed.value.message("zh"), failed.value.message("en"))
        work[reason] = [extract_parameters(h) for h in verified]
    assert answers == dict.fromkeys(REFUSALS, ("用户名或密码不正确", "wrong name or password"))
    assert {reason: len(hashes) for reason, hashes in work.items()} == dict.fromkeys(REFUSALS, 1)
    assert all(hashes == work["wrong password"] for hashes in work.values())
    trail = audit.entries(accounts).head(len(REFUSALS)).iloc[::-1]
    assert [json.loads(d)["reason"] for d in trail["detail"]] == list(REFUSALS)


def test_a_wrong_password_during_a_lock_neither_extends_nor_counts(accounts):
    before = store.query(accounts, "SELECT failed_attempts, locked_until FROM users WHERE name = 'locked'")
    with pytest.raises(SignInFailed):
        users.authenticate(accounts, "locked", "yet-another-wrong-one", now=NOW + timedelta(minutes=5))
    assert store.query(accounts, "SELECT failed_attempts, locked_until FROM users WHERE name = 'locked'").equals(before)


def test_five_wrong_passwords_lock_the_account_until_the_lock_runs_out(con):
    for attempt in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            users.authenticate(con, "boss", f"wrong-{attempt}-password", now=NOW)
    with pytest.raises(SignInFailed) as locked:
        users.authenticate(con, "boss", PASSWORD, now=NOW + timedelta(minutes=1))  # the right one, too late
    assert "locked until 09:15" in locked.value.message("en") and "锁定至 09:15" in locked.value.message("zh")
    row = store.query(con, "SELECT failed_attempts, locked_until FROM users WHERE name = 'boss'").iloc[0]
    assert row["failed_attempts"] == MAX_FAILURES
    assert users.authenticate(con, "boss", PASSWORD, now=NOW + timedelta(minutes=LOCK_MINUTES + 1)).name == "boss"
    assert store.scalar(con, "SELECT failed_attempts FROM users WHERE name = 'boss'") == 0
    trail = audit.entries(con)
    assert list(trail["action"][:MAX_FAILURES + 2]) == ["sign_in", "sign_in_failed"] + ["sign_in_failed"] * MAX_FAILURES


def test_four_wrong_passwords_do_not_lock_and_a_success_clears_them(con):
    for attempt in range(MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            users.authenticate(con, "boss", f"wrong-{attempt}-password", now=NOW)
    assert users.authenticate(con, "boss", PASSWORD, now=NOW).name == "boss"
    with pytest.raises(SignInFailed):
        users.authenticate(con, "boss", "wrong-again-password", now=NOW)
    assert store.scalar(con, "SELECT failed_attempts FROM users WHERE name = 'boss'") == 1


def test_an_administrator_unlocks_and_a_deactivated_user_cannot_sign_in(con):
    users.create_user(con, ADMIN, "li.si", Role.EXECUTIVE, password="Li-si-password")
    for attempt in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            users.authenticate(con, "li.si", f"wrong-{attempt}-password", now=NOW)
    users.unlock(con, ADMIN, "li.si")
    assert users.authenticate(con, "li.si", "Li-si-password", now=NOW).role is Role.EXECUTIVE
    users.set_active(con, ADMIN, "li.si", False)
    with pytest.raises(SignInFailed) as failed:
        users.authenticate(con, "li.si", "Li-si-password", now=NOW)
    assert "deactivated" in failed.value.message("en")
    assert users.active_user(con, "li.si") is None


def test_the_first_administrator_is_made_once(con):
    with pytest.raises(UserError, match="already has an administrator"):
        users.bootstrap_admin(con, "another", PASSWORD, operator="test")


def test_a_brand_new_store_gets_its_first_administrator(tmp_path):
    path = init_store(tmp_path / "new.duckdb")
    with store.connect(path) as con:
        users.bootstrap_admin(con, "admin@group.cn", PASSWORD, operator="cli:root")
        assert users.authenticate(con, "admin@group.cn", PASSWORD).role is Role.ADMIN
        assert list(audit.entries(con)["action"]) == ["sign_in", "user_create", "catalog_change"]


@pytest.mark.parametrize("change, message", [
    (lambda con: users.create_user(con, ADMIN, "x", Role.UNIT, units=[], password=PASSWORD), "at least one unit"),
    (lambda con: users.create_user(con, ADMIN, "x", Role.UNIT, units=["ZZ99"], password=PASSWORD), "unknown unit"),
    (lambda con: users.create_user(con, ADMIN, "x", Role.EXECUTIVE, units=["CM01"], password=PASSWORD),
     "only unit users have units"),
    (lambda con: users.create_user(con, ADMIN, "x", Role.ADMIN, password="short"), "at least 10"),
    (lambda con: users.create_user(con, ADMIN, "boss", Role.ADMIN, password=PASSWORD), "already a user"),
    (lambda con: users.create_user(con, ADMIN, "two words", Role.ADMIN, password=PASSWORD), "no spaces"),
    (lambda con: users.change_role(con, ADMIN, "boss", Role.EXECUTIVE), "last administrator"),
    (lambda con: users.set_active(con, User("other", Role.ADMIN), "boss", False), "last administrator"),
    (lambda con: users.set_password(con, ADMIN, "ghost", PASSWORD), "no user 'ghost'"),
])
def test_a_user_change_that_cannot_be_made_says_why_and_changes_nothing(con, change, message):
    before = store.query(con, "SELECT * FROM users ORDER BY name")
    trail = len(audit.entries(con))
    with pytest.raises(UserError, match=message):
        change(con)
    assert store.query(con, "SELECT * FROM users ORDER BY name").equals(before)
    assert len(audit.entries(con)) == trail


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.UNIT])
def test_only_an_administrator_manages_users(con, role):
    actor = User("someone", role, ("CM01",) if role is Role.UNIT else ())
    for change in (lambda: users.create_user(con, actor, "x", Role.ADMIN, password=PASSWORD),
                   lambda: users.change_role(con, actor, "boss", Role.UNIT, ["CM01"]),
                   lambda: users.set_password(con, actor, "boss", PASSWORD + "x"),
                   lambda: users.unlock(con, actor, "boss"),
                   lambda: users.set_active(con, actor, "boss", False),
                   lambda: users.list_users(con, actor)):
        with pytest.raises(Forbidden, match="only administrators may manage users"):
            change()


def test_users_change_their_own_password(con):
    users.create_user(con, ADMIN, "wang", Role.UNIT, units=["CH01"], password="Wang-password-1")
    users.set_password(con, User("wang", Role.UNIT, ("CH01",)), "wang", "Wang-password-2")
    assert users.authenticate(con, "wang", "Wang-password-2").units == ("CH01",)


def test_a_changed_role_is_what_the_next_page_run_reads(con):
    users.create_user(con, ADMIN, "zhao", Role.UNIT, units=["CM01"], password="Zhao-password-1")
    users.change_role(con, ADMIN, "zhao", Role.UNIT, ["CM02", "CM01"])
    assert users.active_user(con, "zhao") == User("zhao", Role.UNIT, ("CM01", "CM02"), "zhao")
    change = audit.entries(con).iloc[0]
    assert (change["action"], change["target"]) == ("user_change", "zhao")
    assert '"units": {"new": ["CM01", "CM02"], "old": ["CM01"]}' in change["detail"]
    assert audit.describe(change["detail"], "zh") == "角色: 单位填报员 → 单位填报员 · 单位: CM01 → CM01, CM02"
