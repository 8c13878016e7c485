"""The built-in user store: argon2id password hashes, sign-in with lock-out, and user management.

Used where no identity provider is configured (with one, Streamlit's OIDC sign-in proves who the person
is and this table still says what they may do). Passwords are never stored, only argon2id hashes with
their own salt. After MAX_FAILURES wrong passwords in a row an account is locked for LOCK_MINUTES. Until the
password is right, an unknown name, a deactivated account and a locked one cost the same hashing as a wrong
password and get the same answer, so names and account states cannot be probed. Every sign-in, failure and
change is written to the audit trail in the same transaction.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from metrics import store
from metrics.auth.roles import ROLE_NAMES, Permission, Role, User, require
from metrics.core.text import Text
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action, Outcome

SELECT_USER = "SELECT * FROM users WHERE name = $name"
SELECT_USERS = "SELECT * FROM users ORDER BY name"
COUNT_ADMINS = "SELECT count(*) FROM users WHERE role = 'admin' AND active"
INSERT_USER = """
INSERT INTO users (name, display_name, role, units, password_hash, active, created_at)
VALUES ($name, $display_name, $role, CAST($units AS VARCHAR[]), $password_hash, TRUE, current_localtimestamp())
"""
UPDATE_USER_ROLE = """
UPDATE users SET role = $role, units = CAST($units AS VARCHAR[]), display_name = $display_name
WHERE name = $name
"""
UPDATE_USER_PASSWORD = """
UPDATE users SET password_hash = $password_hash, failed_attempts = 0, locked_until = NULL WHERE name = $name
"""
UPDATE_USER_ACTIVE = "UPDATE users SET active = $active WHERE name = $name"
RECORD_SIGN_IN_FAILURE = """
UPDATE users SET failed_attempts = $failed_attempts, locked_until = CAST($locked_until AS TIMESTAMP)
WHERE name = $name
"""
RECORD_SIGN_IN_SUCCESS = "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE name = $name"

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("an unknown user's password is checked against this")


WRONG = Text("用户名或密码不正确", "wrong name or password")
DEACTIVATED = Text("该账号已停用，请联系集团安全部", "this account is deactivated; ask the group safety department")
LOCKED = Text("密码连续错误 {failures} 次，账号已锁定至 {until}；请稍后再试或联系管理员解锁",
              "{failures} wrong passwords in a row: the account is locked until {until}; try again later or ask an "
              "administrator to unlock it")
SHORT_PASSWORD = Text("密码只有 {length} 个字符，请至少设置 {least} 个字符",
                      "the password is {length} characters long; use at least {least}")
UNKNOWN_UNITS = Text("没有这些单位编码：{units}；请填写已导入单位的编码（如 CM01）",
                     "unknown unit(s): {units}; use codes of `units import` (e.g. CM01)")
NO_UNITS = Text("单位填报员至少要负责一个单位", "a unit user needs at least one unit")
UNITS_OF_NON_UNIT = Text("只有单位填报员负责具体单位；{role}查看全部单位",
                         "only unit users have units; {role} users see every unit")
HAS_ADMIN = Text("本数据库已有管理员，其他用户由管理员在看板中或用 `users add` 添加",
                 "this store already has an administrator; they add further users in the app or with `users add`")
UNUSABLE_NAME = Text("“{name}”不能用作登录名（不得含空格；请用公司邮箱或简短的名字）",
                     "not a usable sign-in name: {name!r} (no spaces; an e-mail address or a short name)")
TAKEN_NAME = Text("已有用户“{name}”", "there is already a user {name!r}")
NO_SUCH_USER = Text("没有用户“{name}”", "there is no user {name!r}")
LAST_ADMIN = Text("{name} 是最后一位管理员，请先让另一位用户成为管理员",
                  "{name} is the last administrator; make someone else an administrator first")
SELF_DEACTIVATION = Text("不能停用自己的账号", "you cannot deactivate yourself")
NO_ACTIVE_USER = Text("没有启用中的用户“{name}”，请查看 `python -m metrics users list`",
                      "there is no active user {name!r}; see `python -m metrics users list`")


class SignInFailed(Exception):
    """A refused sign-in, with the sentence the person reads in each language."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text

    def message(self, lang: str) -> str:
        return self.text.in_(lang)


