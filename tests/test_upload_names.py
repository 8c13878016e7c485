"""A row's unit code and unit name must be the same unit (issue 12): real files in a temporary folder (wide CSV,
wide XLSX, long CSV), imported into a real copy of the demo store; every rejection leaves the store as it was.

The demo units: LG01 通达物流公司 (Tongda Logistics Co.), LG02 铁运公司 (Railway Transport Co.), CM01 东峰煤矿;
LG02 has not reported 2026-10 (no hours worked stored), CM01 has.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from metrics import store
from metrics.ingest import upload
from metrics.ingest.preview import ROW, build_preview
from metrics.store import audit

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)
DATA_TABLES = ("indicators", "subsidiaries", "targets", "batches", "observations", "observation_history",
               "users", "store_meta")
STORE_META = "SELECT * FROM store_meta WHERE key NOT IN ('audit_head_id', 'audit_head_hash') ORDER BY ALL"
"""The store's settings, without the audit trail's anchor: it moves with the rejected file's audit row."""
WIDE_HEADER = ["月份", "单位编码", "单位名称", "负伤人数（轻伤及以上）", "排查隐患数", "实际工时（小时）"]
# Rows 2-4 are right; row 5 is coded LG01 (通达物流公司) but named 铁运公司, which is LG02.
WIDE_ROWS = [["2026-10", "LG02", "铁运公司", "1", "14", "226400"],
             ["2026-10", "CM01", "东峰煤矿", "2", "42", "669876"],
             ["2026-10", "CH01", "华源化工有限公司", "0", "28", "285000"],
             ["2026-10", "LG01", "铁运公司", "3", "11", "188000"]]
MISMATCH_ZH = "单位编码 LG01（通达物流公司）与单位名称 铁运公司（LG02）不是同一单位：请核对后改正其中之一"
MISMATCH_EN = ("the unit code LG01 (Tongda Logistics Co.) and the unit name LG02 (Railway Transport Co.) are not the "
               "same unit; correct one of them")


def data_tables(path: Path) -> dict:
    with store.connect(path, read_only=True) as con:
        return {name: store.query(con, STORE_META if name == "store_meta" else f"SELECT * FROM {name} ORDER BY ALL")
            for name in DATA_TABLES}


def unchanged(before: dict, path: Path) -> bool:
    after = data_tables(path)
    return all(after[name].equals(before[name]) for name in DATA_TABLES)


def csv_file(folder: Path, name: str, rows: list[list[str]]) -> Path:
    path = folder / name
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8-sig")
    return path


