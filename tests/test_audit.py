"""The audit trail: every action writes exactly one row, the trail is append-only, and tampering shows."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from metrics import access, store
from metrics.auth import users
from metrics.auth.roles import Forbidden, Role, User
from metrics.core.catalog import load_catalog
from metrics.core.text import Text
from metrics.ledger import escalation, figures, hazards, notify
from metrics.store import audit, backup, schema
from metrics.store.audit import ACTION_NAMES, DETAIL_NAMES, Action
from metrics.store.raw_files import raw_dir
from tests.statements import every_statement

ROOT = Path(__file__).resolve().parent.parent
ADMIN = User("boss", Role.ADMIN)
UNIT = User("cm01", Role.UNIT, ("CM01",))
PASSWORD = "Anquan-shengchan-1"
NEW = b"month,subsidiary,indicator,value\n2020-01,CM01,near_misses,77\n"  # before the demo's first month
REPLACING = b"month,subsidiary,indicator,value\n2026-10,CM01,near_misses,1234\n"
BAD = b"month,subsidiary,indicator,value\n2026-10,CM01,injuries,-1\n"
FINDINGS = ("隐患描述,单位编码,检查类型,隐患部位,隐患级别,隐患类别,可能导致的事故类型,发现日期,发现人\n"
            "护罩缺失,CM01,日常检查,2号皮带机头,一般,物,机械伤害,2026-11-02,李工\n").encode()


@pytest.fixture
def path(pristine, tmp_path):
    copy = tmp_path / "audit.duckdb"
    shutil.copy(pristine, copy)
    with store.connect(copy) as con:
        users.bootstrap_admin(con, "boss", PASSWORD, operator="test")
        users.create_user(con, ADMIN, "cm01", Role.UNIT, units=["CM01"], password=PASSWORD)
    return copy


def cli(path, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *args, "--db", str(path)], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def commit(path, content, name="f.csv", user=ADMIN):
    with store.connect(path) as con:
        return access.commit_upload(con, user, content, name, raw_dir(path))


def _rollback(path):
    batch = commit(path, NEW).batch_id
    with store.connect(path) as con:
        access.rollback(con, ADMIN, batch)


def _targets(path):
    with store.connect(path) as con:
        rows = access.targets_of_year(con, ADMIN, 2026)
        rows.loc[rows["indicator"] == "injuries", "target"] += 1
        from metrics.ingest.targets import frame_rows
        access.apply_targets(con, ADMIN, frame_rows(rows))


def _units(path):
    units = path.parent / "units.csv"
    units.write_text("code,name_zh,name_en,sector\nCM05,五号煤矿,No. 5 Coal Mine,coal\n", encoding="utf-8")
    assert cli(path, "units", "import", str(units)).returncode == 0


def _sectors(path):
    sectors = path.parent / "sectors.csv"
    sectors.write_text("code,name_zh,name_en\nnew_energy,新能源,New energy\n", encoding="utf-8")
    assert cli(path, "sectors", "import", str(sectors)).returncode == 0


def _catalog(path):
    with store.connect(path) as con:
        catalog = load_catalog()
        store.load_reference_data(con, replace(catalog, version=catalog.version + 1), actor="cli:ops")


def _with(path, action):
    with store.connect(path) as con:
        action(con)


def _denied(path):
    with store.connect(path) as con, pytest.raises(Forbidden):
        access.apply_targets(con, UNIT, [])


def _reminders(path):
    """A reminder posted to a robot that nobody listens for (127.0.0.1, a free port): the run's row, failed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reminder = escalation.Reminder(escalation.RULE_IDS["overdue"], "CM01-2026-0001", "CM01", Text("一矿", "Mine 1"),
                                   "王工", "2号皮带机头", date(2026, 11, 10), 1, date(2026, 11, 11), False)
    channels = notify.Channels(robots=(notify.Robot("群", "wecom", f"http://127.0.0.1:{port}/send"),))
    _with(path, lambda con: notify.send_reminders(con, [reminder], date(2026, 11, 11), actor="cli:ops",
                                                  channels=channels))


