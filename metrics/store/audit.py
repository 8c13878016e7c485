"""The audit trail: who did what, when, to what, and how it ended — append-only and hash-chained.

Every row carries the sha256 of the row before it and of itself, so an edited, deleted or inserted row
breaks the chain (`verify`). No statement in metrics/store/schema.py updates or deletes audit rows (a test checks).
A row is written in the same transaction as the change it records where there is one, so a change is never
on record without having happened, nor the other way round.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

import duckdb
import pandas as pd

from metrics.core.text import Text
from metrics.store import schema

AUDIT_ANCHOR_VERSION = 5
NEXT_AUDIT_ID = "SELECT nextval('audit_ids')"
LAST_AUDIT_HASH = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
INSERT_AUDIT = """
INSERT INTO audit_log (id, happened_at, actor, action, outcome, target, detail, previous_hash, hash)
VALUES ($id, CAST($at AS TIMESTAMP), $actor, $action, $outcome, $target, $detail, $previous_hash, $hash)
"""
SELECT_AUDIT = """
SELECT id, happened_at, actor, action, outcome, target, detail FROM audit_log
WHERE ($actor IS NULL OR actor = $actor)
  AND ($action IS NULL OR action = $action)
  AND ($first IS NULL OR happened_at >= CAST($first AS TIMESTAMP))
  AND ($last IS NULL OR happened_at < CAST($last AS TIMESTAMP))
  AND ($text IS NULL OR contains(lower(target || ' ' || detail), lower($text)))
ORDER BY id DESC
LIMIT $limit
"""
SELECT_AUDIT_CHAIN = "SELECT * FROM audit_log ORDER BY id"
# The same transaction id twice in a row: the connection is inside a transaction (autocommit gives each
# statement its own).
CURRENT_TRANSACTION = "SELECT txid_current()"
# A restore keeps the rows the store's trail held beyond the backup's (`incoming`: audit_log's columns).
INSERT_AUDIT_ROWS = """
INSERT INTO audit_log (id, happened_at, actor, action, outcome, target, detail, previous_hash, hash)
SELECT id, happened_at, actor, action, outcome, target, detail, previous_hash, hash FROM incoming
"""
AUDIT_ACTORS = "SELECT DISTINCT actor FROM audit_log ORDER BY actor"
# The sha256 of every file committed as a batch: the batches' own, and those the trail's upload and replace rows
# name (a restore to an earlier backup drops the later batches, not the rows that record them).
DATA_VERSION = """
SELECT (SELECT coalesce(max(id), 0) FROM audit_log
        WHERE list_contains(CAST($actions AS VARCHAR[]), action) AND outcome = 'ok'),
       (SELECT coalesce(max(id), 0) FROM batches)
