"""Signing in through a real browser: `streamlit run app.py` on a copy of the demo store with the demo flag off
(so it needs sign-in) and two users, an administrator and a unit user (CM01), driven by Debian's Chromium.

The form guards every address (a deep link too); a wrong password is refused without showing the dashboard;
the right one opens the page asked for, with the user and a sign-out button in the sidebar; signing out
returns to the form; a unit user's sidebar has no links to the pages of other roles. The sign-in page is
captured in both languages into the test's tmp_path (the README's pictures come from tools/screenshot.py).

The browser, its per-test contexts (tests/conftest.py) and the helpers (tests/browser.py) are the other
browser tests'; only the server differs (its store needs sign-in).
"""
from __future__ import annotations

import shutil

import pytest

from metrics import store
from metrics.auth import users
from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    SIDEBAR,
    TITLE,
    assert_chinese_is_not_tofu,
    assert_no_exception,
    expect,
    full_page_screenshot,
    serving,
    sidebar_link,
    wait_until_drawn,
)
from tests.builders import ADMIN_PASSWORD, add_user, asking_for_sign_in

SIGN_IN_TITLE = {"zh": "登录 · 集团安全生产指标看板", "en": "Sign in · Group Safety Production Dashboard"}
UNIT_PASSWORD = "unit staff password 01"
ALL_LINKS = ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "上传数据", "会议模式",
             "审计日志", "用户与权限"]
VIEWPORT_CENTRE = (800, 700)
UNIT_LINKS = ["总览", "排名", "趋势", "预警与问责", "单位详情", "隐患台账", "指标与目标", "上传数据"]


@pytest.fixture(scope="module")
def sign_in_url(pristine, tmp_path_factory):
    """`streamlit run app.py` on a store that needs sign-in (users: admin; cm01 for CM01); stopped after the
    module."""
    workdir = tmp_path_factory.mktemp("browser_sign_in")
    path = workdir / "safety.duckdb"
    shutil.copy(pristine, path)
    asking_for_sign_in(path)
    add_user(path, "cm01", "unit", ("CM01",), password=UNIT_PASSWORD)
    for name in ("locked", "gone"):
        add_user(path, name, "executive", password=UNIT_PASSWORD)
    with store.connect(path) as con:
        for attempt in range(users.MAX_FAILURES):  # locked for the next LOCK_MINUTES, longer than the module
            with pytest.raises(users.SignInFailed):
                users.authenticate(con, "locked", f"wrong password {attempt}")
        users.set_active(con, users.active_user(con, "admin"), "gone", False)
    with serving(path, workdir / "streamlit.log") as url:
        yield url


def sign_in_form(page, lang: str = "zh"):
    """The form's name and password boxes and its button (checked to be there)."""
    zh = lang == "zh"
    expect(page.locator(TITLE)).to_have_text(SIGN_IN_TITLE[lang])
    name = page.locator(MAIN).get_by_label("用户名" if zh else "User name", exact=True)
    password = page.locator(MAIN).get_by_label("密码" if zh else "Password", exact=True)
    button = page.locator(MAIN).get_by_role("button", name="登录" if zh else "Sign in", exact=True)
    for element in (name, password, button):
        expect(element).to_be_visible()
    expect(password).to_have_attribute("type", "password")
    return name, password, button


def sign_in(page, name: str, password: str) -> None:
    name_box, password_box, button = sign_in_form(page)
    name_box.fill(name)
    password_box.fill(password)
    button.click()


def assert_no_dashboard(page) -> None:
    """Nothing of the store is on the page: no figures, charts, tables, banners or page links."""
    for selector in ("[data-testid='stMetric']", ".js-plotly-plot", "[data-testid='stDataFrame']",
                     f"{SIDEBAR} [data-testid='stPageLink']"):
        expect(page.locator(selector)).to_have_count(0)
    expect(page.get_by_text("北川煤矿")).to_have_count(0)


def links(page) -> list[str]:
    """The sidebar's page links by their words (each link's text is its icon, then its label)."""
    return [text.split()[-1] for text in page.locator(f"{SIDEBAR} [data-testid='stPageLink']").all_inner_texts()]


@pytest.mark.parametrize("path", ["/", "/ranking"])
def test_the_sign_in_form_guards_every_address(sign_in_url, new_page, path):
    page = new_page()
    page.goto(f"{sign_in_url}{path}")
    sign_in_form(page)
    assert_no_dashboard(page)
    assert_no_exception(page)
    if path == "/ranking":  # the deep link opens the page it names once signed in
        sign_in(page, "admin", ADMIN_PASSWORD)
        expect(page.locator(TITLE)).to_have_text("排名")
        assert page.url.startswith(f"{sign_in_url}/ranking")
        assert_no_exception(page)


def test_a_wrong_password_is_refused_and_shows_nothing(sign_in_url, new_page):
    page = new_page()
    page.goto(sign_in_url)
    sign_in(page, "admin", "not the password")
    expect(page.locator(f"{MAIN} [data-testid='stAlertContentError'] p")).to_have_text("用户名或密码不正确")
    expect(page.locator(TITLE)).to_have_text(SIGN_IN_TITLE["zh"])
    assert_no_dashboard(page)
    # An unknown name, a locked account and a deactivated one get the same answer (names and states cannot be
    # probed); so does the locked account with the right password's neighbour, a wrong one.
    for name in ("nobody", "locked", "gone"):
        sign_in(page, name, "not the password")
        expect(page.locator(f"{MAIN} [data-testid='stAlertContentError'] p")).to_have_text("用户名或密码不正确")
        assert_no_dashboard(page)
    assert_no_exception(page)


