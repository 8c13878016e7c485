"""Trends (趋势): any indicator for any set of units, sectors or the group, monthly, year to date or rolling 12
months, with target and limit lines and the same month last year; and the injury-rate control chart."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.core.codes import INJURY_RATE
from metrics.core.months import add_months, label
from ui import data
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.markdown import plain
from ui.style import GROUP_COLOUR, STATUS_COLOURS, chart_layout
from ui.widgets import month_page

WINDOW = 36
VIEWS = ("month", "ytd", "rolling12")

setup_page()
page = month_page("nav_trends", with_basis=False)
lang, month, ref = page.lang, page.month, page.reference
unit_names, sector_names, ind_names = page.unit_names, page.sector_names, page.indicator_names
codes = list(ref.indicators["code"])
st.caption(f"{label(add_months(month, -WINDOW + 1), lang)} – {label(month, lang)}")

left, middle, right = st.columns([3, 4, 3])
indicator = left.selectbox(t("indicator"), codes, format_func=ind_names.__getitem__, key="indicator",
                           index=codes.index(INJURY_RATE))
sectors = list(ref.sectors["code"]) if page.user.sees_every_unit else []  # a unit user: no sector roll-ups
units = data.unit_codes(str(page.path), page.user, page.version)
entities = ["group:*"] + [f"sector:{c}" for c in sectors] + [f"unit:{c}" for c in units]


def entity_name(entity: str) -> str:
    level, code = entity.split(":", 1)
    return t("group") if level == "group" else f"{t('col_sector')} · {sector_names[code]}" if level == "sector" \
        else unit_names[code]


chosen = middle.multiselect(t("trend_entities"), entities, default=["group:*"], format_func=entity_name,
                            key="trend_entities", placeholder=t("trend_entities_pick"))
view = right.radio(t("trend_view"), VIEWS, format_func=lambda v: t(f"view_{v}"), key="trend_view",
                   horizontal=True, index=VIEWS.index(page.basis))
row = ref.indicators.set_index("code").loc[indicator]
st.caption(f"{plain(ind_names[indicator])} ({plain(row['unit_zh' if lang == 'zh' else 'unit_en'])}) · "
           f"{t('direction_' + row['direction'])} · {t('view_note_' + view)}")

first = add_months(month, -WINDOW + 1)
picked_units = tuple(sorted(e.split(":", 1)[1] for e in chosen if e.startswith("unit:")))
series = data.series(str(page.path), page.user, indicator, add_months(first, -12), month, view, picked_units,
                     page.version)
series["key"] = series["level"] + ":" + series["entity"]
palette = [GROUP_COLOUR, "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#ad1457", "#2e7d32", "#455a64"]
chart = go.Figure()
for i, entity in enumerate(chosen or ["group:*"]):
    line = series[series["key"] == entity].set_index("month").sort_index()
    shown = line[line.index >= pd.Timestamp(first)]
    colour = palette[i % len(palette)]
    chart.add_trace(go.Scatter(x=shown.index, y=shown["value"], mode="lines+markers", name=entity_name(entity),
                               line=dict(color=colour, width=3)))
    if len(chosen) <= 1:
        last_year = line["value"].reindex(shown.index - pd.DateOffset(months=12)).to_numpy()
        chart.add_trace(go.Scatter(x=shown.index, y=last_year, mode="lines", name=t("same_month_last_year"),
                                   line=dict(color=colour, width=1.5, dash="dot"), opacity=0.6))
        for column, name, colour_key, dash in (("target", t("target"), "green", "dot"),
                                               ("limit", t("limit"), "red", "dash")):
            if shown[column].notna().any():
                chart.add_trace(go.Scatter(x=shown.index, y=shown[column], mode="lines", name=name,
                                           line=dict(color=STATUS_COLOURS[colour_key], dash=dash, shape="hv")))
chart.update_layout(**chart_layout(height=420, xaxis=dict(tickformat="%Y-%m"),
                                   yaxis=dict(title=ind_names[indicator], rangemode="tozero")))
st.plotly_chart(chart, width="stretch", config={"displayModeBar": False})
if len(chosen) > 1:
    st.caption(t("trend_lines_note"))

st.subheader(t("u_chart_title"))
st.caption(t("u_chart_help"))
chart_units = ["*"] + units
focus = st.selectbox(t("u_chart_unit"), chart_units, key="u_chart_unit",
                     format_func=lambda c: t("group") if c == "*" else unit_names[c])
u = data.control_chart(str(page.path), page.user, first, month, page.version)
u = u[u["subsidiary"] == focus].sort_values("month")
if u.empty:
    st.info(t("u_chart_empty"))
else:
    per_million = 1e6 / u["exposure"]
    rate = u["events"] * per_million
    flagged = u["out_of_control"].to_numpy()
    ucc = go.Figure()
    ucc.add_trace(go.Scatter(x=u["month"], y=u["centre"] * 1e6, mode="lines", name=t("u_centre"),
                             line=dict(color="#616161", shape="hv")))
    ucc.add_trace(go.Scatter(x=u["month"], y=u["upper_limit"] * per_million, mode="lines", name=t("u_upper"),
                             line=dict(color=STATUS_COLOURS["red"], dash="dash", shape="hv")))
    ucc.add_trace(go.Scatter(x=u["month"], y=u["lower_limit"] * per_million, mode="lines", name=t("u_lower"),
                             line=dict(color=STATUS_COLOURS["green"], dash="dot", shape="hv")))
    ucc.add_trace(go.Scatter(
        x=u["month"], y=rate, mode="lines+markers", name=t("u_rate"), line=dict(color=GROUP_COLOUR, width=2),
        marker=dict(size=[14 if f else 7 for f in flagged], symbol=["x" if f else "circle" for f in flagged],
                    color=[STATUS_COLOURS["red"] if f else GROUP_COLOUR for f in flagged]),
        customdata=list(zip(u["events"], u["exposure"])),
        hovertemplate="%{x|%Y-%m}: %{y:.2f}<br>" + t("u_hover") + "<extra></extra>"))
    ucc.update_layout(**chart_layout(height=360, xaxis=dict(tickformat="%Y-%m"),
                                     yaxis=dict(title=t("u_axis"), rangemode="tozero")))
    st.plotly_chart(ucc, width="stretch", config={"displayModeBar": False})
    out = u[u["out_of_control"]]
    if len(out):
        st.error(t("u_out", months="、".join(f"{m:%Y-%m}" for m in out["month"])), icon="✖")
    else:
        st.success(t("u_in_control"), icon="✔")
finish_page()
