"""Meeting mode (pages/meeting.py) run headless with Streamlit's AppTest on the demo store ending in October
2026 (and a synthetic 40-unit group): every slide of `sections.sections` in order in both languages, the
headline figures and the veto as metrics computes them, the page's slides and the PPTX's read back with
python-pptx saying the same (titles, figures, banners, table cells), a unit that has not reported shown as
pending or overdue, never graded, the slide in the URL, scorecards added as slides, and stores with nothing to
show. That every slide fits the screen is tests/test_browser_meeting.py's (a real browser)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.ingest.initialise import init_store
from metrics.reports import chart_images
from metrics.reports.bulletin import SlideKind, build_bulletin
from metrics.reports.sections import sections
from metrics.reports.slides import bulletin_pptx
from metrics.scoring import overview
from tests.builders import add_user, signed_in, synthetic_group

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/meeting.py"
END_MONTH = date(2026, 10, 1)
AFTER_DEADLINE, BEFORE_DEADLINE = "2026-11-20T09:00", "2026-11-05T09:00"  # October's deadline: 10 November
COUNTER = re.compile(r"^\*\*(\d+) / (\d+)\*\*$")
COLOURED = re.compile(r":\w+\[(.*?)\]")


@pytest.fixture(autouse=True)
def after_the_deadline(monkeypatch):
    """The moment the product takes as now: after October's reporting deadline unless a test says otherwise."""
    monkeypatch.setenv("SAFETY_NOW", AFTER_DEADLINE)


@pytest.fixture(scope="module")
def demo_store_path(pristine) -> Path:
    """The session's demo store ending in October 2026 (tests/conftest.py): the meeting page only reads it."""
    return pristine


@pytest.fixture(scope="module")
def group_store_path(tmp_path_factory) -> Path:
    """40 synthetic units over 13 months: a ranking over three slides, flags and rectification cut."""
    return synthetic_group(tmp_path_factory.mktemp("meeting_group") / "group.duckdb", 40, 13)


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


def slide_list(at: AppTest):
    """The list to jump to a slide: a new widget on every slide, its key naming the slide shown."""
    (shown,) = [s for s in at.selectbox if (s.key or "").startswith("slide_jump_")]
    return shown


def go(at: AppTest, number: int) -> AppTest:
    """Slide `number` through the slide list (the session's slide outranks the URL's)."""
    slide_list(at).set_value(number)
    return rerun(at)


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


def table_rows(at: AppTest, index: int = 0) -> list[list[str]]:
    frame = at.table[index].value
    return [list(frame.columns)] + frame.astype(str).values.tolist()


@dataclass
class Shown:
    """What one slide says, read from the page or from the deck."""
    title: str
    tiles: list[tuple[str, ...]]
    """Label, figure and change lines of each headline tile."""
    notes: list[str]
    headings: list[str]
    """Table captions and chart titles."""
    tables: list[list[list[str]]]
    """Each table's header row and rows, cell by cell."""


def page_slide(at: AppTest) -> Shown:
    captions = [c.value for c in at.main.caption][len(at.main.caption) - len(at.metric):]  # the files note first
    tiles = [(m.label, m.value, *[COLOURED.sub(r"\1", line) for line in caption.split("  \n")
                                  if line != "&nbsp;"])
             for m, caption in zip(at.metric, captions)]
    notes = [e.value for kind in ("error", "warning", "info", "success") for e in getattr(at, kind)]
    return Shown(title(at), tiles, notes, [s.value for s in at.subheader],
                 [table_rows(at, i) for i in range(len(at.table))])


def deck_slide(slide) -> Shown:
    """A deck slide read back: the title placeholder, the text boxes of several paragraphs as tiles, the rest of
    the text as notes and headings (sorted out against the page's by the caller), the tables cell by cell."""
    texts = [[p.text for p in shape.text_frame.paragraphs] for shape in slide.shapes
             if shape.has_text_frame and shape != slide.shapes.title and shape.text_frame.text]
    tables = [[[cell.text for cell in row.cells] for row in shape.table.rows] for shape in slide.shapes
              if shape.has_table]
    lines = [t[0] for t in texts if len(t) == 1]
    return Shown(slide.shapes.title.text_frame.text, [tuple(t) for t in texts if len(t) > 1], lines, lines, tables)