"""

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
    SECTORS_CHANGE = "sectors_change"
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
    HAZARD_CHANGE = "hazard_change"
    """A step of the hazard ledger: a hazard registered, its 五定 set, evidence attached, sent for verification,
    verified, sent back, extended or void (metrics/ledger/hazards.py)."""
    HAZARD_IMPORT = "hazard_import"
    """A findings workbook committed to the hazard ledger (metrics/ledger/imports.py): hazards registered or their
    五定 updated, one row for the file (its sha256 keeps the file in raw/); a rejected or unchanged one is an
    upload_rejected or upload_unchanged row."""
    HAZARD_REMINDERS = "hazard_reminders"
    """A run of the hazard reminders that sent messages (metrics/ledger/notify.py): how many went, how many
    failed and through which channels. It changes no data."""
    LEDGER_FIGURES = "ledger_figures"
    """The hazard ledger's figures written into the monthly data of the units that keep their ledger here
    (metrics/ledger/figures.py): one batch of the source "ledger", after the change that moved them."""
    ACCESS_DENIED = "access_denied"


CHANGES_DATA = frozenset({
    Action.UPLOAD, Action.REPLACE, Action.ROLLBACK, Action.TARGETS_CHANGE, Action.UNITS_CHANGE,
    Action.SECTORS_CHANGE, Action.CATALOG_CHANGE, Action.USER_CREATE, Action.USER_CHANGE, Action.USER_PASSWORD,
    Action.USER_UNLOCK, Action.USER_DEACTIVATE, Action.USER_ACTIVATE, Action.RESTORE, Action.REBUILD,
    Action.HAZARD_CHANGE, Action.HAZARD_IMPORT, Action.LEDGER_FIGURES})
"""The actions that change what a page may show (data, targets, units, the catalog, users and their rights). The
others (a sign-in, a download, a refused or unchanged upload, a backup) only add to the trail, and leave every
cached page result valid (data_version)."""


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """What the pages' cached results depend on: the newest audit row of an action that changed data
    (CHANGES_DATA: every such write is on the trail, in its own transaction) and the newest batch (a batch
    written by the demo or a test without an audit row). A sign-in or a download advances neither."""
    row = con.execute(DATA_VERSION, {"actions": sorted(a.value for a in CHANGES_DATA)}).fetchall()[0]
    return int(row[0]), int(row[1])


ACTION_NAMES: dict[Action, Text] = {
    Action.SIGN_IN: Text("登录", "sign-in"),
    Action.SIGN_IN_FAILED: Text("登录失败", "failed sign-in"),
    Action.SIGN_OUT: Text("退出登录", "sign-out"),
    Action.UPLOAD: Text("上传数据", "upload"),
    Action.REPLACE: Text("上传并替换数据", "upload replacing values"),
    Action.UPLOAD_UNCHANGED: Text("上传（无变化）", "upload (unchanged)"),
    Action.UPLOAD_REJECTED: Text("上传被拒", "upload rejected"),
    Action.ROLLBACK: Text("撤回批次", "rollback"),
    Action.TARGETS_CHANGE: Text("修改目标", "targets changed"),
    Action.UNITS_CHANGE: Text("修改单位", "units changed"),
    Action.SECTORS_CHANGE: Text("修改板块", "sectors changed"),
    Action.CATALOG_CHANGE: Text("指标目录更新", "catalog changed"),
    Action.USER_CREATE: Text("新建用户", "user created"),
    Action.USER_CHANGE: Text("修改角色", "role changed"),
    Action.USER_PASSWORD: Text("设置密码", "password set"),
    Action.USER_UNLOCK: Text("解锁账号", "account unlocked"),
    Action.USER_DEACTIVATE: Text("停用账号", "account deactivated"),
    Action.USER_ACTIVATE: Text("启用账号", "account reactivated"),
    Action.EXPORT: Text("导出文件", "export"),
    Action.BACKUP: Text("备份", "backup"),
    Action.RESTORE: Text("恢复", "restore"),
    Action.REBUILD: Text("重建校验", "rebuild check"),
    Action.HAZARD_CHANGE: Text("隐患台账变更", "hazard ledger change"),
    Action.HAZARD_IMPORT: Text("导入隐患台账", "hazard ledger import"),
    Action.HAZARD_REMINDERS: Text("发送隐患整改提醒", "hazard reminders sent"),
    Action.LEDGER_FIGURES: Text("台账数据计入月报", "ledger figures written"),
    Action.ACCESS_DENIED: Text("越权被拒", "access denied"),
}


DETAIL_NAMES: dict[str, Text] = {
    "reason": Text("原因", "reason"), "failures": Text("连续失败", "failures in a row"),
    "locked": Text("已锁定", "locked"),
    "step": Text("步骤", "step"), "state": Text("状态", "state"),
    "method": Text("方式", "method"), "role": Text("角色", "role"), "units": Text("单位", "units"),
    "sectors": Text("板块", "sectors"),
    "password": Text("设了密码", "password set"), "permission": Text("所需权限", "permission needed"),
    "unit": Text("单位", "unit"),
    "what": Text("内容", "what"), "rows": Text("行数", "rows"), "file": Text("文件", "file"),
    "sha256": Text("文件校验值 SHA-256", "sha256"),
    "bytes": Text("字节", "bytes"), "errors": Text("错误数", "errors"),
    "first_errors": Text("前几条错误", "first errors"),
    "batch": Text("批次", "batch"), "replaced": Text("替换", "replaced"), "months": Text("月份", "months"),
    "rollback_batch": Text("撤回批次", "rollback batch"), "values": Text("数值个数", "values"),
    "from": Text("原版本", "from"),
    "to": Text("新版本", "to"), "indicators": Text("指标数", "indicators"),
    "added_or_changed": Text("新增或修改", "added or changed"),
    "source": Text("来源", "source"), "changes": Text("变更", "changes"), "backup": Text("备份", "backup"),
    "manifest_sha256": Text("清单校验值 SHA-256", "manifest sha256"), "tables": Text("表", "tables"),
    "raw_files": Text("原始文件", "raw files"), "audit_last_id": Text("最后审计序号", "last audit no."),
    "audit_last_id_of_backup": Text("备份的最后审计序号", "backup's last audit no."),
    "backup_created_at": Text("备份时间", "backup made"),
    "raw_files_restored": Text("恢复原始文件", "raw files restored"),
    "audit_rows_kept": Text("保留的审计记录条数", "audit rows kept"),
    "audit_ids_kept": Text("保留记录的审计序号", "kept rows' audit nos."),
    "audit_ids_before": Text("保留记录的原审计序号", "kept rows' former audit nos."),
    "out": Text("输出", "output"), "equal": Text("与现库一致", "equal to the store"), "ok": Text("通过", "passed"),
    "batches": Text("批次数", "batches"), "from_raw": Text("由原始文件重放", "replayed from raw files"),
    "rollbacks": Text("撤回", "rollbacks"), "copied": Text("复制", "copied"),
    "unreplayed": Text("未能重放", "not replayed"),
    "differences": Text("差异", "differences"),
    "registered": Text("新登记", "registered"), "issued": Text("下达整改", "issued"),
    "updated": Text("修改五定", "updated"),
    "messages": Text("消息数", "messages"), "sent": Text("已发送", "sent"), "failed": Text("发送失败", "failed"),
    "channels": Text("渠道", "channels"),
}
"""What the admin page calls each key of a row's detail (keys not listed are shown as they are)."""
VALUE_NAMES: dict[str, dict[str, Text]] = {
    "reason": {"wrong password": Text("密码错误", "wrong password"), "unknown user": Text("无此用户", "unknown user"),
               "no password set": Text("未设密码", "no password set"), "deactivated": Text("账号已停用", "deactivated"),
               "locked": Text("账号已锁定", "locked"),
               "deactivated, wrong password": Text("账号已停用，密码错误", "deactivated, wrong password"),
               "locked, wrong password": Text("账号已锁定，密码错误", "locked, wrong password")},
    "source": {"demo": Text("演示数据", "demo data"), "edit": Text("页面编辑", "edited on the page")},
    "method": {"password": Text("密码", "password"), "oidc": Text("公司账号", "company account")},
    "role": {"admin": Text("管理员", "administrator"), "executive": Text("领导（只读）", "executive (read only)"),
             "unit": Text("单位填报员", "unit staff")},
    "what": {"breaches": Text("预警清单", "breaches"), "audit": Text("审计日志", "audit trail"),
             "targets": Text("年度目标", "targets"), "bulletin": Text("月度通报", "bulletin"),
             "sectors": Text("板块名录", "sector list"), "hazards": Text("隐患台账", "hazard ledger")},
    "permission": {"view_group": Text("查看集团数据", "view the group"),
    "view_unit": Text("查看单位明细", "view a unit"),
                   "upload": Text("上传数据", "upload"), "rollback": Text("撤回批次", "roll back"),
                   "present": Text("会议模式与通报", "meeting and bulletin"),
                   "edit_targets": Text("修改目标", "edit targets"),
                   "manage_users": Text("管理用户", "manage users"),
                   "view_audit": Text("查看审计日志", "view the audit trail")},
}
"""The words for the recorded codes of some detail keys (a value not listed is shown as recorded)."""
TARGET_NAMES = {"catalog": Text("指标目录", "indicator catalog"), "units": Text("单位名录", "unit list"),
                "sectors": Text("板块名录", "sector list")}
