"""The hazard ledger page in a real browser: on a phone's width, evidence is attached to a hazard and it goes to
verification; on a laptop's, a reminder selected in the 到期提醒 tab opens its hazard. (From a red hazard number
on the scorecard to the hazards behind it: tests/test_browser_hazard_links.py.)

The store is a copy of the demo (ending 2026-10) served on 20 November 2026 (SAFETY_NOW), with four hazards:
CM01-2026-0001 (deadline 11-12, 8 days over), CM01-2026-0002 (deadline 11-05, 15 days over), CM01-2026-0003 (deadline
11-30, not over) and CM02-2026-0001 (deadline 11-01, 19 days over, another unit's).
"""
from __future__ import annotations

import shutil
from datetime import date

import pytest

from metrics import access, store
from metrics.ledger.hazards import Change, NewHazard
from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    assert_no_exception,
    expect,
    grid_row,
    serving,
    wait_until_drawn,
)

NOW = "2026-11-20T10:00"
DEADLINES = {"CM01": [date(2026, 11, 12), date(2026, 11, 5), date(2026, 11, 30)], "CM02": [date(2026, 11, 1)]}


def fill_ledger(path) -> None:
    with store.connect(path) as con:
        admin = access.demo_user(con)
        for unit, deadlines in DEADLINES.items():
            for index, deadline in enumerate(deadlines, start=1):
                number = access.register_hazard(con, admin, NewHazard(
                    unit, "daily", f"{index}号皮带机头", "托辊护罩缺失，转动部位外露", "general", "thing", "machinery",
                    date(2026, 11, 1), "李工"))
                access.hazard_step(con, admin, number, "issue", Change(admin.name, date(2026, 11, 1), "", {
                    "owner": "王工", "measures": "加装护罩", "funds": 0.2, "deadline": deadline, "verifier": "赵主任"}))


@pytest.fixture(scope="module")
def ledger_url(pristine, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("browser-hazards")
    path = workdir / "safety.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)  # the hazards' steps and the server's today
        fill_ledger(path)
        with serving(path, workdir / "streamlit.log") as url:
            yield url


def test_evidence_attached_on_a_phone_then_submitted_for_verification(ledger_url, new_page, tmp_path):
    """On a phone's width: a photo through the evidence form's uploader, then 整改完成，提交验收; the page shows the new
    state and the file, and keeps showing the hazard on the runs after."""
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{ledger_url}/hazards?hazard=CM01-2026-0003")
    expect(page.locator(f"{MAIN} h3", has_text="CM01-2026-0003 · 3号皮带机头")).to_be_visible()
    wait_until_drawn(page)
    photo = b"\xff\xd8\xff\xe0 the guard refitted"
    page.locator(f"{MAIN} [data-testid='stForm'] [data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "整改后.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.locator(f"{MAIN} [data-testid='stForm']").get_by_text("整改后.jpg")).to_be_visible()
    page.get_by_role("button", name="上传整改证据").click()
    expect(page.get_by_text("已为隐患 CM01-2026-0003 添加 1 个证据文件。")).to_be_visible()
    page.locator(f"{MAIN} [data-testid='stRadio']").get_by_text("整改完成，提交验收", exact=True).click()
    page.get_by_role("button", name="整改完成，提交验收").click()
    expect(page.get_by_text("整改完成，提交验收：已办理，隐患 CM01-2026-0003 现为“待验收”。")).to_be_visible()
    wait_until_drawn(page)
    expect(page.get_by_text("待验收 · 一般 · 东峰煤矿")).to_be_visible()
    expect(grid_row(page, "整改后.jpg")).to_have_count(1)
    expect(page.get_by_role("button", name="下载 整改后.jpg")).to_be_visible()
    # Any later run still shows the hazard, in its new state (the picker's option keeps its label).
    page.locator(f"{MAIN} [data-testid='stRadio']").get_by_text("作废", exact=True).click()
    expect(page.get_by_text("作废须写明原因", exact=False)).to_have_count(0)
    wait_until_drawn(page)
    expect(page.locator(f"{MAIN} h3", has_text="CM01-2026-0003 · 3号皮带机头")).to_be_visible()
    expect(page.get_by_role("button", name="作废")).to_be_visible()
    expect(page.locator(f"{MAIN} [data-testid='stAlertContentInfo']")).to_have_count(0)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "hazard-evidence-phone.png"), full_page=True)


