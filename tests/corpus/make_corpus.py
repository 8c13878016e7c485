"""Write the monthly-upload corpus: awkward and bad files as subsidiaries really send them, and their outcomes.

Run once (`python tests/corpus/make_corpus.py`) and commit the result; the tests read the files on disk and never
regenerate them (tests/test_upload_corpus.py only checks that a fresh run would write the same bytes).

Every file is aimed at the demo store (`init_store(with_demo=True, end_month=2026-10)`) imported with
today = 2026-11-23: LG02 铁运公司 has not reported 2026-10 (values there are new), CM01 东峰煤矿 has (values there
replace, e.g. injuries = 2, hazards_found = 42, hours_worked = 669876). LG02 2026-09: hours_worked = 227636,
staff_requiring_cert = 330, near_misses = 6, emergency_drills = 1.

The expectations are written by hand from the design ("Monthly upload contract"), not read back from the
product. Rows are numbered as Excel shows them (the first line of the file is row 1). A column of None means the
problem concerns the whole file or row, not one column.

expected.json, one entry per file:
  status      committed | rejected | unchanged
  rows        values written (new or changed); replaced: values that overwrote a different stored value
  values      [unit, month, indicator, value] that must be in the store afterwards
  absent      [unit, month, indicator] that must not be in the store afterwards (blank = not reported)
  errors      [row, column] of every error, exactly (order free)
  error_rows  instead of `errors`, when the exact column is open: there are errors, all on these rows
  warnings    [row, column] of every warning, exactly
  messages    substrings that must each appear in some problem message
"""
from __future__ import annotations

import io
import json
import random
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = "files"
ZIP_TIME = (2026, 11, 1, 0, 0, 0)
BOM = b"\xef\xbb\xbf"

ZH = {
    "hours_worked": "实际工时（小时）",
    "avg_employees": "平均职工人数",
    "injuries": "负伤人数（轻伤及以上）",
    "fatalities": "死亡人数",
    "hazards_found": "排查隐患数",
    "hazards_rectified": "已整改隐患数",
    "staff_requiring_cert": "应持证人数",
    "staff_certified": "持证上岗人数",
    "training_hours": "安全培训学时",
    "safety_investment_actual": "安全投入实际（万元）",
    "direct_loss": "直接经济损失（万元）",
    "near_misses": "未遂事件报告数",
    "emergency_drills": "应急演练次数",
    "major_hazards": "重大隐患数",
    "inspections_done": "完成检查次数",
}

CORPUS: list[tuple[str, bytes, dict]] = []


def add(name: str, data: bytes, *, no_hours: tuple[int, ...] = (), **expected) -> None:
    """`no_hours`: the first row of each unit-month the file leaves without hours worked, neither in the file nor
    in the store (LG02 2026-10, anything in 2026-11): each is warned on that row (every rate per hour rests on
    the hours), with no column in these files (long, or wide without an hours column)."""
    expected["warnings"] = expected.get("warnings", []) + [[row, None] for row in no_hours]
    if expected["status"] == "unchanged":
        expected.update(rows=0, replaced=0)
    CORPUS.append((name, data, expected))


def text(lines: list[str], *, encoding: str = "utf-8", newline: str = "\n", bom: bool = False) -> bytes:
    body = newline.join(lines) + newline
    if encoding == "utf-16-le":
        return b"\xff\xfe" + body.encode("utf-16-le")
    return (BOM if bom else b"") + body.encode(encoding)


def excel_unicode_text(lines: list[str]) -> bytes:
    """What Excel writes for "Unicode text (*.txt)": UTF-16 LE with BOM, tab-delimited, CRLF."""
    return text(lines, encoding="utf-16-le", newline="\r\n")