FIELD_NAMES = {"target": "目标值", "limit": "控制值", "weight": "权重", "veto": "一票否决"}
"""A target change's field in Chinese (the English reads the recorded word)."""
ACTOR_NAMES = {"demo": Text("演示管理员", "demo administrator"), "system": Text("系统", "system"),
               "rebuild": Text("重建校验", "rebuild check")}
SOURCE_NAMES = {"demo": Text("演示数据", "demo data"), "rollback": Text("撤回批次", "rollback"),
                "upload": Text("上传文件", "uploaded file"), "rebuild": Text("重建校验", "rebuild check"),
                "ledger": Text("隐患台账计算", "counted from the hazard ledger")}
MAX_LISTED = 8


def target_text(target: str, lang: str = "zh") -> str:
    """What a row acted on, in the reader's language: `catalog` 指标目录, `batch 432` 批次 432; a user's name, a
    file, a folder or the years of a target change as recorded."""
    if target in TARGET_NAMES:
        return TARGET_NAMES[target].in_(lang)
    batch = re.fullmatch(r"batch (\d+)", target or "")
    if batch:
        return f"批次 {batch[1]}" if lang == "zh" else f"batch {batch[1]}"
    return target


def source_text(file_name: str | None, source: str, lang: str = "zh", note: str | None = None) -> str:
    """Where a batch came from: its file's name, else its note (a rollback's in the reader's language: 撤回批次
    432), else what wrote it (演示数据, 撤回批次, 隐患台账计算: the ledger's note is for the record, in English)."""
    if isinstance(file_name, str) and file_name:
        return file_name
    if isinstance(note, str) and note and source != "ledger":
        undone = re.fullmatch(r"rollback of batch (\d+)", note)
        if not undone:
            return note
        return f"撤回批次 {undone[1]}" if lang == "zh" else f"rollback of batch {undone[1]}"
    return SOURCE_NAMES[source].in_(lang) if source in SOURCE_NAMES else source


