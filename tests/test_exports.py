"""Exported CSV and XLSX files, read back from their bytes: no text cell can be a formula, numbers stay numbers."""
import io
import math
from datetime import date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from metrics.core.exports import csv_bytes, neutralise, xlsx_bytes

# (text as uploaded, text as stored in the exported file) — expected values written by hand.
DANGEROUS = [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://evil.example","点我")', '\'=HYPERLINK("http://evil.example","点我")'),
    ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'=1+1"),           # the leading tab is a control character: removed after the apostrophe
    ("\r=1+1", "'=1+1"),
    ("\n=1+1", "'\n=1+1"),         # newlines are kept
    ("\x01=1+1", "'=1+1"),
    ("\x1b[31m", "'[31m"),
    ("＝1+1", "'＝1+1"),
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠SUM(A1)", "'＠SUM(A1)"),
]

# Control characters inside text are removed, except the newline.
CONTROLS_INSIDE = [
    ("一号\x00煤矿", "一号煤矿"),
    ("a\tb", "ab"),
    ("第一行\r\n第二行", "第一行\n第二行"),
    ("bell\x07\x7f", "bell"),
]

HARMLESS = ["一号煤矿", "a-b", "3-5 人", "张三（安全部）", "a@b.example", "1+1", "'=already quoted", "#N/A"]


def sheet_of(data: bytes, name: str | None = None):
    workbook = load_workbook(io.BytesIO(data))
    return workbook[name] if name else workbook.worksheets[0]


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("raw, stored", DANGEROUS + CONTROLS_INSIDE + [(t, t) for t in HARMLESS])
def test_neutralise_text(raw, stored):
    assert neutralise(raw) == stored


@pytest.mark.parametrize("value", [-3.5, -7, 0, True, False, date(2026, 10, 1), datetime(2026, 10, 1, 8, 30), None])
def test_neutralise_leaves_non_text_alone(value):
    assert neutralise(value) is value


def test_neutralise_leaves_nan_alone():
    assert math.isnan(neutralise(float("nan")))


@pytest.mark.parametrize("raw, stored", DANGEROUS + CONTROLS_INSIDE + [(t, t) for t in HARMLESS])
def test_text_in_csv_body_and_header(raw, stored):
    frame = pd.DataFrame({"单位": ["一号煤矿"], raw: [raw]})
    read = csv_frame(csv_bytes(frame))
    assert list(read.columns) == ["单位", stored]
    assert read.iloc[0].tolist() == ["一号煤矿", stored]


@pytest.mark.parametrize("raw, stored", DANGEROUS + CONTROLS_INSIDE + [(t, t) for t in HARMLESS])
def test_text_in_xlsx_body_and_header(raw, stored):
    frame = pd.DataFrame({"单位": ["一号煤矿"], raw: [raw]})
    sheet = sheet_of(xlsx_bytes({"违规": frame}))
    assert [c.value for c in sheet[1]] == ["单位", stored]
    assert [c.value for c in sheet[2]] == ["一号煤矿", stored]
    assert [c.data_type for c in sheet[2]] == ["s", "s"]


def test_no_cell_in_a_workbook_is_a_formula():
    texts = [raw for raw, _ in DANGEROUS] + HARMLESS
    frame = pd.DataFrame({"text": texts, "number": [-float(i) for i in range(len(texts))]})
    header_attack = pd.DataFrame({raw: [1] for raw, _ in DANGEROUS})
    workbook = load_workbook(io.BytesIO(xlsx_bytes({"a": frame, "b": header_attack})))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert len(cells) == (len(texts) + 1) * 2 + len(DANGEROUS) * 2
    assert {cell.data_type for cell in cells} == {"s", "n"}


def test_numbers_stay_numeric_and_missing_values_are_empty():
    frame = pd.DataFrame({"单位": ["一号煤矿", "二号煤矿", "三号煤矿"],
                          "变化": [-3.5, float("nan"), 2.0],
                          "起数": [-7, 0, 12],
                          "备注": ["-", None, "3-5 人"]})
    sheet = sheet_of(xlsx_bytes({"s": frame}))
    assert [c.value for c in sheet["B"][1:]] == [-3.5, None, 2]
    assert [c.data_type for c in sheet["B"][1:]] == ["n", "n", "n"]
    assert [c.value for c in sheet["C"][1:]] == [-7, 0, 12]
    assert [c.value for c in sheet["D"][1:]] == ["'-", None, "3-5 人"]

    read = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")
    assert read["变化"].tolist()[0] == -3.5 and math.isnan(read["变化"].tolist()[1])
    assert read["起数"].tolist() == [-7, 0, 12]
    assert read["备注"].tolist()[0] == "'-"


def test_dates_are_dates():
    frame = pd.DataFrame({"月份": pd.to_datetime(["2026-10-01", None]),
                          "日期": [date(2026, 9, 30), date(2026, 10, 31)]})
    sheet = sheet_of(xlsx_bytes({"s": frame}))
    assert sheet["A2"].is_date and sheet["A2"].value == datetime(2026, 10, 1)
    assert sheet["A3"].value is None
    assert sheet["B2"].is_date and sheet["B3"].value == datetime(2026, 10, 31)


def test_time_zone_is_dropped_keeping_the_wall_clock():
    frame = pd.DataFrame({"时间": pd.to_datetime(["2026-10-01 08:30"]).tz_localize("Asia/Shanghai")})
    assert sheet_of(xlsx_bytes({"s": frame}))["A2"].value == datetime(2026, 10, 1, 8, 30)


