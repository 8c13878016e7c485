"""Driving the served dashboard with Debian's Chromium: the browser's settings, the waits and the checks the
browser tests share. The fixtures `chromium_browser` (one browser a module) and `new_page` (a page in a fresh
context, its own Streamlit session) are in tests/conftest.py and use `launch` and `page_maker` below; a module's
server is `serving(store, log)`, on a copy of the session's demo store (`pristine`) or a store of its own.

Importing this module skips the importing test module where /usr/bin/chromium or Playwright is missing
(`make system-deps` installs Chromium); it never downloads a browser (`playwright install`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (install it with `make system-deps`)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright_api.expect

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT = 60.0
UI_TIMEOUT_MS = 30_000
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
SCREENSHOT_MAX_HEIGHT = 6000
LANGS = ("zh", "en")
expect.set_options(timeout=UI_TIMEOUT_MS)  # Streamlit reruns can be slow on a busy CI machine

MAIN = "[data-testid='stMain']"
SIDEBAR = "[data-testid='stSidebar']"
TITLE = f"{MAIN} h1"
# the glide grid draws on a canvas; its accessible table has the rows in view
GRID_ROWS = "[data-testid='stDataFrame'] tr"
CJK = re.compile(r"[\u3400-\u9fff]")
CJK_FAMILY = re.compile(r"CJK|WenQuanYi|Hei|Song|Kai|YaHei|PingFang|Droid Sans Fallback", re.I)


@contextmanager
def serving(store: Path, log: Path) -> Iterator[str]:
    """The address of `streamlit run app.py` on `store` (tools/serve.py, its output in `log`), for as long as the
    block runs; a server that does not start fails the test with what its log says."""
    from tools.serve import ServerDidNotStart, dashboard

    try:
        with dashboard(store, log, timeout=START_TIMEOUT) as url:
            yield url
    except ServerDidNotStart as exc:
        pytest.fail(str(exc))


@contextmanager
def launch() -> Iterator:
    """Chromium, headless, for as long as the block runs."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_maker(browser) -> Iterator[Callable]:
    """make() opens a page in a fresh context (own session, so each test's URL applies) that collects script
    errors; every context is closed after the block. `locale` is the browser's language (Streamlit's date
    picker names months and weekdays in it)."""
    contexts = []

    def make(locale: str = "zh-CN", viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or VIEWPORT, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def wait_until_drawn(page) -> None:
    """The script run is over (no status widget) and every chart and grid on the page has been drawn."""
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0)
    for chart in page.locator(".js-plotly-plot").all():
        expect(chart.locator(".main-svg").first).to_be_attached()
    for grid in page.locator(f"{MAIN} [data-testid='stDataFrame']").all():
        if grid.is_visible():
            expect(grid.locator("canvas").first).to_be_attached()
    page.evaluate("document.fonts.ready.then(() => true)")


def open_drawn(page, address: str):
    """Opens `address` in `page` and waits until its title is shown and it is drawn (wait_until_drawn): the page."""
    page.goto(address)
    expect(page.locator(TITLE)).to_be_visible()
    wait_until_drawn(page)
    return page


def assert_no_exception(page) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, shown.all_inner_texts()
    assert "Traceback" not in page.locator(MAIN).inner_text()
    assert not page.script_errors, page.script_errors


def cjk_fonts(page, root_selector: str) -> list[dict]:
    """The platform fonts Chromium used to draw the first text node with Chinese characters under
    root_selector (from the DevTools protocol: what was drawn, not what CSS asked for)."""
    found = page.evaluate("""([root, pattern]) => {
        const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
        const cjk = new RegExp(pattern);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (cjk.test(node.textContent)) {
                node.parentElement.setAttribute('data-font-probe', '1');
                return node.textContent;
            }
        }
        return null;
    }""", [root_selector, CJK.pattern])
    assert found, f"no Chinese text under {root_selector}"
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        document = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": document, "selector": "[data-font-probe]"})["nodeId"]
        return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
        page.evaluate("document.querySelector('[data-font-probe]').removeAttribute('data-font-probe')")


def assert_chinese_is_not_tofu(page, root_selector: str) -> None:
    """Noto Sans CJK SC is installed where Chromium finds it, and the Chinese text on the page is drawn with a
    CJK font. (document.fonts.check() is no proof: it answers true for any font it need not download.)"""
    loaded = page.evaluate("""() => new FontFace('probe', 'local("Noto Sans CJK SC")').load()
        .then(() => true, () => false)""")
    assert loaded, "Chromium cannot find the font Noto Sans CJK SC (fonts-noto-cjk)"
    fonts = cjk_fonts(page, root_selector)
    assert fonts, f"nothing drawn under {root_selector}"
    assert any(CJK_FAMILY.search(f["familyName"]) and f["glyphCount"] > 0 for f in fonts), fonts


def full_page_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside stMain, not the document: grow the viewport to the content to capture it all."""
    height = page.evaluate(f"document.querySelector(\"{MAIN}\").scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]),
                                                                      SCREENSHOT_MAX_HEIGHT)})
    wait_until_drawn(page)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


SHOWN_TEXT = """() => {
    const shown = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        const text = node.textContent.trim();
        if (!text || parent.closest("script, style, [data-testid='stIconMaterial']")) continue;
        const grid = parent.closest("[data-testid='stDataFrame'] table");
        if (grid ? grid.closest("[data-testid='stDataFrame']").checkVisibility()
                 : parent.checkVisibility({visibilityProperty: true})) shown.push(text);
    }
    for (const element of document.querySelectorAll("*")) {
        for (const where of ["::before", "::after"]) {
            const content = getComputedStyle(element, where).content;
            if (content.startsWith('"') && element.checkVisibility()) shown.push(JSON.parse(content));
        }
    }
    for (const input of document.querySelectorAll("input, textarea")) {
        if (input.placeholder && !input.value) shown.push(input.placeholder);
        if (input.value && input.getAttribute("role") === "combobox") shown.push(input.value);  // the option chosen
        const label = input.getAttribute("aria-label");
        if (label) shown.push(label);
    }
    return shown;
}"""
"""Every text a person can meet on the page: the text drawn (not Material icon ligatures such as `upload`, not
what CSS hides), the words CSS draws in ::before/::after, the grids' cells in the accessible table behind
their canvas, an empty input's placeholder, a selectbox's chosen option and an input's accessible name."""


def shown_texts(page) -> list[str]:
    return page.evaluate(SHOWN_TEXT)


def grid_row(page, *texts: str):
    rows = page.locator(GRID_ROWS)
    for text in texts:
        rows = rows.filter(has_text=text)
    return rows


def selectbox(page, label: str, scope: str = MAIN):
    return page.locator(f"{scope} [data-testid='stSelectbox']").filter(
        has=page.get_by_text(label, exact=True)).locator("input[role='combobox']")


def sidebar_link(page, text: str):
    return page.locator(f"{SIDEBAR} [data-testid='stPageLink'] a", has_text=text)
