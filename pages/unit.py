"""Unit detail (单位详情): one subsidiary's indicators against its targets for the period."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.formatting import display_number
from metrics.months import add_months, label
from ui import data
from ui.i18n import t
from ui.style import CHART_FONT, STATUS_LABELS, VETO_ROW_BACKGROUND, grade_label
from ui.layout import setup_page
from ui.widgets import month_page

setup_page()
page = month_page("nav_unit")
lang, month, basis, ref = page.lang, page.month, page.basis, page.reference
ov = page.overview()
name_col = "name_zh" if lang == "zh" else "name_en"
units = ov.units.sort_values("subsidiary")
code = st.selectbox(t("unit"), list(units["subsidiary"]), key="unit",
                    format_func=dict(zip(units["subsidiary"], units[name_col])).get)
unit = ov.units[ov.units["subsidiary"] == code].iloc[0]
st.caption(f"{label(month, lang)} · {t('basis_' + basis)}")

cols = st.columns(5)
cols[0].metric(t("unit_score"), display_number(unit["unit_score"]))
cols[1].metric(t("unit_grade"), grade_label(unit["grade"], ref.grades, lang))
cols[2].metric(t("unit_rank"), f"{unit['rank']} / {len(ov.units)}")
for col, key, days in ((cols[3], "safe_days_unit", ov.safe_days_fatality[code]),
                       (cols[4], "lti_days_unit", ov.safe_days_lost_time[code])):
    col.metric(t(key), f"{t('at_least') if days.since_records else ''}{days.days:,} {t('days')}",
               help=t("safe_days_help"))

ind = ref.indicators.set_index("code")
rows = ov.result.unit_indicators(code).reset_index(drop=True)
table = pd.DataFrame({
    t("col_indicator"): rows["indicator"].map(ind[name_col]),
    t("col_value"): [display_number(v) for v in rows["value"]],
    t("col_unit_of"): rows["indicator"].map(ind["unit_zh" if lang == "zh" else "unit_en"]),
    t("col_target"): [display_number(v, "") for v in rows["target"]],
    t("col_limit"): [display_number(v, "") for v in rows["limit"]],
    t("col_status"): [STATUS_LABELS[s][lang] for s in rows["status"]],
    t("col_ind_score"): [display_number(round(v, 1), "") for v in rows["score"]],
    t("col_weight"): [display_number(v, "") for v in rows["weight"]],
    t("col_veto"): ["⛔" if v else "" for v in rows["veto"]],
})
red_veto = ((rows["status"] == "red") & rows["veto"]).to_numpy()
st.dataframe(table.style.apply(lambda r: [VETO_ROW_BACKGROUND if red_veto[r.name] else ""] * len(r), axis=1),
             hide_index=True, width="stretch", height=35 * len(table) + 38)
st.caption(t("thresholds_note"))

st.subheader(t("unit_trend_title"))
directed = ref.indicators[ref.indicators["direction"] != "none"]
codes = list(directed["code"])
indicator = st.selectbox(t("indicator"), codes, index=codes.index("injury_freq_rate"), key="unit_trend_indicator",
                         format_func=dict(zip(ref.indicators["code"], ref.indicators[name_col])).get)
series = data.trend(str(page.path), indicator, add_months(month, -35), month, page.version)
chart = go.Figure()
for subsidiary, label_text, colour, width in (("*", t("group"), "#9e9e9e", 2), (code, unit[name_col], "#1565c0", 3)):
    line = series[series["subsidiary"] == subsidiary]
    chart.add_trace(go.Scatter(x=line["month"], y=line["value"], mode="lines+markers", name=label_text,
                               line=dict(color=colour, width=width)))
chart.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=30), xaxis=dict(tickformat="%Y-%m"),
                    legend=dict(orientation="h", y=1.08), font=dict(family=CHART_FONT))
st.plotly_chart(chart, width="stretch", config={"displayModeBar": False})
