"""Plotly figures shared by the pages and the exported bulletin, so a chart on paper is the chart on screen.

The colour and symbol language lives here too (the pages' ui/style.py re-exports it): green / yellow / red,
grey for missing, each status with a symbol of its own shape.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from metrics.core.formatting import display_number

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
CHART_FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
GROUP_COLOUR = "#1565c0"
RANKING_BARS = 30  # a ranking chart of a larger group shows its best 15 and worst 15 units
WORDS = {
    "score": {"zh": "得分", "en": "Score"},
    "target": {"zh": "目标值", "en": "Target"},
    "limit": {"zh": "控制值", "en": "Limit"},
    "group": {"zh": "集团", "en": "Group"},
    "veto": {"zh": "⛔ 否决", "en": "⛔ Veto"},
    "not_reported": {"zh": "○ 未报", "en": "○ Not reported"},
    "pending": {"zh": "○ 待报", "en": "○ Due"},
    "value": {"zh": "本期值", "en": "Value"},
    "year": {"zh": "{year}年累计", "en": "{year} to date"},
}
MONTH_NAMES = {"zh": lambda m: f"{m}月", "en": lambda m: date(2000, m, 1).strftime("%b")}
PAST_YEAR_COLOUR = "#90a4ae"


def status_label(status: str, lang: str) -> str:
    """'✖ 超标': the symbol and the word, never the colour alone."""
    return f"{STATUS_SYMBOLS[status]} {STATUS_NAMES[status][lang]}"


def chart_layout(**extra) -> dict:
    """The layout every chart shares: CJK-capable font, white background, tight margins, the legend in a row
    above the plot (anchored by its bottom edge, so Plotly grows the top margin to hold it: it never covers a
    line, whatever the font size)."""
    layout: dict[str, Any] = dict(font=dict(family=CHART_FONT, size=13), margin=dict(l=10, r=10, t=30, b=30),
                  legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom"),
                  hoverlabel=dict(font_family=CHART_FONT),
                  paper_bgcolor="white", plot_bgcolor="white",
                  xaxis=dict(gridcolor="#eeeeee"), yaxis=dict(gridcolor="#eeeeee"))
    for key, value in extra.items():
        layout[key] = {**layout[key], **value} if isinstance(value, dict) and isinstance(layout.get(key), dict) \
            else value
    return layout


def score_bars(units: pd.DataFrame, unit_names: dict[str, str], lang: str, most: int | None = None,
               overdue: bool = True) -> go.Figure:
    """Horizontal bars of unit scores coloured by grade, best on top; a vetoed unit reads '⛔ 否决'.
    `units`: ranked rows with subsidiary, unit_score, grade, vetoed (and reason: a unit that has not reported
    has no bar and reads '○ 未报', or '○ 待报' while not `overdue`). With `most`, a larger group shows its
    best and worst `most // 2` scored units (a chart of 500 bars cannot be read; the ranking table lists them
    all, the units without a score after the scored ones)."""
    if most is not None and len(units) > most:
        scored = units[units["unit_score"].notna()]
        units = pd.concat([scored.head(most // 2), scored.tail(most - most // 2)])
    ranked = units.iloc[::-1]
    unscored = ranked["reason"] if "reason" in ranked else pd.Series(None, index=ranked.index)
    text = [WORDS["veto"][lang] if v else f"{display_number(round(s, 1))} · {g}" if s == s
            else WORDS["not_reported" if overdue else "pending"][lang] if r == "not_reported" else "—"
            for s, g, v, r in zip(ranked["unit_score"], ranked["grade"], ranked["vetoed"], unscored)]
    figure = go.Figure(go.Bar(
        x=ranked["unit_score"].fillna(0), y=[unit_names.get(c, c) for c in ranked["subsidiary"]], orientation="h",
        text=text, textposition="outside", cliponaxis=False,
        marker_color=[GRADE_COLOURS.get(g if g == g else None, GRADE_COLOURS[None]) for g in ranked["grade"]]))
    figure.update_layout(**chart_layout(height=32 * len(ranked) + 80, margin=dict(l=10, r=90, t=10, b=30),
                                        xaxis=dict(range=[0, 100], title=WORDS["score"][lang]),
                                        yaxis=dict(title=None, automargin=True)))
    return figure


def indicator_trend(series: pd.DataFrame, title: str, lang: str, height: int = 320) -> go.Figure:
    """The group's line of one indicator with its target and limit as steps. `series`: the group rows of
    `overview.series` (month, value, target, limit); months are real dates (never '2024-01' strings, which
    Plotly would also read as dates but without the day)."""
    figure = go.Figure()
    for column, colour, dash in (("target", STATUS_COLOURS["green"], "dot"), ("limit", STATUS_COLOURS["red"], "dash")):
        if series[column].notna().any():
            figure.add_trace(go.Scatter(x=series["month"], y=series[column], mode="lines",
                                        name=WORDS[column][lang], line=dict(color=colour, dash=dash, shape="hv")))
    figure.add_trace(go.Scatter(x=series["month"], y=series["value"], mode="lines+markers",
                                name=WORDS["group"][lang], line=dict(color=GROUP_COLOUR, width=3)))
    figure.update_layout(**chart_layout(height=height, xaxis=dict(tickformat="%Y-%m"),
                                        yaxis=dict(title=title, range=fitted_range(series["value"], series["target"],
                                                                                   series["limit"]))))
    return figure


def fitted_range(*columns: pd.Series) -> list[float] | None:
    """A value axis fitted to what is drawn (values, target and limit), a tenth of the span added at each end:
    a rate moving between 93 and 97 % next to its target 95 and limit 85 is drawn on about 84–98, not on 0–100.
    Quantities that cannot be negative keep 0 as the floor. None (Plotly's own) when nothing is drawn."""
    values = pd.concat([pd.to_numeric(c, errors="coerce") for c in columns]).dropna()
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    pad = (high - low) / 10 or abs(high) / 10 or 1.0
    return [max(low - pad, 0.0) if low >= 0 else low - pad, high + pad]


def year_to_date_trend(series: pd.DataFrame, title: str, lang: str, height: int = 320) -> go.Figure:
    """The group's year-to-date value of one indicator month by month, this year against the years before it
    on a January–December axis (the year-to-date value restarts each January, so years are compared, not
    joined), with this year's target and limit as lines. `series`: month, value, target, limit on the
    year-to-date basis; the last year in it is this year."""
    months = pd.to_datetime(series["month"])
    ticks = [MONTH_NAMES[lang](m) for m in range(1, 13)]
    this_year = int(months.dt.year.max())
    current = series[months.dt.year == this_year]
    figure = go.Figure()
    for column, colour, dash in (("target", STATUS_COLOURS["green"], "dot"), ("limit", STATUS_COLOURS["red"], "dash")):
        reference = current[column].dropna()
        if len(reference):
            figure.add_trace(go.Scatter(x=ticks, y=[reference.iloc[-1]] * 12, mode="lines", name=WORDS[column][lang],
                                        line=dict(color=colour, dash=dash)))
    for year in sorted(months.dt.year.unique()):
        rows = series[months.dt.year == year]
        own = year == this_year
        figure.add_trace(go.Scatter(
            x=[ticks[m.month - 1] for m in pd.to_datetime(rows["month"])], y=rows["value"], mode="lines+markers",
            name=WORDS["year"][lang].format(year=year),
            line=dict(color=GROUP_COLOUR if own else PAST_YEAR_COLOUR, width=3 if own else 2),
            marker=dict(size=7 if own else 5)))
    figure.update_layout(**chart_layout(height=height, xaxis=dict(type="category", categoryarray=ticks, dtick=2),
                                        yaxis=dict(title=title, range=fitted_range(series["value"], current["target"],
                                                                                   current["limit"]))))
    return figure


def status_heatmap(indicators: pd.DataFrame, units: list[str], codes: list[str], unit_names: dict[str, str],
                   indicator_names: dict[str, str], lang: str) -> go.Figure:
    """Units (rows, in the given order, first on top) × indicators (columns) coloured and marked by status, with
    each cell's value, target and limit on hover; a cell without a scored row reads 'not scored'.
    `indicators`: scored rows with subsidiary, indicator, status, value, target, limit. The cells go to Plotly
    as numpy grids: nested lists are validated cell by cell (0.45 s against 0.15 s at 500 units × 28)."""
    grid = {column: indicators.pivot(index="subsidiary", columns="indicator", values=column)
            .reindex(index=units, columns=codes).to_numpy(dtype=object)
            for column in ("status", "value", "target", "limit")}
    status = np.where(pd.isna(grid["status"]), "none", grid["status"]).astype(object)
    rows, columns = [unit_names[u] for u in units], [indicator_names[c] for c in codes]
    labels = {s: status_label(s, lang) for s in STATUS_ORDER}
    hover = np.array([[f"{rows[r]} · {columns[c]}<br>{labels[status[r, c]]}<br>"
                       f"{WORDS['value'][lang]} {display_number(grid['value'][r, c])} · {WORDS['target'][lang]} "
                       f"{display_number(grid['target'][r, c], '—')} · {WORDS['limit'][lang]} "
                       f"{display_number(grid['limit'][r, c], '—')}" for c in range(len(codes))]
                      for r in range(len(units))], dtype=object).reshape(len(units), len(codes))
    position = {s: i for i, s in enumerate(STATUS_ORDER)}
    scale = []
    for i, s in enumerate(STATUS_ORDER):
        scale += [[i / len(STATUS_ORDER), STATUS_COLOURS[s]], [(i + 1) / len(STATUS_ORDER), STATUS_COLOURS[s]]]
    figure = go.Figure(go.Heatmap(
        z=np.vectorize(position.__getitem__, otypes=[float])(status) + 0.5, zmin=0, zmax=len(STATUS_ORDER),
        colorscale=scale, x=columns, y=rows,
        text=np.vectorize(STATUS_SYMBOLS.__getitem__, otypes=[object])(status), texttemplate="%{text}",
        textfont=dict(size=14, color="white"), hovertext=hover, hoverinfo="text", showscale=False, xgap=2, ygap=2))
    figure.update_layout(**chart_layout(height=30 * len(units) + 190, margin=dict(l=10, r=10, t=10, b=10),
                                        xaxis=dict(side="top", tickangle=-40), yaxis=dict(autorange="reversed")))
    return figure
