"""While one session's large upload is read and checked, another session's pages keep answering (issue 17, item 3).

The upload is read in a child process (metrics/ingest/worker.py), so the dashboard's own process only waits for it. The
test is about order, not time: the other session opens two pages, each drawn whole, while the uploader's spinner
is still turning; how long those pages take is measured in the benchmark (bench/LIMITS.md).
"""
from __future__ import annotations

from tests.browser import MAIN, SIDEBAR, TITLE, assert_no_exception, expect, open_drawn, wait_until_drawn
from tests.hostile import FILES
from tools.serve import dashboard

CHECK_TIMEOUT_MS = 180_000


def open_page(new_page, url: str, address: str):
    return open_drawn(new_page(locale="en-US"), f"{url}{address}?lang=en")


def test_another_session_answers_while_a_large_upload_is_checked(db, tmp_path, new_page):
    large = FILES["xlsx_million_rows"](tmp_path)  # 1,048,576 rows: about 20 s to read and check
    with dashboard(db, tmp_path / "streamlit.log") as url:
        uploader = open_page(new_page, url, "/upload")
        other = open_page(new_page, url, "/ranking")

        uploader.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(large))
        spinner = uploader.locator(f"{MAIN} [data-testid='stSpinner']")
        expect(spinner).to_be_visible()
        expect(spinner).to_contain_text(f"Reading and checking {large.name}")

        for link, title in (("Overview", "Group Safety Production Dashboard"), ("Breaches", "Breaches")):
            other.locator(SIDEBAR).get_by_role("link", name=link, exact=True).click()
            expect(other.locator(TITLE)).to_contain_text(title)
            wait_until_drawn(other)
            assert_no_exception(other)
        expect(spinner).to_be_visible()  # still checking: the other session was answered meanwhile

        rejected = uploader.locator("[data-testid='stAlertContentError']")
        expect(rejected).to_contain_text("nothing was written", timeout=CHECK_TIMEOUT_MS)
        expect(spinner).to_have_count(0)
        assert_no_exception(uploader)
