"""Wrong data an attacker got committed (issue 18, items 1–4), each now refused: real CSV and XLSX files in a
temporary folder, imported into a real copy of the demo store (today 2026-11-23), the store unchanged on every
rejection.

The demo units: CM01 东峰煤矿 (2026-10 reported: hours_worked 669,876), CM02 西岭煤矿, LG02 铁运公司 (2026-10 not
reported).
"""
from __future__ import annotations

import csv
import io
import math
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from metrics import store
from metrics.cli.main import main
from metrics.core.catalog import CatalogError, load_catalog, parse_catalog
from metrics.core.formatting import display_number
from metrics.core.months import parse_month
from metrics.ingest import template, upload, validation
from metrics.store import schema
from tests.test_upload_names import (
    TODAY,
    check,
    csv_file,
    data_tables,
    located,
    stored,
    unchanged,
)

HOURS = "实际工时（小时）"
HAN, LATIN = re.compile(r"[\u4e00-\u9fff]"), re.compile(r"[A-Za-z]")


def template_rows(db: Path) -> list[list[str]]:
    """The page's CSV template for 2026-10 (31 columns: 月份, 单位编码, 单位名称 and the 28 base indicators)."""
    with store.connect(db, read_only=True) as con:
        units = store.query(con, schema.SELECT_UNITS)
    data = template.template_file(load_catalog(), units, parse_month("2026-10"), "csv")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def write_lines(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def xlsx_rows(folder: Path, name: str, rows: list[list], edit=None) -> Path:
    """An .xlsx written by openpyxl (numbers as numbers; "=…" as a formula, which openpyxl saves without a value);
    `edit(sheet_xml) -> sheet_xml` rewrites the saved sheet, as Excel would have saved it."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    raw = io.BytesIO()
    workbook.save(raw)
    path = folder / name
    if edit is None:
        path.write_bytes(raw.getvalue())
        return path
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.namelist():
            data = source.read(entry)
            target.writestr(entry, edit(data) if entry == "xl/worksheets/sheet1.xml" else data)
    path.write_bytes(out.getvalue())
    return path


# 1. A row with more cells than the header -------------------------------------------------------------------------

def test_the_template_row_with_an_unquoted_thousands_comma_is_rejected_naming_the_number(db, tmp_path):
    """652,310 typed without quotes in 实际工时 makes 32 cells under the 31 headers; the extra cell is empty (the
    last indicator was not reported), and before it 310 went into 平均职工人数."""
    header, *rows = template_rows(db)
    assert len(header) == 31
    row = next(r for r in rows if r[1] == "CM01")
    hours = header.index(HOURS)
    cells = row[:hours] + ["652", "310"] + row[hours + 1:]
    before, employees = data_tables(db), stored(db, "CM01", "avg_employees")
    result = check(db, write_lines(tmp_path, "october.csv", [",".join(header), ",".join(cells)]))
    assert result.status == "rejected"
    assert located(result.errors) == [(2, HOURS, "652,310")]
    [error] = result.errors
    assert error.message == ("the row has 32 cells but the header has 31 columns, so its cells are shifted: 652,310 "
                             "under 实际工时（小时） was read as 2 cells; write it without the comma (652310) or in "
                             "quotes (\"652,310\")")
    assert error.message_zh == ("该行有 32 个单元格，多于表头的 31 列，各格已与表头错位：“实际工时（小时）”下的 "
                                "652,310 被逗号拆成了 2 格；请去掉千位分隔符写成 652310，或加英文双引号写成 "
                                "\"652,310\"")
    assert result.warnings == []  # 652 hours and 310 employees are not the unit's figures: nothing is judged on them
    assert unchanged(before, db)
    assert (stored(db, "CM01", "hours_worked"), stored(db, "CM01", "avg_employees")) == (669876, employees)


def test_the_same_row_quoted_commits_652310(db, tmp_path):
    header, *rows = template_rows(db)
    row = next(r for r in rows if r[1] == "LG02")
    row[header.index(HOURS)] = "652,310"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, row])
    result = check(db, write_lines(tmp_path, "october.csv", [out.getvalue().rstrip("\n")]))
    assert (result.status, result.errors) == ("committed", [])
    assert stored(db, "LG02", "hours_worked") == 652310


def test_a_long_row_whose_number_ran_into_the_note_is_rejected(db, tmp_path):
    before = data_tables(db)
    result = check(db, write_lines(tmp_path, "long.csv", ["月份,单位,指标,数值,备注",
                                                          "2026-10,LG02,hours_worked,652,310,",
                                                          "2026-10,LG02,injuries,1,"]))
    assert located(result.errors) == [(2, "数值", "652,310")]
    assert result.errors[0].message.startswith("the row has 6 cells but the header has 5 columns")
    assert result.warnings == []  # not "hours worked are 0.0× last month's" about the 652 the row was cut to
    assert unchanged(before, db)


@pytest.mark.parametrize("extra", ["", " ", "0"], ids=["empty", "space", "zero"])
def test_any_extra_cell_rejects_the_row_when_no_number_was_split(db, tmp_path, extra):
    before = data_tables(db)
    result = check(db, write_lines(tmp_path, "long.csv", ["月份,单位,指标,数值",
                                                          f"2026-10,LG02,injuries,1,{extra}"]))
    assert [(p.row, p.column, p.value) for p in result.errors] == [(2, None, extra.strip())]
    assert result.errors[0].message == (
        "the row has 5 cells but the header has 4 columns, so its cells are shifted: write numbers without a "
        "thousands comma or in quotes (1234 or \"1,234\"), and remove any stray delimiter")
    assert unchanged(before, db)


def test_a_tab_separated_row_with_a_stray_tab_is_rejected(db, tmp_path):
    before = data_tables(db)
    result = check(db, write_lines(tmp_path, "long.txt", ["月份\t单位\t指标\t数值", "2026-10\tLG02\tinjuries\t1\t"]))
    assert [(p.row, p.column) for p in result.errors] == [(2, None)]
    assert "header has 4 columns" in result.errors[0].message
    assert unchanged(before, db)


def test_an_xlsx_cell_formatted_beyond_the_header_is_no_extra_cell_but_a_value_there_is(db, tmp_path):
    """An .xlsx row ends with its last non-empty cell: a formatted empty cell right of the header is not data."""
    def formatted_empty_e2(xml: bytes) -> bytes:
        return xml.replace(b"</row><row r=\"3\"", b"<c r=\"E2\" s=\"0\"/></row><row r=\"3\"", 1)

    rows = [["月份", "单位", "指标", "数值"], ["2026-10", "LG02", "injuries", 1],
            ["2026-10", "LG02", "hazards_found", 14]]
    path = xlsx_rows(tmp_path, "f.xlsx", rows, formatted_empty_e2)
    assert b'<c r="E2" s="0"/>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    committed = check(db, path)
    assert (committed.status, committed.errors) == ("committed", [])
    before = data_tables(db)
    rejected = check(db, xlsx_rows(tmp_path, "g.xlsx", [rows[0], ["2026-10", "LG02", "injuries", 2, "310"]]))
    assert [(p.row, p.column, p.value) for p in rejected.errors] == [(2, None, "310")]
    assert rejected.errors[0].message.endswith("give the extra column a header or move its values under one")
    assert unchanged(before, db)


# 2. Unit names are unique, like codes ------------------------------------------------------------------------------

def run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def units_file(folder: Path, *rows: str) -> Path:
    path = folder / "units.csv"
    path.write_text("\n".join(["code,name_zh,name_en,sector", *rows]) + "\n", encoding="utf-8")
    return path


def stored_units(db: Path) -> pd.DataFrame:
    with store.connect(db, read_only=True) as con:
        return store.query(con, schema.SELECT_UNITS)


def test_units_import_refuses_a_name_another_stored_unit_has(db, tmp_path, capsys):
    before = stored_units(db)
    code, err = run(capsys, "units", "import", str(units_file(tmp_path, "CM05,东峰煤矿,Dongfeng Mine 2,coal")),
                    "--db", str(db))
    assert code == 1
    assert ("error: row 2, column name_zh, value '东峰煤矿': 东峰煤矿 already names unit CM01 (东峰煤矿): unit names, "
            "like codes, are unique (an upload finds a unit by either); choose another name, or rename CM01 in the "
            "same file") in err
    assert stored_units(db).equals(before)


def test_units_import_refuses_the_files_own_duplicate_names_and_a_name_that_is_a_code(db, tmp_path, capsys):
    before = stored_units(db)
    file = units_file(tmp_path, "CM05,新井煤矿,New Shaft,coal", "CM06,新井煤矿,New Shaft 2,coal",
                      "CM07,北坡煤矿,cm02,coal")
    code, err = run(capsys, "units", "import", str(file), "--db", str(db))
    assert code == 1
    assert "error: row 3, column name_zh, value '新井煤矿': 新井煤矿 already names unit CM05 on row 2" in err
    assert "error: row 4, column name_en, value 'cm02': cm02 already names unit CM02 (西岭煤矿)" in err
    assert err.count("error:") == 2  # New Shaft 2 is a name of its own
    assert stored_units(db).equals(before)


def test_a_unit_renamed_in_the_same_file_frees_its_name(db, tmp_path, capsys):
    file = units_file(tmp_path, "CM01,东峰一矿,Dongfeng No. 1,coal", "CM05,东峰煤矿,Dongfeng Mine,coal")
    assert run(capsys, "units", "import", str(file), "--db", str(db))[0] == 0
    names = stored_units(db).set_index("code")["name_zh"]
    assert (names["CM01"], names["CM05"]) == ("东峰一矿", "东峰煤矿")


def test_a_name_two_units_share_in_an_older_store_finds_neither_and_the_code_still_does(db, tmp_path):
    """Written past units import (a store from before the rule): a row by that name says to write the code."""
    with store.connect(db) as con:
        store.upsert_units(con, pd.DataFrame([("CM05", "东峰煤矿", "Dongfeng Mine", "coal")],
                                             columns=["code", "name_zh", "name_en", "sector"]), actor="test")
    before = data_tables(db)
    header = ["月份", "单位名称", "负伤人数（轻伤及以上）"]
    result = check(db, csv_file(tmp_path, "by_name.csv", [header, ["2026-10", "东峰煤矿", "3"]]))
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.errors] == [
        (2, "单位名称", "东峰煤矿", "“东峰煤矿”是多个单位（CM01、CM05）的名称：请填写单位编码")]
    assert result.errors[0].message == "东峰煤矿 is the name of more than one unit (CM01, CM05): write the unit code"
    assert unchanged(before, db)
    by_code = check(db, csv_file(tmp_path, "by_code.csv", [["月份", "单位编码", "负伤人数（轻伤及以上）"],
                                                           ["2026-10", "CM05", "3"]]))
    assert (by_code.status, stored(db, "CM05", "injuries"), stored(db, "CM01", "injuries")) == ("committed", 3, 2)


# 3. Formulas without a value, a second column of the same meaning ---------------------------------------------

XLSX_HEADER = ["月份", "单位", "排查隐患数", "已整改隐患数"]


def test_an_xlsx_formula_without_a_saved_value_is_refused_naming_the_cell(db, tmp_path):
    before = data_tables(db)
    result = check(db, xlsx_rows(tmp_path, "f.xlsx", [XLSX_HEADER, ["2026-10", "LG02", 14, "=C2-2"]]))
    assert located(result.errors) == [(2, "已整改隐患数", "=C2-2")]
    assert result.errors[0].message == ("cell D2 holds a formula without a saved value: save the workbook in Excel so "
                                        "formulas have values, then upload it again")
    assert result.errors[0].message_zh == ("单元格 D2 的公式没有计算结果：请在 Excel 中打开并保存该工作簿，"
                                           "使公式得出数值，再重新上传")
    assert unchanged(before, db)


def test_a_formula_excel_computed_is_read_by_its_value_and_an_empty_text_result_as_not_reported(db, tmp_path):
    def as_excel_saves(xml: bytes) -> bytes:
        assert b"<f>C2-2</f><v></v>" in xml and b"<f>IF(C3&gt;0,\"\",1)</f><v></v>" in xml
        return xml.replace(b"<f>C2-2</f><v></v>", b"<f>C2-2</f><v>12</v>").replace(
            b'<c r="D3"><f>', b'<c r="D3" t="str"><f>')

    september = stored(db, "LG02", "hazards_rectified", "2026-09-01")
    rows = [XLSX_HEADER, ["2026-10", "LG02", 14, "=C2-2"], ["2026-09", "LG02", 5, '=IF(C3>0,"",1)']]
    result = check(db, xlsx_rows(tmp_path, "f.xlsx", rows, as_excel_saves))
    assert (result.status, result.errors, result.rows) == ("committed", [], 3)
    assert stored(db, "LG02", "hazards_rectified") == 12
    assert stored(db, "LG02", "hazards_rectified", "2026-09-01") == september == 13  # "" is not reported: kept


@pytest.mark.parametrize("header, row, expected", [
    (["月份", "单位", "指标", "数值", "统计月份"], ["2026-10", "LG02", "injuries", "1", "2026-09"],
     (1, "统计月份", "月份 / 统计月份", "第 1、5 列（月份、统计月份）都是月份：请只保留其中一列")),
    (["月份", "单位编码", "单位", "排查隐患数"], ["2026-10", "LG02", "CM01", "14"],
     (1, "单位", "单位编码 / 单位", "第 2、3 列（单位编码、单位）都是单位：请只保留其中一列")),
    (["月份", "单位", "hours_worked", "排查隐患数", HOURS], ["2026-10", "LG02", "226400", "14", "652310"],
     (1, HOURS, f"hours_worked / {HOURS}", f"第 3、5 列（hours_worked、{HOURS}）都是同一指标：请只保留其中一列")),
], ids=["second-month", "unit-twice", "indicator-by-code-and-name"])
def test_a_second_column_of_the_same_meaning_is_refused_not_ignored(db, tmp_path, header, row, expected):
    before = data_tables(db)
    result = check(db, csv_file(tmp_path, "f.csv", [header, row]))
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.errors] == [expected]
    assert unchanged(before, db)


def test_the_second_month_column_names_both_columns_in_english(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "指标", "数值", "月份"],
                                                    ["2026-10", "LG02", "injuries", "1", "2026-09"]]))
    assert result.errors[0].message == ("columns 1 and 5 (月份, 月份) both give the month: keep one of them and "
                                        "delete the other")


# 4. Implausible values --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("month, english", [
    ("1900-01", "1900-01 is before 2000-01, the earliest month the dashboard takes; check the year"),
    ("1999-12", "1999-12 is before 2000-01, the earliest month the dashboard takes; check the year"),
    ("2026-12", "2026-12 is in the future; check the year and the month"),
])
def test_a_month_before_2000_or_after_this_one_is_refused(db, tmp_path, month, english):
    before = data_tables(db)
    result = check(db,
                   csv_file(tmp_path, "f.csv", [["月份", "单位", "指标", "数值"], [month, "LG02", "injuries", "1"]]))
    assert [(p.row, p.column, p.value, p.message) for p in result.errors] == [(2, "月份", month, english)]
    assert unchanged(before, db)


def test_january_2000_and_the_current_month_are_taken(db, tmp_path):
    rows = [["月份", "单位", "指标", "数值"], ["2000-01", "LG02", "injuries", "1"],
            ["2026-11", "LG02", "injuries", "2"]]
    result = check(db, csv_file(tmp_path, "f.csv", rows))
    assert (result.status, result.errors) == ("committed", [])
    assert (stored(db, "LG02", "injuries", "2000-01-01"), stored(db, "LG02", "injuries", "2026-11-01")) == (1, 2)


@pytest.mark.parametrize("text", ["1²", "①", "١٢", "²", "1⁰", "Ⅰ"])
def test_a_superscript_or_another_scripts_digit_is_not_a_number(db, tmp_path, text):
    before = data_tables(db)
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "死亡人数", "负伤人数（轻伤及以上）"],
                                                    ["2026-10", "LG02", text, "1"]]))
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.errors] == [
        (2, "死亡人数", text, "不是数字：请填写如 1234、1,234.5 或 1.5E+05 的数值")]
    assert unchanged(before, db)


def test_full_width_digits_are_still_read(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "死亡人数", HOURS],
                                                    ["２０２６－１０", "LG02", "０", "２２６，４００"]]))
    assert (result.status, result.errors) == ("committed", [])
    assert (stored(db, "LG02", "fatalities"), stored(db, "LG02", "hours_worked")) == (0, 226400)


@pytest.mark.parametrize("column, text, message_zh", [
    (HOURS, "1e308", "超出单个单位一个月可能的数值（不超过 1,000,000,000 小时）：请核对数值及计量单位"),
    (HOURS, "1,000,000,001", "超出单个单位一个月可能的数值（不超过 1,000,000,000 小时）：请核对数值及计量单位"),
    ("负伤人数（轻伤及以上）", "10000001",
     "超出单个单位一个月可能的数值（不超过 10,000,000 人）：请核对数值及计量单位"),
    ("直接经济损失（万元）", "1.5E+08",
     "超出单个单位一个月可能的数值（不超过 100,000,000 万元）：请核对数值及计量单位"),
    ("平均职工人数", "2e7", "超出单个单位一个月可能的数值（不超过 10,000,000 人）：请核对数值及计量单位"),
])
def test_a_value_beyond_its_kinds_bound_is_refused(db, tmp_path, column, text, message_zh):
    before = data_tables(db)
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", column], ["2026-10", "LG02", f'"{text}"']]))
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.errors] == [(2, column, text, message_zh)]
    assert unchanged(before, db)


def test_1e308_hours_says_what_the_bound_is_in_english(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "指标", "数值"],
                                                    ["2026-10", "LG02", "hours_worked", "1e308"]]))
    assert [p.message for p in result.errors] == [(
        "more than one unit can report for a month (at most 1,000,000,000 hours): check the number and its unit "
        "of measure")]


def test_the_bound_itself_is_taken(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "指标", "数值"],
                                                    ["2026-10", "LG02", "hours_worked", "1000000000"],
                                                    ["2026-10", "LG02", "avg_employees", "3000000"]]))
    assert (result.status, result.errors) == ("committed", [])
    assert stored(db, "LG02", "hours_worked") == 1e9


def test_the_bounds_are_declared_once_in_the_catalog_for_every_uploaded_kind():
    bounds = {kind.value: bound for kind, bound in load_catalog().upper_bounds.items()}
    assert bounds == {"count": 1e7, "amount": 1e8, "hours": 1e9, "average": 1e7}
    indicator = ('[[indicator]]\ncode = "x"\nname_zh = "x"\nname_en = "x"\nunit_zh = "x"\nunit_en = "x"\n'
                 'definition_zh = "x"\ndefinition_en = "x"\nkind = "hours"\ndirection = "none"\ncategory = "exposure"\n'
                 'rollup = "sum"\n')
    with pytest.raises(CatalogError, match="no bound for the kind"):
        parse_catalog(f"version = 1\n[upper_bound]\ncount = 10\n{indicator}")
    with pytest.raises(CatalogError, match="a positive number"):
        parse_catalog(f"version = 1\n[upper_bound]\nhours = 0\n{indicator}")
    with pytest.raises(CatalogError, match="a positive number"):
        parse_catalog(f"version = 1\n[upper_bound]\nhours = 1e9\nrate = 5\n{indicator}")
    assert parse_catalog(f"version = 1\n[upper_bound]\nhours = 1e9\n{indicator}").upper_bounds


@pytest.mark.parametrize("text", ["-0", "-0.0", "－０", "-0e5"])
def test_minus_zero_is_stored_and_shown_as_0(db, tmp_path, text):
    result = check(db, csv_file(tmp_path, "f.csv", [["月份", "单位", "死亡人数"], ["2026-10", "LG02", text]]))
    assert (result.status, result.errors) == ("committed", [])
    value = stored(db, "LG02", "fatalities")
    assert value == 0 and math.copysign(1, value) == 1
    assert display_number(value) == "0"


def test_a_units_or_targets_row_with_more_cells_than_the_header_is_refused(db, tmp_path, capsys):
    before = data_tables(db)
    units = units_file(tmp_path, "CM05,新井煤矿,New Shaft,coal,")
    code, err = run(capsys, "units", "import", str(units), "--db", str(db))
    assert code == 1
    assert err.strip() == ("error: row 2, value '': the row has 5 cells but the header has 4 columns, so its cells are "
                           "shifted: write numbers without a thousands comma or in quotes (1000 or \"1,000\"), and "
                           "remove any stray delimiter")
    targets = tmp_path / "targets.csv"
    targets.write_text("year,subsidiary,indicator,target,limit,weight,veto\n2026,CM01,hazards_found,1,200,,10,false\n",
                       encoding="utf-8")
    code, err = run(capsys, "targets", "import", str(targets), "--db", str(db))
    assert code == 1 and "error: row 2, value 'false': the row has 8 cells but the header has 7 columns" in err
    assert unchanged(before, db)


# 5. Every upload check declared once, with its words, and a file that makes it say each of them ---------------

LONG = ["月份", "单位", "指标", "数值"]
WIDE = ["月份", "单位编码", "单位名称", "负伤人数（轻伤及以上）"]
BY_CODE_AND_NAME = ["月份", "单位", "指标编码", "指标名称", "数值"]
KEEPS_LEDGER = "UPDATE subsidiaries SET ledger_from = DATE '2026-05-01' WHERE code = 'LG01'"
# (check id, sentence) -> a CSV (header first) that makes the check say it, in the demo store where CM05 shares
# CM01's name 东峰煤矿 (written past units import, as in a store from before names were unique). Hand-written: a
# check or a sentence added to validation.CHECKS without a file here fails the test below.
FIRES: dict[tuple[str, str], list[list[str]]] = {
    ("month", "missing"): [LONG, ["", "CM01", "injuries", "1"]],
    ("month", "unreadable"): [LONG, ["2026-13", "CM01", "injuries", "1"]],
    ("month", "future"): [LONG, ["2026-12", "CM01", "injuries", "1"]],
    ("month", "too_early"): [LONG, ["1999-12", "CM01", "injuries", "1"]],
    ("unit", "shared"): [LONG, ["2026-10", "东峰煤矿", "injuries", "1"]],
    ("unit", "disagree"): [WIDE, ["2026-10", "CM01", "西岭煤矿", "1"]],
    ("unit", "missing"): [LONG, ["2026-10", "", "injuries", "1"]],
    ("unit", "both_missing"): [WIDE, ["2026-10", "", "", "1"]],
    ("unit", "unknown"): [LONG, ["2026-10", "QQQQ", "injuries", "1"]],
    ("unit", "unknown_close"): [LONG, ["2026-10", "西岭煤厂", "injuries", "1"]],
    ("indicator", "disagree"): [BY_CODE_AND_NAME, ["2026-10", "CM01", "injuries", "死亡人数", "1"]],
    ("indicator", "missing"): [LONG, ["2026-10", "CM01", "", "1"]],
    ("indicator", "both_missing"): [BY_CODE_AND_NAME, ["2026-10", "CM01", "", "", "1"]],
    ("indicator", "unknown"): [LONG, ["2026-10", "CM01", "QQQQ", "1"]],
    ("indicator", "unknown_close"): [LONG, ["2026-10", "CM01", "负伤人数", "1"]],
    ("no_data", "empty"): [LONG, ["2026-10", "CM01", "injuries", ""]],
    ("derived", "derived"): [LONG, ["2026-10", "CM01", "ltifr", "1"]],
    ("value", "not_a_number"): [LONG, ["2026-10", "LG02", "injuries", "abc"]],
    ("value", "negative"): [LONG, ["2026-10", "LG02", "injuries", "-1"]],
    ("value", "too_large"): [LONG, ["2026-10", "LG02", "injuries", "20000000"]],
    ("value", "fraction"): [LONG, ["2026-10", "LG02", "injuries", "1.5"]],
    ("conflicting_duplicate", "conflicting_duplicate"): [LONG, ["2026-10", "LG02", "injuries", "1"],
                                                         ["2026-10", "LG02", "injuries", "2"]],
    ("identical_duplicate", "identical_duplicate"): [LONG, ["2026-10", "LG02", "injuries", "1"],
                                                     ["2026-10", "LG02", "injuries", "1"]],
    ("hours_jump", "hours_jump"): [LONG, ["2026-11", "CM01", "hours_worked", "6698760"]],
    ("hours_per_head", "hours_per_head"): [LONG, ["2026-10", "LG02", "hours_worked", "1000"],
                                           ["2026-10", "LG02", "avg_employees", "1000"]],
    ("certified_over_required", "certified_over_required"): [LONG, ["2026-10", "LG02", "staff_requiring_cert", "10"],
                                                             ["2026-10", "LG02", "staff_certified", "20"]],
    ("without_hours", "without_hours"): [LONG, ["2026-10", "LG02", "injuries", "1"]],
    ("from_ledger", "only"): [LONG, ["2026-10", "LG02", "hazards_due", "3"]],
    ("from_ledger", "kept"): [LONG, ["2026-10", "LG01", "hazards_found", "3"]],
}


@pytest.fixture(scope="module")
def sharing(pristine, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sharing") / "s.duckdb"
    shutil.copy(pristine, path)
    with store.connect(path) as con:
        store.upsert_units(con, pd.DataFrame([("CM05", "东峰煤矿", "Dongfeng Mine", "coal")],
                                             columns=["code", "name_zh", "name_en", "sector"]), actor="test")
        con.execute(KEEPS_LEDGER)  # as `metrics hazards keep LG01 --from 2026-05` would, had it a ledger
    return path


def test_every_upload_check_has_a_unique_id_and_every_sentence_both_languages():
    ids = [c.id for c in validation.CHECKS]
    assert len(ids) == len(set(ids))
    for declared in validation.CHECKS:
        assert declared.words, declared.id
        for case, words in {**declared.words, **declared.parts}.items():
            assert HAN.search(words.zh) and LATIN.search(words.en), (declared.id, case)


def test_the_checks_the_files_here_make_fire_are_every_declared_check_and_sentence():
    assert set(FIRES) == {(c.id, case) for c in validation.CHECKS for case in c.words}


@pytest.mark.parametrize("fired", list(FIRES), ids="-".join)
def test_each_check_fires_on_its_file_with_its_level(sharing, tmp_path, fired):
    path = csv_file(tmp_path, "f.csv", FIRES[fired])
    with store.connect(sharing, read_only=True) as con:
        validated, _, _ = upload.check_file(con, path.read_bytes(), path.name, today=TODAY)
    assert fired in validated.fired
    level = validation.CHECK[fired[0]].level
    assert any(p.level is level for p in validated.problems)
