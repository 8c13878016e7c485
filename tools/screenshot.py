"""Screenshot a running dashboard page with Debian's Chromium (for the README).

    python tools/screenshot.py "http://127.0.0.1:8501/?lang=zh" docs/screenshot-zh.png
    python tools/screenshot.py "http://127.0.0.1:8501/?lang=en" docs/screenshot-en.png

The README images show the overview of the demo store ending in October 2026:

    python -c "from datetime import date; from metrics.initialise import init_store; \
init_store('/tmp/demo.duckdb', with_demo=True, end_month=date(2026, 10, 1))"
    SAFETY_DB=/tmp/demo.duckdb streamlit run app.py --server.port 8501
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="page to open, e.g. http://127.0.0.1:8501/?lang=zh")
    parser.add_argument("output", type=Path, help="PNG file to write")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=6.0, help="seconds to let the charts settle")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height}, locale="zh-CN")
            page.goto(args.url)
            page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=60_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            page.wait_for_timeout(args.wait * 1000)
            # The developer toolbar (Deploy, menu) is not part of the product.
            page.add_style_tag(content="[data-testid='stToolbar'] { visibility: hidden; }")
            errors = page.locator("[data-testid='stException']")
            if errors.count():
                raise SystemExit(f"the page shows an exception:\n{errors.first.inner_text()}")
            page.screenshot(path=str(args.output))
        finally:
            browser.close()
    print(args.output)


if __name__ == "__main__":
    main()
