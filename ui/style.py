"""One colour language on every page and chart (defined with the charts in metrics/reports/charts.py, shared with the
exported bulletin): labels and table styles for the pages."""
from __future__ import annotations

from metrics.reports.charts import (  # noqa: F401
    CHART_FONT,
    GRADE_COLOURS,
    GROUP_COLOUR,
    STATUS_COLOURS,
    STATUS_NAMES,
    STATUS_ORDER,
    STATUS_SYMBOLS,
    chart_layout,
    status_label,
)

VETO_ROW_BACKGROUND = "background-color: #fdecea; color: #b71c1c; font-weight: 600"


def status_text_style(status: str) -> str:
    return f"color: {STATUS_COLOURS[status]}; font-weight: 600" if status in ("yellow", "red") else (
        f"color: {STATUS_COLOURS[status]}")


def grade_label(grade: str | None, grades, lang: str) -> str:
    """'A 优秀', '⛔ 否决', or — ; `grades` is the store's grade table."""
    if grade is None or grade != grade:
        return "—"
    if grade == "veto":
        return "⛔ 否决" if lang == "zh" else "⛔ Veto"
    row = grades[grades["grade"] == grade]
    name = row.iloc[0]["name_zh" if lang == "zh" else "name_en"] if len(row) else ""
    return f"{grade} {name}".strip()