def _ledger_kept(path):
    """LG01's first hazard (its row), LG01 keeping its ledger from that month (a units change), and the ledger's
    figures of October written over what it typed."""
    def keep(con):
        access.register_hazard(con, ADMIN, hazards.NewHazard("LG01", "daily", "3号库区", "消防通道堆放货物", "general",
                                                             "management", "fire", date(2026, 10, 2), "李工"))
        figures.keep_ledger(con, "LG01", date(2026, 10, 1), actor="cli:ops")
    _with(path, keep)


def _restore(path):
    out = path.parent / "backups"
    out.mkdir()
    assert cli(path, "backup", "--out", str(out)).returncode == 0
    backup = next(p for p in out.iterdir() if p.is_dir())
    assert cli(path, "restore", str(backup), "--yes").returncode == 0


# Each action, what does it, and the number of rows it may add besides its own (a restore keeps the trail: the
# BACKUP row its setup writes stays, then its own).
ACTIONS = {
    Action.SIGN_IN: lambda p: _with(p, lambda con: users.authenticate(con, "boss", PASSWORD)),
    Action.SIGN_IN_FAILED: lambda p: _with(p, lambda con: pytest.raises(
        users.SignInFailed, users.authenticate, con, "boss", "not-the-password")),
    Action.SIGN_OUT: lambda p: _with(p, lambda con: users.record_sign_out(con, ADMIN)),
    Action.UPLOAD: lambda p: commit(p, NEW),
    Action.REPLACE: lambda p: commit(p, REPLACING),
    Action.UPLOAD_UNCHANGED: lambda p: (commit(p, NEW), commit(p, NEW, "again.csv")),
    Action.UPLOAD_REJECTED: lambda p: commit(p, BAD),
    Action.ROLLBACK: _rollback,
    Action.TARGETS_CHANGE: _targets,
    Action.UNITS_CHANGE: _units,
    Action.SECTORS_CHANGE: _sectors,
    Action.CATALOG_CHANGE: _catalog,
    Action.USER_CREATE: lambda p: _with(p, lambda con: users.create_user(con, ADMIN, "exec", Role.EXECUTIVE)),
    Action.USER_CHANGE: lambda p: _with(p, lambda con: users.change_role(con, ADMIN, "cm01", Role.UNIT,
                                                                         ["CM01", "CM02"])),
    Action.USER_PASSWORD: lambda p: _with(p, lambda con: users.set_password(con, ADMIN, "cm01", PASSWORD + "2")),
    Action.USER_UNLOCK: lambda p: _with(p, lambda con: users.unlock(con, ADMIN, "cm01")),
    Action.USER_DEACTIVATE: lambda p: _with(p, lambda con: users.set_active(con, ADMIN, "cm01", False)),
    Action.USER_ACTIVATE: lambda p: _with(p, lambda con: users.set_active(con, ADMIN, "cm01", True)),
    Action.EXPORT: lambda p: cli(p, "targets", "export", "--year", "2026", "--out", str(p.parent / "t.csv")),
    Action.BACKUP: lambda p: cli(p, "backup", "--out", str(p.parent)),
    Action.RESTORE: _restore,
    Action.REBUILD: lambda p: cli(p, "rebuild", "--out", str(p.parent / "rebuilt.duckdb")),
    Action.HAZARD_CHANGE: lambda p: _with(p, lambda con: hazards.register(con, hazards.NewHazard(
        "CM01", "daily", "2号皮带机头", "护罩缺失", "general", "thing", "machinery", date(2026, 11, 2), "李工"),
        actor="cm01")),
    Action.HAZARD_REMINDERS: _reminders,
    Action.HAZARD_IMPORT: lambda p: _with(p, lambda con: access.import_hazards(con, UNIT, FINDINGS, "findings.csv",
                                                                            raw_dir(p))),
    Action.LEDGER_FIGURES: _ledger_kept,
    Action.ACCESS_DENIED: _denied,
}
SETUP_ROWS = {Action.UPLOAD_UNCHANGED: 1, Action.ROLLBACK: 1, Action.RESTORE: 1,
              Action.LEDGER_FIGURES: 2}


def trail(path):
    with store.connect(path, read_only=True) as con:
        return audit.entries(con)


def test_every_action_has_a_case_and_a_name():
    assert set(ACTIONS) == set(Action) == set(ACTION_NAMES)


