"""One colour language on every page and chart: green / yellow / red, grey for missing, each with a symbol of
its own shape so it still reads on a projector and for colour-blind viewers."""
from __future__ import annotations

STATUS_ORDER = ("green", "yellow", "red", "missing", "none")
STATUS_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "missing": "#9e9e9e",
                  "none": "#e0e0e0"}
STATUS_SYMBOLS = {"green": "✔", "yellow": "▲", "red": "✖", "missing": "○", "none": "—"}
STATUS_NAMES = {
    "green": {"zh": "达标", "en": "On target"},
    "yellow": {"zh": "预警", "en": "Warning"},
    "red": {"zh": "超标", "en": "Beyond limit"},
    "missing": {"zh": "未报", "en": "Not reported"},
    "none": {"zh": "不考核", "en": "Not scored"},
}
GRADE_COLOURS = {"A": "#2e7d32", "B": "#7cb342", "C": "#f9a825", "D": "#ef6c00", "veto": "#b71c1c",
                 None: "#9e9e9e"}
SEVERITY_SYMBOLS = {"high": "✖", "medium": "▲", "low": "●"}
CHART_FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
GROUP_COLOUR = "#1565c0"
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


def chart_layout(**extra) -> dict:
    """The layout every chart shares: CJK-capable font, tight margins, legend on top."""
    layout = dict(font=dict(family=CHART_FONT, size=13), margin=dict(l=10, r=10, t=30, b=30),
                  legend=dict(orientation="h", y=1.12, x=0), hoverlabel=dict(font_family=CHART_FONT))
    layout.update(extra)
    return layout
