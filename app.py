"""Entry point and overview (总览): `streamlit run app.py`.

Where the group stands this month: scores, grades, vetoes, flags and a trend. The demo store is created on
the first start (ui.layout.setup_page); the other pages are in pages/.
"""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.formatting import display_number
from metrics.months import add_months, label
from ui import data
from ui.i18n import t
from ui.layout import setup_page
from ui.style import CHART_FONT, GRADE_COLOURS, VETO_ROW_BACKGROUND, grade_label
from ui.widgets import month_page

setup_page()
page = month_page("app_title")
path, lang, month, basis, version, ref = page.path, page.lang, page.month, page.basis, page.version, page.reference
ov = page.overview()
ind_names = dict(zip(ref.indicators["code"], ref.indicators["name_zh" if lang == "zh" else "name_en"]))
sector_names = dict(zip(ref.sectors["code"], ref.sectors["name_zh" if lang == "zh" else "name_en"]))
unit_name_col = "name_zh" if lang == "zh" else "name_en"

st.caption(f"{label(month, lang)} · {t('basis_' + basis)}")

values = ov.result.indicators.set_index(["subsidiary", "indicator"])["value"]
for u in ov.units[ov.units["vetoed"]].itertuples(index=False):
    reason = "、".join(f"{ind_names[c]} {display_number(values[(u.subsidiary, c)])}" for c in u.veto_reason)
    st.error(t("veto_banner", unit=getattr(u, unit_name_col), reason=reason), icon="⛔")
silent = ov.units[ov.units["missing"] > 0]
if len(silent):
    st.warning(t("missing_banner", units="、".join(silent[unit_name_col])), icon="📭")

cols = st.columns(6)
cols[0].metric(t("units_scored"), len(ov.units))
cols[1].metric(t("red_flags"), ov.red, None if ov.previous_red is None else ov.red - ov.previous_red,
               delta_color="inverse")
cols[2].metric(t("yellow_flags"), ov.yellow,
               None if ov.previous_yellow is None else ov.yellow - ov.previous_yellow, delta_color="inverse")
cols[3].metric(t("vetoed_units"), ov.vetoed)
cols[4].metric(t("not_reported"), ov.not_reported)
group_safe = ov.safe_days_fatality["*"]
cols[5].metric(t("safe_days"), f"{t('at_least') if group_safe.since_records else ''}{group_safe.days:,} {t('days')}",
               help=t("safe_days_help"))

left, right = st.columns([5, 6])
left.markdown(f"**{t('scores_title')}**")

ranked = ov.units.iloc[::-1]
bar_text = [grade_label(g, ref.grades, lang) if v else f"{display_number(s)} · {g}" if s == s else "—"
            for s, g, v in zip(ranked["unit_score"], ranked["grade"], ranked["vetoed"])]
figure = go.Figure(go.Bar(
    x=ranked["unit_score"].fillna(0), y=ranked[unit_name_col], orientation="h", text=bar_text,
    textposition="outside", cliponaxis=False,
    marker_color=[GRADE_COLOURS.get(g if g == g else None, GRADE_COLOURS[None]) for g in ranked["grade"]],
))
figure.update_layout(height=36 * len(ranked) + 80, margin=dict(l=10, r=90, t=10, b=30),
                     xaxis=dict(range=[0, 100], title=t("col_score")), yaxis=dict(title=None),
                     font=dict(family=CHART_FONT))
left.plotly_chart(figure, width="stretch", config={"displayModeBar": False})

right.markdown(f"**{t('trend_title')}**")
directed = ref.indicators[ref.indicators["direction"] != "none"]
codes = list(directed["code"])
indicator = right.selectbox(t("indicator"), codes, index=codes.index("injury_freq_rate"),
                         format_func=ind_names.get, key="trend_indicator")
first = add_months(month, -35)
series = data.trend(str(path), indicator, first, month, version)
group = series[series["subsidiary"] == "*"]
chart = go.Figure(go.Scatter(x=group["month"], y=group["value"], mode="lines+markers", name=t("group"),
                             line=dict(color="#1565c0", width=3)))
row = directed[directed["code"] == indicator].iloc[0]
if row["rollup"] != "sum":
    targets = data.targets_of_year(str(path), month.year, version)
    default = targets[(targets["subsidiary"] == "*") & (targets["indicator"] == indicator)]
    if len(default):
        chart.add_hline(y=default.iloc[0]["target"], line_dash="dot", line_color="#2e7d32",
                        annotation_text=t("target"), annotation_position="top left")
        limit = default.iloc[0]["limit"]
        if limit == limit:
            chart.add_hline(y=limit, line_dash="dash", line_color="#c62828", annotation_text=t("limit"), annotation_position="top left")
chart.update_layout(height=max(36 * len(ranked) + 80 - 70, 300), margin=dict(l=10, r=10, t=10, b=30), xaxis=dict(tickformat="%Y-%m"),
                    yaxis=dict(title=f"{ind_names[indicator]}"),
                    font=dict(family=CHART_FONT))
right.plotly_chart(chart, width="stretch", config={"displayModeBar": False})


safe = ov.safe_days_fatality
table = pd.DataFrame({
    t("col_rank"): ov.units["rank"],
    t("col_unit"): ov.units[unit_name_col],
    t("col_sector"): ov.units["sector"].map(sector_names),
    t("col_score"): ov.units["unit_score"].round(2),
    t("col_grade"): [grade_label(g, ref.grades, lang) for g in ov.units["grade"]],
    t("col_red"): ov.units["red"],
    t("col_yellow"): ov.units["yellow"],
    t("col_missing"): ov.units["missing"],
    t("col_change"): ov.units["change"].round(2),
    t("col_safe_days"): [f"{'≥' if safe[c].since_records else ''}{safe[c].days:,}" for c in ov.units["subsidiary"]],
})
vetoed = ov.units["vetoed"].to_numpy()
styled = table.style.apply(lambda row: [VETO_ROW_BACKGROUND if vetoed[row.name] else ""] * len(row), axis=1)
st.dataframe(styled, hide_index=True, width="stretch", height=35 * len(table) + 38, column_config={
    t("col_score"): st.column_config.ProgressColumn(t("col_score"), min_value=0, max_value=100, format="%.2f"),
    t("col_change"): st.column_config.NumberColumn(t("col_change"), format="%+.2f"),
})