@pytest.mark.parametrize("action", list(ACTIONS), ids=lambda a: a.value)
def test_every_action_writes_exactly_one_audit_row(path, action):
    before = trail(path)
    ACTIONS[action](path)
    after = trail(path)
    added = after[after["id"] > before["id"].max()]
    mine = added[added["action"] == action.value]
    assert len(mine) == 1, list(added["action"])
    assert len(added) == 1 + SETUP_ROWS.get(action, 0), list(added["action"])
    assert after.iloc[len(added):].reset_index(drop=True).equals(before)  # no row lost, none changed
    with store.connect(path, read_only=True) as con:
        assert audit.verify(con) == []
    detail = json.loads(mine.iloc[0]["detail"])
    assert set(detail) <= set(DETAIL_NAMES), set(detail) - set(DETAIL_NAMES)
    assert '{"' not in audit.describe(mine.iloc[0]["detail"], "en")


@pytest.mark.parametrize("detail, lang, expected", [
    ('{}', "zh", ""),
    ('{"batch": 181, "file": "十月.csv", "months": ["2026-10"], "replaced": 0, "units": ["CH01", "CM02"]}', "zh",
     "批次: 181 · 文件: 十月.csv · 月份: 2026-10 · 替换: 0 · 单位: CH01, CM02"),
    ('{"changes": [{"field": "target", "indicator": "injuries", "new": 3.0, "old": 2.0, "subsidiary": "*", '
     '"year": 2026}, {"field": "veto", "indicator": "deaths", "new": null, "old": true, "subsidiary": "CM01", '
     '"year": 2026}], "rows": 184, "source": "page"}', "en",
     "changes: * 2026 injuries target: 2 → 3, CM01 2026 deaths veto: yes → — · rows: 184 · source: page"),
    ('{"changes": [], "rows": 184, "source": "demo"}', "zh", "变更: 无 · 行数: 184 · 来源: 演示数据"),
    ('{"role": {"new": "admin", "old": "unit"}, "units": {"new": [], "old": ["CM01", "CM02"]}}', "en",
     "role: unit staff → administrator · units: CM01, CM02 → none"),
    ('{"locked": false, "reason": "wrong password"}', "zh", "已锁定: 否 · 原因: 密码错误"),
    ('{"added_or_changed": ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9", "U10"], "units": 10}', "en",
     "added or changed: U1, U2, U3, U4, U5, U6, U7, U8 … (+2 more) · units: 10"),
    ('{"tables": {"batches": 3, "observations": 120}, "mystery": 1}', "en",
     "tables: (batches=3, observations=120) · mystery: 1"),
    ('not json', "en", "not json"),
])
def test_a_detail_reads_as_a_sentence(detail, lang, expected):
    assert audit.describe(detail, lang) == expected


def test_a_target_change_reads_in_chinese_words():
    detail = ('{"changes": [{"field": "target", "indicator": "injuries", "new": 3.0, "old": 2.0, "subsidiary": "*", '
              '"year": 2026}, {"field": "veto", "indicator": "fatalities", "new": null, "old": true, '
              '"subsidiary": "CM01", "year": 2026}], "rows": 184, "source": "page"}')
    names = {"injuries": "负伤人数", "fatalities": "死亡人数"}
    assert audit.describe(detail, "zh", names) == (
        "变更: 集团默认 2026 负伤人数 目标值: 2 → 3, CM01 2026 死亡人数 一票否决: 是 → — · 行数: 184 · 来源: page")
    # An indicator the names do not hold keeps its code; the English keeps the recorded words.
    assert audit.describe(detail, "zh", {}).startswith("变更: 集团默认 2026 injuries 目标值: 2 → 3")
    assert audit.describe(detail, "en", names).startswith("changes: * 2026 injuries target: 2 → 3")


@pytest.mark.parametrize(("file_name", "source", "note", "lang", "expected"), [
    ("十月.csv", "upload", None, "en", "十月.csv"),                      # the user's own file name, as uploaded
    (None, "rollback", "rollback of batch 432", "zh", "撤回批次 432"),
    (None, "rollback", "rollback of batch 432", "en", "rollback of batch 432"),
    (None, "demo", "LG02 2026-09", "zh", "LG02 2026-09"),
    (None, "demo", None, "zh", "演示数据"),
])
def test_where_a_batch_came_from(file_name, source, note, lang, expected):
    assert audit.source_text(file_name, source, lang, note) == expected


