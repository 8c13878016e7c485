"""One language on every page: no Latin text in the Chinese UI, no Chinese in the English UI, read from what a
real browser shows (tests/browser.SHOWN_TEXT: drawn text, CSS ::before/::after, grid cells, placeholders and
accessible names) at 1600×1000 on the demo store, signed in as its demo administrator so every page of the
navigation (ui.layout.PAGES) is there.

Each page is read as it opens, then with each expander open and each tab shown, and with the parts of
Streamlit's widgets that carry words of their own open: a multiselect's and a selectbox's list (and their
"nothing matches" state after typing), a text box being typed in, the date picker and its quick ranges, a
grid's toolbar (its buttons' names are their tooltips) and its search box. The store holds a month's usual work
first (an upload, its rollback, a target changed) so the upload and audit pages have their rows to say. A
failure names the page, the language and every offending text, with the state it was first seen in.

The browser's language is the page's (zh-CN, en-US): Streamlit's date picker names months and weekdays in the
browser's language, which no page can set.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from metrics.access import (
    apply_targets,
    commit_upload,
    demo_user,
    rollback,
    targets_of_year,
)
from metrics.core.catalog import load_catalog
from metrics.ingest.targets import COLUMNS as TARGET_COLUMNS
from metrics.store import connect
from metrics.store.raw_files import raw_dir
from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    SIDEBAR,
    TITLE,
    assert_no_exception,
    expect,
    serving,
    shown_texts,
    wait_until_drawn,
)
from ui.layout import PAGES

VIEWPORT = {"width": 1600, "height": 1000}
BROWSER_LOCALE = {"zh": "zh-CN", "en": "en-US"}
CORRECTION = b"month,subsidiary,indicator,value\n2026-10,CM01,near_misses,1234\n"
NO_MATCH = "zzzq"  # typed into a list's search: matches no option in either language


def token(body: str, flags: int = 0) -> re.Pattern:
    """`body` as a whole token: no ASCII letter or digit on either side (Chinese may touch it)."""
    return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", flags)


# Latin that belongs in Chinese text, each removed before looking for Latin letters:
ZH_ALLOWED = [
    # Indicator abbreviations and the standards they are defined by, cited as a safety professional cites
    # them (LTIFR, TRIR; GB 6441-1986, GB/T 15499-1995, OSHA 29 CFR 1904.7, GRI 403-9, ISO 45001).
    token(r"LTIFR|TRIR|OSHA|CFR|GRI|ISO|GB(?:/T)?"),
    # A file's checksum as the audit trail records it, to compare with `sha256sum` (SHA-256: c684…).
    token(r"SHA-256|[0-9a-f]{64}"),
    # Unit codes (CM01, LG02): the identifier of a unit in every file, template and command.
    token(r"[A-Z]{2}\d{2}"),
    # The grade scale of the responsibility letter: A 优秀, B 良好, C 合格, D 不合格.
    token(r"[A-D]"),
    # File types the user picks and opens (模板 CSV, 模板 Excel（.xlsx）, 下载 PDF): named as the files are.
    token(r"\.?(?:CSV|TSV|TXT|XLSX|PDF|PPTX|Excel)", re.IGNORECASE),
    # A file size, as Chinese office software writes it (单个文件不超过 64 MB).
    re.compile(r"(?<=\d )MB(?![A-Za-z])"),
    # The u-chart, named as GB/T 17989 names it (伤害率控制图（u 图）, u 控制图).
    re.compile(r"(?<![A-Za-z])u(?= ?(?:控制)?图)"),
]
# Exact texts allowed in a language: the language switch names both languages, so that someone who cannot read
# the current one finds the other.
SWITCH = {"zh": {"语言 / Language", "English"}, "en": {"Language / 语言", "中文"}}
# The names of buttons, links and other controls (what a screen reader says; a toolbar button's tooltip too).
NAMES = """() => [...document.querySelectorAll("[aria-label], [title]")]
    .filter(element => element.tagName !== "INPUT" && element.checkVisibility())
    .flatMap(element => [element.getAttribute("aria-label"), element.getAttribute("title")])
    .filter(Boolean)"""


LATIN = re.compile(r"[A-Za-z]+")
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")  # Han, CJK and full-width punctuation


def page_address(script: str) -> str:
    return "/" if script == "app.py" else "/" + script.removeprefix("pages/").removesuffix(".py")


def data_allowed(store: Path) -> dict[str, set[str]]:
    """The user's own data and identifiers from the store, allowed as they are in both languages: on every page
    the names of the files people uploaded (十月.csv is what its author called it); on the catalog page the
    indicator codes (the indicator column of a long file and of the targets CSV); on the users page the sign-in
    names (what each person types to sign in, and the demo administrator's name on record)."""
    with connect(store, read_only=True) as con:
        files = {row[0] for row in con.execute("SELECT file_name FROM batches WHERE file_name IS NOT NULL").fetchall()}
        names = {row[0] for row in con.execute("SELECT name FROM users").fetchall()} | {demo_user(con).name}
    pages = {page_address(script): set(files) for script, *_ in PAGES}
    pages["/indicators"] |= {indicator.code for indicator in load_catalog().indicators}
    pages["/users"] |= names
    return pages


def offending(texts: list[str], lang: str, data: frozenset[str] = frozenset()) -> set[str]:
    """The texts that are not in `lang`: Latin letters left after the allowed tokens (zh), or any Chinese
    character (en). `data`: the user's data and identifiers this page may show as they are."""
    bad = set()
    for text in texts:
        if text in SWITCH[lang] or text == NO_MATCH:  # NO_MATCH: what the test itself typed
            continue
        rest = text
        for item in sorted(data, key=len, reverse=True):
            rest = rest.replace(item, " ")
        for allowed in ZH_ALLOWED if lang == "zh" else ():
            rest = allowed.sub(" ", rest)
        if (LATIN if lang == "zh" else CHINESE).search(rest):
            bad.add(text)
    return bad


def record_the_usual_work(store: Path) -> None:
    """What the audit and upload pages show after a month's work, as the demo administrator: an upload of a file
    named in Chinese (十月.csv), its rollback, and one target changed on the page (the group default of
    injuries for 2026)."""
    with connect(store) as con:
        admin = demo_user(con)
        batch = commit_upload(con, admin, CORRECTION, "十月.csv", raw_dir(store)).batch_id
        rollback(con, admin, batch)
        year = targets_of_year(con, admin, 2026)
        year.loc[(year["subsidiary"] == "*") & (year["indicator"] == "injuries"), "target"] += 1
        rows = [(index + 2, {column: "" if pd.isna(value) else str(value) for column, value in row.items()})
                for index, row in enumerate(year[TARGET_COLUMNS].to_dict("records"))]
        apply_targets(con, admin, rows)


@pytest.fixture(scope="module")
def served(pristine, tmp_path_factory):
    """(url, data_allowed) of `streamlit run app.py` on a copy of the demo store (ending in October 2026);
    stopped after the module."""
    workdir = tmp_path_factory.mktemp("browser_language")
    store = workdir / "safety.duckdb"
    shutil.copy(pristine, store)
    record_the_usual_work(store)
    allowed = data_allowed(store)
    with serving(store, workdir / "streamlit.log") as url:
        yield url, allowed


class Reader:
    """Collects what the page shows, state after state, with where it was seen."""

    def __init__(self, page, lang: str, data: frozenset[str]):
        self.page, self.lang, self.data, self.found = page, lang, data, {}

    def read(self, state: str) -> None:
        for text in offending(shown_texts(self.page) + self.page.evaluate(NAMES), self.lang, self.data):
            self.found.setdefault(text, state)

    def visible(self, selector: str):
        return self.page.locator(f"{MAIN} {selector}").filter(visible=True)

    def click_first(self, selector: str):
        """Clicks the first visible element matching `selector` and returns it; None where there is none."""
        found = self.visible(selector)
        if not found.count():
            return None
        found.first.click()
        return found.first

    def escape(self) -> None:
        self.page.keyboard.press("Escape")
        self.page.mouse.click(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)  # away from every widget

    def open_list(self, box) -> None:
        """Opens a widget's list. A selectbox opens it on a key, not on the click; a rerun still settling
        redraws the widget with its list closed (CI saw it once on the upload page), so the click and the key
        are tried again before the list must be there."""
        listbox = self.page.locator("[role='listbox']").first
        for _ in range(2):
            box.click()
            box.press("ArrowDown")
            try:
                expect(listbox).to_be_visible(timeout=5_000)
                return
            except AssertionError:
                self.escape()
                wait_until_drawn(self.page)
        box.click()
        box.press("ArrowDown")
        expect(listbox).to_be_visible()

    def lists(self, where: str) -> None:
        """A multiselect's and a selectbox's open list, then the same with nothing matching what was typed."""
        for widget in ("stMultiSelect", "stSelectbox"):
            box = self.visible(f"[data-testid='{widget}'] input")
            if not box.count():
                continue
            self.open_list(box.first)
            self.read(f"{where}, {widget} open")
            box.first.fill(NO_MATCH)
            expect(self.page.locator("[role='listbox'][data-empty='true']")).to_be_visible()
            self.read(f"{where}, {widget} with nothing matching")
            box.first.fill("")
            self.escape()

    def text_box(self, where: str) -> None:
        """The hint Streamlit shows under a text box being typed in (apply, or submit a form)."""
        box = self.click_first("[data-testid='stTextInput'] input[type='text']")
        if box is None:
            return
        box.press_sequentially(NO_MATCH)
        expect(self.visible("[data-testid='InputInstructions']").first).to_be_visible()
        self.read(f"{where}, typing in a text box")
        box.fill("")
        self.escape()

    def date_picker(self, where: str) -> None:
        """The calendar of a date input and its quick ranges."""
        if self.click_first("[data-testid='stDateInput'] button") is None:
            return
        calendar = self.page.locator("[role='dialog']").filter(has=self.page.locator("[role='grid']"))
        expect(calendar).to_be_visible()
        self.read(f"{where}, date picker open")
        quick = self.page.locator("[data-testid='stDateInputQuickSelect'] button")
        if quick.count():
            quick.click()
            expect(self.page.locator("[role='listbox']").last).to_be_visible()
            self.read(f"{where}, date picker's quick ranges")
        self.escape()
        self.escape()

    def grid(self, where: str) -> None:
        """A grid's toolbar (its buttons' names, which their tooltips show) and its search box."""
        grids = self.visible("[data-testid='stDataFrame']")
        if not grids.count():
            return
        grid = grids.first
        grid.scroll_into_view_if_needed()
        grid.hover(force=True)
        buttons = grid.locator("[data-testid='stBaseButton-elementToolbar']")
        expect(buttons.first).to_be_attached()
        self.read(f"{where}, grid toolbar")
        search = buttons.filter(has=self.page.locator("[data-testid='stIconMaterial']", has_text="search"))
        if search.count():
            search.first.click(force=True)
            expect(self.page.locator("[data-testid='stDataFrame'] input").first).to_be_visible()
            self.read(f"{where}, grid search open")
            self.escape()

    def widgets(self, where: str) -> None:
        self.lists(where)
        self.text_box(where)
        self.date_picker(where)
        self.grid(where)


def open_page(new_page, dashboard_url: str, address: str, lang: str):
    page = new_page(locale=BROWSER_LOCALE[lang], viewport=VIEWPORT)
    page.goto(f"{dashboard_url}{address}?lang={lang}")
    expect(page.locator(TITLE)).to_be_visible()
    # The sidebar is drawn too (the meeting page keeps it collapsed): its last widget is the language switch.
    expect(page.locator(f"{SIDEBAR} [data-testid='stRadio']").filter(has_text="语言")).to_be_attached()
    wait_until_drawn(page)
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("address", [page_address(script) for script, *_ in PAGES])
def test_every_page_speaks_only_its_language(served, new_page, address, lang):
    url, allowed = served
    page = open_page(new_page, url, address, lang)
    reader = Reader(page, lang, frozenset(allowed.get(address, ())))
    reader.read("as opened")
    reader.widgets("as opened")
    for index, summary in enumerate(page.locator(f"{MAIN} [data-testid='stExpander'] summary").all()):
        summary.click()
        wait_until_drawn(page)
        reader.read(f"expander {index + 1} open")
    tabs = page.locator(f"{MAIN} [role='tab']")
    for index in range(tabs.count()):
        tabs.nth(index).click()
        wait_until_drawn(page)
        reader.read(f"tab {index + 1}")
        reader.widgets(f"tab {index + 1}")
    assert_no_exception(page)
    assert not reader.found, (f"page {address} in {lang}: text not in {lang}:\n" + "\n".join(
        f"  {text!r}  (seen: {state})" for text, state in sorted(reader.found.items())))


def test_the_allow_list_lets_through_only_what_it_names():
    """The checks themselves, by hand: each allowed token passes; the words Streamlit writes in English do not."""
    assert offending(["百万工时伤害率（GB 6441）", "GB/T 15499-1995", "可记录伤害率 TRIR（OSHA）", "LTIFR",
                      "北川煤矿 (CM03)", "A 优秀", "模板 Excel（.xlsx）", "导出本年度目标 CSV",
                      "单个文件不超过 64 MB · CSV、XLSX", "伤害率控制图（u 图）", "超出统计控制限（u 控制图）",
                      "SHA-256: " + "c6" * 32,
                      "语言 / Language", "English"],
                     "zh") == set()
    assert offending(["No results", "Press Enter to apply", "Select all", "批次 12 rollback", "MB", "ab 图",
                      "E 级", "CM1", "Language"], "zh") == {
        "No results", "Press Enter to apply", "Select all", "批次 12 rollback", "MB", "ab 图", "E 级", "CM1",
        "Language"}
    assert offending(["死亡人数 (fatalities)", "fatalities", "demo"], "zh", frozenset({"fatalities"})) == {"demo"}
    assert offending(["file: 十月.csv", "十月"], "en", frozenset({"十月.csv"})) == {"十月"}
    assert offending(["Beichuan Coal Mine (CM03)", "Language / 语言", "中文", "✔ On target\u2003▲ Warning"],
                     "en") == set()
    assert offending(["北川煤矿", "Veto：CM03", "On target\u3000Warning"], "en") == {
        "北川煤矿", "Veto：CM03", "On target\u3000Warning"}
