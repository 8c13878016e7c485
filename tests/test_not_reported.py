"""A unit that has reported nothing for the month, before and after the deadline, in every view: the pages
(AppTest), the bulletin files read back (PPTX with python-pptx, PDF with pypdf, Excel with openpyxl).

The demo store ends in October 2026; 铁运公司 (LG02) has not reported October. October is due by the end of
10 November: `SAFETY_NOW` puts the dashboard on 2 November (before) or 11 November (after).
"""
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.reports import chart_images
from metrics.reports.bulletin import build_bulletin
from metrics.reports.pdf import bulletin_pdf
from metrics.reports.slides import bulletin_pptx
from metrics.reports.workbook import bulletin_xlsx

OCTOBER = date(2026, 10, 1)
APP = Path(__file__).resolve().parent.parent / "app.py"
BEFORE, AFTER = "2026-11-02T09:00", "2026-11-11T09:00"
WORDS = {BEFORE: {"grade": "○ 待报", "word": "待报", "banner": "待报（截止 11月10日）：铁运公司"},
         AFTER: {"grade": "○ 未报", "word": "未报", "banner": "逾期未报（截止 11月10日）：铁运公司"}}


@pytest.fixture(scope="module")
def demo_path(pristine) -> Path:
    """The session's demo store ending in October 2026 (tests/conftest.py): these tests only read it."""
    return pristine


@pytest.fixture(params=[BEFORE, AFTER], ids=["before_deadline", "after_deadline"])
def now(request, monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", request.param)
    return request.param


def page(demo_path, monkeypatch, name: str) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(demo_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if name != "app.py":
        at.switch_page(name)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_ranking_lists_it_last_without_rank_score_or_grade(demo_path, monkeypatch, now):
    table = page(demo_path, monkeypatch, "pages/ranking.py").dataframe[0].value
    last = table.iloc[-1]
    assert (last["单位"], last["排名"], last["名次变化"], last["等级"]) == ("铁运公司", "—", "—", WORDS[now]["grade"])
    assert pd.isna(last["得分"]) and pd.isna(last["较上月"])
    assert "D 不合格" not in set(table["等级"])


def test_the_overview_says_pending_before_the_deadline_and_overdue_after(demo_path, monkeypatch, now):
    at = page(demo_path, monkeypatch, "app.py")
    notes = [i.value for i in at.info] if now == BEFORE else [w.value for w in at.warning]
    assert WORDS[now]["banner"] in notes


def test_the_breaches_page_has_a_note_before_the_deadline_and_a_breach_after(demo_path, monkeypatch, now):
    table = page(demo_path, monkeypatch, "pages/breaches.py").dataframe[0].value
    lg02 = table[table["单位"] == "铁运公司"]
    expected = ("ⓘ 提示", "待报") if now == BEFORE else ("▲ 中", "未报")
    assert [tuple(r) for r in lg02[["严重程度", "类型"]].itertuples(index=False)] == [expected]


@pytest.fixture
def bulletin(demo_path, now):
    with store.connect(demo_path, read_only=True) as con:
        return build_bulletin(con, OCTOBER)


def test_the_bulletin_does_not_rank_it_or_count_it_a_decline(bulletin, now):
    units = bulletin.overview.units.set_index("subsidiary")
    assert pd.isna(units.loc["LG02", "unit_score"]) and pd.isna(units.loc["LG02", "rank"])
    improvers, decliners = bulletin.movers()
    assert "LG02" not in set(improvers["subsidiary"]) | set(decliners["subsidiary"])
    kinds = {b.kind for b in bulletin.breaches if b.subsidiary == "LG02"}
    assert kinds == ({"pending"} if now == BEFORE else {"missing"})


def test_the_files_say_not_reported_never_d(bulletin, now):
    charts = chart_images.bulletin_charts(bulletin, "zh", render=False)
    deck = Presentation(io.BytesIO(bulletin_pptx(bulletin, "zh", charts)))
    rows = [[cell.text for cell in row.cells] for slide in deck.slides for shape in slide.shapes
            if shape.has_table for row in shape.table.rows]
    lg02 = [r for r in rows if "铁运公司" in r]
    assert lg02, "铁运公司 is in the ranking table"
    assert all("不合格" not in " ".join(r) for r in lg02)
    assert any(WORDS[now]["word"] in r for r in lg02)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bulletin_pdf(bulletin, "zh", charts))).pages)
    assert WORDS[now]["banner"] in text.replace("\n", "")
    scores = pd.read_excel(io.BytesIO(bulletin_xlsx(bulletin, "zh")), sheet_name=None)
    sheet = next(frame for frame in scores.values() if "等级" in frame.columns and "单位" in frame.columns)
    assert sheet.loc[sheet["单位"] == "铁运公司", "等级"].tolist() == [WORDS[now]["word"]]