FINDINGS_HEADER = "隐患描述,单位编码,检查类型,隐患部位,隐患级别,隐患类别,可能导致的事故类型,发现日期,发现人\n"
FINDINGS_WRONG = FINDINGS_HEADER + "消防通道堆放杂物,CM01,日常检查,3号库区,一般,物,火灾,2026-11-03,李工\n" \
                                   "配电箱未上锁,CM01,日常检查,机修车间,一般,物,触电,2026-13-04,李工\n"
FINDINGS_FIXED = FINDINGS_WRONG.replace("2026-13-04", "2026-11-04")


def test_a_findings_workbook_is_refused_with_its_row_then_imported_fixed(ledger_url, new_page):
    """The consultancy's list with a wrong day on row 3: refused whole, the row and the value named, nothing
    written; the same list fixed: checked (two to register), then imported with one click; imported again:
    unchanged."""
    page = new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{ledger_url}/hazards")
    wait_until_drawn(page)
    page.get_by_text("导入隐患台账（Excel / CSV）").click()
    dropzone = page.locator(f"{MAIN} [data-testid='stFileUploaderDropzoneInput']").last
    dropzone.set_input_files(files=[{"name": "咨询机构检查.csv", "mimeType": "text/csv",
                                     "buffer": FINDINGS_WRONG.encode("utf-8")}])
    expect(page.get_by_text("文件有 1 处错误，未写入任何数据。", exact=False)).to_be_visible()
    expect(grid_row(page, "2026-13-04")).to_have_count(1)
    dropzone.set_input_files(files=[{"name": "咨询机构检查（改）.csv", "mimeType": "text/csv",
                                     "buffer": FINDINGS_FIXED.encode("utf-8")}])
    expect(page.get_by_text("校验通过：将登记 2 项隐患", exact=False)).to_be_visible()
    page.get_by_role("button", name="导入台账").click()
    expect(page.get_by_text("已导入：登记 2 项隐患", exact=False)).to_be_visible()
    dropzone.set_input_files(files=[{"name": "咨询机构检查（再次）.csv", "mimeType": "text/csv",
                                     "buffer": FINDINGS_FIXED.encode("utf-8")}])
    expect(page.get_by_text("文件中的每一行都与台账一致，无需写入。")).to_be_visible()  # registered once
    assert_no_exception(page)


def test_a_reminder_selected_opens_its_hazard(ledger_url, new_page):
    """The 到期提醒 tab at 1280 px: the day's reminders by unit and owner (the three hazards 7 days or more over,
    escalated: CM01-0002, CM01-0001, CM02-0001), every column in view; its first row selected opens that hazard."""
    page = new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{ledger_url}/hazards")
    expect(page.locator(f"{MAIN} h1", has_text="隐患台账")).to_be_visible()
    wait_until_drawn(page)
    page.get_by_role("tab", name="到期提醒").click()
    expect(page.get_by_text("2026-11-20 共 3 条提醒（按单位、责任人排列）：超期升级 3 条")).to_be_visible()
    wait_until_drawn(page)
    grid = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    for number in ("CM01-2026-0002", "CM01-2026-0001", "CM02-2026-0001"):
        expect(grid_row(page, number, "超期升级")).to_have_count(1)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280  # the grid, and so its last column, in view
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection box (header 35 px)
    expect(page.locator(f"{MAIN} h3", has_text="CM01-2026-0002 · 2号皮带机头")).to_be_visible()
    assert_no_exception(page)
