"""The audit trail: who did what, when, to what, and how it ended — append-only and hash-chained.

Every row carries the sha256 of the row before it and of itself, so an edited, deleted or inserted row
breaks the chain (`verify`). No statement in metrics/sql.py updates or deletes audit rows (a test checks).
A row is written in the same transaction as the change it records where there is one, so a change is never
on record without having happened, nor the other way round.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import duckdb
import pandas as pd

from metrics import sql

GENESIS = "0" * 64


class Action(str, Enum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    UPLOAD = "upload"
    """A file committed as a new batch that only added values."""
    REPLACE = "replace"
    """A file committed as a new batch that overwrote stored values (a resubmission or correction)."""
    UPLOAD_UNCHANGED = "upload_unchanged"
    UPLOAD_REJECTED = "upload_rejected"
    ROLLBACK = "rollback"
    TARGETS_CHANGE = "targets_change"
    UNITS_CHANGE = "units_change"
    CATALOG_CHANGE = "catalog_change"
    USER_CREATE = "user_create"
    USER_CHANGE = "user_change"
    USER_PASSWORD = "user_password"
    USER_UNLOCK = "user_unlock"
    USER_DEACTIVATE = "user_deactivate"
    USER_ACTIVATE = "user_activate"
    EXPORT = "export"
    BACKUP = "backup"
    RESTORE = "restore"
    REBUILD = "rebuild"
    ACCESS_DENIED = "access_denied"


ACTION_NAMES: dict[Action, tuple[str, str]] = {
    Action.SIGN_IN: ("登录", "sign-in"),
    Action.SIGN_IN_FAILED: ("登录失败", "failed sign-in"),
    Action.SIGN_OUT: ("退出登录", "sign-out"),
    Action.UPLOAD: ("上传数据", "upload"),
    Action.REPLACE: ("上传并替换数据", "upload replacing values"),
    Action.UPLOAD_UNCHANGED: ("上传（无变化）", "upload (unchanged)"),
    Action.UPLOAD_REJECTED: ("上传被拒", "upload rejected"),
    Action.ROLLBACK: ("撤回批次", "rollback"),
    Action.TARGETS_CHANGE: ("修改目标", "targets changed"),
    Action.UNITS_CHANGE: ("修改单位", "units changed"),
    Action.CATALOG_CHANGE: ("指标目录更新", "catalog changed"),
    Action.USER_CREATE: ("新建用户", "user created"),
    Action.USER_CHANGE: ("修改角色", "role changed"),
    Action.USER_PASSWORD: ("设置密码", "password set"),
    Action.USER_UNLOCK: ("解锁账号", "account unlocked"),
    Action.USER_DEACTIVATE: ("停用账号", "account deactivated"),
    Action.USER_ACTIVATE: ("启用账号", "account reactivated"),
    Action.EXPORT: ("导出文件", "export"),
    Action.BACKUP: ("备份", "backup"),
    Action.RESTORE: ("恢复", "restore"),
    Action.REBUILD: ("重建校验", "rebuild check"),
    Action.ACCESS_DENIED: ("越权被拒", "access denied"),
}


DETAIL_NAMES: dict[str, tuple[str, str]] = {
    "reason": ("原因", "reason"), "failures": ("连续失败", "failures in a row"), "locked": ("已锁定", "locked"),
    "method": ("方式", "method"), "role": ("角色", "role"), "units": ("单位", "units"),
    "password": ("设了密码", "password set"), "permission": ("所需权限", "permission needed"), "unit": ("单位", "unit"),
    "what": ("内容", "what"), "rows": ("行数", "rows"), "file": ("文件", "file"), "sha256": ("sha256", "sha256"),
    "bytes": ("字节", "bytes"), "errors": ("错误数", "errors"), "first_errors": ("前几条错误", "first errors"),
    "batch": ("批次", "batch"), "replaced": ("替换", "replaced"), "months": ("月份", "months"),
    "rollback_batch": ("撤回批次", "rollback batch"), "values": ("数值个数", "values"), "from": ("原版本", "from"),
    "to": ("新版本", "to"), "indicators": ("指标数", "indicators"), "added_or_changed": ("新增或修改", "added or changed"),
    "source": ("来源", "source"), "changes": ("变更", "changes"), "backup": ("备份", "backup"),
    "manifest_sha256": ("清单 sha256", "manifest sha256"), "tables": ("表", "tables"),
    "raw_files": ("原始文件", "raw files"), "audit_last_id": ("最后审计序号", "last audit no."),
    "audit_last_id_of_backup": ("备份的最后审计序号", "backup's last audit no."),
    "backup_created_at": ("备份时间", "backup made"), "raw_files_restored": ("恢复原始文件", "raw files restored"),
    "out": ("输出", "output"), "equal": ("与现库一致", "equal to the store"), "ok": ("通过", "passed"),
    "batches": ("批次数", "batches"), "from_raw": ("由原始文件重放", "replayed from raw files"),
    "rollbacks": ("撤回", "rollbacks"), "copied": ("复制", "copied"), "unreplayed": ("未能重放", "not replayed"),
    "differences": ("差异", "differences"),
}
"""What the admin page calls each key of a row's detail (keys not listed are shown as they are)."""
MAX_LISTED = 8