def actor_text(actor: str, lang: str = "zh") -> str:
    """Who acted, in the reader's language where the record holds a role rather than a person (`demo`, `system`,
    the command line `cli:<login>`); a person's sign-in name as recorded."""
    if actor in ACTOR_NAMES:
        return ACTOR_NAMES[actor].in_(lang)
    if actor.startswith("cli:"):
        return f"命令行（{actor[4:]}）" if lang == "zh" else f"command line ({actor[4:]})"
    return actor


def describe(detail: str, lang: str = "zh", indicators: dict[str, str] | None = None) -> str:
    """A row's detail (JSON text) as one line a person reads: `批次: 181 · 单位: CH01, CM02 · 原版本: 1 → 2`.
    A target change reads `CM01 2026 injuries target: 2 → 1` (in Chinese `CM01 2026 负伤人数 目标值: 2 → 1`, the
    indicator by its name in `indicators`, code -> name); long lists stop after MAX_LISTED items."""
    try:
        parsed = json.loads(detail) if detail else {}
    except json.JSONDecodeError:
        return detail
    if not isinstance(parsed, dict):
        return _value(parsed, lang)
    if lang == "zh" and isinstance(parsed.get("changes"), list):
        parsed["changes"] = [_change_in_chinese(change, indicators or {}) for change in parsed["changes"]]
    return " · ".join(f"{DETAIL_NAMES[key].in_(lang) if key in DETAIL_NAMES else key}: {_named(key, value, lang)}"
                      for key, value in parsed.items())


def _change_in_chinese(change: object, indicators: dict[str, str]) -> object:
    """A target change's unit, indicator and field in Chinese words (集团默认, 负伤人数, 目标值)."""
    if not isinstance(change, dict):
        return change
    named = dict(change)
    if change.get("field") in FIELD_NAMES:
        named["field"] = FIELD_NAMES[change["field"]]
    if change.get("subsidiary") == "*":
        named["subsidiary"] = "集团默认"
    if change.get("indicator") in indicators:
        named["indicator"] = indicators[change["indicator"]]
    return named


def _named(key: str, value: object, lang: str) -> str:
    """A detail's value, a recorded code by its name (VALUE_NAMES), a targets file by 'CSV 文件 NAME'."""
    names = VALUE_NAMES.get(key, {})
    if isinstance(value, str) and value in names:
        return names[value].in_(lang)
    if isinstance(value, dict) and {"old", "new"} <= value.keys() and names:
        value = {**value, "old": _named(key, value["old"], lang), "new": _named(key, value["new"], lang)}
    if key == "source" and isinstance(value, str) and value.startswith("csv "):
        return f"CSV 文件 {value[4:]}" if lang == "zh" else f"CSV file {value[4:]}"
    return _value(value, lang)


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