def xlsx(rows: list[list], formats: dict[tuple[int, int], str] | None = None, *, merge: str | None = None,
         dimension: str | None = None) -> bytes:
    """An .xlsx written by openpyxl, made byte-for-byte reproducible (fixed document and zip timestamps).

    `dimension` overwrites the sheet's declared used range, as some exporters get it wrong.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "月报"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    for (r, c), number_format in (formats or {}).items():
        sheet.cell(row=r, column=c).number_format = number_format
    if merge:
        sheet.merge_cells(merge)
    fixed = datetime(2026, 11, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "corpus"
    raw = io.BytesIO()
    workbook.save(raw)
    source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time into `modified`
                data = _fixed_core(data)
            if dimension and info.filename == "xl/worksheets/sheet1.xml":
                declared = b'<dimension ref="%s"/>' % dimension.encode()
                data, found = re.subn(rb'<dimension ref="[^"]*"\s*/>', declared, data)
                assert found == 1, "openpyxl wrote no <dimension>"
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, data)
    return out.getvalue()


def _fixed_core(data: bytes) -> bytes:
    return re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                  rb"\g<1>2026-11-01T00:00:00Z\g<3>", data)


# --------------------------------------------------------------------------------------------------------------
# Committed: encodings, delimiters, shapes, headers, names, notations
# --------------------------------------------------------------------------------------------------------------

add("c01_long_utf8_english_codes.csv", text([
    "month,subsidiary,indicator,value,note",
    "2026-10,LG02,hours_worked,226400,",
    "2026-10,LG02,avg_employees,1102,",
    "2026-10,LG02,injuries,1,right hand cut",
    "2026-10,LG02,fatalities,0,",
    "2026-10,LG02,direct_loss,3.5,",
]), status="committed", rows=5, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "avg_employees", 1102],
            ["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "fatalities", 0],
            ["LG02", "2026-10", "direct_loss", 3.5]],
    absent=[["LG02", "2026-10", "hazards_found"]])

add("c02_long_utf8_bom_chinese_names.csv", text([
    "月份,单位名称,指标名称,数值,备注",
    f"2026年10月,铁运公司,{ZH['hours_worked']},226400,",
    f"2026年10月,铁运公司,{ZH['avg_employees']},1102,",
    f"2026年10月,铁运公司,{ZH['injuries']},1,",
    f"2026年10月,铁运公司,{ZH['hazards_found']},14,",
    f"2026年10月,铁运公司,{ZH['hazards_rectified']},13,已全部复查",
], bom=True, newline="\r\n"), status="committed", rows=5, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "injuries", 1],
            ["LG02", "2026-10", "hazards_found", 14], ["LG02", "2026-10", "hazards_rectified", 13]])

# 䶮 is in GB18030 but not in GBK: a GBK decoder would fail on this file.
add("c03_long_gb18030_statistics_month.csv", text([
    "统计月份,单位,指标,数值,备注",
    f"2026/10,铁运公司,{ZH['staff_requiring_cert']},330,",
    f"2026/10,铁运公司,{ZH['staff_certified']},328,经办人：刘䶮",
    f"2026/10,铁运公司,{ZH['training_hours']},2150,",
    f"2026/10,铁运公司,{ZH['safety_investment_actual']},45.2,",
], encoding="gb18030", newline="\r\n"), status="committed", rows=4, replaced=0,
    values=[["LG02", "2026-10", "staff_requiring_cert", 330], ["LG02", "2026-10", "staff_certified", 328],
            ["LG02", "2026-10", "training_hours", 2150], ["LG02", "2026-10", "safety_investment_actual", 45.2]],
    no_hours=[2])

add("c04_long_gbk_compact_month.csv", text([
    "月份,单位,指标名称,数值,备注",
    f"202610,铁运公司,{ZH['fatalities']},0,无",
    f"202610,铁运公司,{ZH['near_misses']},7,无",
    f"202610,铁运公司,{ZH['direct_loss']},3.5,设备损坏",
], encoding="gbk", newline="\r\n"), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "fatalities", 0], ["LG02", "2026-10", "near_misses", 7],
            ["LG02", "2026-10", "direct_loss", 3.5]], no_hours=[2])

add("c05_wide_utf16le_tab_excel_unicode_text.txt", excel_unicode_text([
    "\t".join(["月份", "单位编码", ZH["hours_worked"], ZH["avg_employees"], ZH["injuries"], ZH["hazards_found"],
               ZH["hazards_rectified"], "备注"]),
    "\t".join(["2026-10", "LG02", "226400", "1102", "1", "14", "13", '"已整改，""双人""复核"']),
]), status="committed", rows=5, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "avg_employees", 1102],
            ["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14],
            ["LG02", "2026-10", "hazards_rectified", 13]])

add("c06_long_semicolon.csv", text([
    "month;subsidiary;indicator;value",
    "2026-10;LG02;hazards_found;14",
    "2026-10;LG02;hazards_rectified;13",
    "2026-10;LG02;near_misses;7",
]), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "hazards_found", 14], ["LG02", "2026-10", "hazards_rectified", 13],
            ["LG02", "2026-10", "near_misses", 7]], no_hours=[2])

add("c07_long_tab.tsv", text([
    "month\tsubsidiary\tindicator\tvalue\tnote",
    "2026-10\tLG02\thours_worked\t226400\tfrom HR, checked",
    "2026-10\tLG02\tavg_employees\t1102\t",
    "2026-10\tLG02\tstaff_requiring_cert\t330\t",
    "2026-10\tLG02\tstaff_certified\t328\t2 on leave, renewal due",
]), status="committed", rows=4, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "staff_certified", 328]])

add("c08_wide_english_codes_new_and_replaced.csv", text([
    "month,subsidiary,hours_worked,avg_employees,injuries,hazards_found,hazards_rectified",
    "2026-10,LG02,226400,1102,1,14,13",
    "2026-10,CM01,669876,3158.7,3,42,41",
]), status="committed", rows=6, replaced=1,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "hazards_rectified", 13],
            ["CM01", "2026-10", "injuries", 3], ["CM01", "2026-10", "hours_worked", 669876],
            ["CM01", "2026-10", "avg_employees", 3158.7]])

add("c09_number_notations.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,hours_worked,1.5E+05",
    "2026-10,LG02,avg_employees,１１０２",
    "2026-10,LG02,injuries,  1 ",
    "2026-10,LG02,near_misses,007",
    '2026-10,LG02,training_hours,"2,150"',
    '2026-10,LG02,direct_loss,"1,234.5"',
    "2026-10,LG02,safety_investment_actual,４５．２",
    "2026-10,LG02,hazards_found,\u3000１４\u3000",
    "2026-10,LG02,inspections_planned,2.0E+01",
    "2026-10,LG02,lost_workdays,１，２３４",
]), status="committed", rows=10, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 150000], ["LG02", "2026-10", "avg_employees", 1102],
            ["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "near_misses", 7],
            ["LG02", "2026-10", "training_hours", 2150], ["LG02", "2026-10", "direct_loss", 1234.5],
            ["LG02", "2026-10", "safety_investment_actual", 45.2], ["LG02", "2026-10", "hazards_found", 14],
            ["LG02", "2026-10", "inspections_planned", 20], ["LG02", "2026-10", "lost_workdays", 1234]])

# CM01 injuries is 2 in the store: the blank cell leaves it alone (neither 0 nor deleted).
add("c10_blank_cells_are_not_reported.csv", text([
    "month,subsidiary,injuries,hazards_found,hazards_rectified,near_misses",
    "2026-10,CM01,,43,41,",
    "2026-10,LG02,1,,13,   ",
]), status="committed", rows=3, replaced=1,
    values=[["CM01", "2026-10", "injuries", 2], ["CM01", "2026-10", "near_misses", 31],
            ["CM01", "2026-10", "hazards_found", 43], ["CM01", "2026-10", "hazards_rectified", 41],
            ["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_rectified", 13]],
    absent=[["LG02", "2026-10", "hazards_found"], ["LG02", "2026-10", "near_misses"]], no_hours=[3])

add("c11_title_rows_and_note_rows.csv", text([
    "2026年10月安全生产指标月报,,,,",
    "填报单位：铁运公司（盖章）,,,,",
    "月份,单位,指标,数值,备注",
    f"2026-10,铁运公司,{ZH['injuries']},1,",
    f"2026-10,铁运公司,{ZH['hazards_found']},14,",
    f"2026-10,铁运公司,{ZH['hazards_rectified']},13,",
    ",,,,",
    "填表人：张三,,,,",
    "审核人：李四,,,,",
], bom=True, newline="\r\n"), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_rectified", 13]],
    warnings=[[1, None], [2, None], [8, None], [9, None]], messages=["title", "note"], no_hours=[4])

add("c12_identical_duplicates_warn.csv", text([
    "month,subsidiary,injuries,hazards_found",
    "2026-10,LG02,1,14",
    "2026-10,铁运公司,1,",
]), status="committed", rows=2, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14]],
    warnings=[[2, "injuries"]], messages=["rows 2, 3"], no_hours=[2])

add("c13_hours_ten_times_last_month.csv", text([
    "month,subsidiary,hours_worked",
    "2026-10,LG02,2276360",
]), status="committed", rows=1, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 2276360]],
    warnings=[[2, "hours_worked"]], messages=["last month"])

# CM01 needs 960 certified staff (stored); 965 certified is more than that.
add("c14_more_certified_than_requiring.csv", text([
    "month,subsidiary,staff_requiring_cert,staff_certified",
    "2026-10,LG02,330,335",
    "2026-10,CM01,,965",
]), status="committed", rows=3, replaced=1,
    values=[["LG02", "2026-10", "staff_certified", 335], ["CM01", "2026-10", "staff_certified", 965],
            ["CM01", "2026-10", "staff_requiring_cert", 960]],
    warnings=[[2, "staff_certified"], [3, "staff_certified"]], messages=["certified"], no_hours=[2])

add("c15_resubmission_replaces_one_value.csv", text([
    "month,subsidiary,indicator,value,note",
    "2026-10,CM01,injuries,3,补报一人",
]), status="committed", rows=1, replaced=1,
    values=[["CM01", "2026-10", "injuries", 3]], history=[["CM01", "2026-10", "injuries", 3, 2]])

add("c16_every_value_equals_store.csv", text([
    f"月份,单位名称,{ZH['hours_worked']},{ZH['avg_employees']},{ZH['injuries']},{ZH['direct_loss']}",
    "2026-10,东峰煤矿,669876,3158.7,2,15.37",
], bom=True, newline="\r\n"), status="unchanged")

add("c17_xlsx_title_and_note_rows.xlsx", xlsx([
    ["2026年10月安全生产指标月报"],
    ["月份", "单位", "指标", "数值", "备注"],
    ["2026-10", "铁运公司", ZH["injuries"], "1", None],
    ["2026-10", "LG02", "hazards_found", "14", None],
    ["2026年10月", "铁运公司", ZH["hazards_rectified"], "13", "按期整改"],
    [],
    ["填表人：张三"],
]), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14],
            ["LG02", "2026-10", "hazards_rectified", 13]],
    warnings=[[1, None], [7, None]], no_hours=[3])

add("c18_xlsx_numbers_as_numbers.xlsx", xlsx([
    ["月份", "单位编码", ZH["hours_worked"], ZH["avg_employees"], ZH["injuries"], ZH["safety_investment_actual"],
     ZH["direct_loss"], ZH["hazards_found"]],
    [202610, "LG02", 226400, 1102.5, 1, 45.2, 3.5, 14.0],
    [202610, "CM01", 669876.0, None, None, None, None, None],
]), status="committed", rows=6, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "avg_employees", 1102.5],
            ["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "safety_investment_actual", 45.2],
            ["LG02", "2026-10", "direct_loss", 3.5], ["LG02", "2026-10", "hazards_found", 14]])

add("c19_xlsx_months_as_real_dates.xlsx", xlsx([
    ["month", "subsidiary", "indicator", "value"],
    [datetime(2026, 10, 1), "LG02", "injuries", 1],
    [datetime(2026, 10, 31), "LG02", "hazards_found", 14],
    [datetime(2026, 9, 1), "LG02", "near_misses", 6],
    [datetime(2026, 9, 1), "LG02", "emergency_drills", 2],
], formats={(2, 1): "yyyy-mm", (3, 1): "yyyy/m/d", (4, 1): 'yyyy"年"m"月"', (5, 1): "yyyy-mm"}),
    status="committed", rows=3, replaced=1,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14],
            ["LG02", "2026-09", "near_misses", 6], ["LG02", "2026-09", "emergency_drills", 2]], no_hours=[2])

add("c20_month_notations_and_unit_names_mixed.csv", text([
    "月份,单位,指标,数值",
    "2026-10,LG02,near_misses,7",
    "2026/10,铁运公司,emergency_drills,1",
    f"2026年10月,LG02,{ZH['fatalities']},0",
    "202610,铁运公司,major_accidents,0",
    "2026-11,LG01,near_misses,5",
    "2026年11月,通达物流公司,emergency_drills,1",
]), status="committed", rows=6, replaced=0,
    values=[["LG02", "2026-10", "near_misses", 7], ["LG02", "2026-10", "emergency_drills", 1],
            ["LG02", "2026-10", "fatalities", 0], ["LG02", "2026-10", "major_accidents", 0],
            ["LG01", "2026-11", "near_misses", 5], ["LG01", "2026-11", "emergency_drills", 1]], no_hours=[2, 6])

add("c21_wide_gb18030_chinese_template.csv", text([
    ",".join(["统计月份", "单位名称"] + [ZH[c] for c in (
        "hours_worked", "avg_employees", "fatalities", "injuries", "hazards_found", "hazards_rectified",
        "staff_requiring_cert", "staff_certified")] + ["备注"]),
    "2026年10月,铁运公司,226400,1102,0,1,14,13,330,328,无",
    "2026年10月,东峰煤矿,669876,3158.7,0,,,,,,",
], encoding="gb18030", newline="\r\n"), status="committed", rows=8, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "fatalities", 0],
            ["LG02", "2026-10", "staff_certified", 328], ["CM01", "2026-10", "injuries", 2]])

add("c22_wide_code_and_name_columns.csv", text([
    f"月份,单位编码,单位名称,{ZH['injuries']},{ZH['hazards_found']}",
    "2026-10,LG02,铁运公司,1,14",
], bom=True, newline="\r\n"), status="committed", rows=2, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14]], no_hours=[2])

add("c23_spaces_case_and_half_width_brackets.csv", text([
    " 月份 , 单位 , 指标 , 数值 ",
    "2026-10, 铁运公司 ,负伤人数(轻伤及以上),1",
    "2026-10,lg02,HOURS_WORKED,226400",
    "2026-10,LG02,直接经济损失(万元),3.5",
]), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hours_worked", 226400],
            ["LG02", "2026-10", "direct_loss", 3.5]])

add("c24_utf16_long_title_and_note.txt", excel_unicode_text([
    "2026年10月安全生产指标月报\t\t\t\t",
    "月份\t单位名称\t指标名称\t数值\t备注",
    f"2026年10月\t铁运公司\t{ZH['injuries']}\t1\t",
    f"2026年10月\t铁运公司\t{ZH['near_misses']}\t7\t",
    "\t\t\t\t",
    "填表人：张三\t\t\t\t",
]), status="committed", rows=2, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "near_misses", 7]],
    warnings=[[1, None], [6, None]], no_hours=[3])

add("c25_quoted_notes_with_commas_and_quotes.csv", text([
    "月份,单位,指标,数值,备注",
    '2026-10,LG02,hazards_found,14,"含一般隐患12项, 较大隐患2项"',
    '2026-10,LG02,hazards_rectified,13,"1项未整改, ""限期""至11月"',
    '2026-10,LG02,injuries,"1",',
], bom=True, newline="\r\n"), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "hazards_found", 14], ["LG02", "2026-10", "hazards_rectified", 13],
            ["LG02", "2026-10", "injuries", 1]], no_hours=[2])

# --------------------------------------------------------------------------------------------------------------
# Rejected: every problem listed at its row and column, store untouched
# --------------------------------------------------------------------------------------------------------------

add("r01_unknown_unit_did_you_mean_gb18030.csv", text([
    "月份,单位名称,指标名称,数值",
    f"2026-10,铁运公,{ZH['injuries']},1",
    f"2026-10,东峰煤,{ZH['injuries']},2",
    f"2026-10,铁运公司,{ZH['hazards_found']},14",
], encoding="gb18030", newline="\r\n"), status="rejected",
    errors=[[2, "单位名称"], [3, "单位名称"]], messages=["did you mean 铁运公司", "did you mean 东峰煤矿"],
    no_hours=[4])

add("r02_unknown_indicator.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,injurys,1",
    "2026-10,LG02,安全检查次数,5",
    "2026-10,LG02,hazards_found,14",
]), status="rejected", errors=[[2, "indicator"], [3, "indicator"]], messages=["did you mean injuries"], no_hours=[4])

add("r03_unparseable_numbers.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,hazards_found,12a",
    '2026-10,LG02,near_misses,"1,5"',
    "2026-10,LG02,inspections_done,95%",
    "2026-10,LG02,direct_loss,3.5万",
    "2026-10,LG02,injuries,1",
]), status="rejected", errors=[[2, "value"], [3, "value"], [4, "value"], [5, "value"]],
    messages=["not a number"], no_hours=[6])

add("r04_na_and_slash_are_not_numbers.csv", text([
    f"月份,单位,{ZH['injuries']},{ZH['hazards_found']},{ZH['near_misses']}",
    "2026-10,LG02,NA,14,/",
]), status="rejected", errors=[[2, ZH["injuries"]], [2, ZH["near_misses"]]], no_hours=[2])

add("r05_unparseable_months.csv", text([
    "月份,单位,指标,数值",
    "2026-13,LG02,injuries,1",
    "Oct 2026,LG02,hazards_found,14",
    "26年10月,LG02,near_misses,7",
    "2026-10,LG02,hazards_rectified,13",
]), status="rejected", errors=[[2, "月份"], [3, "月份"], [4, "月份"]], messages=["not a month"], no_hours=[5])

add("r06_future_month.csv", text([
    "month,subsidiary,indicator,value",
    "2026-12,LG02,injuries,0",
    "2026-11,LG02,injuries,0",
]), status="rejected", errors=[[2, "month"]], messages=["future"], no_hours=[3])

add("r07_negative_values.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,hazards_found,-3",
    "2026-10,LG02,direct_loss,\u22122.5",
    "2026-10,LG02,injuries,1",
]), status="rejected", errors=[[2, "value"], [3, "value"]], messages=["negative"], no_hours=[4])

add("r08_fraction_of_a_count.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,injuries,2.5",
    "2026-10,LG02,avg_employees,1102.5",
    "2026-10,LG02,direct_loss,3.5",
    "2026-10,LG02,hazards_found,14.0",
]), status="rejected", errors=[[2, "value"]], messages=["fraction"], no_hours=[3])

add("r09_conflicting_duplicates_wide.csv", text([
    "month,subsidiary,injuries,hazards_found",
    "2026-10,LG02,1,14",
    "2026-10,铁运公司,2,14",
]), status="rejected", errors=[[2, "injuries"], [3, "injuries"]], warnings=[[2, "hazards_found"]],
    messages=["conflicting"], no_hours=[2])

add("r10_conflicting_duplicates_long_chinese.csv", text([
    "月份,单位名称,指标名称,数值",
    f"2026年10月,铁运公司,{ZH['injuries']},1",
    f"2026年10月,铁运公司,{ZH['hazards_found']},14",
    "2026-10,LG02,injuries,2",
], bom=True), status="rejected", errors=[[2, "数值"], [4, "数值"]], messages=["conflicting"], no_hours=[2])

add("r11_derived_indicators_long.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,injury_freq_rate,4.4",
    "2026-10,LG02,隐患整改率,92.9",
    "2026-10,LG02,injuries,1",
]), status="rejected", errors=[[2, "indicator"], [3, "indicator"]], messages=["computed by the system"], no_hours=[4])

add("r12_derived_indicator_columns_wide.csv", text([
    f"月份,单位,{ZH['injuries']},百万工时伤害率（GB 6441）,持证上岗率",
    "2026-10,LG02,1,4.4,99.4",
    "2026-10,CM01,2,3.0,100",
], bom=True), status="rejected",
    errors=[[2, "百万工时伤害率（GB 6441）"], [2, "持证上岗率"]], messages=["computed by the system"], no_hours=[2])

add("r13_header_only.csv", text(["月份,单位,指标,数值"], bom=True, newline="\r\n"),
    status="rejected", errors=[[None, None]], messages=["no data rows"])

add("r14_only_blank_values.csv", text([
    f"月份,单位,{ZH['injuries']},{ZH['hazards_found']}",
    "2026-10,LG02,,",
    "2026-10,CM01,,",
]), status="rejected", errors=[[None, None]], messages=["no data rows"])

add("r15_empty_file.csv", b"", status="rejected", errors=[[None, None]])

add("r16_binary_garbage.csv", bytes(random.Random(20261123).randbytes(4096)),
    status="rejected", errors=[[None, None]])

add("r17_png_named_csv.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"
    + bytes(range(256)) * 4, status="rejected", errors=[[None, None]])

add("r18_not_really_xlsx.xlsx", b"PK\x03\x04" + random.Random(7).randbytes(1024),
    status="rejected", errors=[[None, None]], messages=["xlsx"])

add("r19_stray_field_long.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,LG02,hazards_found,1,234",
    "2026-10,LG02,injuries,1",
]), status="rejected", errors=[[2, "value"]], messages=["1,234 under value was read as 2 cells"], no_hours=[2])

# The stray comma shifts 400 into avg_employees: the row is rejected for its extra field, and its shifted values
# are not judged against the unit's history (no warning about 226 hours).
add("r20_stray_field_wide.csv", text([
    "month,subsidiary,hours_worked,avg_employees",
    "2026-10,LG02,226,400,1102",
]), status="rejected", errors=[[2, "hours_worked"]], messages=["226,400 under hours_worked was read as 2 cells"])

add("r21_missing_unit_and_month.csv", text([
    "month,subsidiary,indicator,value",
    "2026-10,,injuries,1",
    ",LG02,hazards_found,14",
]), status="rejected", errors=[[2, "subsidiary"], [3, "month"]], messages=["missing"])

add("r22_wide_unknown_indicator_column.csv", text([
    f"月份,单位,负伤人数,{ZH['hazards_found']}",
    "2026-10,LG02,1,14",
]), status="rejected", errors=[[1, "负伤人数"]], messages=["did you mean"], no_hours=[2])

# A note row not after a blank row is data (design: "Any other row is data and is validated").
add("r23_note_row_without_blank_row_is_data.csv", text([
    "月份,单位,指标,数值",
    "2026-10,LG02,injuries,1",
    "填表人：张三,,,",
]), status="rejected", error_rows=[3], no_hours=[2])

add("r24_xlsx_title_blank_then_bad_value.xlsx", xlsx([
    ["2026年10月安全生产指标月报"],
    [],
    ["月份", "单位名称", "指标名称", "数值"],
    ["2026-10", "铁运公司", ZH["injuries"], 1],
    ["2026-10", "铁运公司", ZH["hazards_found"], "十二"],
]), status="rejected", errors=[[5, "数值"]], warnings=[[1, None]], no_hours=[4])

add("r25_utf16_wide_negative.txt", excel_unicode_text([
    "\t".join(["月份", "单位编码", ZH["injuries"], ZH["hazards_found"]]),
    "\t".join(["2026-10", "LG02", "1", "14"]),
    "\t".join(["2026-10", "CM01", "-1", "42"]),
]), status="rejected", errors=[[3, ZH["injuries"]]], messages=["negative"], no_hours=[2])

add("r26_every_problem_listed.csv", text([
    "2026年10月安全生产指标月报,,,",
    "月份,单位名称,指标名称,数值",
    f"2026-10,铁运公司,{ZH['injuries']},1",
    f"2026-10,铁运分公司,{ZH['hazards_found']},14",
    "2026-10,铁运公司,隐患数,14",
    f"2026-10,铁运公司,{ZH['near_misses']},七",
    f"2026-1O,铁运公司,{ZH['emergency_drills']},1",
    f"2026-12,铁运公司,{ZH['hazards_rectified']},13",
    f"2026-10,铁运公司,{ZH['major_hazards']},-1",
    f"2026-10,铁运公司,{ZH['fatalities']},0.5",
    "2026-10,铁运公司,隐患整改率,92.9",
    f"2026-10,铁运公司,{ZH['inspections_done']},20",
], bom=True, newline="\r\n"), status="rejected",
    errors=[[4, "单位名称"], [5, "指标名称"], [6, "数值"], [7, "月份"], [8, "月份"], [9, "数值"], [10, "数值"],
            [11, "指标名称"]], warnings=[[1, None]], no_hours=[3])

add("r27_wide_bad_unit_and_month_reported_once.csv", text([
    f"月份,单位名称,{ZH['injuries']},{ZH['hazards_found']},{ZH['hazards_rectified']}",
    "2026-10,铁运,1,14,13",
    "2026-1O,LG02,1,14,13",
]), status="rejected", errors=[[2, "单位名称"], [3, "月份"]], messages=["did you mean 铁运公司"])

add("r28_old_excel_xls.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
    status="rejected", errors=[[None, None]], messages=[".xls"])

add("r29_no_recognisable_header.csv", text([
    "date,unit_code,kpi,amount",
    "2026-10,LG02,injuries,1",
]), status="rejected", errors=[[None, None]], messages=["no header row"])

# 2.5 injuries stored as a number, and a formula error (#DIV/0!) where a number should be.
add("r30_xlsx_fraction_and_formula_error.xlsx", xlsx([
    ["月份", "单位", ZH["injuries"], ZH["avg_employees"], ZH["direct_loss"]],
    ["2026-10", "LG02", 2.5, 1102.5, "#DIV/0!"],
]), status="rejected", errors=[[2, ZH["injuries"]], [2, ZH["direct_loss"]]], messages=["fraction", "not a number"],
    no_hours=[2])

# A subtotal row, as Chinese report sheets often end with, is data: no month, no unit.
add("r31_total_row_is_data.csv", text([
    f"月份,单位,{ZH['injuries']}",
    "2026-10,LG02,1",
    "2026-10,CM01,2",
    "合计,,3",
]), status="rejected", errors=[[4, "月份"], [4, "单位"]], messages=["not a month", "missing"], no_hours=[2])

# A CSV saved from a sheet whose month column holds real dates: 2026/10/1 is not one of the month notations
# the contract lists (2026-10, 2026/10, 2026年10月, 202610), unlike the same sheet saved as .xlsx (c19).
add("r32_csv_month_written_as_full_date.csv", text([
    "月份,单位,指标,数值",
    "2026/10/1,LG02,injuries,1",
], bom=True, newline="\r\n"), status="rejected", errors=[[2, "月份"]], messages=["not a month"])

# More committed shapes.
add("c26_utf16le_without_bom_tab.txt", "\r\n".join([
    "\t".join(["month", "subsidiary", "injuries", "hazards_found", "hazards_rectified"]),
    "\t".join(["2026-10", "LG02", "1", "14", "13"]),
]).encode("utf-16-le") + "\r\n".encode("utf-16-le"), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_rectified", 13]], no_hours=[2])

add("c27_hours_per_employee_out_of_range.csv", text([
    "month,subsidiary,hours_worked,avg_employees",
    "2026-10,LG02,226400,110",
]), status="committed", rows=2, replaced=0,
    values=[["LG02", "2026-10", "avg_employees", 110]],
    warnings=[[2, "hours_worked"]], messages=["hours per employee"])

# The long twin of c13: the warning should point at the value column the user sees.
add("c28_hours_ten_times_last_month_long.csv", text([
    "月份,单位名称,指标名称,数值",
    f"2026-10,铁运公司,{ZH['hours_worked']},2276360",
], bom=True, newline="\r\n"), status="committed", rows=1, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 2276360]],
    warnings=[[2, "数值"]], messages=["last month"])

# An exporter that declares the used range wrong (A1:D3 for 6 rows): every row must still be read.
add("c29_xlsx_wrong_dimension_merged_title.xlsx", xlsx([
    ["2026年10月安全生产指标月报"],
    ["month", "subsidiary", "indicator", "value"],
    ["2026-10", "LG02", "injuries", 1],
    ["2026-10", "LG02", "hazards_found", 14],
    ["2026-10", "LG02", "hazards_rectified", 13],
    ["2026-10", "LG02", "near_misses", 7],
], merge="A1:D1", dimension="A1:D3"), status="committed", rows=4, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "near_misses", 7]], warnings=[[1, None]],
    no_hours=[3])

# Template headers wrapped with Alt+Enter inside the cell.
add("c30_wide_headers_with_line_breaks.csv", text([
    '月份,单位,"实际工时\n（小时）","平均\n职工人数",负伤人数（轻伤及以上）',
    "2026-10,LG02,226400,1102,1",
], bom=True, newline="\r\n"), status="committed", rows=3, replaced=0,
    values=[["LG02", "2026-10", "hours_worked", 226400], ["LG02", "2026-10", "avg_employees", 1102],
            ["LG02", "2026-10", "injuries", 1]])

# The table starts at B3, with a blank row inside the data: rows and columns keep their Excel positions.
add("c31_xlsx_table_not_at_a1_blank_row_inside.xlsx", xlsx([
    [],
    [],
    [None, "月份", "单位", "指标", "数值"],
    [None, "2026-10", "LG02", "injuries", 1],
    [],
    [None, "2026-10", "LG02", "hazards_found", 14],
]), status="committed", rows=2, replaced=0,
    values=[["LG02", "2026-10", "injuries", 1], ["LG02", "2026-10", "hazards_found", 14]], no_hours=[4])

# Excel pads every row to the used range, so the header gets an empty 5th cell; the 234 typed beside the value
# (or the 1,234 typed without quotes) sits in a column without a header. In the wide shape that is an error;
# in the long shape it must not be dropped without a word either.
add("r33_long_value_under_an_empty_header_cell.csv", text([
    "month,subsidiary,indicator,value,",
    "2026-10,LG02,hazards_found,1,234",
    "2026-10,LG02,injuries,1,",
]), status="rejected", error_rows=[1, 2], no_hours=[2])

# The template's row with 652,310 typed without quotes: 7 cells under 6 headers, the extra one empty (the last
# indicator was not reported), so 310 lands in 平均职工人数 and 1102 in 排查隐患数 unless the row is refused (issue 18).
add("r34_wide_split_number_extra_cell_empty.csv", text([
    f"月份,单位编码,单位名称,{ZH['hours_worked']},{ZH['avg_employees']},{ZH['hazards_found']}",
    "2026-10,LG02,铁运公司,652,310,1102,",
    "2026-10,CH01,华源化工有限公司,285000,800,",
]), status="rejected", errors=[[2, ZH["hours_worked"]]], messages=["write it without the comma (652310)"])

# The long shape with 备注: `…,hours_worked,652,310,` puts 310 in the note and leaves an empty sixth cell.
add("r35_long_split_number_into_the_note.csv", text([
    "月份,单位,指标,数值,备注",
    "2026-10,LG02,hours_worked,652,310,",
    "2026-10,LG02,injuries,1,",
]), status="rejected", errors=[[2, "数值"]], messages=["or in quotes (\"652,310\")"])

# A formula written by a program and never saved in Excel has no value: refused, not read as "not reported".
add("r36_xlsx_formula_without_a_saved_value.xlsx", xlsx([
    ["月份", "单位", ZH["hazards_found"], ZH["hazards_rectified"]],
    ["2026-10", "LG02", 14, "=C2-2"],
]), status="rejected", errors=[[2, ZH["hazards_rectified"]]], messages=["save the workbook in Excel"],
    no_hours=[2])

# A second 月份 column is refused, not ignored.
add("r37_second_month_column.csv", text([
    "月份,单位,指标,数值,统计月份",
    "2026-10,LG02,injuries,1,2026-09",
]), status="rejected", errors=[[1, "统计月份"]], messages=["keep one"], no_hours=[2])

# An .xlsx saved under a .csv name: recognised by its content, not its name.
add("c32_xlsx_saved_with_a_csv_name.csv", xlsx([
    ["month", "subsidiary", "indicator", "value"],
    ["2026-10", "LG02", "injuries", 1],
]), status="committed", rows=1, replaced=0, values=[["LG02", "2026-10", "injuries", 1]], no_hours=[2])


def write(directory: Path) -> None:
    files = directory / FILES
    files.mkdir(parents=True, exist_ok=True)
    names = {name for name, _, _ in CORPUS}
    assert len(names) == len(CORPUS), "duplicate file names"
    for stale in files.iterdir():
        if stale.name not in names:
            stale.unlink()
    manifest = {}
    for name, data, expected in CORPUS:
        (files / name).write_bytes(data)
        manifest[name] = expected
    (directory / "expected.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{len(CORPUS)} files and expected.json written")
