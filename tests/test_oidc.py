"""Sign-in through an identity provider (Streamlit's st.login) as AppTest simulates it: the provider says who
the person is, the user table what they may do."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Role, User
from metrics.store import audit
from tests.builders import asking_for_sign_in
from ui.markdown import WORD_JOINER

APP = Path(__file__).resolve().parents[1] / "app.py"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "dashboard", "client_secret": "s", "server_metadata_url":
        "https://sso.example.com/.well-known/openid-configuration"}


@pytest.fixture
def path(db, monkeypatch):
    copy = db
    asking_for_sign_in(copy)
    with store.connect(copy) as con:
        users.create_user(con, User("admin", Role.ADMIN), "wang@cm01.cn", Role.UNIT, units=["CM01"])
    monkeypatch.setenv("SAFETY_DB", str(copy))
    return copy


def app(user: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = user
    return at


def shown(markdown: str) -> str:
    """The text a reader sees: without the word joiners that keep an address from becoming a mailto link."""
    return markdown.replace(WORD_JOINER, "")


def sign_ins(path) -> list[str]:
    with store.connect(path, read_only=True) as con:
        trail = audit.entries(con, action="sign_in")
    return [f"{r.actor} {r.detail}" for r in trail.itertuples()]


def test_a_signed_out_visitor_gets_the_company_sign_in_button_only(path):
    at = app({"is_logged_in": False}).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["使用公司账号登录"]
    assert not at.text_input and not at.get("plotly_chart")


def test_a_known_address_signs_in_with_its_role_once_per_session(path):
    at = app({"is_logged_in": True, "email": "wang@cm01.cn", "name": "Wang"}).run()
    assert not at.exception
    assert at.title[0].value == "集团安全生产指标看板"
    assert any("wang@cm01.cn" in shown(c.value) and "单位填报员" in c.value for c in at.sidebar.caption)
    at.run()
    assert sign_ins(path) == ['wang@cm01.cn {"method": "oidc"}']


def test_an_unknown_address_has_no_access(path):
    at = app({"is_logged_in": True, "email": "stranger@elsewhere.com"}).run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == ["账号 stranger@elsewhere.com 尚未开通看板权限，请联系集团安全部。"]
    assert not at.get("plotly_chart") and not at.metric