HEAD_ID = "audit_head_id"
HEAD_HASH = "audit_head_hash"
JSON_FROM = "audit_json_from"
"""store_meta keys (schema v5 on): the id and hash of the last row written, the trail's anchor, rewritten in the
transaction of every row; and the first id hashed as a JSON array (an older program's rows, before it, verify
the legacy way)."""
SEQUENCE = "audit_ids"
ANCHOR_MISSING = "anchor missing"
"""What a row of an anchored store is chained to when the anchor itself is gone (only a hand edit removes it):
no row hashes to it, so the gap stays on record after the anchor is written again."""


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    target: str
    detail: str

    @classmethod
    def of(cls, row) -> Entry:
        """The entry of a row of SELECT_AUDIT_CHAIN."""
        return cls(id=int(row.id), at=pd.Timestamp(row.happened_at).to_pydatetime(), actor=row.actor,
                   action=row.action, outcome=row.outcome, target=row.target, detail=row.detail)

    def digest(self, previous_hash: str, *, legacy: bool = False) -> str:
        """sha256 of the row chained to the row before it, hashed as the canonical JSON array [previous hash, id,
        time, actor, action, outcome, target, detail], so no text can move from one field into the next without
        changing the hash. `legacy`: the fields joined by U+001F, as an older program hashed its rows (they still
        verify so; a text holding U+001F could be shifted across that separator unseen, so no row is written so
        any more)."""
        fields = [previous_hash, self.id, self.at.isoformat(timespec="microseconds"), self.actor, self.action,
                  self.outcome, self.target, self.detail]
        text = "\x1f".join(map(str, fields)) if legacy else json.dumps(fields, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(con: duckdb.DuckDBPyConnection, actor: str, action: Action, *, target: str = "",
           detail: dict | None = None, outcome: Outcome = Outcome.OK, at: datetime | None = None) -> int:
    """Append one row and move the trail's anchor to it, inside the caller's transaction when there is one, else
    in one of its own (a row and its anchor are written together or not at all); returns its id."""
    entry = Entry(id=int(con.execute(NEXT_AUDIT_ID).fetchall()[0][0]),
                  at=(at or datetime.now()).replace(tzinfo=None), actor=actor or "?", action=Action(action).value,
                  outcome=Outcome(outcome).value, target=target,
                  detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str))
    if _in_transaction(con):
        _append(con, entry)
    else:
        from metrics.store import transaction  # metrics.store imports this module

        with transaction(con):
            _append(con, entry)
    return entry.id


def _append(con: duckdb.DuckDBPyConnection, entry: Entry) -> None:
    """The row chained to the anchor (not to whatever row is last, so rows removed from the end still show
    after the next row is written), then the anchor moved to it. A store not yet upgraded to keep an anchor
    (a backup's BACKUP row on an older store) is written as its program wrote it, for its upgrade to anchor."""
    anchored = _anchored(con)
    if anchored:
        previous = _head_hash(con)
        digest = entry.digest(previous)
    else:
        last = con.execute(LAST_AUDIT_HASH).fetchall()
        previous = last[0][0] if last else GENESIS
        digest = entry.digest(previous, legacy=True)
    con.execute(INSERT_AUDIT, {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
                                   "outcome": entry.outcome, "target": entry.target, "detail": entry.detail,
                                   "previous_hash": previous, "hash": digest})
    if anchored:
        _set_anchor(con, entry.id, digest)


def _set_anchor(con: duckdb.DuckDBPyConnection, head_id: int, head_hash: str) -> None:
    """Both keys of the anchor in one statement (it is written with every row)."""
    con.execute(SET_ANCHOR, {"id_key": HEAD_ID, "head_id": str(head_id), "hash_key": HEAD_HASH, "head_hash": head_hash})


