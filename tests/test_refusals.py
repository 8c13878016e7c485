"""A refusal reads in both languages: a permission refused, a user change refused and a sign-in refused each carry
one `Text` (metrics/core/text.py), built of declared sentences, on real DuckDB stores."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Forbidden, Permission, Role, User, require
from metrics.auth.users import SignInFailed, UserError
from metrics.core.text import Text
from tests.builders import signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
PASSWORD = "Kuangshan-2026!"
ADMIN = User(name="boss", role=Role.ADMIN)


@pytest.fixture
def con(db):
    with store.connect(db) as connection:
        users.bootstrap_admin(connection, "boss", PASSWORD, operator="test")
        yield connection


def test_a_sentence_of_sentences_is_filled_in_each_language():
    refusal = Text("你只能上传本单位的数据", "you may upload your own units' data only")
    asked = Text("{refusal}（{count} 行）", "{refusal} ({count} rows)").fill(refusal=refusal, count=3)
    assert asked == Text("你只能上传本单位的数据（3 行）", "you may upload your own units' data only (3 rows)")
    assert asked.format("en") == "you may upload your own units' data only (3 rows)"


def test_a_refused_permission_names_the_unit_in_each_language():
    with pytest.raises(Forbidden) as refused:
        require(User("cm01", Role.UNIT, ("CM01",)), Permission.UPLOAD, "CM03")
    assert refused.value.message("zh") == "你只能上传本单位的数据（CM03 不是你的单位）。如需权限请联系集团安全部。"
    assert refused.value.message("en") == str(refused.value) == (
        "you may upload your own units' data only (CM03 is not one of yours). Ask the group safety department "
        "for access.")


@pytest.mark.parametrize("change, zh, en", [
    (lambda con: users.change_role(con, ADMIN, "boss", Role.EXECUTIVE),
     "boss 是最后一位管理员，请先让另一位用户成为管理员",
     "boss is the last administrator; make someone else an administrator first"),
    (lambda con: users.create_user(con, ADMIN, "li.si", Role.UNIT, units=["CM01"], password="short-pw"),
     "密码只有 8 个字符，请至少设置 10 个字符", "the password is 8 characters long; use at least 10"),
    (lambda con: users.create_user(con, ADMIN, "wang", Role.EXECUTIVE, units=["CM01"], password=PASSWORD),
     "只有单位填报员负责具体单位；领导（只读）查看全部单位",
     "only unit users have units; executive users see every unit"),
    (lambda con: users.create_user(con, ADMIN, "zhao", Role.UNIT, units=["CM01", "ZZ98", "ZZ99"], password=PASSWORD),
     "没有这些单位编码：ZZ98、ZZ99；请填写已导入单位的编码（如 CM01）",
     "unknown unit(s): ZZ98, ZZ99; use codes of `units import` (e.g. CM01)"),
    (lambda con: users.create_user(con, ADMIN, "boss", Role.ADMIN, password=PASSWORD),
     "已有用户“boss”", "there is already a user 'boss'"),
])
def test_a_refused_user_change_says_why_in_each_language_and_changes_nothing(con, change, zh, en):
    before = store.query(con, "SELECT * FROM users")
    with pytest.raises(UserError) as refused:
        change(con)
    assert (refused.value.message("zh"), refused.value.message("en"), str(refused.value)) == (zh, en, en)
    assert store.query(con, "SELECT * FROM users").equals(before)


def test_a_refused_sign_in_reads_in_each_language(con):
    with pytest.raises(SignInFailed) as failed:
        users.authenticate(con, "boss", "not the password")
    assert (failed.value.message("zh"), failed.value.message("en")) == ("用户名或密码不正确", "wrong name or password")


@pytest.mark.parametrize("lang, refusal", [
    ("zh", "未做任何修改：boss 是最后一位管理员，请先让另一位用户成为管理员"),
    ("en", "Nothing changed: boss is the last administrator; make someone else an administrator first"),
])
def test_the_users_page_says_why_a_change_was_refused_in_the_pages_language(db, monkeypatch, lang, refusal):
    with store.connect(db) as con:
        users.bootstrap_admin(con, "boss", PASSWORD, operator="test")
    monkeypatch.setenv("SAFETY_DB", str(db))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=90), "boss")
    at.query_params["lang"] = lang
    at.switch_page("pages/users.py")
    at.run()
    at.button(key="deactivate_user").click().run()
    assert [e.value for e in at.error] == [refusal]
    with store.connect(db) as con:
        assert store.scalar(con, "SELECT active FROM users WHERE name = 'boss'") is True
