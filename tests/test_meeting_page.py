"""Meeting mode (pages/meeting.py) run headless with Streamlit's AppTest on the demo store ending in October
2026: every slide of `Bulletin.slides` in order in both languages, the headline figures and the veto as metrics
computes them, the slide in the URL, scorecards added as slides, and stores with nothing to show."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import overview, store
from metrics.bulletin import SlideKind, build_bulletin
from metrics.initialise import init_store
from tests.builders import add_user, signed_in

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/meeting.py"
END_MONTH = date(2026, 10, 1)
COUNTER = re.compile(r"^\*\*(\d+) / (\d+)\*\*$")


@pytest.fixture(scope="module")
def demo_store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("meeting") / "safety.duckdb"
    init_store(path, with_demo=True, end_month=END_MONTH)
    return path


@pytest.fixture(scope="module")
def bulletin(demo_store_path):
    with store.connect(demo_store_path, read_only=True) as con:
        return build_bulletin(con, END_MONTH)


@pytest.fixture
def demo_app(demo_store_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(demo_store_path))
    return AppTest.from_file(str(APP), default_timeout=60)


def exceptions(at: AppTest) -> list[str]:
    return [e.message for e in at.exception]


def open_meeting(app: AppTest, **params: str) -> AppTest:
    app.query_params.update(params)
    app.switch_page(PAGE)
    at = app.run()
    assert not at.exception, exceptions(at)
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, exceptions(at)
    return at


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return rerun(at)


def counter(at: AppTest) -> tuple[int, int]:
    shown = [m.group(1, 2) for m in (COUNTER.match(md.value) for md in at.markdown) if m]
    assert len(shown) == 1, shown
    return int(shown[0][0]), int(shown[0][1])


def title(at: AppTest) -> str:
    titles = [t.value for t in at.title]
    assert len(titles) == 1, titles
    return titles[0]


def url_slide(at: AppTest) -> str:
    value = at.query_params["slide"]
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_next_button_steps_through_every_slide_in_order(demo_app, bulletin, lang):
    slides = bulletin.slides(lang)
    assert len(slides) == 6
    at = open_meeting(demo_app, lang=lang)
    assert at.button(key="slide_previous").disabled
    for number, slide in enumerate(slides, start=1):
        assert counter(at) == (number, len(slides))
        assert title(at) == slide.title
        assert url_slide(at) == str(number)
        if number < len(slides):
            assert not at.button(key="slide_next").disabled
            at = press(at, "slide_next")
    assert at.button(key="slide_next").disabled, "the last slide has no next"
    assert at.selectbox(key="slide").options == [f"{i}. {s.title}" for i, s in enumerate(slides, start=1)]


def test_previous_at_the_first_slide_stays_there(demo_app, bulletin):
    at = open_meeting(demo_app)
    assert counter(at) == (1, 6)
    assert at.button(key="slide_previous").disabled, "nothing before the first slide"
    at = press(at, "slide_next")
    assert counter(at) == (2, 6)
    at = press(at, "slide_previous")
    assert counter(at) == (1, 6) and at.session_state["slide"] == 1
    assert title(at) == bulletin.slides("zh")[0].title
    assert at.button(key="slide_previous").disabled


def test_the_headline_slide_shows_what_metrics_computes(demo_app, demo_store_path):
    with store.connect(demo_store_path, read_only=True) as con:
        ov = overview.build_overview(con, END_MONTH)
    at = open_meeting(demo_app)
    assert title(at) == "2026年10月集团安全生产总体情况"
    shown = {m.label: m.value for m in at.metric}
    deltas = {m.label: m.delta for m in at.metric}
    h = ov.headlines
    assert shown["死亡人数"] == f"{h['fatalities'].value:g}" == "1"
    assert shown["LTIFR"] == f"{round(h['ltifr'].value, 2):g}"
    assert deltas["LTIFR"] == f"{round(h['ltifr'].value - h['ltifr'].previous, 2):+g}"
    assert shown["隐患整改率"] == f"{round(h['rectification_rate'].value, 1):g}%"
    assert shown["超标（红）"] == str(ov.red) == "9"
    assert deltas["超标（红）"] == f"+{ov.red - int(h['red'].previous)}"
    assert shown["预警（黄）"] == str(ov.yellow)
    assert shown["报送单位"] == f"{int(h['reported'].value)} / {ov.expected}" == "11 / 12"
    assert shown["集团安全生产天数"] == f"{ov.safe_days_fatality['*'].days:,} 天"
    assert shown["集团无损失工时伤害天数"] == f"{ov.safe_days_lost_time['*'].days:,} 天"
    assert shown["一票否决"] == str(len(ov.vetoed_units)) == "1"
    assert f"较去年同期 +{ov.red - int(h['red'].last_year)}" in [c.value for c in at.caption]
    assert [e.value for e in at.error] == ["一票否决：北川煤矿（死亡人数 1），本年累计得分归零"]
    assert [w.value for w in at.warning] == ["逾期未报（截止 11月10日）：铁运公司"]


@pytest.mark.parametrize("lang, veto", [
    ("zh", "北川煤矿　一票否决：本年累计死亡人数 1，按目标责任书一票否决，考核得分计为 0"),
    ("en", "Beichuan Coal Mine: Veto: Fatalities is 1, beyond the limit 0; the period's score is 0"),
])
def test_the_veto_slide_names_the_mine_with_its_numbers(demo_app, bulletin, lang, veto):
    at = open_meeting(demo_app, lang=lang, slide="2")
    assert title(at) == bulletin.slides(lang)[1].title
    assert [e.value for e in at.error] == [veto]
    red = at.table[0].value
    names = {r.code: (r.name_zh, r.name_en) for r in bulletin.reference.indicators.itertuples(index=False)}
    reds = [b for b in bulletin.flagged() if b.kind == "red"]
    assert len(reds) == 8  # 9 red flags, one of them the veto shown above
    assert list(red.iloc[:, 0]) == [b.unit_name(lang) for b in reds]
    assert list(red.iloc[:, 1]) == [b.message(lang, names) for b in reds]
    assert ("北川煤矿" if lang == "zh" else "Beichuan Coal Mine") in list(red.iloc[:, 0])


def test_the_slide_lives_in_the_url(demo_app, bulletin):
    at = open_meeting(demo_app, slide="3")
    assert counter(at) == (3, 6) and title(at) == "单位考核排名（本年累计）"
    ranking = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = bulletin.names("zh")
    assert list(ranking["data"][0]["y"]) == [names[c] for c in reversed(bulletin.overview.units["subsidiary"])]
    at.selectbox(key="slide").set_value(5)
    at = rerun(at)
    assert title(at) == "重点指标趋势" and url_slide(at) == "5"
    assert len(at.get("plotly_chart")) == 3


def test_the_month_comes_from_the_url_and_the_picker(demo_app, demo_store_path):
    at = open_meeting(demo_app, month="2026-09")
    assert title(at) == "2026年9月集团安全生产总体情况"
    with store.connect(demo_store_path, read_only=True) as con:
        september = overview.build_overview(con, date(2026, 9, 1))
    assert {m.label: m.value for m in at.metric}["超标（红）"] == str(september.red)
    at.selectbox(key="month").set_value(END_MONTH)
    at = rerun(at)
    assert title(at) == "2026年10月集团安全生产总体情况"
    assert at.query_params["month"] in ("2026-10", ["2026-10"])


@pytest.mark.parametrize("asked, shown", [("99", 6), ("0", 1), ("abc", 1)])
def test_a_slide_that_does_not_exist_falls_back(demo_app, asked, shown):
    at = open_meeting(demo_app, slide=asked)
    assert counter(at) == (shown, 6)
    assert url_slide(at) == str(shown)


def test_adding_a_scorecard_adds_a_slide(demo_app, bulletin):
    at = open_meeting(demo_app, slide="6")
    assert counter(at) == (6, 6) and at.button(key="slide_next").disabled
    at.multiselect(key="meeting_scorecards").set_value(["CM03"])
    at = rerun(at)
    assert counter(at) == (6, 7)
    at = press(at, "slide_next")
    slides = bulletin.slides("zh", ["CM03"])
    assert slides[-1].kind is SlideKind.SCORECARD
    assert counter(at) == (7, 7) and title(at) == slides[-1].title == "北川煤矿记分卡"
    assert [e.value for e in at.error] == ["本年一票否决：死亡人数"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["等级"] == "⛔ 否决" and shown["排名"] == "11 / 12"
    assert len(at.table[0].value) == len(bulletin.scorecard("CM03"))
    at.multiselect(key="meeting_scorecards").set_value([])
    at = rerun(at)
    assert counter(at) == (6, 6), "the slide shown falls back to the last one left"


def test_the_bulletin_files_are_offered_under_their_names(demo_app):
    at = open_meeting(demo_app)
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["下载 PPTX 演示文稿", "下载 PDF", "下载 Excel 数据"]
    at = open_meeting(AppTest.from_file(str(APP), default_timeout=60), lang="en")
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download the PPTX slides", "Download the PDF", "Download the Excel data"]


def test_an_empty_store_gives_a_message_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "empty.duckdb"
    init_store(path)
    add_user(path, "admin")
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = open_meeting(signed_in(AppTest.from_file(str(APP), default_timeout=60), "admin"))
    assert title(at) == "会议模式"
    assert [i.value for i in at.info] == ["库中还没有指标数据。"]


def test_data_without_targets_still_renders_every_slide(tmp_path, monkeypatch):
    path = tmp_path / "no_targets.duckdb"
    init_store(path, with_demo=True, end_month=END_MONTH)
    with store.connect(path) as con:
        con.execute("DELETE FROM targets")
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = open_meeting(AppTest.from_file(str(APP), default_timeout=60))
    for _ in range(counter(at)[1] - 1):
        at = press(at, "slide_next")
    assert counter(at)[0] == counter(at)[1]