SET_ANCHOR = """
INSERT INTO store_meta (key, value) VALUES ($id_key, $head_id), ($hash_key, $head_hash)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""


def _head_hash(con: duckdb.DuckDBPyConnection) -> str:
    """The hash the next row of an anchored store chains to."""
    return _meta(con, HEAD_HASH) or ANCHOR_MISSING


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute(schema.GET_META, {"key": key}).fetchall()
    return rows[0][0] if rows else None


def _anchored(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store keeps the trail's anchor (schema v5 on)."""
    version = _meta(con, "schema_version")
    return version is not None and int(version) >= AUDIT_ANCHOR_VERSION


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    first, second = (con.execute(CURRENT_TRANSACTION).fetchall()[0][0] for _ in range(2))
    return first == second


def entries(con: duckdb.DuckDBPyConnection, *, actor: str | None = None, action: str | None = None,
            first: datetime | None = None, last: datetime | None = None, text: str | None = None,
            limit: int = 10_000) -> pd.DataFrame:
    """Newest first: id, happened_at, actor, action, outcome, target, detail (JSON text)."""
    return con.execute(SELECT_AUDIT, {"actor": actor, "action": action, "first": first, "last": last,
                                          "text": text or None, "limit": limit}).df()


def actors(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute(AUDIT_ACTORS).fetchall()]


BREAKS: dict[str, Text] = {
    "link": Text("审计记录 {row}：其前一条不是写入它时的那一条（有记录被删除或插入）",
             "audit row {row}: the row before it is not the one it was written after (a row was removed or inserted)"),
    "content": Text("审计记录 {row}：内容与写入时不同", "audit row {row}: its content differs from what was written"),
    "no_anchor": Text("审计链的锚点（最后写入记录的序号与校验值）缺失：无法判断末尾的记录是否被删除",
                  ("the audit trail's anchor (store_meta audit_head_id and audit_head_hash) is missing: whether "
                   "rows were removed from its end cannot be told")),
    "emptied": Text("审计日志为空，但最后写入的是第 {head} 条：全部记录已被删除",
                "the audit trail is empty, but row {head} was written last: every row was removed"),
    "cut": Text("审计日志止于第 {row} 条，但最后写入的是第 {head} 条：第 {row} 条之后的记录已被删除",
            "the audit trail ends at row {row}, but row {head} was written last: the rows after {row} were removed"),
    "added": Text("审计日志止于第 {row} 条，但最后写入的是第 {head} 条：第 {head} 条之后的记录并非由本系统写入",
              ("the audit trail ends at row {row}, but row {head} was written last: the rows after {head} were "
               "added outside the program")),
    "not_head": Text("审计记录 {row}：不是最后写入的那一条（其校验值与锚点不符）",
                 "audit row {row}: it is not the row written last (its hash differs from the trail's anchor)"),
}
"""What `verify` says of each kind of break, in Chinese and English."""


def verify(con: duckdb.DuckDBPyConnection, lang: str = "en") -> list[str]:
    """Every break in the chain and every difference from its anchor, as sentences in `lang` (empty: the trail is
    whole)."""
    return [BREAKS[kind].format(lang, **values) for kind, values in _breaks(con)]


def _breaks(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dict]]:
    anchored = _anchored(con)
    json_from = int(_meta(con, JSON_FROM) or 0) if anchored else None
    problems, previous, last = [], GENESIS, (0, GENESIS)
    for row in con.execute(SELECT_AUDIT_CHAIN).df().itertuples(index=False):
        entry = Entry.of(row)
        if row.previous_hash != previous:
            problems.append(("link", {"row": entry.id}))
        if entry.digest(row.previous_hash, legacy=json_from is None or entry.id < json_from) != row.hash:
            problems.append(("content", {"row": entry.id}))
        previous, last = row.hash, (entry.id, row.hash)
    ending = _anchor_problem(con, *last) if anchored else None
    return problems + ([ending] if ending else [])