def xlsx_file(folder: Path, name: str, rows: list[list]) -> Path:
    """As Excel saves it: numbers as numbers, empty cells absent."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() and i > 2 else (c or None)
                      for i, c in enumerate(row)])
    path = folder / name
    workbook.save(path)
    return path


def check(db: Path, file: Path, dry_run: bool = False) -> upload.ImportResult:
    with store.connect(db) as con:
        return upload.import_file(con, file.read_bytes(), file.name, actor="tester", dry_run=dry_run, today=TODAY)


def located(problems) -> list[tuple]:
    return [(p.row, p.column, p.value) for p in problems]


def stored(db: Path, unit: str, indicator: str, month: str = "2026-10-01") -> float | None:
    with store.connect(db, read_only=True) as con:
        found = store.query(con, "SELECT value FROM observations WHERE subsidiary = $u AND indicator = $i AND "
                                 "month = CAST($m AS DATE)", {"u": unit, "i": indicator, "m": month})
    return None if found.empty else float(found["value"].iloc[0])


# Code and name disagreeing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [csv_file, xlsx_file], ids=["wide-csv", "wide-xlsx"])
def test_a_wide_row_whose_code_and_name_are_different_units_rejects_the_file(db, tmp_path, make):
    before = data_tables(db)
    with store.connect(db, read_only=True) as con:
        trail = len(audit.entries(con))
    file = make(tmp_path, "october" + (".csv" if make is csv_file else ".xlsx"), [WIDE_HEADER, *WIDE_ROWS])
    result = check(db, file)
    assert result.status == "rejected"
    assert located(result.errors) == [(5, "单位编码 / 单位名称", "LG01 / 铁运公司")]
    [error] = result.errors
    assert (error.message_zh, error.message, error.marks) == (MISMATCH_ZH, MISMATCH_EN, ("单位编码", "单位名称"))
    assert unchanged(before, db)  # LG01's values are not replaced, and neither are the three good rows written
    with store.connect(db, read_only=True) as con:
        entries = audit.entries(con)
    assert len(entries) == trail + 1 and entries.iloc[0]["action"] == "upload_rejected"


def test_a_long_row_whose_code_and_name_are_different_units_rejects_the_file(db, tmp_path):
    before = data_tables(db)
    file = csv_file(tmp_path, "long.csv", [["月份", "单位", "单位名称", "指标", "数值"],
                                           ["2026-10", "LG02", "铁运公司", "injuries", "1"],
                                           ["2026-10", "CM01", "西岭煤矿", "injuries", "2"]])
    result = check(db, file)
    assert result.status == "rejected"
    assert located(result.errors) == [(3, "单位 / 单位名称", "CM01 / 西岭煤矿")]
    assert result.errors[0].message_zh == ("单位 CM01（东峰煤矿）与单位名称 西岭煤矿（CM02）不是同一单位：请核对后改正"
                                           "其中之一")
    assert unchanged(before, db)


def test_an_indicator_code_and_name_that_disagree_reject_the_file_too(db, tmp_path):
    before = data_tables(db)
    file = csv_file(tmp_path, "long.csv", [["月份", "单位", "指标编码", "指标名称", "数值"],
                                           ["2026-10", "LG02", "injuries", "负伤人数（轻伤及以上）", "1"],
                                           ["2026-10", "LG02", "injuries", "死亡人数", "1"]])
    result = check(db, file)
    assert located(result.errors) == [(3, "指标编码 / 指标名称", "injuries / 死亡人数")]
    assert result.errors[0].message == ("the indicator code injuries (Injuries (minor and above)) and the indicator "
                                        "name fatalities (Fatalities) are not the same indicator; correct one of them")
    assert unchanged(before, db)


def test_the_command_line_rejects_the_file_naming_the_row_and_both_values(db, tmp_path):
    before = data_tables(db)
    file = csv_file(tmp_path, "october.csv", [WIDE_HEADER, *WIDE_ROWS])
    done = subprocess.run([sys.executable, "-m", "metrics", "import", str(file)], check=False, cwd=ROOT,
                          env={**os.environ, "SAFETY_DB": str(db), "SAFETY_NOW": "2026-11-23"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"error: row 5, column 单位编码 / 单位名称, value 'LG01 / 铁运公司': {MISMATCH_EN}" in done.stderr
    assert "rejected: 1 errors, nothing written" in done.stderr
    assert unchanged(before, db)


# A misspelt or missing name --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [csv_file, xlsx_file], ids=["wide-csv", "wide-xlsx"])
def test_a_misspelt_name_beside_a_valid_code_rejects_the_file(db, tmp_path, make):
    before = data_tables(db)
    rows = [WIDE_HEADER, ["2026-10", "CM01", "东峰煤旷", "2", "42", "669876"]]
    result = check(db, make(tmp_path, "f" + (".csv" if make is csv_file else ".xlsx"), rows))
    assert located(result.errors) == [(2, "单位名称", "东峰煤旷")]
    assert (result.errors[0].message, result.errors[0].message_zh) == (
        "unknown unit; did you mean 东峰煤矿?", "无法识别的单位；是否应为“东峰煤矿”？")
    assert unchanged(before, db)


def test_a_blank_code_with_no_name_says_what_to_write(db, tmp_path):
    before = data_tables(db)
    result = check(db, csv_file(tmp_path, "f.csv", [WIDE_HEADER, ["2026-10", "", "", "2", "42", "669876"]]))
    assert located(result.errors) == [(2, "单位编码", "")]
    [error] = result.errors
    assert error.message_zh == "单位编码和单位名称都未填写：请填写单位编码或单位名称（如 CH01 或 华源化工有限公司）"
    assert error.message == ("both the unit code and the unit name are empty: write the unit's code (e.g. CH01) "
                             "or its name")
    assert error.marks == ("单位编码", "单位名称")
    assert unchanged(before, db)


def test_a_missing_unit_in_a_file_with_one_unit_column_says_what_to_write(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [["month", "subsidiary", "indicator", "value"],
                                                    ["2026-10", "", "injuries", "1"]]))
    assert [(p.row, p.column, p.message_zh) for p in result.errors] == [
        (2, "subsidiary", "缺少单位：请填写单位编码或单位名称（如 CH01 或 华源化工有限公司）")]


def test_a_blank_code_with_a_name_is_read_by_the_name(db, tmp_path):
    rows = [WIDE_HEADER, ["2026-10", "", "铁运公司", "1", "14", "226400"]]
    result = check(db, csv_file(tmp_path, "f.csv", rows))
    assert (result.status, result.rows, result.errors) == ("committed", 3, [])
    assert (stored(db, "LG02", "injuries"), stored(db, "LG02", "hours_worked")) == (1, 226400)


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_a_name_alone_resolves_and_a_near_miss_is_suggested(db, tmp_path, shape):
    if shape == "wide":
        header, good, bad = ["月份", "单位名称", "负伤人数（轻伤及以上）"], ["2026-10", "铁运公司", "1"], \
            ["2026-10", "铁运工司", "1"]
    else:
        header, good, bad = ["月份", "单位名称", "指标", "数值"], ["2026-10", "铁运公司", "injuries", "1"], \
            ["2026-10", "铁运工司", "injuries", "1"]
    before = data_tables(db)
    rejected = check(db, csv_file(tmp_path, "bad.csv", [header, good, bad]))
    assert [(p.row, p.column, p.value, p.message_zh) for p in rejected.errors] == [
        (3, "单位名称", "铁运工司", "无法识别的单位；是否应为“铁运公司”？")]
    assert unchanged(before, db)
    committed = check(db, csv_file(tmp_path, "good.csv", [header, good]))
    assert (committed.status, stored(db, "LG02", "injuries")) == ("committed", 1)


def test_a_code_and_a_name_of_the_same_unit_commit(db, tmp_path):
    result = check(db, csv_file(tmp_path, "f.csv", [WIDE_HEADER, *WIDE_ROWS[:3]]))
    assert (result.status, result.errors) == ("committed", [])
    assert (stored(db, "LG02", "injuries"), stored(db, "CM01", "injuries"), stored(db, "CH01", "hazards_found")) == \
        (1, 2, 28)


# Hours worked ------------------------------------------------------------------------------------------------------

HOURS_WARNING_ZH = ("LG02 2026-10 未填实际工时（小时）：百万工时伤害率（GB 6441）等 4 项比率以它为分母，将无法计算；"
                    "可照常提交，请尽快补报")


def test_a_blank_hours_cell_of_a_unit_month_without_stored_hours_is_warned_and_committed(db, tmp_path):
    rows = [WIDE_HEADER, ["2026-10", "LG02", "铁运公司", "1", "14", ""],  # LG02 has no hours for 2026-10 stored
            ["2026-10", "CM01", "东峰煤矿", "2", "42", ""]]  # CM01 has: the blank deletes nothing, no warning
    result = check(db, csv_file(tmp_path, "f.csv", rows))
    assert result.status == "committed"
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.warnings] == [
        (2, "实际工时（小时）", "", HOURS_WARNING_ZH)]
    assert stored(db, "LG02", "injuries") == 1 and stored(db, "LG02", "hours_worked") is None
    assert stored(db, "CM01", "hours_worked") == 669876  # as stored before


def test_a_long_file_without_hours_for_a_unit_month_is_warned_on_its_first_row(db, tmp_path):
    rows = [["月份", "单位", "指标", "数值"], ["2026-10", "CM01", "injuries", "2"],
            ["2026-10", "LG02", "injuries", "1"],
            ["2026-10", "LG02", "hazards_found", "14"]]
    result = check(db, csv_file(tmp_path, "f.csv", rows), dry_run=True)
    assert [(p.row, p.column, p.message_zh) for p in result.warnings] == [(3, None, HOURS_WARNING_ZH)]
    with_hours = check(db, csv_file(tmp_path, "g.csv", rows + [["2026-10", "LG02", "hours_worked", "226400"]]),
                       dry_run=True)
    assert with_hours.warnings == []


# The preview marks the cells -------------------------------------------------------------------------------------

def test_the_preview_is_the_users_rows_and_headers_with_the_wrong_cells_marked(db, tmp_path):
    rows = [WIDE_HEADER, *WIDE_ROWS[:3], ["2026-10", "LG01", "铁运公司", "-3", "11", "188000"],
            ["2026-10", "", "", "1", "x", ""]]
    result = check(db, csv_file(tmp_path, "f.csv", rows), dry_run=True)
    shown = build_preview(result.cells, result.problems)
    assert list(shown.table.columns) == [ROW, *WIDE_HEADER]
    assert shown.table.values.tolist() == [[r + 2, *row] for r, row in enumerate(rows[1:])]
    marked = {(int(shown.table.iloc[i][ROW]), column, level) for i, row in shown.marks.iterrows()
              for column, level in row.items() if level}
    assert marked == {(5, "单位编码", "error"), (5, "单位名称", "error"),  # code and name disagree
                      (5, "负伤人数（轻伤及以上）", "error"),  # a negative value
                      (6, "单位编码", "error"), (6, "单位名称", "error"),  # no unit at all
                      (6, "排查隐患数", "error")}  # not a number


def test_a_row_level_problem_marks_the_row_number(db, tmp_path):
    rows = [["月份", "单位", "指标", "数值"], ["2026-10", "LG02", "injuries", "1"]]
    result = check(db, csv_file(tmp_path, "f.csv", rows), dry_run=True)
    shown = build_preview(result.cells, result.problems)
    assert shown.marks.values.tolist() == [["warning", "", "", "", ""]]  # no hours for LG02 2026-10: the row