class UserError(ValueError):
    """A user change that cannot be made as asked: the sentence, in each language, says why and what to do."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text

    def message(self, lang: str) -> str:
        return self.text.in_(lang)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(SHORT_PASSWORD.fill(length=len(password), least=MIN_PASSWORD_LENGTH))
    return _HASHER.hash(password)


def _user(row: pd.Series) -> User:
    return User(name=row["name"], role=Role(row["role"]), units=_units(row),
                display_name=row["display_name"])


def _units(row: pd.Series) -> tuple[str, ...]:
    return tuple(sorted(row["units"])) if row["units"] is not None else ()


def _row(con: Connection, name: str) -> pd.Series | None:
    rows = store.query(con, SELECT_USER, {"name": name})
    return None if rows.empty else rows.iloc[0]


def active_user(con: Connection, name: str) -> User | None:
    """The user as the store holds them now (None: unknown or deactivated), read afresh on every page run so
    a changed role or a deactivation takes effect at once."""
    row = _row(con, name)
    return None if row is None or not row["active"] else _user(row)


def _wrong() -> SignInFailed:
    """The one answer to every sign-in whose password is not proven."""
    return SignInFailed(WRONG)


def authenticate(con: Connection, name: str, password: str,
                 now: datetime | None = None) -> User:
    """The user whose name and password these are; raises SignInFailed (and records why) otherwise.

    Nothing about the account is told before its password is proven: an unknown name, a name without a
    password, a deactivated account, a locked one and a wrong password all get one answer (`_wrong`), each
    after exactly one argon2 verification (against the account's hash, or a dummy one), so neither the answer
    nor the time tells them apart. Only with the right password does a deactivated or a locked account hear
    why it cannot sign in (the person at the keyboard then is its owner, who needs to know whom to ask or how
    long to wait).
    """
    now = now or datetime.now()
    name = name.strip()
    row = _row(con, name)
    hashed = None if row is None else row["password_hash"]
    proven = _verify(_DUMMY_HASH if hashed is None else hashed, password) and hashed is not None
    if not proven or row is None:  # no row: no hash, so never proven
        _refused(con, name, row, now)
        raise _wrong()
    if not row["active"]:
        _failed(con, name, "deactivated")
        raise SignInFailed(DEACTIVATED)
    until = _locked_until(row, now)
    if until is not None:
        _failed(con, name, "locked")
        raise SignInFailed(LOCKED.fill(failures=MAX_FAILURES, until=f"{until:%H:%M}"))
    with store.transaction(con):
        con.execute(RECORD_SIGN_IN_SUCCESS, {"name": name})
        audit.record(con, name, Action.SIGN_IN, target=name, detail={"method": "password"})
    return _user(row)


def _locked_until(row: pd.Series, now: datetime) -> pd.Timestamp | None:
    locked_until = row["locked_until"]
    if locked_until is None or pd.isna(locked_until) or pd.Timestamp(locked_until) <= now:
        return None
    return pd.Timestamp(locked_until)


def _refused(con: Connection, name: str, row: pd.Series | None, now: datetime) -> None:
    """Record a sign-in without a proven password (the trail, for administrators, says which case it was). A
    wrong password counts towards the lock-out only on an active account that is not locked already (a wrong
    password during a lock neither extends nor reveals it)."""
    if row is None or row["password_hash"] is None:
        _failed(con, name, "unknown user" if row is None else "no password set")
        return
    if not row["active"]:
        _failed(con, name, "deactivated, wrong password")
        return
    if _locked_until(row, now) is not None:
        _failed(con, name, "locked, wrong password")
        return
    failures = int(row["failed_attempts"]) + 1
    lock = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
    with store.transaction(con):
        con.execute(RECORD_SIGN_IN_FAILURE, {"name": name, "failed_attempts": failures, "locked_until": lock})
        audit.record(con, name, Action.SIGN_IN_FAILED, target=name, outcome=Outcome.FAILED,
                     detail={"reason": "wrong password", "failures": failures, "locked": lock is not None})


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _failed(con: Connection, name: str, reason: str) -> None:
    audit.record(con, name or "?", Action.SIGN_IN_FAILED, target=name, outcome=Outcome.FAILED,
                 detail={"reason": reason})


def record_sign_in(con: Connection, user: User, method: str) -> None:
    """A sign-in proven elsewhere (the identity provider)."""
    audit.record(con, user.name, Action.SIGN_IN, target=user.name, detail={"method": method})


def record_sign_out(con: Connection, user: User) -> None:
    audit.record(con, user.name, Action.SIGN_OUT, target=user.name)


def _check_units(con: Connection, role: Role, units: list[str]) -> list[str]:
    known = set(store.query(con, schema.SELECT_UNITS)["code"])
    unknown = [u for u in units if u not in known]
    if unknown:
        raise UserError(UNKNOWN_UNITS.fill(units=Text("、".join(unknown), ", ".join(unknown))))
    if role is Role.UNIT and not units:
        raise UserError(NO_UNITS)
    if role is not Role.UNIT and units:
        raise UserError(UNITS_OF_NON_UNIT.fill(role=Text(ROLE_NAMES[role].zh, role.value)))
    return sorted(set(units))


def create_user(con: Connection, actor: User, name: str, role: Role, *, units: Sequence[str] = (),
                password: str | None = None, display_name: str = "") -> User:
    """Add a user (password None: they sign in through the identity provider only)."""
    require(actor, Permission.MANAGE_USERS)
    return _insert(con, actor.name, name, role, list(units), password, display_name)


def bootstrap_admin(con: Connection, name: str, password: str, *, operator: str,
                    display_name: str = "") -> User:
    """The first administrator of a store (the command line's `users bootstrap`): refused once one exists."""
    if store.scalar(con, COUNT_ADMINS):
        raise UserError(HAS_ADMIN)
    return _insert(con, operator, name, Role.ADMIN, [], password, display_name)


def _insert(con: Connection, actor: str, name: str, role: Role, units: list[str],
            password: str | None, display_name: str) -> User:
    name = name.strip()
    if not name or len(name) > 120 or any(c.isspace() or ord(c) < 32 for c in name):
        raise UserError(UNUSABLE_NAME.fill(name=name))
    if _row(con, name) is not None:
        raise UserError(TAKEN_NAME.fill(name=name))
    units = _check_units(con, Role(role), units)
    hashed = None if password is None else hash_password(password)
    with store.transaction(con):
        con.execute(INSERT_USER, {"name": name, "display_name": display_name or name, "role": Role(role).value,
                                      "units": units, "password_hash": hashed})
        audit.record(con, actor, Action.USER_CREATE, target=name,
                     detail={"role": Role(role).value, "units": units, "password": password is not None})
    return User(name=name, role=Role(role), units=tuple(units), display_name=display_name or name)


def _existing(con: Connection, name: str) -> pd.Series:
    row = _row(con, name)
    if row is None:
        raise UserError(NO_SUCH_USER.fill(name=name))
    return row


def change_role(con: Connection, actor: User, name: str, role: Role, units: Sequence[str] = (),
                display_name: str | None = None) -> None:
    require(actor, Permission.MANAGE_USERS)
    row = _existing(con, name)
    units = _check_units(con, Role(role), list(units))
    if row["role"] == Role.ADMIN.value and Role(role) is not Role.ADMIN and store.scalar(con, COUNT_ADMINS) <= 1:
        raise UserError(LAST_ADMIN.fill(name=name))
    with store.transaction(con):
        con.execute(UPDATE_USER_ROLE, {"name": name, "role": Role(role).value, "units": units,
                                           "display_name": display_name or row["display_name"]})
        audit.record(con, actor.name, Action.USER_CHANGE, target=name,
                     detail={"role": {"old": row["role"], "new": Role(role).value},
                             "units": {"old": list(_units(row)), "new": units}})


def set_password(con: Connection, actor: User, name: str, password: str) -> None:
    """An administrator sets anyone's password; a user their own. Clears a lock-out."""
    if actor.name != name:
        require(actor, Permission.MANAGE_USERS)
    _existing(con, name)
    hashed = hash_password(password)
    with store.transaction(con):
        con.execute(UPDATE_USER_PASSWORD, {"name": name, "password_hash": hashed})
        audit.record(con, actor.name, Action.USER_PASSWORD, target=name)


def unlock(con: Connection, actor: User, name: str) -> None:
    require(actor, Permission.MANAGE_USERS)
    _existing(con, name)
    with store.transaction(con):
        con.execute(RECORD_SIGN_IN_SUCCESS, {"name": name})
        audit.record(con, actor.name, Action.USER_UNLOCK, target=name)


def set_active(con: Connection, actor: User, name: str, active: bool) -> None:
    """Deactivate (never delete: the audit trail names them) or reactivate a user."""
    require(actor, Permission.MANAGE_USERS)
    row = _existing(con, name)
    if not active and row["role"] == Role.ADMIN.value and store.scalar(con, COUNT_ADMINS) <= 1:
        raise UserError(LAST_ADMIN.fill(name=name))
    if not active and name == actor.name:
        raise UserError(SELF_DEACTIVATION)
    with store.transaction(con):
        con.execute(UPDATE_USER_ACTIVE, {"name": name, "active": active})
        audit.record(con, actor.name, Action.USER_ACTIVATE if active else Action.USER_DEACTIVATE, target=name)


def list_users(con: Connection, actor: User) -> pd.DataFrame:
    """name, display_name, role, units, active, failed_attempts, locked_until, created_at (no hashes)."""
    require(actor, Permission.MANAGE_USERS)
    frame = store.query(con, SELECT_USERS)
    frame["has_password"] = frame["password_hash"].notna()
    return frame.drop(columns=["password_hash"])