def test_an_upload_row_says_who_what_and_which_batch(path):
    done = commit(path, REPLACING, "十月.csv", UNIT)
    row = trail(path).iloc[0]
    assert (row["actor"], row["action"], row["outcome"], row["target"]) == ("cm01", "replace", "ok", "十月.csv")
    assert f'"batch": {done.batch_id}' in row["detail"] and '"replaced": 1' in row["detail"]
    assert '"sha256": "' in row["detail"] and '"units": ["CM01"]' in row["detail"]


def test_a_target_change_lists_each_number_old_and_new(path):
    _targets(path)
    row = trail(path).iloc[0]
    assert row["actor"] == "boss"
    assert ('{"field": "target", "indicator": "injuries", "new": 3.0, "old": 2.0, "subsidiary": "*", '
            '"year": 2026}') in row["detail"]


def test_an_edited_or_removed_row_breaks_the_chain(path):
    commit(path, NEW)
    commit(path, REPLACING)
    with store.connect(path) as con:
        ids = list(audit.entries(con)["id"])
        con.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = $id", {"id": ids[1]})
        assert audit.verify(con) == [f"audit row {ids[1]}: its content differs from what was written"]
        con.execute("UPDATE audit_log SET actor = 'boss' WHERE id = $id", {"id": ids[1]})
        assert audit.verify(con) == []
        con.execute("DELETE FROM audit_log WHERE id = $id", {"id": ids[1]})
        assert audit.verify(con) == [f"audit row {ids[0]}: the row before it is not the one it was written "
                                     f"after (a row was removed or inserted)"]
    result = cli(path, "audit", "verify")
    assert result.returncode == 1 and "a row was removed or inserted" in result.stderr


def test_no_statement_updates_or_deletes_audit_rows():
    statements = list(every_statement().values())
    touching = [s for s in statements if "audit_log" in s]
    assert touching, "the audit statements are found in the modules of metrics"
    for statement in touching:
        assert not re.search(r"\b(UPDATE|DELETE|TRUNCATE|DROP|ALTER)\b", statement, re.IGNORECASE), statement
    for migration in schema.MIGRATIONS:
        for clause in re.findall(r"(UPDATE|DELETE FROM|DROP TABLE|ALTER TABLE)\s+audit_log", migration):
            pytest.fail(f"a migration changes audit rows: {clause}")


def test_the_command_line_lists_the_trail(path):
    commit(path, NEW, "nine.csv")
    result = cli(path, "audit", "list", "--action", "upload", "--json")
    assert result.returncode == 0
    assert '"target":"nine.csv"' in result.stdout.replace(" ", "")


def last_ids(path, n: int) -> list[int]:
    with store.connect(path, read_only=True) as con:
        return sorted(audit.entries(con)["id"])[-n:]


BROKEN_LINK = "the row before it is not the one it was written after (a row was removed or inserted)"


@pytest.mark.parametrize("removed", [1, 3, "all"])
def test_rows_removed_from_the_end_of_the_trail_show(path, removed):
    """No break in the chain is left by cutting its end; the anchor (the last row written, kept in store_meta
    with every row) tells. The next row is chained to the anchor, so the gap stays on record after it."""
    with store.connect(path) as con:
        ids = sorted(audit.entries(con)["id"])
        assert len(ids) > 3
        kept = [] if removed == "all" else ids[:-removed]
        con.execute("DELETE FROM audit_log WHERE id > $id", {"id": kept[-1] if kept else 0})
        expected = (f"the audit trail ends at row {kept[-1]}, but row {ids[-1]} was written last: the rows after "
                    f"{kept[-1]} were removed" if kept else
                    f"the audit trail is empty, but row {ids[-1]} was written last: every row was removed")
        assert audit.verify(con) == [expected]
    result = cli(path, "audit", "verify")
    assert result.returncode == 1 and expected in result.stderr
    with store.connect(path) as con:
        users.record_sign_out(con, ADMIN)
        assert audit.verify(con) == [f"audit row {ids[-1] + 1}: {BROKEN_LINK}"]