def describe(detail: str, lang: str = "zh") -> str:
    """A row's detail (JSON text) as one line a person reads: `批次: 181 · 单位: CH01, CM02 · 原版本: 1 → 2`.
    A target change reads `CM01 2026 injuries target: 2 → 1`; long lists stop after MAX_LISTED items."""
    try:
        parsed = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        return detail
    if not isinstance(parsed, dict):
        return _value(parsed, lang)
    index = 0 if lang == "zh" else 1
    return " · ".join(f"{DETAIL_NAMES[key][index] if key in DETAIL_NAMES else key}: {_value(value, lang)}"
                      for key, value in parsed.items())


def _value(value: object, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        if not value:
            return "无" if lang == "zh" else "none"
        shown = ", ".join(_value(item, lang) for item in value[:MAX_LISTED])
        more = len(value) - MAX_LISTED
        if more > 0:
            shown += f" … (另 {more} 项)" if lang == "zh" else f" … (+{more} more)"
        return f"[{shown}]" if any(isinstance(item, list) for item in value) else shown
    if isinstance(value, dict):
        if {"old", "new"} <= value.keys():
            change = f"{_value(value['old'], lang)} → {_value(value['new'], lang)}"
            where = " ".join(str(value[k]) for k in ("subsidiary", "year", "indicator", "field") if k in value)
            return f"{where}: {change}" if where else change
        return "(" + ", ".join(f"{k}={_value(v, lang)}" for k, v in value.items()) + ")"
    return str(value)


class Outcome(str, Enum):
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    target: str
    detail: str

    def digest(self, previous_hash: str) -> str:
        fields = [previous_hash, str(self.id), self.at.isoformat(timespec="microseconds"), self.actor,
                  self.action, self.outcome, self.target, self.detail]
        return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def record(con: duckdb.DuckDBPyConnection, actor: str, action: Action, *, target: str = "",
           detail: dict | None = None, outcome: Outcome = Outcome.OK, at: datetime | None = None) -> int:
    """Append one row (inside the caller's transaction when there is one); returns its id."""
    entry = Entry(id=int(con.execute(sql.NEXT_AUDIT_ID).fetchall()[0][0]),
                  at=(at or datetime.now()).replace(tzinfo=None), actor=actor or "?", action=Action(action).value,
                  outcome=Outcome(outcome).value, target=target,
                  detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str))
    last = con.execute(sql.LAST_AUDIT_HASH).fetchall()
    previous = last[0][0] if last else GENESIS
    con.execute(sql.INSERT_AUDIT, {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
                                   "outcome": entry.outcome, "target": entry.target, "detail": entry.detail,
                                   "previous_hash": previous, "hash": entry.digest(previous)})
    return entry.id


def entries(con: duckdb.DuckDBPyConnection, *, actor: str | None = None, action: str | None = None,
            first: datetime | None = None, last: datetime | None = None, text: str | None = None,
            limit: int = 10_000) -> pd.DataFrame:
    """Newest first: id, happened_at, actor, action, outcome, target, detail (JSON text)."""
    return con.execute(sql.SELECT_AUDIT, {"actor": actor, "action": action, "first": first, "last": last,
                                          "text": text or None, "limit": limit}).df()


def actors(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(sql.AUDIT_ACTORS).fetchall()]


def verify(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every break in the chain, as sentences (empty: the trail is whole)."""
    problems, previous = [], GENESIS
    for row in con.execute(sql.SELECT_AUDIT_CHAIN).df().itertuples(index=False):
        entry = Entry(id=int(row.id), at=pd.Timestamp(row.happened_at).to_pydatetime(), actor=row.actor, action=row.action,
                      outcome=row.outcome, target=row.target, detail=row.detail)
        if row.previous_hash != previous:
            problems.append(f"audit row {entry.id}: the row before it is not the one it was written after "
                            f"(a row was removed or inserted)")
        if entry.digest(row.previous_hash) != row.hash:
            problems.append(f"audit row {entry.id}: its content differs from what was written")
        previous = row.hash
    return problems