def _anchor_problem(con: duckdb.DuckDBPyConnection, last_id: int, last_hash: str) -> tuple[str, dict] | None:
    """Whether the trail ends with the row written last (the anchor in store_meta): rows removed from its end
    leave no break in the chain, only this difference."""
    head_id, head_hash = _meta(con, HEAD_ID), _meta(con, HEAD_HASH)
    if head_id is None or head_hash is None:
        return "no_anchor", {}
    head = int(head_id)
    if (last_id, last_hash) == (head, head_hash):
        return None
    values = {"row": last_id, "head": head}
    if last_id == 0:
        return "emptied", values
    if last_id != head:
        return ("cut" if last_id < head else "added"), values
    return "not_head", values


@dataclass(frozen=True)
class Trail:
    """A store's trail as a restore finds it, before the backup's takes its place."""
    rows: pd.DataFrame
    """Every row, as SELECT_AUDIT_CHAIN reads them."""
    ids_drawn: int
    """How far its id sequence went (ids drawn by a failed write are used up too)."""
    json_from: int | None


def held(con: duckdb.DuckDBPyConnection) -> Trail:
    """The trail of an upgraded store (see Trail)."""
    return Trail(rows=con.execute(SELECT_AUDIT_CHAIN).df(),
                 ids_drawn=_ids_drawn(con),
                 json_from=int(_meta(con, JSON_FROM) or 0))


def keep(con: duckdb.DuckDBPyConnection, replaced: Trail) -> dict:
    """Inside a restore's transaction, once the backup's trail is in place: append the rows of the replaced
    trail the backup's lacks, move the anchor to the last of them and the id sequence past every id either
    store drew, so no row is lost and no id used twice. Returns what the RESTORE row says of them.

    Where the backup's trail is the start of the store's (a backup of this store) those rows follow on from
    its last row and are kept exactly as written, ids and hashes. Otherwise (a backup of another store) they
    are renumbered after every id either store drew and chained anew from the backup's last row, their
    content as written; the RESTORE row names their former ids.
    """
    restored = con.execute(SELECT_AUDIT_CHAIN).df()
    common = _common_start(restored, replaced.rows)
    rows = replaced.rows.iloc[common:]
    drawn = _ids_drawn(con)
    detail: dict = {}
    if not rows.empty:
        detail["audit_rows_kept"] = len(rows)
        if common == len(restored):
            con.execute(schema.SET_META, {"key": JSON_FROM, "value": str(replaced.json_from)})
        else:
            first = max(drawn, replaced.ids_drawn, int(rows["id"].max())) + 1
            detail["audit_ids_before"] = f"{rows['id'].iloc[0]}–{rows['id'].iloc[-1]}"
            rows = _rechained(rows, first, _head_hash(con))
        from metrics.store import registered  # metrics.store imports this module

        with registered(con, rows):
            con.execute(INSERT_AUDIT_ROWS)
        _set_anchor(con, int(rows["id"].iloc[-1]), rows["hash"].iloc[-1])
        detail["audit_ids_kept"] = f"{rows['id'].iloc[0]}–{rows['id'].iloc[-1]}"
    behind = max(replaced.ids_drawn, int(rows["id"].max()) if not rows.empty else 0) - drawn
    if behind > 0:
        con.execute(schema.ADVANCE_SEQUENCE, {"sequence": SEQUENCE, "n": behind})
    return detail


def _ids_drawn(con: duckdb.DuckDBPyConnection) -> int:
    return dict(con.execute(schema.SEQUENCES_DRAWN).fetchall())[SEQUENCE]


def _common_start(first: pd.DataFrame, second: pd.DataFrame) -> int:
    """How many rows the two trails share from their start (same ids and hashes)."""
    n = min(len(first), len(second))
    same = (first["id"].to_numpy()[:n] == second["id"].to_numpy()[:n]) & \
        (first["hash"].to_numpy()[:n] == second["hash"].to_numpy()[:n])
    return n if same.all() else int(same.argmin())


def _rechained(rows: pd.DataFrame, first_id: int, previous: str) -> pd.DataFrame:
    """The rows numbered from `first_id` on and chained anew from `previous`, their content as written."""
    chained = []
    for offset, row in enumerate(rows.itertuples(index=False)):
        entry = replace(Entry.of(row), id=first_id + offset)
        digest = entry.digest(previous)
        chained.append({**row._asdict(), "id": entry.id, "previous_hash": previous, "hash": digest})
        previous = digest
    return pd.DataFrame(chained, columns=rows.columns)