def assert_same(page: Shown, deck: Shown) -> None:
    assert page.title == deck.title
    assert page.tiles == deck.tiles
    assert page.notes == [line for line in deck.notes if line in page.notes], (page.notes, deck.notes)
    assert all(heading in deck.headings for heading in page.headings), (page.headings, deck.headings)
    assert page.tables == deck.tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_next_button_steps_through_every_slide_in_order(demo_app, bulletin, lang):
    slides = sections(bulletin, lang)
    assert [s.slide for s in slides] == bulletin.slides(lang)  # twelve units: nothing continued
    at = open_meeting(demo_app, lang=lang)
    assert at.button(key="slide_previous").disabled
    for number, section in enumerate(slides, start=1):
        assert counter(at) == (number, len(slides))
        assert title(at) == section.slide.title
        assert url_slide(at) == str(number)
        if number < len(slides):
            assert not at.button(key="slide_next").disabled
            at = press(at, "slide_next")
    assert at.button(key="slide_next").disabled, "the last slide has no next"
    assert slide_list(at).key == f"slide_jump_{len(slides)}"
    assert slide_list(at).options == [f"{i}. {s.slide.title}" for i, s in enumerate(slides, start=1)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("store_name", ["demo", "group"])
def test_the_page_and_the_deck_say_the_same_on_every_slide(store_name, lang, demo_store_path, group_store_path,
                                                             monkeypatch):
    """The deck is read back with python-pptx (charts left out: they are pictures of the page's figures); the
    page's headline figures, banners, flags, tables and headings are the deck's, slide by slide."""
    path = {"demo": demo_store_path, "group": group_store_path}[store_name]
    monkeypatch.setenv("SAFETY_DB", str(path))
    with store.connect(path, read_only=True) as con:
        built = build_bulletin(con, END_MONTH)
    deck = Presentation(io.BytesIO(bulletin_pptx(built, lang, chart_images.bulletin_charts(built, lang, render=False))))
    slides = list(deck.slides)[1:]
    at = open_meeting(AppTest.from_file(str(APP), default_timeout=60), lang=lang)
    assert counter(at) == (1, len(slides))
    for number, slide in enumerate(slides, start=1):
        assert counter(at)[0] == number
        assert_same(page_slide(at), deck_slide(slide))
        if number < len(slides):
            at = press(at, "slide_next")
    if store_name == "group":  # what the 40 units make of the slides
        ranking = [s.shapes.title.text_frame.text for s in slides if "排名" in s.shapes.title.text_frame.text
                   or "ranking" in s.shapes.title.text_frame.text]
        assert len(ranking) == 3 and ranking[0].endswith(("（1/3）", "(1/3)"))


def test_the_headline_slide_shows_what_metrics_computes(demo_app, demo_store_path):
    with store.connect(demo_store_path, read_only=True) as con:
        ov = overview.build_overview(con, END_MONTH)
    at = open_meeting(demo_app)
    assert title(at) == "2026年10月集团安全生产总体情况"
    shown = {m.label: m.value for m in at.metric}
    h = ov.headlines
    assert shown["死亡人数"] == f"{h['fatalities'].value:g}" == "1"
    assert shown["损失工时伤害频率 LTIFR"] == f"{round(h['ltifr'].value, 2):g}" == "0.85"
    assert shown["隐患整改率"] == f"{round(h['rectification_rate'].value, 1):g}%" == "96%"
    assert shown["超标（红）"] == str(ov.red) == "9"
    assert shown["预警（黄）"] == str(ov.yellow)
    assert shown["当月报送单位（已报 / 应报）"] == f"{int(h['reported'].value)} / {ov.expected}" == "11 / 12"
    assert shown["集团安全生产天数"] == f"{ov.safe_days_fatality['*'].days:,} 天"
    assert shown["集团无损失工时伤害天数"] == f"{ov.safe_days_lost_time['*'].days:,} 天"
    captions = [c.value for c in at.caption]
    assert f":red[较上月 +{ov.red - int(h['red'].previous)}]  \n:red[较去年同期 +{ov.red - int(h['red'].last_year)}]" \
        in captions  # more red flags than last month and than a year ago: worse, in red
    assert [e.value for e in at.error] == ["一票否决：北川煤矿（死亡人数 1），本年累计得分归零"]
    assert [w.value for w in at.warning] == ["逾期未报（截止 11月10日）：铁运公司"]


@pytest.mark.parametrize("lang, veto", [
    ("zh", "北川煤矿：一票否决：本年累计死亡人数 1，按目标责任书一票否决，考核得分计为 0"),
    ("en", ("Beichuan Coal Mine: Veto: Fatalities 1 this year; under the responsibility letter it vetoes the "
            "year's score (0)")),
])
def test_the_veto_slide_names_the_mine_and_lists_the_worst_red_flags_first(demo_app, bulletin, lang, veto):
    at = open_meeting(demo_app, lang=lang, slide="2")
    assert title(at) == bulletin.slides(lang)[1].title
    assert [e.value for e in at.error] == [veto]
    rows = table_rows(at)[1:]
    assert len(rows) == 8  # 9 red flags, one of them the veto above
    # Furthest beyond the limit first, in widths of the target-to-limit band: fatalities per Mt 1.19 against
    # 0–0.1, severity rate 1,286.7 against 100–300, 12 injuries against 3–5, direct loss 164.71 against 30–60.
    units = {"zh": ["北川煤矿", "北川煤矿", "矿山建设公司", "北川煤矿"],
             "en": ["Beichuan Coal Mine", "Beichuan Coal Mine", "Mine Construction Co.", "Beichuan Coal Mine"]}
    assert [r[1] for r in rows[:4]] == units[lang]
    assert ("1.19" in rows[0][2], "1,286.7" in rows[1][2], "12" in rows[2][2], "164.71" in rows[3][2]) == (True,) * 4
    assert {r[0] for r in rows} == {"✖ 超标" if lang == "zh" else "✖ Beyond limit"}


@pytest.mark.parametrize("now, grade, banner, kind", [
    (BEFORE_DEADLINE, "待报", "待报（截止 11月10日）：铁运公司", "info"),
    (AFTER_DEADLINE, "未报", "逾期未报（截止 11月10日）：铁运公司", "warning"),
])
def test_a_unit_that_has_not_reported_is_pending_or_overdue_never_graded_or_a_mover(
        now, grade, banner, kind, db, monkeypatch):
    """铁运公司 (LG02) has not reported October. Each case on its own copy of the store: the page's cache is
    keyed by the store, and the deadline is judged when the bulletin is built."""
    monkeypatch.setenv("SAFETY_DB", str(db))
    monkeypatch.setenv("SAFETY_NOW", now)
    at = open_meeting(AppTest.from_file(str(APP), default_timeout=60))
    assert banner in [n.value for n in getattr(at, kind)]
    assert not [n.value for n in (at.warning if kind == "info" else at.info) if "铁运公司" in n.value]
    at = go(at, 3)
    ranking = table_rows(at)
    assert ranking[-1] == ["—", "铁运公司", "—", grade, "—", "—"]  # after the scored units, no rank, no grade
    assert not [row for row in ranking if row[3].startswith("D")]
    at = go(at, 4)
    movers = [row[0] for i in range(len(at.table)) for row in table_rows(at, i)[1:]]
    assert movers and "铁运公司" not in movers


def test_the_slide_lives_in_the_url(demo_app, bulletin):
    at = open_meeting(demo_app, slide="3")
    assert counter(at) == (3, 6) and title(at) == "单位考核排名 · 本年累计"
    assert [s.value for s in at.subheader] == ["单位得分与等级"]
    at = go(at, 5)
    assert title(at) == "重点指标趋势 · 本年累计" and url_slide(at) == "5"
    assert len(at.get("plotly_chart")) == 3
    assert table_rows(at)[0] == ["指标", "本年累计", "截至上月", "去年同期", "目标值", "控制值"]


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


def test_adding_a_scorecard_adds_its_slides(demo_app, bulletin):
    at = open_meeting(demo_app, slide="6")
    assert counter(at) == (6, 6) and at.button(key="slide_next").disabled
    at.multiselect(key="meeting_scorecards").set_value(["CM03"])
    at = rerun(at)
    assert counter(at) == (6, 8), "19 indicators and the summary: two slides"
    at = press(at, "slide_next")
    pages = sections(bulletin, "zh", ["CM03"])[-2:]
    assert {p.slide.kind for p in pages} == {SlideKind.SCORECARD}
    assert counter(at) == (7, 8) and title(at) == pages[0].slide.title == "北川煤矿记分卡（1/2）"
    assert [e.value for e in at.error] == [pages[0].notes[0].text]
    assert pages[0].notes[0].text.startswith("得分 0 · 等级 否决 · 排名 11 / 11")
    first = table_rows(at)[1:]
    assert first[0][:5] == ["死亡人数", "1", "0", "0", "✖ 超标"]  # the breached indicators first
    at = press(at, "slide_next")
    assert title(at) == "北川煤矿记分卡（2/2）" and not at.error
    assert len(first) + len(table_rows(at)[1:]) == len(bulletin.scorecard("CM03"))
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


def test_data_without_targets_still_renders_every_slide(db, monkeypatch):
    with store.connect(db) as con:
        con.execute("DELETE FROM targets")
    monkeypatch.setenv("SAFETY_DB", str(db))
    at = open_meeting(AppTest.from_file(str(APP), default_timeout=60))
    for _ in range(counter(at)[1] - 1):
        at = press(at, "slide_next")
    assert counter(at)[0] == counter(at)[1]
