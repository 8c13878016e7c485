"""The dashboard in a real browser: `streamlit run app.py` on a demo store, driven by Debian's Chromium.

One server and one browser for the module, a fresh context (own Streamlit session) per test. Every page is
opened in Chinese and English and checked for its stories of the demo store ending in October 2026, for the
absence of an exception box and for Chinese drawn with a CJK font (not tofu); a full-page screenshot of each
goes to the test's tmp_path. Then: a link reproduces the view and the sidebar carries it on, and changing the
month writes it into the address.

Waits are for elements (Streamlit keeps a websocket open, so "network idle" never comes).
Needs /usr/bin/chromium (`make system-deps` installs it); never downloads browsers (`playwright install`).
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.browser import (  # skips this module where Chromium or Playwright is missing
    GRID_ROWS,
    LANGS,
    MAIN,
    SIDEBAR,
    TITLE,
    assert_chinese_is_not_tofu,
    assert_no_exception,
    cjk_fonts,
    expect,
    full_page_screenshot,
    grid_row,
    selectbox,
    serving,
    sidebar_link,
    wait_until_drawn,
)


@pytest.fixture(scope="module")
def dashboard_url(pristine, tmp_path_factory):
    """`streamlit run app.py` on a copy of the demo store ending in October 2026; stopped after the module."""
    workdir = tmp_path_factory.mktemp("browser")
    store = workdir / "safety.duckdb"
    shutil.copy(pristine, store)
    with serving(store, workdir / "streamlit.log") as url:
        yield url


def catalog_row(page, code: str):
    """The catalog grid's row whose first cell is exactly `code`."""
    return page.locator(GRID_ROWS).filter(has=page.locator("td").first.get_by_text(code, exact=True))


# --- every page in both languages ------------------------------------------------------------------------------

def check_overview(page, lang: str) -> None:
    zh = lang == "zh"
    expect(page.get_by_text("一票否决：北川煤矿（死亡人数 1），本年累计得分归零" if zh else
                            "Veto: Beichuan Coal Mine (Fatalities 1); its year-to-date score is 0")).to_be_visible()
    expect(page.get_by_text("逾期未报（截止 11月10日）：铁运公司" if zh else "Not reported by the deadline (10 Nov): "
                                                                             "Railway Transport Co.")).to_be_visible()
    labels = page.locator(f"{MAIN} [data-testid='stMetricLabel']")
    for text in (("死亡人数", "LTIFR", "隐患整改率", "报送单位") if zh else
                 ("Fatalities", "LTIFR", "Rectification", "Reported")):
        expect(labels.filter(has_text=text)).to_be_visible()
    reported = page.locator(f"{MAIN} [data-testid='stMetric']").filter(
        has_text="报送单位" if zh else "Reported")
    expect(reported.locator("[data-testid='stMetricValue']")).to_have_text("11 / 12")
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()


def check_ranking(page, lang: str) -> None:
    zh = lang == "zh"
    expect(grid_row(page, "北川煤矿" if zh else "Beichuan Coal Mine")).to_contain_text("否决" if zh else "Veto")
    expect(grid_row(page, "铁运公司" if zh else "Railway Transport Co.")) \
        .to_contain_text("未报" if zh else "Not reported")
    expect(page.get_by_text("单位 × 指标 状态热力图" if zh else "Units × indicators by status")).to_be_visible()
    heat_map = page.locator(".js-plotly-plot").filter(has=page.locator("g.hm image"))
    expect(heat_map).to_be_visible()