def test_a_locked_account_with_its_right_password_is_told_until_when(sign_in_url, new_page):
    page = new_page()
    page.goto(sign_in_url)
    sign_in(page, "locked", UNIT_PASSWORD)
    expect(page.locator(f"{MAIN} [data-testid='stAlertContentError'] p")).to_contain_text(
        "密码连续错误 5 次，账号已锁定至 ")
    assert_no_dashboard(page)


@pytest.fixture(scope="module")
def missing_store_url(tmp_path_factory):
    """`streamlit run app.py` with SAFETY_DB naming a store that is not there (moved aside)."""
    workdir = tmp_path_factory.mktemp("browser_missing_store")
    path = workdir / "production" / "safety.duckdb"
    with serving(path, workdir / "streamlit.log") as url:
        yield url, path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_store_gives_an_error_page_signs_nobody_in_and_makes_nothing(missing_store_url, new_page,
                                                                                tmp_path, lang):
    url, path = missing_store_url
    page = new_page()
    page.goto(f"{url}/users?lang={lang}")
    error = page.locator(f"{MAIN} [data-testid='stAlertContentError']")
    expect(error).to_contain_text("找不到数据库文件" if lang == "zh" else "There is no store at")
    expect(error).to_contain_text(str(path))
    expect(page.locator(MAIN)).to_contain_text(f"python -m metrics init --db {path}")
    expect(page.locator(f"{MAIN} input")).to_have_count(0)  # no sign-in form: nobody can sign in
    expect(page.locator(f"{SIDEBAR} [data-testid='stCaptionContainer']")).to_have_count(0)  # nobody signed in
    expect(page.get_by_text("演示模式" if lang == "zh" else "Demo mode", exact=True)).to_have_count(0)  # no demo badge
    assert_no_dashboard(page)
    wait_until_drawn(page)
    assert_no_exception(page)
    full_page_screenshot(page, tmp_path / f"missing-store-{lang}.png")
    assert not path.exists() and not path.parent.exists()


def test_the_right_password_opens_the_overview_and_sign_out_returns_to_the_form(sign_in_url, new_page):
    page = new_page()
    page.goto(sign_in_url)
    sign_in(page, "admin", ADMIN_PASSWORD)
    expect(page.locator(TITLE)).to_have_text("集团安全生产指标看板")
    expect(page.get_by_text("一票否决：北川煤矿（死亡人数 1），本年累计得分归零")).to_be_visible()
    expect(page.locator(f"{SIDEBAR} [data-testid='stCaptionContainer']", has_text="👤 admin")).to_have_text(
        "👤 admin · 管理员（集团安全部）")
    sign_out = page.locator(SIDEBAR).get_by_role("button", name="退出登录", exact=True)
    expect(sign_out).to_be_visible()
    expect(sidebar_link(page, "用户与权限")).to_be_visible()
    assert links(page) == ALL_LINKS
    wait_until_drawn(page)
    assert_no_exception(page)

    sign_out.click()
    name, password, _ = sign_in_form(page)
    expect(password).to_have_value("")
    assert_no_dashboard(page)
    page.reload()  # signed out for good: a refresh does not bring the dashboard back
    sign_in_form(page)
    assert_no_dashboard(page)


def test_a_unit_users_sidebar_links_only_the_pages_they_may_open(sign_in_url, new_page):
    page = new_page()
    page.goto(sign_in_url)
    sign_in(page, "cm01", UNIT_PASSWORD)
    expect(page.locator(TITLE)).to_have_text("集团安全生产指标看板")
    expect(page.locator(f"{SIDEBAR} [data-testid='stCaptionContainer']", has_text="👤 cm01")).to_have_text(
        "👤 cm01 · 单位填报员 · CM01")
    expect(sidebar_link(page, "上传数据")).to_be_visible()
    for other in ("会议模式", "审计日志", "用户与权限"):
        expect(sidebar_link(page, other)).to_have_count(0)
    assert links(page) == UNIT_LINKS
    # Another unit's veto without its indicators.
    expect(page.get_by_text("一票否决：北川煤矿，本年累计得分归零", exact=True)).to_be_visible()
    expect(page.get_by_text("死亡人数 1）")).to_have_count(0)
    wait_until_drawn(page)
    assert_no_exception(page)


def test_the_sign_in_page_in_both_languages(sign_in_url, new_page, tmp_path):
    page = new_page()
    page.goto(sign_in_url)
    sign_in_form(page, "zh")
    expect(page.get_by_text("没有账号或忘记密码，请联系集团安全部管理员。")).to_be_visible()
    wait_until_drawn(page)
    assert_chinese_is_not_tofu(page, TITLE)
    full_page_screenshot(page, tmp_path / "page-sign-in-zh.png")

    page.locator(SIDEBAR).get_by_text("English", exact=True).click()
    sign_in_form(page, "en")
    expect(page.get_by_text("No account or forgot your password? Ask the group safety department's "
                            "administrator.")).to_be_visible()
    page.mouse.move(VIEWPORT_CENTRE[0], VIEWPORT_CENTRE[1])  # not over the sidebar (its collapse arrow shows)
    wait_until_drawn(page)
    assert_no_exception(page)
    full_page_screenshot(page, tmp_path / "page-sign-in-en.png")
