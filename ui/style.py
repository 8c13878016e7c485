"""One colour language on every page and chart (defined with the charts in metrics/charts.py, shared with the
exported bulletin): labels and table styles for the pages."""
from __future__ import annotations

from metrics.charts import (CHART_FONT, GRADE_COLOURS, GROUP_COLOUR, STATUS_COLOURS, STATUS_ORDER,  # noqa: F401
                            STATUS_SYMBOLS, chart_layout)

STATUS_NAMES = {
    "green": {"zh": "达标", "en": "On target"},
    "yellow": {"zh": "预警", "en": "Warning"},
    "red": {"zh": "超标", "en": "Beyond limit"},
    "missing": {"zh": "未报", "en": "Not reported"},
    "none": {"zh": "不考核", "en": "Not scored"},
}
SEVERITY_SYMBOLS = {"high": "✖", "medium": "▲", "low": "●"}
VETO_ROW_BACKGROUND = "background-color: #fdecea; color: #b71c1c; font-weight: 600"


def status_label(status: str, lang: str) -> str:
    """'✖ 超标': the symbol and the word, never the colour alone."""
    return f"{STATUS_SYMBOLS[status]} {STATUS_NAMES[status][lang]}"


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