def check_trends(page, lang: str) -> None:
    zh = lang == "zh"
    expect(page.locator(f"{MAIN} h3", has_text="伤害率控制图（u 图）" if zh else
                        "Injury-rate control chart (u-chart)")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    for chart in page.locator(".js-plotly-plot").all():
        expect(chart).to_be_visible()
    expect(page.get_by_text("超出统计控制限的月份：" if zh else "Beyond the statistical control "
                                                                "limit:")).to_be_visible()


def check_breaches(page, lang: str) -> None:
    zh = lang == "zh"
    expect(page.locator(f"{MAIN} [data-testid='stDownloadButton']").filter(
        has_text="下载 Excel" if zh else "Download Excel")).to_be_visible()
    expect(grid_row(page, "一票否决" if zh else "Veto", "北川煤矿" if zh else "Beichuan Coal Mine")).to_have_count(1)
    # High severity comes first: out of control is among the first rows.
    expect(grid_row(page, "超出统计控制限" if zh else "Beyond the control limit",
                    "矿山建设公司" if zh else "Mine Construction Co.")
           ).to_have_count(1)
    # Late is a medium flag after the yellow ones: scroll the grid to its end to bring it into view.
    page.locator(f"{MAIN} [data-testid='stDataFrame']").hover()
    page.mouse.wheel(0, 5000)
    expect(grid_row(page, "迟报" if zh else "Late", "通达物流公司" if zh else "Tongda Logistics Co.")).to_have_count(1)


def check_unit(page, lang: str) -> None:
    zh = lang == "zh"
    expect(selectbox(page, "单位" if zh else "Unit")) \
        .to_have_value("北川煤矿 (CM03)" if zh else "Beichuan Coal Mine (CM03)")
    expect(page.locator(f"{MAIN} [data-testid='stAlertContentError']")).to_contain_text(
        "本年一票否决：死亡人数" if zh else "Vetoed this year: Fatalities")
    grade = page.locator(f"{MAIN} [data-testid='stMetric']").filter(has_text="等级" if zh else "Grade")
    expect(grade.locator("[data-testid='stMetricValue']")).to_have_text("⛔ 否决" if zh else "⛔ Veto")
    expect(page.locator(".js-plotly-plot")).to_have_count(2)


def check_indicators(page, lang: str) -> None:
    zh = lang == "zh"
    expect(page.locator("[role='tab'][aria-selected='true']")).to_have_text("指标目录" if zh else "Indicator catalog")
    expect(page.get_by_text("共 54 项指标" if zh else "54 indicators;")).to_be_visible()
    # The grid's accessible table: the injury frequency rate's row and a definition that cites GB 6441.
    expect(catalog_row(page, "injury_freq_rate")).to_contain_text("GB 6441")
    expect(catalog_row(page, "fatalities")).to_contain_text("GB 6441-1986")
    expect(catalog_row(page, "injuries")).to_have_count(1)  # not serious_injuries nor lost_time_injuries
    # Outside the grid: the definition of the indicator picked under it (the first, fatalities, by default).
    expect(page.locator(f"{MAIN} [data-testid='stMarkdownContainer']", has_text="GB 6441-1986").first).to_be_visible()


def check_upload(page, lang: str) -> None:
    zh = lang == "zh"
    expander = page.locator(f"{MAIN} [data-testid='stExpander']").filter(
        has_text="下载填报模板" if zh else "Download the template")
    expect(expander).to_be_visible()
    expander.locator("summary").click()
    expect(expander.locator("[data-testid='stDownloadButton']").filter(
        has_text="模板 CSV（Excel 可直接打开）" if zh else "Template CSV (opens in Excel)")).to_be_visible()
    expect(page.locator(f"{MAIN} [data-testid='stFileUploader']").first).to_be_visible()
    expect(page.locator(f"{MAIN} h3", has_text="提交记录" if zh else "Batch history")).to_be_visible()


@dataclass(frozen=True)
class PageCase:
    path: str
    titles: dict[str, str]
    check: Callable


PAGES = {
    "overview": PageCase("/", {"zh": "集团安全生产指标看板", "en": "Group Safety Production Dashboard"},
                         check_overview),
    "ranking": PageCase("/ranking", {"zh": "排名", "en": "Ranking"}, check_ranking),
    "trends": PageCase("/trends", {"zh": "趋势", "en": "Trends"}, check_trends),
    "breaches": PageCase("/breaches", {"zh": "预警与问责", "en": "Breaches"}, check_breaches),
    "unit": PageCase("/unit?unit=CM03", {"zh": "单位详情", "en": "Unit detail"}, check_unit),
    "indicators": PageCase("/indicators", {"zh": "指标与目标", "en": "Indicators and targets"}, check_indicators),
    "upload": PageCase("/upload", {"zh": "上传数据", "en": "Upload data"}, check_upload),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads(dashboard_url, new_page, tmp_path, name, lang):
    case = PAGES[name]
    page = new_page()
    separator = "&" if "?" in case.path else "?"
    page.goto(f"{dashboard_url}{case.path}{separator}lang={lang}")
    expect(page.locator(TITLE)).to_have_text(case.titles[lang])
    case.check(page, lang)
    wait_until_drawn(page)
    assert_no_exception(page)
    # Chinese is drawn with a CJK font: the title in Chinese, the language switch's 中文 in English.
    assert_chinese_is_not_tofu(page, TITLE if lang == "zh" else f"{SIDEBAR} [data-testid='stRadio']")
    if name == "overview" and lang == "zh":  # the charts name their own font (ui/style.py CHART_FONT)
        assert_chinese_is_not_tofu(page, ".js-plotly-plot .yaxislayer-above")
    full_page_screenshot(page, tmp_path / f"{name}-{lang}.png")


def test_page_text_is_drawn_with_the_simplified_chinese_face(dashboard_url, new_page):
    page = new_page()
    page.goto(f"{dashboard_url}/?lang=zh")
    expect(page.locator(TITLE)).to_have_text("集团安全生产指标看板")
    fonts = cjk_fonts(page, TITLE)
    assert {f["familyName"] for f in fonts} == {"Noto Sans CJK SC"}, fonts


# --- the view lives in the URL ---------------------------------------------------------------------------------

def test_a_link_reproduces_the_view_and_the_sidebar_carries_it(dashboard_url, new_page, tmp_path):
    page = new_page()
    page.goto(f"{dashboard_url}/unit?lang=en&month=2026-09&unit=CH01")
    expect(page.locator(TITLE)).to_have_text("Unit detail")
    expect(selectbox(page, "Unit")).to_have_value("Huayuan Chemical Co. (CH01)")
    expect(selectbox(page, "Month", SIDEBAR)).to_have_value("Sep 2026")
    expect(page.get_by_text("Sep 2026 · Year to date")).to_be_visible()
    assert_no_exception(page)

    sidebar_link(page, "Ranking").click()
    expect(page).to_have_url(re.compile(r"/ranking\?"))
    expect(page.locator(TITLE)).to_have_text("Ranking")
    expect(page).to_have_url(re.compile(r"[?&]month=2026-09(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]lang=en(&|$)"))
    expect(selectbox(page, "Month", SIDEBAR)).to_have_value("Sep 2026")
    expect(page.get_by_text("Sep 2026 · Year to date")).to_be_visible()
    assert_no_exception(page)
    full_page_screenshot(page, tmp_path / "ranking-from-link-en.png")


def test_changing_the_month_on_the_overview_updates_the_url(dashboard_url, new_page, tmp_path):
    page = new_page()
    page.goto(f"{dashboard_url}/?lang=zh")
    expect(page.locator(TITLE)).to_have_text("集团安全生产指标看板")
    expect(page).to_have_url(re.compile(r"[?&]month=2026-10(&|$)"))  # the default (latest) month is published

    selectbox(page, "统计月份", SIDEBAR).click()
    page.get_by_role("option", name="2026年9月", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]month=2026-09(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]lang=zh(&|$)"))
    expect(page.get_by_text("2026年9月 · 本年累计")).to_be_visible()
    wait_until_drawn(page)
    assert_no_exception(page)
    full_page_screenshot(page, tmp_path / "overview-september-zh.png")


def test_the_u_chart_shows_mine_construction_out_of_control(dashboard_url, new_page):
    page = new_page()
    page.goto(f"{dashboard_url}/trends?lang=zh")
    expect(page.locator(TITLE)).to_have_text("趋势")
    selectbox(page, "对象").click()
    page.get_by_role("option", name="矿山建设公司", exact=True).click()
    expect(selectbox(page, "对象")).to_have_value("矿山建设公司")
    expect(page.get_by_text(re.compile(r"^超出统计控制限的月份：.*2026-10"))).to_be_visible()
    assert_no_exception(page)
