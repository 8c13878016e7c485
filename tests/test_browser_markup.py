"""Nothing from the data is rendered as HTML or Markdown: a unit name carrying markup (written straight into the store,
past the import's own check) creates no element and runs no script on any page that names units; the units import
refuses such names in the first place (Plotly draws its own small tag set, <b> <i> <a>, in chart labels, so a
name never reaches a chart with markup in it). A unit named as a Markdown link (the vetoed CM03, so it is in
every veto banner) reads as the text it is, with no link, on every page that names it."""
from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from metrics import store
from metrics.core.problems import Rejected
from metrics.ingest.units import parse_units, sector_names
from tests.browser import (  # skips this module where Chromium or Playwright is missing
    MAIN,
    assert_no_exception,
    expect,
    open_drawn,
    serving,
)

MARKDOWN = "[⚠ 数据异常，请点此重新登录](http://evil.example/login) **粗** :red[红] $x$ www.evil.example"
HOSTILE = '<img src=x onerror="window.__pwned=1"><b id=injected>粗体</b><script>window.__pwned=2</script>'


@pytest.fixture(scope="module")
def hostile_url(pristine, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("markup")
    path = workdir / "safety.duckdb"
    shutil.copy(pristine, path)
    with store.connect(path) as con:
        con.execute("UPDATE subsidiaries SET name_zh = $name, name_en = $name WHERE code = 'CM01'",
                    {"name": HOSTILE})
        con.execute("UPDATE subsidiaries SET name_zh = $name, name_en = $name WHERE code = 'CM03'",
                    {"name": MARKDOWN})
    with serving(path, workdir / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("path", ["/", "/ranking", "/breaches", "/trends", "/unit?unit=CM01", "/upload",
                                  "/audit", "/meeting?slide=3"])
def test_markup_in_a_unit_name_stays_text(hostile_url, new_page, path):
    page = open_drawn(new_page(), hostile_url + path)
    assert_no_exception(page)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("img[src='x']").count() == 0
    if path.startswith("/unit"):  # the name is there, as the text it is (the unit picker's value)
        expect(page.locator(f"{MAIN} [data-testid='stSelectbox'] input").first).to_have_value(
            re.compile(r'^<img src=x onerror="window.__pwned=1">'))


@pytest.mark.parametrize("path", ["/", "/ranking", "/breaches", "/unit?unit=CM03", "/meeting?slide=1",
                                  "/meeting?slide=2"])
def test_a_markdown_unit_name_reads_as_written(hostile_url, new_page, path):
    page = open_drawn(new_page(), hostile_url + path)
    assert_no_exception(page)
    assert page.locator("a[href*='evil.example']").count() == 0
    main = page.locator(MAIN)
    assert main.locator("strong:text-is('粗'), .katex").count() == 0
    if path in ("/", "/meeting?slide=1"):  # the veto banner names the unit as written
        banner = page.locator("[data-testid='stAlert']").filter(has_text="数据异常").first
        expect(banner).to_be_visible()
        assert MARKDOWN in banner.inner_text().replace("\u2060", "")  # the word joiners that stop autolinks


def test_the_units_import_refuses_markup_in_names(tmp_path):
    source = tmp_path / "units.csv"
    source.write_text(f"code,name_zh,name_en,sector\nCM09,{HOSTILE.replace(',', ' ')},Mine,coal\n",
                      encoding="utf-8")
    with pytest.raises(Rejected) as rejected:
        parse_units(source, sector_names(pd.DataFrame({"code": ["coal"], "name_zh": ["煤矿"], "name_en": ["Coal"]})))
    [problem] = rejected.value.problems
    assert (problem.row, problem.column) == (2, "name_zh")
    assert "may not hold < >" in problem.message
