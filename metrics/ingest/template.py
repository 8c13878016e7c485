"""The monthly upload template: the wide shape with Chinese headers, one row per unit, values left blank."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time

import pandas as pd

from metrics.core import exports
from metrics.core.catalog import Catalog
from metrics.core.months import iso_month

FIXED_HEADERS = ["月份", "单位编码", "单位名称"]
FORMATS = ("csv", "xlsx")


def template_frame(catalog: Catalog, units: pd.DataFrame, month: date) -> pd.DataFrame:
    """`units`: code and name_zh of the units to list (all of them, or only a unit user's own)."""
    frame = pd.DataFrame({"月份": iso_month(month), "单位编码": units["code"].tolist(),
                          "单位名称": units["name_zh"].tolist()})
    for indicator in catalog.typed:
        frame[indicator.name_zh] = ""
    return frame


def template_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Chinese headers correctly; through the sanitising export (a unit
    name such as `=1+1` is written `'=1+1`, which the upload reads back as that unit: parsing.name_index)."""
    return exports.csv_bytes(frame)


def _reproducible(data: bytes, stamp: datetime) -> bytes:
    """The .xlsx with `stamp` as its document and zip entry times instead of the moment it was saved, so the
    same template is the same bytes (the page's download and `python -m metrics template`)."""
    written = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                                 rb"\g<1>" + written + rb"\g<3>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def template_xlsx(frame: pd.DataFrame, month: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = iso_month(month)
    for row, record in enumerate([tuple(frame.columns), *frame.itertuples(index=False)], start=1):
        for column, value in enumerate(record, start=1):
            exports.write_cell(sheet, row, column, str(value) if value != "" else None)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for column in range(1, sheet.max_column + 1):
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.column_dimensions[letter].width = 12 if column > 3 else 16
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row=row, column=column).number_format = "@" if column <= 3 else "General"
    sheet.freeze_panes = "D2"
    out = io.BytesIO()
    workbook.save(out)
    return _reproducible(out.getvalue(), datetime.combine(month, time()))


def template_file(catalog: Catalog, units: pd.DataFrame, month: date, fmt: str) -> bytes:
    """The month's template for `units` as the file a user downloads (`fmt`: one of FORMATS)."""
    frame = template_frame(catalog, units, month)
    if fmt not in FORMATS:
        raise ValueError(f"unknown template format {fmt!r}; use one of {', '.join(FORMATS)}")
    return template_csv(frame) if fmt == "csv" else template_xlsx(frame, month)


def file_name(month: date, fmt: str) -> str:
    return f"安全生产月报模板-{iso_month(month)}.{fmt}"
