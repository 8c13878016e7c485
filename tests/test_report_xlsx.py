"""The monthly bulletin as an Excel workbook, read back with openpyxl from its bytes: the sheets, their rows equal
to what metrics computes, the demo's stories (北川煤矿 vetoed), numbers numeric, and no cell a spreadsheet would
evaluate, even when a unit's name in the store is a formula."""
from __future__ import annotations

import io
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook

from metrics import store
from metrics.reports.bulletin import build_bulletin
from metrics.reports.workbook import bulletin_xlsx

END_MONTH = date(2026, 10, 1)
SHEETS = {"zh": ["概况", "得分排名", "指标明细", "预警清单"],
          "en": ["Summary", "Scores", "Indicator values", "Breaches"]}
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'
FORMULA_STARTS = tuple("=+-@＝＋－＠")


def bulletin_of(path):
    with store.connect(path, read_only=True) as con:
        return build_bulletin(con, END_MONTH)


@pytest.fixture(scope="module")
def bulletin(pristine):
    return bulletin_of(pristine)


@pytest.fixture(scope="module", params=["zh", "en"])
def workbook(request, bulletin):
    return request.param, load_workbook(io.BytesIO(bulletin_xlsx(bulletin, request.param)))


def rows(sheet) -> list[dict]:
    """The sheet's data rows as dicts keyed by the header."""
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def every_cell(workbook):
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_sheets_in_the_chosen_language(workbook):
    lang, book = workbook
    assert book.sheetnames == SHEETS[lang]
    titles = {"zh": "安全生产月度通报 2026年10月", "en": "Monthly safety bulletin Oct 2026"}
    assert book.properties.title == titles[lang]


def test_rows_equal_what_metrics_computes(workbook, bulletin):
    lang, book = workbook
    summary, scores, indicators, breaches = book.worksheets
    assert len(rows(scores)) == len(bulletin.overview.units) == 12
    due = sum(len(bulletin.scorecard(code)) for code in bulletin.overview.units["subsidiary"])
    assert len(rows(indicators)) == due
    assert len(rows(breaches)) == len(bulletin.breaches)
    ranked = [r[{"zh": "单位编码", "en": "Code"}[lang]] for r in rows(scores)]
    assert ranked == list(bulletin.overview.units["subsidiary"])


def test_the_vetoed_mine_reads_as_vetoed(workbook):
    lang, book = workbook
    unit, grade, vetoed = {"zh": ("单位", "等级", "一票否决"), "en": ("Unit", "Grade", "Vetoed")}[lang]
    name = {"zh": "北川煤矿", "en": "Beichuan Coal Mine"}[lang]
    mine = next(r for r in rows(book.worksheets[1]) if r[unit] == name)
    assert mine[grade] == {"zh": "否决", "en": "Veto"}[lang]
    assert mine[vetoed] == {"zh": "是", "en": "Yes"}[lang]
    assert mine[{"zh": "得分", "en": "Score"}[lang]] == 0


def test_numbers_stay_numeric(bulletin):
    book = load_workbook(io.BytesIO(bulletin_xlsx(bulletin, "zh")))
    summary, scores, indicators, breaches = book.worksheets
    top = scores["E2"]
    assert scores["E1"].value == "得分" and top.data_type == "n"
    assert top.value == pytest.approx(bulletin.overview.units["unit_score"].iloc[0])
    assert scores["A2"].value == 1 and isinstance(scores["A2"].value, int)
    ltifr = bulletin.overview.headlines["ltifr"]
    line = next(r for r in rows(summary) if "LTIFR" in r["项目（本年累计）"])
    assert line["2026年10月"] == pytest.approx(ltifr.value)
    assert line["较上月"] == pytest.approx(ltifr.value - ltifr.previous)
    assert line["较去年同期"] == pytest.approx(ltifr.value - ltifr.last_year)
    red = next(r for r in rows(summary) if r["项目（本年累计）"] == "超标（红）项数")
    assert (red["2026年10月"], red["2026年9月"], red["2025年10月"]) == (9, 7, 4)
    fatality = next(r for r in rows(breaches) if r["类型"] == "一票否决")
    shown = (fatality["单位"], fatality["指标"], fatality["本期值"], fatality["控制值"])
    assert shown == ("北川煤矿", "死亡人数", 1, 0)
    assert fatality["说明"] == "一票否决：本年累计死亡人数 1，按目标责任书一票否决，考核得分计为 0"
    card = [r for r in rows(indicators) if r["单位"] == "北川煤矿" and r["指标"] == "死亡人数"]
    assert [(r["本年累计值"], r["状态"], r["否决项"]) for r in card] == [(1, "✖ 超标", "是")]


def test_an_unknown_language_is_refused(bulletin):
    with pytest.raises(ValueError):
        bulletin_xlsx(bulletin, "fr")


def test_no_cell_is_a_formula_even_when_a_name_is_one(pristine, tmp_path):
    path = tmp_path / "formula.duckdb"
    shutil.copy(pristine, path)
    with store.connect(path) as con:
        con.execute("UPDATE subsidiaries SET name_zh = ?, name_en = ? WHERE code = 'CM03'",
                    [FORMULA_NAME, "@SUM(A1)"])
    hostile = bulletin_of(path)
    for lang, stored in (("zh", "'" + FORMULA_NAME), ("en", "'@SUM(A1)")):
        book = load_workbook(io.BytesIO(bulletin_xlsx(hostile, lang)))
        texts = []
        for cell in every_cell(book):
            assert cell.data_type != "f", (cell.parent.title, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_STARTS), (cell.parent.title, cell.coordinate, cell.value)
                texts.append(cell.value)
        # the name reached the scores, the indicator values, the breaches and the summary's vetoed units
        assert texts.count(stored) >= 1 + len(hostile.scorecard("CM03")) + 2
        assert any(cell.value == stored for cell in book.worksheets[0]["G"])