def test_a_row_added_after_the_last_one_written_shows(path):
    """A row appended by hand, chained and hashed as the program would, breaks no link: the anchor tells."""
    with store.connect(path) as con:
        last_id, last_hash = con.execute(backup.LAST_AUDIT_ROW).fetchall()[0]
        forged = audit.Entry(id=last_id + 1, at=datetime(2026, 11, 2, 9, 0), actor="boss", action="upload",
                             outcome="ok", target="十一月.csv", detail='{"batch": 999}')
        con.execute(audit.INSERT_AUDIT, {"id": forged.id, "at": forged.at, "actor": forged.actor,
                                       "action": forged.action, "outcome": forged.outcome, "target": forged.target,
                                       "detail": forged.detail, "previous_hash": last_hash,
                                       "hash": forged.digest(last_hash)})
        assert audit.verify(con) == [f"the audit trail ends at row {last_id + 1}, but row {last_id} was written "
                                     f"last: the rows after {last_id} were added outside the program"]


@pytest.mark.parametrize("column, value", [
    ("happened_at", "2020-01-01 00:00:00"), ("actor", "someone else"), ("action", "sign_out"),
    ("outcome", "failed"), ("target", "other.csv"), ("detail", '{"rows": 0}')])
def test_a_changed_field_shows(path, column, value):
    middle = last_ids(path, 3)[0]
    with store.connect(path) as con:
        con.execute(f"UPDATE audit_log SET {column} = $value WHERE id = $id", {"value": value, "id": middle})
        assert audit.verify(con) == [f"audit row {middle}: its content differs from what was written"]


def test_the_anchor_removed_with_the_whole_trail_still_shows(path):
    """Only a hand edit removes the anchor: until the next row it is reported missing, and that row is chained
    to a hash no row has, so an emptied trail never passes for a new one."""
    with store.connect(path) as con:
        con.execute("DELETE FROM audit_log")
        con.execute("DELETE FROM store_meta WHERE key IN ('audit_head_id', 'audit_head_hash')")
        assert audit.verify(con) == ["the audit trail's anchor (store_meta audit_head_id and audit_head_hash) is "
                                     "missing: whether rows were removed from its end cannot be told"]
        new = audit.record(con, "boss", Action.SIGN_OUT, target="boss")
        assert audit.verify(con) == [f"audit row {new}: {BROKEN_LINK}"]


GENESIS = "0" * 64
SHIFTED = (audit.Entry(id=7, at=datetime(2026, 10, 5, 8, 30), actor="boss", action="upload", outcome="ok",
                       target="十月.csv\x1fnote", detail='{"rows": 9}'),
           audit.Entry(id=7, at=datetime(2026, 10, 5, 8, 30), actor="boss", action="upload", outcome="ok",
                       target="十月.csv", detail='note\x1f{"rows": 9}'))
"""Two rows whose fields differ only by the text `note` moved across the U+001F between target and detail."""


def test_text_moved_across_a_field_boundary_changes_the_hash():
    written, shifted = SHIFTED
    assert written.digest(GENESIS, legacy=True) == shifted.digest(GENESIS, legacy=True)  # the old encoding
    assert written.digest(GENESIS) != shifted.digest(GENESIS)
    canonical = ('["' + GENESIS + '",7,"2026-10-05T08:30:00.000000","boss","upload","ok",'
                 '"\\u5341\\u6708.csv\\u001fnote","{\\"rows\\": 9}"]')
    assert written.digest(GENESIS) == hashlib.sha256(canonical.encode()).hexdigest()


def stored_row(con, row_id: int):
    return next(con.execute(audit.SELECT_AUDIT_CHAIN).df().query("id == @row_id").itertuples(index=False))


def test_a_stored_row_with_text_moved_across_a_field_boundary_shows(path):
    written, shifted = SHIFTED
    with store.connect(path) as con:
        row_id = audit.record(con, "boss", Action.UPLOAD, target=written.target, detail={"rows": 9})
        as_written = stored_row(con, row_id)
        con.execute("UPDATE audit_log SET target = $target, detail = $detail WHERE id = $id",
                    {"target": shifted.target, "detail": shifted.detail, "id": row_id})
        edited = stored_row(con, row_id)
        assert (edited.target, edited.detail) == (shifted.target, shifted.detail)
        legacy = [audit.Entry.of(row).digest(row.previous_hash, legacy=True) for row in (as_written, edited)]
        assert legacy[0] == legacy[1]  # the old encoding could not tell
        assert audit.verify(con) == [f"audit row {row_id}: its content differs from what was written"]
