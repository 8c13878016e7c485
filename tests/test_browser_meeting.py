"""Every meeting slide fits the projector, in a real browser: `streamlit run app.py` on the demo store and on a
synthetic 500-unit group (13 months, the benchmark's generator), driven by Debian's Chromium. Each slide of
`sections.sections`, in Chinese and in English, is opened with the next button's shortcut (→) and measured at
1280×720 and at 1920×1080: the slide's content ends above the bottom of the window, nothing scrolls (neither
the page, nor the slide's body) and nothing is cut sideways (a table, a headline figure, a label).

A slide is measured once it is all there: Streamlit loads the code of a button or a chart the first time one is
shown, drawing a grey skeleton in its place until then, so a test waits for the next button before pressing →
and for the slide's charts to be drawn (not their skeletons) before measuring. The shortcut also works after a
jump through the slide list (the list lets go of the focus; a shortcut is ignored while an input has it).

One server per store and one browser for the module; a slide that does not fit is photographed into the test's
tmp_path and named in the failure.
"""
from __future__ import annotations

import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from metrics import store
from metrics.core.months import parse_month
from metrics.reports.bulletin import build_bulletin
from metrics.reports.sections import Section, sections
from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    TITLE,
    assert_no_exception,
    expect,
    serving,
    wait_until_drawn,
)
from tests.builders import synthetic_group

MONTH = parse_month("2026-10")
SIZES = ((1280, 720), (1920, 1080))
NOW = "2026-11-20T09:00"  # after October's reporting deadline
MEASURE = """() => {
  const body = document.querySelector('.st-key-slide_body');
  const main = document.querySelector("[data-testid='stMain']");
  const title = document.querySelector("[data-testid='stMain'] h1").getBoundingClientRect();
  let bottom = 0;
  for (const element of body.querySelectorAll("[data-testid='stElementContainer']")) {
    const box = element.getBoundingClientRect();
    if (box.height > 0) bottom = Math.max(bottom, box.bottom);
  }
  const cut = [...body.querySelectorAll("*")]
    .filter(e => !e.closest(".stPlotlyChart") && e.scrollWidth > e.clientWidth + 1
                 && getComputedStyle(e).overflowX !== 'visible')
    .map(e => (e.dataset.testid || e.tagName) + ' «' + e.textContent.trim().slice(0, 40) + '»');
  return {bottom: Math.ceil(bottom), height: innerHeight, title_top: title.top,
          body: [body.scrollHeight, body.clientHeight], main: [main.scrollHeight, main.clientHeight], cut};
}"""
NEXT = f"{MAIN} .st-key-slide_next button:visible"  # Streamlit also keeps a hidden copy of a button with help
SKELETONS = "[data-testid='stSkeleton'], [data-testid='stSkeletonElement']"


@pytest.fixture(scope="module")
def stores(pristine, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser_meeting")
    demo = folder / "demo.duckdb"
    shutil.copy(pristine, demo)
    return {"demo": demo, "group": synthetic_group(folder / "group.duckdb", 500, 13)}


@pytest.fixture(scope="module")
def served(stores, tmp_path_factory, monkeypatch_module) -> dict[str, str]:
    """One server per store for the module."""
    logs = tmp_path_factory.mktemp("browser_meeting_logs")
    with ExitStack() as running:
        yield {name: running.enter_context(serving(path, logs / f"{name}.log")) for name, path in stores.items()}


@pytest.fixture(scope="module")
def monkeypatch_module():
    """The servers take the moment the product takes as now from the environment they start in."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)
        yield patch


def slides(path: Path, lang: str) -> list[Section]:
    with store.connect(path, read_only=True) as con:
        return sections(build_bulletin(con, MONTH), lang)


def open_meeting(new_page, url: str, lang: str, slide: int = 1):
    page = new_page()
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(f"{url}/meeting?lang={lang}&slide={slide}")
    return page


def press(page, key: str) -> None:
    """← or → once the buttons are there: a shortcut pressed before its button's code has loaded is lost."""
    expect(page.locator(NEXT)).to_be_visible()
    page.keyboard.press(key)


def wait_for_slide(page, number: int, section: Section, count: int) -> None:
    """Slide `number` of `count` is shown whole: its title and counter, the last slide's elements gone, no
    skeleton left, each of its charts drawn."""
    expect(page.locator(TITLE)).to_have_text(section.slide.title)
    expect(page.get_by_text(f"{number} / {count}", exact=True)).to_be_visible()
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    expect(page.locator(SKELETONS)).to_have_count(0)
    expect(page.locator(f"{MAIN} .js-plotly-plot")).to_have_count(len(section.charts))
    wait_until_drawn(page)


def overflow(measured: dict) -> list[str]:
    """What does not fit, in words (empty when the slide fits)."""
    problems = []
    if measured["bottom"] > measured["height"]:
        problems.append(f"content ends at {measured['bottom']} px, below the window's {measured['height']}")
    if measured["body"][0] > measured["body"][1] + 1:
        problems.append(f"the slide's body scrolls ({measured['body'][0]} px in {measured['body'][1]})")
    if measured["main"][0] > measured["main"][1]:
        problems.append(f"the page scrolls ({measured['main'][0]} px in {measured['main'][1]})")
    if measured["cut"]:
        problems.append(f"cut or scrolling sideways: {', '.join(measured['cut'])}")
    if measured["title_top"] < 0:
        problems.append("the title is above the window")
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("store_name", ["demo", "group"])
def test_every_slide_fits_the_window_without_scrolling(store_name, lang, stores, served, new_page, tmp_path):
    expected = slides(stores[store_name], lang)
    assert sum(len(s.charts) for s in expected) == 4  # the ranking's once, the three trends
    if store_name == "group":  # 500 units: a ranking continued over 36 slides
        assert len(expected) == 5 + 36
    page = open_meeting(new_page, served[store_name], lang)
    misfits = []
    for number, section in enumerate(expected, start=1):
        if number > 1:
            press(page, "ArrowRight")  # the next button's shortcut
        wait_for_slide(page, number, section, len(expected))
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            problems = overflow(page.evaluate(MEASURE))
            if problems:
                shot = tmp_path / f"{store_name}-{lang}-{number:02d}-{width}x{height}.png"
                page.screenshot(path=str(shot))
                misfits.append(f"slide {number} «{section.slide.title}» at {width}×{height}: {'; '.join(problems)} "
                               f"({shot})")
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    assert_no_exception(page)
    assert not misfits, "\n".join(misfits)


def test_the_arrow_keys_turn_the_slides_after_a_jump_through_the_list(stores, served, new_page):
    """Picked from the list, slide 4; then → shows 5 and ← 4 again (with the list keeping the focus, the keys
    moved its text cursor instead and the slide stayed)."""
    expected = slides(stores["demo"], "zh")
    page = open_meeting(new_page, served["demo"], "zh")
    wait_for_slide(page, 1, expected[0], len(expected))
    page.locator(f"{MAIN} [data-testid='stSelectbox'] input[aria-label='跳转到']").click()
    page.get_by_role("option", name=f"4. {expected[3].slide.title}", exact=True).click()
    wait_for_slide(page, 4, expected[3], len(expected))
    press(page, "ArrowRight")
    wait_for_slide(page, 5, expected[4], len(expected))
    press(page, "ArrowLeft")
    wait_for_slide(page, 4, expected[3], len(expected))
    assert_no_exception(page)
