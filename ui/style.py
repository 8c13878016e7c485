"""Colours and labels for grades and statuses, the same on every page and chart."""
from __future__ import annotations

GRADE_COLOURS = {"A": "#2e7d32", "B": "#7cb342", "C": "#f9a825", "D": "#ef6c00", "veto": "#b71c1c",
                 None: "#9e9e9e"}
STATUS_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "missing": "#616161",
                  "none": "#bdbdbd"}
STATUS_LABELS = {
    "green": {"zh": "🟢 达标", "en": "🟢 On target"},
    "yellow": {"zh": "🟡 预警", "en": "🟡 Warning"},
    "red": {"zh": "🔴 超标", "en": "🔴 Beyond limit"},
    "missing": {"zh": "⚪ 未报", "en": "⚪ Not reported"},
    "none": {"zh": "— 不考核", "en": "— Not scored"},
}
CHART_FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
VETO_ROW_BACKGROUND = "background-color: #fdecea; color: #b71c1c; font-weight: 600"


def grade_label(grade: str | None, grades, lang: str) -> str:
    """'A 优秀', '⛔ 否决', or n/a; `grades` is the store's grade table."""
    if grade is None or grade != grade:
        return "—"
    if grade == "veto":
        return "⛔ 否决" if lang == "zh" else "⛔ Veto"
    row = grades[grades["grade"] == grade]
    name = row.iloc[0]["name_zh" if lang == "zh" else "name_en"] if len(row) else ""
    return f"{grade} {name}".strip()
