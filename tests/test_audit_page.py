"""The audit page as an administrator reads it: the chain's state, each row's detail as a sentence, the filters,
and "who changed this number?" on a real store (the demo store, sign-in on, one replacing upload by a unit user).

The demo's fact used here: CM01's 2026-10 near_misses is 31 in the demo's seed batch; cm01 then uploads 1234.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.store import audit
from metrics.store.raw_files import raw_dir
from tests.builders import add_user, asking_for_sign_in, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
REPLACING = b"month,subsidiary,indicator,value\n2026-10,CM01,near_misses,1234\n"


@pytest.fixture(scope="module")
def audited(pristine, tmp_path_factory) -> tuple[Path, int]:
    """The store and the upload's batch id."""
    path = tmp_path_factory.mktemp("audit-page") / "safety.duckdb"
    shutil.copy(pristine, path)
    asking_for_sign_in(path)
    add_user(path, "cm01", "unit", ("CM01",))
    with store.connect(path) as con:
        batch = access.commit_upload(con, User("cm01", Role.UNIT, ("CM01",)), REPLACING, "十月.csv",
                                     raw_dir(path)).batch_id
    return path, batch


def open_audit(path: Path, monkeypatch, lang: str = "zh") -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=90), "admin")
    at.query_params["lang"] = lang
    at.switch_page("pages/audit.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def trail_table(at: AppTest):
    return at.dataframe[0].value


def test_the_upload_row_reads_as_a_sentence(audited, monkeypatch):
    path, batch = audited
    at = open_audit(path, monkeypatch)
    assert at.success[0].value == "审计链完整：每一条记录都未被修改、删除或插入。"
    row = trail_table(at).iloc[0]
    assert (row["操作人"], row["操作"], row["结果"], row["对象"]) == ("cm01", "上传并替换数据", "成功", "十月.csv")
    assert row["详情"].startswith(f"批次: {batch} · 字节: {len(REPLACING)} · 文件: 十月.csv · 月份: 2026-10 · "
                                  f"替换: 1 · 行数: 1 · 文件校验值 SHA-256: ")
    assert row["详情"].endswith(" · 单位: CM01")


def test_the_english_page_names_the_detail_in_english(audited, monkeypatch):
    path, batch = audited
    row = trail_table(open_audit(path, monkeypatch, "en")).iloc[0]
    assert (row["Action"], row["Outcome"]) == ("upload replacing values", "done")
    assert row["Detail"].startswith(f"batch: {batch} · bytes: {len(REPLACING)} · file: 十月.csv · months: 2026-10")


def test_the_person_filter_keeps_only_their_rows(audited, monkeypatch):
    path, _ = audited
    at = open_audit(path, monkeypatch)
    with store.connect(path, read_only=True) as con:
        everyone = audit.entries(con)
    assert len(trail_table(at)) == len(everyone)
    at.selectbox(key="audit_actor").set_value("cm01").run()
    table = trail_table(at)
    assert list(table["操作人"]) == ["cm01"] and list(table["操作"]) == ["上传并替换数据"]
    assert at.caption[0].value == "1 条记录（最新在前）"


def test_who_changed_this_number_lists_every_version(audited, monkeypatch):
    path, batch = audited
    at = open_audit(path, monkeypatch)
    at.selectbox(key="who_unit").set_value("CM01")
    at.selectbox(key="who_indicator").set_value("near_misses").run()
    assert at.selectbox(key="who_month").value.strftime("%Y-%m") == "2026-10"
    versions = at.dataframe[1].value
    assert sorted(versions["操作人"]) == ["cm01", "演示管理员"]
    upload = versions[versions["操作人"] == "cm01"].iloc[0]
    assert (upload["批次"], upload["文件"], upload["新值"], upload["状态"]) == (batch, "十月.csv", "1,234", "已提交")
    seed = versions[versions["操作人"] == "演示管理员"].iloc[0]
    assert (seed["原值"], seed["新值"], seed["状态"]) == ("", "31", "已提交")
    assert upload["原值"] == "31"


@pytest.mark.parametrize("lang, banner, expected", [
    ("zh", "审计链有 1 处断裂，记录可能被改动，请立即核查。",
     "审计日志止于第 {kept} 条，但最后写入的是第 {head} 条：第 {kept} 条之后的记录已被删除"),
    ("en", "The audit chain is broken in 1 places: rows may have been tampered with; investigate now.",
     "the audit trail ends at row {kept}, but row {head} was written last: the rows after {kept} were removed"),
])
def test_rows_cut_from_the_end_of_the_trail_are_named_in_the_readers_language(audited, tmp_path, monkeypatch, lang,
                                                                              banner, expected):
    path = tmp_path / "cut.duckdb"
    shutil.copy(audited[0], path)
    with store.connect(path) as con:
        ids = sorted(audit.entries(con)["id"])
        con.execute("DELETE FROM audit_log WHERE id > $id", {"id": ids[-3]})
    at = open_audit(path, monkeypatch, lang)
    assert at.error[0].value == banner
    problems = at.dataframe[0].value.iloc[:, 0].tolist()
    assert problems == [expected.format(kept=ids[-3], head=ids[-1])]