@pytest.mark.parametrize("names, expected", [
    (["违规清单"], ["违规清单"]),
    (["a/b\\c", "[q]:*?"], ["a_b_c", "_q____"]),
    (["x" * 40], ["x" * 31]),
    (["Breaches", "breaches", "BREACHES"], ["Breaches", "breaches (2)", "BREACHES (3)"]),
    (["y" * 40, "y" * 35], ["y" * 31, "y" * 27 + " (2)"]),
    (["a:b", "a?b"], ["a_b", "a_b (2)"]),
    (["'quoted'", ""], ["quoted", "Sheet"]),
])
def test_sheet_names_are_made_valid_and_unique(names, expected):
    data = xlsx_bytes({name: pd.DataFrame({"a": [1]}) for name in names})
    assert load_workbook(io.BytesIO(data)).sheetnames == expected


def test_header_is_bold_filled_frozen_and_filtered():
    frame = pd.DataFrame({"单位": ["一号煤矿", "二号煤矿"], "得分": [91.5, 78.0]})
    sheet = sheet_of(xlsx_bytes({"得分": frame}))
    assert all(c.font.bold for c in sheet[1])
    assert not any(c.font.bold for c in sheet[2])
    assert all(c.fill.fill_type == "solid" for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B3"


def test_column_widths_count_chinese_double_and_are_capped():
    frame = pd.DataFrame({"a": ["abcd"], "b": ["一号煤矿"], "c": ["x" * 200]})
    widths = sheet_of(xlsx_bytes({"s": frame})).column_dimensions
    assert widths["B"].width - widths["A"].width == 4   # four CJK characters are 8 wide, not 4
    assert widths["C"].width == 60


def test_title_is_set_when_given():
    data = xlsx_bytes({"s": pd.DataFrame({"a": [1]})}, title="2026年10月安全生产月度通报")
    assert load_workbook(io.BytesIO(data)).properties.title == "2026年10月安全生产月度通报"


def test_a_workbook_needs_a_sheet():
    with pytest.raises(ValueError):
        xlsx_bytes({})


def test_csv_has_a_bom_and_round_trips_chinese():
    frame = pd.DataFrame({"单位名称": ["一号煤矿", "化工公司"], "死亡人数": [0, 1]})
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    read = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(read.columns) == ["单位名称", "死亡人数"]
    assert read["单位名称"].tolist() == ["一号煤矿", "化工公司"]
    assert read["死亡人数"].tolist() == [0, 1]


# Units as an attacker might name them; the template lists every unit's code and name.
HOSTILE_UNITS = [("F1", "=cmd|'/c calc'!A1", "Formula", "coal"), ("F2", "+1+1", "Plus", "chemical"),
                 ("F3", '@IMPORTXML("http://evil.example","//a")', "At", "logistics"),
                 ("-F4", "负号煤矿", "Minus", "coal")]
HOSTILE_CELLS = [["F1", "'=cmd|'/c calc'!A1"], ["F2", "'+1+1"], ["F3", '\'@IMPORTXML("http://evil.example","//a")'],
                 ["'-F4", "负号煤矿"]]
FORMULA_STARTS = tuple("=+-@\t\r")


def hostile_template(fmt: str) -> tuple[bytes, object]:
    from metrics.core.catalog import load_catalog
    from metrics.ingest import template
    from tests.builders import memory_store

    con = memory_store(HOSTILE_UNITS)
    units = pd.DataFrame(HOSTILE_UNITS, columns=["code", "name_zh", "name_en", "sector"]).sort_values("code")
    return template.template_file(load_catalog(), units, date(2026, 10, 1), fmt), con


def import_back(con, data: bytes, name: str):
    from metrics.ingest import upload

    return upload.import_file(con, data, name, actor="test", dry_run=True, today=date(2026, 11, 23))


def test_the_csv_template_writes_formula_like_unit_names_as_text_and_reads_them_back():
    import csv

    data, con = hostile_template("csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(row[1:3] for row in rows[1:]) == sorted(HOSTILE_CELLS)
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    injuries = rows[0].index("负伤人数（轻伤及以上）")
    for row in rows[1:]:
        row[injuries] = "1"
    filled = io.StringIO()
    csv.writer(filled, lineterminator="\n").writerows(rows)
    result = import_back(con, filled.getvalue().encode("utf-8-sig"), "template.csv")
    assert result.errors == [] and result.status == "committed"
    assert sorted(result.observations["subsidiary"]) == ["-F4", "F1", "F2", "F3"]


def test_the_xlsx_template_has_no_formula_cell_and_reads_back():
    data, con = hostile_template("xlsx")
    sheet = sheet_of(data)
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert sorted([r[1].value, r[2].value] for r in sheet.iter_rows(min_row=2)) == sorted(HOSTILE_CELLS)
    assert all(r[1].data_type == "s" and r[2].data_type == "s" for r in sheet.iter_rows(min_row=2))
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        row[headers.index("负伤人数（轻伤及以上）")].value = 1
    out = io.BytesIO()
    sheet.parent.save(out)
    result = import_back(con, out.getvalue(), "template.xlsx")
    assert result.errors == [] and result.status == "committed"
    assert sorted(result.observations["subsidiary"]) == ["-F4", "F1", "F2", "F3"]


def test_a_template_whose_apostrophes_excel_dropped_still_reads_back():
    """Saved again from a spreadsheet, a name may come back as it is stored (`=cmd…`, not `'=cmd…`)."""
    _, con = hostile_template("csv")
    text = "月份,单位编码,单位名称,负伤人数（轻伤及以上）\n2026-10,F1,=cmd|'/c calc'!A1,1\n2026-10,-F4,负号煤矿,2\n"
    result = import_back(con, text.encode("utf-8"), "resaved.csv")
    assert result.errors == []
    assert result.observations[["subsidiary", "value"]].values.tolist() == [["F1", 1.0], ["-F4", 2.0]]
