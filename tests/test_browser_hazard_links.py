"""From a red hazard number to the hazards behind it, in a real browser (issue 14, item 5): the unit scorecard's red
超期未整改隐患数 of CM01 opens the hazard ledger page with the hazards behind that figure of October 2026, and one
of them opens with its events.

The store is a copy of the demo (ending 2026-10) where CM01 keeps its ledger here from January 2026
(tests/builders.kept_ledger), served on 20 November 2026 (SAFETY_NOW). At the end of October CM01 had 6 hazards
open past their deadline (CM01-2026-0001 to 0006: hazards_overdue 6, red beyond the limit 5) and CM01-2026-0007
open within its deadline (11-30); CM02-2026-0001 is another unit's.
"""
from __future__ import annotations

import re
import shutil

import pytest

from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    TITLE,
    assert_chinese_is_not_tofu,
    assert_no_exception,
    expect,
    full_page_screenshot,
    grid_row,
    selectbox,
    serving,
    wait_until_drawn,
)
from tests.builders import kept_ledger

NOW = "2026-11-20T10:00"
OVERDUE = [f"CM01-2026-000{i}" for i in range(1, 7)]


@pytest.fixture(scope="module")
def kept_url(pristine, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("browser-hazard-links")
    path = workdir / "safety.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)  # the hazards' steps and the server's today
        kept_ledger(path)
        with serving(path, workdir / "streamlit.log") as url:
            yield url


def test_from_a_red_overdue_figure_on_the_scorecard_to_its_hazards_and_one_hazards_events(kept_url, new_page,
                                                                                          tmp_path):
    page = new_page()
    page.goto(f"{kept_url}/unit?unit=CM01")
    expect(page.locator(TITLE)).to_have_text("单位详情")
    wait_until_drawn(page)
    # The scorecard's run is over once it has written its view into the address (a link clicked during a run
    # would have the run's last address written over the next page's).
    expect(page).to_have_url(re.compile(r"/unit\?.*indicator="))
    red = page.locator(f"{MAIN} [data-testid='stPageLink'] a", has_text="✖ 超期未整改隐患数：6")
    expect(red).to_have_count(1)
    expect(red.locator(".stMarkdownColoredText")).to_have_count(1)  # drawn in red, as its status
    expect(page.locator(f"{MAIN} [data-testid='stPageLink'] a", has_text="排查隐患数：7")
           .locator(".stMarkdownColoredText")).to_have_count(0)  # not judged: the text's own colour
    full_page_screenshot(page, tmp_path / "scorecard-links-zh.png")
    red.click()

    for part in ("units=CM01", "month=2026-10", "figure=hazards_overdue", "basis=ytd"):
        expect(page).to_have_url(re.compile(rf"/hazards\?(.*&)?{part}(&|$)"))
    expect(page.locator(TITLE)).to_have_text("隐患台账")
    wait_until_drawn(page)
    expect(page.get_by_text("CM01 东峰煤矿 2026年10月 超期未整改隐患数（月末）：6 项", exact=False)).to_be_visible()
    for number in OVERDUE:
        expect(grid_row(page, number).first).to_be_attached()
    expect(grid_row(page, "CM01-2026-0007")).to_have_count(0)  # open, within its deadline at the month's end
    expect(grid_row(page, "CM02-2026-0001")).to_have_count(0)  # another unit's
    assert_no_exception(page)
    assert_chinese_is_not_tofu(page, MAIN)
    full_page_screenshot(page, tmp_path / "hazards-behind-zh.png")

    selectbox(page, "查看隐患").click()
    page.get_by_role("option", name=re.compile(r"^CM01-2026-0001")).click()
    expect(page).to_have_url(re.compile(r"hazard=CM01-2026-0001"))
    expect(page.locator(f"{MAIN} h3", has_text="CM01-2026-0001")).to_be_visible()
    wait_until_drawn(page)
    events = page.locator(f"{MAIN} [data-testid='stDataFrame']").filter(has_text="下达整改")
    expect(events.locator("tr").filter(has_text="登记").first).to_be_attached()
    expect(events.locator("tr").filter(has_text="下达整改")).to_contain_text("登记 → 整改中")
    assert_no_exception(page)
    full_page_screenshot(page, tmp_path / "hazard-one-zh.png")
