"""README screenshots: every page of the dashboard in Chinese and English, with Debian's Chromium.

One command writes docs/page-<name>-<lang>.png for overview, ranking, trends, breaches, unit (北川煤矿, CM03),
indicators, upload, audit, users and, last, the sign-in form (the store's demo flag turned off), in zh and en
(20 files), from a fresh demo store ending in October 2026:

    .venv/bin/python tools/screenshot.py

It builds the store in a temporary folder, starts `streamlit run app.py` on a free port, takes the pictures
and stops the server. To photograph a server that is already running instead (on a demo store ending
2026-10, so the pictures show the same stories):

    .venv/bin/python -c "from datetime import date; from metrics.ingest.initialise import init_store; \
init_store('/tmp/shots.duckdb', with_demo=True, end_month=date(2026, 10, 1))"
    SAFETY_DB=/tmp/shots.duckdb .venv/bin/streamlit run app.py --server.port 8599 --server.headless true &
    .venv/bin/python tools/screenshot.py --url http://127.0.0.1:8599

Options: --pages ranking unit (a subset), --langs zh, --out DIR (default docs/), --max-height (default 2200:
the picture is the page from the top, cut there so the README stays readable). One arbitrary page:

    .venv/bin/python tools/screenshot.py --url http://127.0.0.1:8599 --shot "/?lang=en&basis=month" out.png

Viewport 1400×1000, grown to the page's height (Streamlit scrolls inside its main pane, so a plain full-page
screenshot would stop at the viewport). Each picture waits for the title, the end of the script run, every
chart and grid drawn and the fonts loaded, then --settle seconds; a page that shows an exception box or the
wrong title fails the command. Needs /usr/bin/chromium (`make system-deps`); never downloads a browser.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.serve import ServerDidNotStart, dashboard

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTH, HEIGHT = 1400, 1000
TIMEOUT_MS = 60_000
LANGS = ("zh", "en")
# name: (path and query, title in zh, title in en)
PAGES = {
    "overview": ("/", "集团安全生产指标看板", "Group Safety Production Dashboard"),
    "ranking": ("/ranking", "排名", "Ranking"),
    "trends": ("/trends", "趋势", "Trends"),
    "breaches": ("/breaches", "预警与问责", "Breaches"),
    "unit": ("/unit?unit=CM03", "单位详情", "Unit detail"),
    "indicators": ("/indicators", "指标与目标", "Indicators and targets"),
    "upload": ("/upload", "上传数据", "Upload data"),
    "audit": ("/audit", "审计日志", "Audit trail"),
    "users": ("/users", "用户与权限", "Users and roles"),
    "sign-in": ("/", "登录 · 集团安全生产指标看板", "Sign in · Group Safety Production Dashboard"),
}
SIGN_IN = "sign-in"
"""Shot last, and only on the store this script starts: its demo flag is turned off first, so the form shows."""
MAIN = "[data-testid='stMain']"
# The developer toolbar (Deploy, menu) is not part of the product.
HIDE_TOOLBAR = "[data-testid='stToolbar'], [data-testid='stDecoration'] { visibility: hidden; }"


@contextmanager
def demo_server(end_month: date) -> Iterator[tuple[str, Path]]:
    """`streamlit run app.py` on a fresh demo store ending in end_month; yields its URL and the store's path,
    stops it after."""
    from metrics.ingest.initialise import init_store

    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        store = Path(folder) / "safety.duckdb"
        init_store(store, with_demo=True, end_month=end_month)
        try:
            with dashboard(store, Path(folder) / "streamlit.log") as url:
                yield url, store
        except ServerDidNotStart as exc:
            raise SystemExit(str(exc)) from None


def require_sign_in(path: Path) -> None:
    """Turn the demo store's demo flag off: a fresh session then gets the sign-in form (the app re-reads the
    flag when the file changes)."""
    from metrics import store
    from metrics.ingest.initialise import DEMO_KEY

    with store.connect(path) as con:
        store.set_meta(con, DEMO_KEY, "false")


def wait_until_drawn(page) -> None:
    """The script run is over and every chart, grid and font on the page is ready."""
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=TIMEOUT_MS)
    for chart in page.locator(".js-plotly-plot").all():
        chart.locator(".main-svg").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    for grid in page.locator(f"{MAIN} [data-testid='stDataFrame']").all():
        if grid.is_visible():
            grid.locator("canvas").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    page.evaluate("document.fonts.ready.then(() => true)")


def shoot(browser, url: str, output: Path, title: str | None, max_height: int, settle: float) -> Path:
    """Open url in a fresh session, wait for it to settle, write the top max_height pixels of the page."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN",
                                  device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        heading = page.locator(f"{MAIN} h1").first
        heading.wait_for()
        if title is not None:
            page.wait_for_function("([selector, title]) => document.querySelector(selector)?.innerText.trim() === "
                                   "title",
                                   arg=[f"{MAIN} h1", title], timeout=TIMEOUT_MS)
        wait_until_drawn(page)
        page.add_style_tag(content=HIDE_TOOLBAR)
        page.wait_for_timeout(settle * 1000)
        errors = page.locator("[data-testid='stException']")
        if errors.count():
            raise SystemExit(f"{url} shows an exception:\n{errors.first.inner_text()}")
        height = min(max(page.evaluate(f"document.querySelector(\"{MAIN}\").scrollHeight"), HEIGHT), max_height)
        page.set_viewport_size({"width": WIDTH, "height": height})
        wait_until_drawn(page)
        page.wait_for_timeout(1000)  # plotly relayouts on resize
        output.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(output), clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
    finally:
        context.close()
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--url", help="a running dashboard, e.g. http://127.0.0.1:8599 (default: start one on "
                                      "a fresh demo store)")
    parser.add_argument("--end-month", default="2026-10", help="last month of the demo store started without "
                                                               "--url (default 2026-10)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for page-<name>-<lang>.png")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES),
                        help="default: all (with --url, all but the sign-in form)")
    parser.add_argument("--langs", nargs="+", choices=LANGS, default=list(LANGS))
    parser.add_argument("--shot", nargs=2, metavar=("PATH", "PNG"),
                        help="only this page (path and query, e.g. '/?lang=en') into this file")
    parser.add_argument("--max-height", type=int, default=2200)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait once everything is drawn")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    if args.url and args.pages and SIGN_IN in args.pages:
        parser.error("the sign-in form is shot on the store this script starts: leave out --url or sign-in")
    pages = args.pages or [name for name in PAGES if not (args.url and name == SIGN_IN)]
    served = nullcontext_url(args.url) if args.url else demo_server(date.fromisoformat(args.end_month + "-01"))
    with served as (url, store):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            try:
                if args.shot:
                    path, png = args.shot
                    print(shoot(browser, url.rstrip("/") + path, Path(png), None, args.max_height, args.settle))
                    return
                for name in sorted(pages, key=lambda n: n == SIGN_IN):
                    if name == SIGN_IN and store is not None:  # only with the store started here (see --url)
                        require_sign_in(store)
                    path, title_zh, title_en = PAGES[name]
                    for lang in args.langs:
                        page_url = f"{url.rstrip('/')}{path}{'&' if '?' in path else '?'}lang={lang}"
                        output = args.out / f"page-{name}-{lang}.png"
                        shoot(browser, page_url, output, title_zh if lang == "zh" else title_en,
                              args.max_height, args.settle)
                        print(output)
            finally:
                browser.close()


@contextmanager
def nullcontext_url(url: str) -> Iterator[tuple[str, None]]:
    yield url, None


if __name__ == "__main__":
    main()
