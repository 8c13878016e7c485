"""The monthly upload template: the wide shape with Chinese headers, one row per unit, values left blank."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd

from metrics.catalog import Catalog
from metrics.months import iso_month

FIXED_HEADERS = ["月份", "单位编码", "单位名称"]


def template_frame(catalog: Catalog, units: pd.DataFrame, month: date) -> pd.DataFrame:
    """`units`: code and name_zh of the units to list (all of them, or only a unit user's own)."""
    frame = pd.DataFrame({"月份": iso_month(month), "单位编码": units["code"].tolist(),
                          "单位名称": units["name_zh"].tolist()})
    for indicator in catalog.base:
        frame[indicator.name_zh] = ""
    return frame


def template_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Chinese headers correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def template_xlsx(frame: pd.DataFrame, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(frame.columns))
    for record in frame.itertuples(index=False):
        sheet.append([str(v) if v != "" else None for v in record])
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
    return out.getvalue()
