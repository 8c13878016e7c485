"""Every page of the dashboard run headless with Streamlit's AppTest against a deterministic demo store.

The demo ends in October 2026: 北川煤矿 (CM03) is vetoed for a fatality, 铁运公司 (LG02) has not reported
the latest month, 通达物流公司 (LG01) reported it late, 矿山建设公司 (CN02) is out of statistical control and
鑫泰热电公司 (PW01) is suspiciously silent about hazards. The figures a page shows are compared with what
`metrics` computes on the same store.

AppTest limitation: the month/basis radio formats its options with `t()`, which reads the language from
session state when AppTest re-formats it *between* runs (outside the script). After switching to English,
a further rerun therefore fails inside AppTest (not in a browser), so the English checks below each use a
single run after the switch.
"""
from __future__ import annotations

import base64
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.ingest.initialise import init_store
from metrics.ingest.targets import export_targets
from metrics.scoring import breaches, overview, scores
from tests.builders import add_user, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
END_MONTH = date(2026, 10, 1)
SEPTEMBER = date(2026, 9, 1)
VETO_BANNER_ZH = "一票否决：北川煤矿（死亡人数 1），本年累计得分归零"
VETO_BANNER_EN = "Veto: Beichuan Coal Mine (Fatalities 1); its year-to-date score is 0"
PAGES = ["app.py", "pages/ranking.py", "pages/trends.py", "pages/breaches.py", "pages/unit.py",
         "pages/indicators.py", "pages/upload.py"]
TITLES = {"zh": ["集团安全生产指标看板", "排名", "趋势", "预警与问责", "单位详情", "指标与目标", "上传数据"],
          "en": ["Group Safety Production Dashboard", "Ranking", "Trends", "Breaches", "Unit detail",
                 "Indicators and targets", "Upload data"]}


@pytest.fixture(scope="module")
def demo_store_path(pristine) -> Path:
    """The session's demo store ending in October 2026 (tests/conftest.py): these pages only read it."""
    return pristine


@pytest.fixture(scope="module")
def computed(demo_store_path):
    """What metrics computes for the demo's last two months, independently of the pages."""
    with store.connect(demo_store_path, read_only=True) as con:
        return {
            "overview": overview.build_overview(con, END_MONTH),
            "september": overview.build_overview(con, SEPTEMBER),
            "month_basis": overview.build_overview(con, END_MONTH, scores.Basis.MONTH),
            "ifr_ytd": overview.series(con, "injury_freq_rate", date(2025, 11, 1), END_MONTH, scores.Basis.YTD),
            "breaches": breaches.find_breaches(con, END_MONTH),
        }


@pytest.fixture
def demo_app(demo_store_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(demo_store_path))
    return AppTest.from_file(str(APP), default_timeout=60)


def exceptions(at: AppTest) -> list[str]:
    return [e.message for e in at.exception]


def open_page(app: AppTest, page: str) -> AppTest:
    if page != "app.py":
        app.switch_page(page)
    at = app.run()
    assert not at.exception, exceptions(at)
    return at


