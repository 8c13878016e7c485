"""The dashboard in a real browser: `streamlit run app.py` on a demo store, driven by Debian's Chromium.

Needs /usr/bin/chromium (`make system-deps` installs it); never downloads browsers (`playwright install`).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (install it with `make system-deps`)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright_api.expect

from metrics.initialise import init_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT = 60.0
UI_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1400, "height": 1000}
expect.set_options(timeout=UI_TIMEOUT_MS)  # Streamlit reruns can be slow on a busy CI machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """`streamlit run app.py` on a demo store ending in October 2026; stopped after the module."""
    workdir = tmp_path_factory.mktemp("browser")
    store = workdir / "safety.duckdb"
    init_store(store, with_demo=True, end_month=date(2026, 10, 1))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "streamlit.log"
    env = {**os.environ, "SAFETY_DB": str(store)}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if server.poll() is not None:
                pytest.fail(f"streamlit exited with {server.returncode}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer {url}/_stcore/health within {START_TIMEOUT:.0f} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium_browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium_browser):
    """A page in a fresh context (own session, so each test's ?lang= applies); collects script errors."""
    contexts = []

    def make():
        context = chromium_browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def assert_no_exception(page) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, shown.all_inner_texts()
    assert not page.script_errors, page.script_errors


def test_overview_in_chinese(dashboard_url, new_page, tmp_path):
    page = new_page()
    page.goto(f"{dashboard_url}/?lang=zh")
    banner = page.get_by_text("一票否决：北川煤矿（死亡人数 1），本期得分归零")
    expect(banner).to_be_visible()
    expect(page.get_by_role("heading", name="集团安全生产指标看板")).to_be_visible()
    expect(page.get_by_text("未报送：铁运公司")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").filter(has_text="预警与问责")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "overview-zh.png"))


def test_overview_in_english(dashboard_url, new_page, tmp_path):
    page = new_page()
    page.goto(f"{dashboard_url}/?lang=en")
    expect(page.get_by_text("Veto: Beichuan Coal Mine (Fatalities 1); its score for the period is 0")).to_be_visible()
    expect(page.get_by_role("heading", name="Group Safety Production Dashboard")).to_be_visible()
    expect(page.get_by_text("Not reported: Railway Transport Co.")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "overview-en.png"))


def test_navigate_to_breaches_and_filter(dashboard_url, new_page, tmp_path):
    page = new_page()
    page.goto(f"{dashboard_url}/?lang=zh")
    expect(page.get_by_text("一票否决：北川煤矿")).to_be_visible()
    page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a", has_text="预警与问责").click()
    expect(page.get_by_role("heading", name="预警与问责")).to_be_visible()
    # The grid draws on a canvas; its accessible table holds the rows in view. The first row is the veto.
    cells = page.locator("[data-testid='stDataFrame'] td")
    expect(cells.filter(has_text="一票否决").first).to_be_attached()
    expect(cells.filter(has_text="北川煤矿").first).to_be_attached()
    # The suspicious-silence row is at the end of a long list: filter the kinds to bring it into view.
    combobox = page.locator("[data-testid='stMultiSelect'] [role='combobox']")
    for _ in range(3):  # under load the popover can miss the first keystrokes: retry the choice
        combobox.click()
        combobox.fill("疑似瞒报")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        try:
            expect(page.locator("[data-testid='stMultiSelect']")).to_contain_text("疑似瞒报", timeout=10_000)
            break
        except AssertionError:
            continue
    expect(page.locator("[data-testid='stMultiSelect']")).to_contain_text("疑似瞒报")
    expect(cells.filter(has_text="鑫泰热电公司")).to_have_count(1)
    expect(cells.filter(has_text="疑似瞒报").first).to_be_attached()
    expect(cells.filter(has_text="北川煤矿")).to_have_count(0)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "breaches-zh.png"))


def test_a_bookmarked_page_opens_directly_and_the_language_follows_the_user(dashboard_url, new_page):
    """A refresh or a bookmark of /unit runs that page (no 'page not found'), and English stays on when the
    user moves to another page through the sidebar."""
    page = new_page()
    page.goto(f"{dashboard_url}/unit?lang=en")
    expect(page.get_by_role("heading", name="Unit detail")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a", has_text="Breaches").click()
    expect(page.get_by_role("heading", name="Breaches")).to_be_visible()
    expect(page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").first).to_contain_text("Overview")
    assert_no_exception(page)