def metrics_of(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def numbers(field) -> list:
    """A trace's data as a list: Plotly writes numeric arrays as base64 typed arrays ({"dtype", "bdata"})."""
    if isinstance(field, dict) and "bdata" in field:
        return np.frombuffer(base64.b64decode(field["bdata"]), dtype=np.dtype(field["dtype"])).tolist()
    return list(field)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("index", range(len(PAGES)))
def test_every_page_renders_in_both_languages(demo_app, lang, index):
    demo_app.query_params["lang"] = lang
    at = open_page(demo_app, PAGES[index])
    assert [t.value for t in at.title] == [TITLES[lang][index]]
    assert at.query_params["lang"] == [lang] or at.query_params["lang"] == lang


# --- overview ----------------------------------------------------------------------------------------------

def test_overview_headlines_equal_what_metrics_computes(demo_app, computed):
    at = open_page(demo_app, "app.py")
    ov = computed["overview"]
    assert [e.value for e in at.error] == [VETO_BANNER_ZH]
    assert [w.value for w in at.warning] == ["逾期未报（截止 11月10日）：铁运公司"]  # the test runs after 10 November
    shown = metrics_of(at)
    h = ov.headlines
    assert shown["死亡人数 · 本年累计"] == "1"
    assert shown["LTIFR · 本年累计"] == f"{round(h['ltifr'].value, 2):g}"
    assert shown["隐患整改率 · 本年累计"] == f"{round(h['rectification_rate'].value, 1):g}%"
    assert shown["超标（红） · 本年累计"] == str(ov.red) == "9"
    assert shown["预警（黄） · 本年累计"] == str(ov.yellow)
    assert shown["报送单位 · 当月"] == "11 / 12"
    assert shown["一票否决"] == "1"
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["超标（红） · 本年累计"] == f"+{ov.red - int(h['red'].previous)}"
    captions = [c.value for c in at.caption]
    assert f"较去年同期 +{ov.red - int(h['red'].last_year)}" in captions
    days = ov.safe_days_fatality["*"].days
    assert shown["集团安全生产天数"] == f"{days:,} 天"


def test_overview_month_picker_changes_the_figures_and_the_url(demo_app, computed):
    at = open_page(demo_app, "app.py")
    assert at.query_params["month"] in ("2026-10", ["2026-10"])
    at.sidebar.selectbox(key="month").set_value(SEPTEMBER).run()
    assert not at.exception, exceptions(at)
    september = computed["september"]
    assert metrics_of(at)["超标（红） · 本年累计"] == str(september.red)
    assert at.query_params["month"] in ("2026-09", ["2026-09"])
    assert [w.value for w in at.warning] == [], "every unit reported September"


def test_overview_trend_follows_the_indicator_picker(demo_app, demo_store_path):
    at = open_page(demo_app, "app.py")
    at.selectbox(key="indicator").set_value("rectification_rate").run()
    assert not at.exception, exceptions(at)
    with store.connect(demo_store_path, read_only=True) as con:
        expected = overview.series(con, "rectification_rate", date(2024, 11, 1), END_MONTH)
    group = expected[expected["level"] == "group"]
    trend = figures(at)[1]
    line = next(trace for trace in trend["data"] if trace["name"] == "集团")
    assert numbers(line["y"]) == pytest.approx(group["value"].tolist())
    assert at.query_params["indicator"] in ("rectification_rate", ["rectification_rate"])


def test_a_link_opens_the_view_it_names(demo_app):
    demo_app.query_params.update({"lang": "en", "month": "2026-09", "basis": "month", "unit": "CH01"})
    at = open_page(demo_app, "pages/unit.py")
    assert at.sidebar.selectbox(key="month").value == SEPTEMBER
    assert at.sidebar.radio(key="basis").value == "month"
    assert at.selectbox(key="unit").value == "CH01"


def test_a_link_to_something_that_does_not_exist_falls_back_to_the_default(demo_app):
    demo_app.query_params.update({"month": "2031-01", "unit": "NOPE", "indicator": "bogus"})
    at = open_page(demo_app, "pages/unit.py")
    assert at.sidebar.selectbox(key="month").value == END_MONTH
    assert at.selectbox(key="unit").value == "CH01"


# --- ranking -----------------------------------------------------------------------------------------------

def test_ranking_equals_the_scoring_and_filters_by_sector(demo_app, computed):
    at = open_page(demo_app, "pages/ranking.py")
    table = at.dataframe[0].value
    ranked = computed["overview"].units
    assert table["排名"].tolist() == [str(r) for r in range(1, 12)] + ["—"]
    assert table["得分"].tolist() == pytest.approx(ranked["unit_score"].round(2).tolist(), nan_ok=True)
    assert table.loc[table["单位"] == "北川煤矿", "等级"].tolist() == ["⛔ 否决"]
    # 铁运公司 reported nothing for October: listed last, no rank, no score, not a decline, not D
    assert table["单位"].iloc[11] == "铁运公司" and pd.isna(table["得分"].iloc[11])
    assert table.loc[table["单位"] == "铁运公司", "名次变化"].tolist() == ["—"]
    assert table.loc[table["单位"] == "铁运公司", "等级"].tolist() == ["○ 未报"]
    assert set(table["名次变化"]) <= {"—", "="} | {f"{a}{n}" for a in "↑↓" for n in range(1, 12)}
    assert len(table["近 12 个月得分"].iloc[0]) == 12
    heat = figures(at)[0]["data"][0]
    assert len(heat["y"]) == 12 and "死亡人数" in heat["x"]
    row = heat["y"].index("北川煤矿")
    assert heat["text"][row][heat["x"].index("死亡人数")] == "✖"

    at.multiselect(key="ranking_sectors").set_value(["coal"]).run()
    assert not at.exception, exceptions(at)
    coal = at.dataframe[0].value
    assert set(coal["单位"]) == {"东峰煤矿", "西岭煤矿", "北川煤矿", "南塬煤矿"}
    assert [int(r) for r in coal["排名"]] == sorted(int(r) for r in coal["排名"])


def test_ranking_on_the_month_basis(demo_app, computed):
    at = open_page(demo_app, "pages/ranking.py")
    at.sidebar.radio(key="basis").set_value("month").run()
    assert not at.exception, exceptions(at)
    table = at.dataframe[0].value
    assert table["得分"].tolist() == pytest.approx(computed["month_basis"].units["unit_score"].round(2).tolist(),
                                                nan_ok=True)


# --- trends ------------------------------------------------------------------------------------------------

def test_trends_year_to_date_line_equals_the_series(demo_app, computed):
    at = open_page(demo_app, "pages/trends.py")
    at.selectbox(key="indicator").set_value("injury_freq_rate").run()
    at.radio(key="trend_view").set_value("ytd").run()
    assert not at.exception, exceptions(at)
    chart = figures(at)[0]
    group = next(trace for trace in chart["data"] if trace["name"] == "集团")
    expected = computed["ifr_ytd"]
    expected = expected[expected["level"] == "group"]
    assert numbers(group["y"])[-12:] == pytest.approx(expected["value"].tolist())
    target = next(trace for trace in chart["data"] if trace["name"] == "目标值")
    assert numbers(target["y"])[-12:] == pytest.approx([1.0] * 12)
    assert {trace["name"] for trace in chart["data"]} >= {"集团", "去年同期", "目标值", "控制值"}


def test_trends_compare_several_lines(demo_app):
    at = open_page(demo_app, "pages/trends.py")
    at.multiselect(key="trend_entities").set_value(["group:*", "sector:coal", "unit:CN02"]).run()
    assert not at.exception, exceptions(at)
    names = [trace["name"] for trace in figures(at)[0]["data"]]
    assert names == ["集团", "板块 · 煤矿", "矿山建设公司"]


def test_the_control_chart_marks_the_out_of_control_month(demo_app):
    at = open_page(demo_app, "pages/trends.py")
    at.selectbox(key="u_chart_unit").set_value("CN02").run()
    assert not at.exception, exceptions(at)
    assert any("2026-10" in e.value for e in at.error), [e.value for e in at.error]
    rate = next(trace for trace in figures(at)[1]["data"] if trace["name"] == "百万工时伤害率")
    assert rate["marker"]["symbol"][-1] == "x"


# --- breaches ----------------------------------------------------------------------------------------------

def test_breaches_page_lists_every_flag_with_its_numbers(demo_app, computed):
    at = open_page(demo_app, "pages/breaches.py")
    table = at.dataframe[0].value
    assert len(table) == len(computed["breaches"])
    rows = set(zip(table["类型"], table["单位"]))
    assert {("一票否决", "北川煤矿"), ("超出统计控制限", "矿山建设公司"), ("未排查出隐患（需核实）", "鑫泰热电公司"),
            ("未报", "铁运公司"), ("迟报", "通达物流公司"), ("连续变差", "华源化工有限公司")} <= rows
    veto = table[table["类型"] == "一票否决"].iloc[0]
    assert (veto["单位"], veto["严重程度"], veto["本期值"], veto["控制值"]) == ("北川煤矿", "✖ 高", "1", "0")
    late = table[table["类型"] == "迟报"].iloc[0]
    assert "2026-11-13 16:20" in late["说明"]
    assert {b.label for b in at.get("download_button")} == {"下载 Excel", "下载 CSV"}

    at.multiselect(key="breach_kinds").set_value(["silence"]).run()
    assert not at.exception, exceptions(at)
    assert at.dataframe[0].value["单位"].tolist() == ["鑫泰热电公司"]
    at.multiselect(key="breach_kinds").set_value([]).run()
    at.multiselect(key="breach_sectors").set_value(["coal"]).run()
    assert set(at.dataframe[0].value["单位"]) == {"北川煤矿", "东峰煤矿"}  # the coal mines with a flag
    rules = [md.value for md in at.expander[0].markdown]
    assert rules[0].startswith("**一票否决**：") and len(rules) == len(set(at.dataframe[0].value["类型"]))


def test_breaches_page_in_english(demo_app):
    demo_app.query_params["lang"] = "en"
    at = open_page(demo_app, "pages/breaches.py")
    kinds = set(at.dataframe[0].value["Kind"])
    assert {"Veto", "Red", "Yellow", "Not reported", "Late", "Beyond the control limit",
            "No hazards found (to verify)"} <= kinds


# --- unit scorecard ----------------------------------------------------------------------------------------

def test_unit_scorecard_from_the_url_and_the_picker(demo_app, computed):
    demo_app.query_params["unit"] = "CM03"
    at = open_page(demo_app, "pages/unit.py")
    assert at.selectbox(key="unit").value == "CM03"
    assert [e.value for e in at.error] == ["本年一票否决：死亡人数"]
    shown = metrics_of(at)
    assert shown["等级"] == "⛔ 否决"
    assert shown["排名"] == "11 / 11"
    table = at.dataframe[0].value
    fatalities = table.iloc[0]  # the red veto indicator first, then the other breached ones
    assert (fatalities["指标"], fatalities["状态"]) == ("⛔ 死亡人数", "✖ 超标")
    assert len(fatalities["近 12 个月"]) == 12
    statuses = list(table["状态"])
    breached = [s for s in statuses if s.startswith(("✖", "▲"))]
    assert statuses[:len(breached)] == breached and len(breached) >= 2
    submissions = at.dataframe[1].value
    assert len(submissions) == 36
    assert (submissions["是否按时"] == "✔").all()

    at.selectbox(key="unit").set_value("LG01").run()
    assert not at.exception, exceptions(at)
    lg01 = computed["overview"].units.set_index("subsidiary").loc["LG01"]
    assert metrics_of(at)["综合得分"] == f"{round(lg01['unit_score'], 2):g}"
    late = at.dataframe[1].value.iloc[0]
    assert (late["涉及月份"], late["是否按时"]) == ("2026-10", "✖ 迟报")
    assert at.query_params["unit"] in ("LG01", ["LG01"])


# --- indicators and targets --------------------------------------------------------------------------------

def test_indicators_catalog_shows_definitions_and_formulas(demo_app):
    at = open_page(demo_app, "pages/indicators.py")
    catalog = at.dataframe[0].value
    assert len(catalog) == 54
    assert catalog[catalog["编码"] == "days_to_close"].iloc[0]["公式"] == "销号隐患整改用时合计 ÷ 验收销号隐患数"
    rate = catalog[catalog["编码"] == "injury_freq_rate"].iloc[0]
    assert rate["公式"] == "负伤人数（轻伤及以上） × 1,000,000 ÷ 实际工时（小时）"
    assert "GB 6441" in rate["口径说明"]
    assert rate["方向"] == "↓ 越低越好"
    targets = at.dataframe[1].value
    assert len(targets) > 30


@pytest.fixture
def writable_app(db, monkeypatch) -> tuple[AppTest, Path]:
    monkeypatch.setenv("SAFETY_DB", str(db))
    return AppTest.from_file(str(APP), default_timeout=60), db


def test_a_bad_targets_file_is_rejected_whole_and_changes_nothing(writable_app):
    app, path = writable_app
    with store.connect(path, read_only=True) as con:
        before = export_targets(con, 2026)
    bad = ("year,subsidiary,indicator,target,limit,weight,veto\n"
           "2026,*,injuries,4,2,10,false\n"
           "2026,*,training_hours,100,50,-1,false\n")
    at = open_page(app, "pages/indicators.py")
    at.file_uploader(key="targets_file").upload("targets.csv", bad.encode("utf-8"), "text/csv")
    at.run()
    at.button(key="import_targets_go").click().run()
    assert not at.exception, exceptions(at)
    assert [e.value for e in at.error] == ["有 2 处错误，未写入任何目标。"]
    problems = at.dataframe[-1].value
    assert problems["行"].tolist() == [2, 3]
    assert problems["列"].tolist() == ["limit", "weight"]
    with store.connect(path, read_only=True) as con:
        assert export_targets(con, 2026) == before


def test_a_good_targets_file_replaces_the_year(writable_app):
    app, path = writable_app
    good = ("year,subsidiary,indicator,target,limit,weight,veto\n"
            "2027,*,fatalities,0,0,20,true\n"
            "2027,CM01,injuries,3,6,10,false\n")
    at = open_page(app, "pages/indicators.py")
    at.file_uploader(key="targets_file").upload("targets.csv", good.encode("utf-8"), "text/csv")
    at.run()
    at.button(key="import_targets_go").click().run()
    assert not at.exception, exceptions(at)
    assert [s.value for s in at.success] == ["已导入 2 项目标（替换 2027 年）。"]
    with store.connect(path, read_only=True) as con:
        assert export_targets(con, 2027).splitlines()[1:] == ["2027,*,fatalities,0,0,20,true",
                                                              "2027,CM01,injuries,3,6,10,false"]


# --- empty, partial and brand-new stores -------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_an_empty_store_gives_a_message_not_a_traceback(tmp_path, monkeypatch, page):
    path = tmp_path / "empty.duckdb"
    init_store(path)
    add_user(path, "admin")
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = open_page(signed_in(AppTest.from_file(str(APP), default_timeout=60), "admin"), page)
    expected = {"pages/upload.py": "上传月报文件", "pages/indicators.py": "还没有任何年度目标。可在下方导入目标 CSV。"}
    shown = [i.value for i in at.info] + [h.value for h in at.subheader]
    assert expected.get(page, "库中还没有指标数据。") in shown


@pytest.mark.parametrize("page", PAGES)
def test_data_without_targets_still_renders(db, monkeypatch, page):
    with store.connect(db) as con:
        con.execute("DELETE FROM targets")
    monkeypatch.setenv("SAFETY_DB", str(db))
    at = open_page(AppTest.from_file(str(APP), default_timeout=60), page)
    if page == "pages/ranking.py":
        assert "本年度还没有目标，无法判定状态。请在“指标与目标”页导入目标。" in [i.value for i in at.info]


MISSING_STORE = {
    "zh": "找不到数据库文件 `{path}`。看板不会自行新建数据库，也不会改用演示数据，以免正式数据被空库或示例数据顶替；"
          "数据库恢复之前，任何人都无法登录。",
    "en": "There is no store at `{path}`. The dashboard does not create one, nor fall back to demo data, so a "
          "production store is never replaced by an empty or a sample one; nobody can sign in until the store is back.",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", ["app.py", "pages/users.py", "pages/upload.py"])
def test_a_missing_store_is_an_error_page_and_nothing_is_made(tmp_path, monkeypatch, lang, page):
    """SAFETY_DB names a file that is not there (moved aside, as restore tells an operator to do): every page
    says so and what to do, signs nobody in, shows no data and creates nothing, not even the folder."""
    path = tmp_path / "production" / "safety.duckdb"
    monkeypatch.setenv("SAFETY_DB", str(path))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["lang"] = lang
    at = open_page(app, page)
    assert [e.value for e in at.error] == [MISSING_STORE[lang].format(path=path)]
    todo = " ".join(m.value for m in at.markdown)
    assert f"python -m metrics restore {'备份目录' if lang == 'zh' else 'BACKUP_DIR'} --db {path} --yes" in todo
    assert f"python -m metrics init --db {path}" in todo
    assert not at.text_input and not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert not at.sidebar.get("page_link") and "signed_in_user" not in at.session_state
    assert not path.parent.exists()


def test_a_store_put_back_is_served_again(tmp_path, monkeypatch, pristine):
    path = tmp_path / "safety.duckdb"
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = open_page(AppTest.from_file(str(APP), default_timeout=60), "app.py")
    assert [e.value for e in at.error] == [MISSING_STORE["zh"].format(path=path)]
    shutil.copy(pristine, path)
    at.run()
    assert not at.exception
    assert [m.label for m in at.metric][:1] == ["死亡人数 · 本年累计"] and VETO_BANNER_ZH in [e.value for e in at.error]


@pytest.mark.parametrize("value, digits, shown", [
    (10, 0, "+10"), (-20.0, 0, "-20"), (0.001, 2, "0"), (1.5, 2, "+1.5"), (100.0, 2, "+100"), (-0.37, 2, "-0.37"),
    (None, 2, None), (float("nan"), 2, None),
])
def test_changes_read_as_a_person_writes_them(value, digits, shown):
    from ui.widgets import change_text
    assert change_text(value, digits) == shown
