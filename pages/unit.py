"""Unit scorecard (单位记分卡): one subsidiary's every indicator against its target and limit, with status,
score and a year of history; its score over the months, its trend against the group, and its submissions."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.auth.roles import Permission
from metrics.core.codes import INJURY_RATE
from metrics.core.formatting import display_number
from metrics.core.months import add_months, day_label, iso_month, label
from metrics.scoring.scorecard import breached_first, whole_threshold
from metrics.store.audit import actor_text, source_text
from ui import data
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.links import hazard_figures, hazard_label, hazard_link, keeping_units
from ui.markdown import plain
from ui.style import (
    GRADE_COLOURS,
    GROUP_COLOUR,
    VETO_ROW_BACKGROUND,
    chart_layout,
    grade_label,
    status_label,
    status_text_style,
)
from ui.widgets import WRAPPING_ROW, change_text, month_page, whole_cards

SCORECARD_HEIGHT = 12 * WRAPPING_ROW
"""The scorecard shows twelve rows at once (the breached ones first), then scrolls inside the table."""

setup_page(needs=Permission.VIEW_UNIT)
page = month_page("nav_unit")
lang, month, basis, ref = page.lang, page.month, page.basis, page.reference
ov = page.overview()
unit_names, ind_names = page.unit_names, page.indicator_names
codes = data.unit_codes(str(page.path), page.user, page.version)  # a unit user: their own units only
if st.session_state.get("unit") not in codes:
    st.session_state.pop("unit", None)
code = st.selectbox(t("unit"), codes, key="unit", format_func=lambda c: f"{unit_names[c]} ({c})")
unit = ov.units[ov.units["subsidiary"] == code].iloc[0]
st.caption(f"{label(month, lang)} · {t('basis_' + basis)} · {plain(page.sector_names.get(unit['sector'], ''))}")
if unit["vetoed"]:
    vetoed = unit["veto_reason"]
    reasons = "、".join(plain(ind_names[c]) for c in vetoed) if isinstance(vetoed, list) else ""
    st.error(t("unit_vetoed", reason=reasons), icon="⛔")
if code in ov.missing_units:
    due = {"month": label(month, lang), "deadline": day_label(ov.deadline, lang)}
    if ov.deadline_passed:
        st.warning(t("unit_not_reported", **due), icon="📭")
    else:
        st.info(t("unit_pending", **due), icon="🕒")

whole_cards()
cols = st.columns(6)
cols[0].metric(t("unit_score"),
               display_number(None if unit["unit_score"] != unit["unit_score"] else round(unit["unit_score"], 2)),
               change_text(unit["change"]))
not_reported = t("grade_not_reported" if ov.deadline_passed else "grade_pending")
cols[1].metric(t("unit_grade"), not_reported if unit["reason"] == "not_reported"
               else grade_label(unit["grade"], ref.grades, lang))
cols[2].metric(t("unit_rank"), f"{'—' if pd.isna(unit['rank']) else unit['rank']} / {ov.ranked}",
               None if pd.isna(unit["rank_change"]) else int(unit["rank_change"]))
cols[3].metric(t("unit_flags"), f"✖{unit['red']} ▲{unit['yellow']} ○{unit['missing']}")
for col, key, days in ((cols[4], "safe_days_unit", ov.safe_days_fatality[code]),
                       (cols[5], "lti_days_unit", ov.safe_days_lost_time[code])):
    col.metric(t(key), f"{'≥' if days.since_records else ''}{days.days:,} {t('days')}", help=t("safe_days_help"))

ind = ref.indicators.set_index("code")
rows = breached_first(ov.result.unit_indicators(code))
history = data.indicator_history(str(page.path), page.user, code, month, page.version)
spark = history.pivot(index="indicator", columns="month", values="value")
measure = ind["unit_zh" if lang == "zh" else "unit_en"]


def indicator_label(indicator: str, veto: bool) -> str:
    """'⛔ 死亡人数 · 人': the veto mark and the unit of measure beside the name (unless the name already says it)."""
    name, unit_of = ind_names[indicator], measure.get(indicator)
    shown = name if not isinstance(unit_of, str) or not unit_of or unit_of in name else f"{name} · {unit_of}"
    return f"⛔ {shown}" if veto else shown


def threshold(values: pd.Series) -> list[str]:
    return [display_number(whole_threshold(v, ind.at[c, "kind"], ind.at[c, "direction"]), "")
            for v, c in zip(values, rows["indicator"])]


def sparkline(indicator: str) -> list[float]:
    """The reported months only: the chart column draws no gap, and a missing month must not read as text."""
    return [float(v) for v in spark.loc[indicator] if v == v] if indicator in spark.index else []


table = pd.DataFrame({
    t("col_indicator"): [indicator_label(c, bool(v)) for c, v in zip(rows["indicator"], rows["veto"])],
    t("col_value"): [display_number(v) for v in rows["value"]],
    t("col_target"): threshold(rows["target"]),
    t("col_limit"): threshold(rows["limit"]),
    t("col_status"): [status_label(s, lang) for s in rows["status"]],
    t("col_ind_score"): [display_number(round(v, 1), "") for v in rows["score"]],
    t("col_weight"): [display_number(v, "") for v in rows["weight"]],
    t("col_history"): [sparkline(c) for c in rows["indicator"]],
})
statuses = list(rows["status"])
red_veto = ((rows["status"] == "red") & rows["veto"]).to_numpy()
status_col = table.columns.get_loc(t("col_status"))


def paint(row):
    styles = [VETO_ROW_BACKGROUND if red_veto[row.name] else ""] * len(row)
    styles[status_col] = status_text_style(statuses[row.name])
    return styles


# Rows tall enough for three lines let a long name wrap instead of being cut (Streamlit wraps text cells from a
# row height above 4rem); the worst rows come first, the rest scroll inside the table.
st.dataframe(table.style.apply(paint, axis=1), hide_index=True, width="stretch", row_height=WRAPPING_ROW,
             height=min(WRAPPING_ROW * len(table), SCORECARD_HEIGHT) + 38,
             column_config={t("col_indicator"): st.column_config.TextColumn(t("col_indicator"), width=220),
                            t("col_status"): st.column_config.TextColumn(t("col_status"), width=84),
                            t("col_history"): st.column_config.LineChartColumn(t("col_history"), width=120,
                                                                                help=t("col_history_help"))})
st.caption(t("thresholds_note"))
# Each hazard number opens the hazards behind it, where the unit's ledger holds all of them.
behind = hazard_figures(page)
linked = [r for r in rows.itertuples(index=False) if r.indicator in behind and r.value == r.value
          and keeping_units(page, behind[r.indicator], month, basis, (code,))]  # a number without a value: none
if linked:
    with st.container(horizontal=True, wrap=True, key="hazard_links"):
        for r in linked:
            hazard_link(behind[r.indicator], month, (code,), basis, hazard_label(
                ind_names[r.indicator], display_number(r.value), measure.get(r.indicator), r.status))

left, right = st.columns(2)
left.markdown(f"**{t('unit_score_history')}**")
scores = data.score_history(str(page.path), page.user, month, basis, (code,), page.version)
scores = scores[scores["subsidiary"] == code]
# A month without a score has no bar, only its label at the foot (未报 is not a score of 0).
bars = go.Figure(go.Bar(x=scores["month"], y=scores["unit_score"].fillna(0),
                        marker_color=[GRADE_COLOURS.get(g if g == g else None) for g in scores["grade"]],
                        text=[t("grade_not_reported") if r == "not_reported" else grade_label(g, ref.grades, lang)
                              for g, r in zip(scores["grade"], scores["reason"])], textposition="outside"))
bars.update_layout(**chart_layout(height=320, xaxis=dict(tickformat="%Y-%m"), yaxis=dict(range=[0, 110])))
left.plotly_chart(bars, width="stretch", config={"displayModeBar": False})

directed = ref.indicators[ref.indicators["direction"] != "none"]
indicators = list(directed["code"])
right.markdown(f"**{t('unit_trend_title')}**")
indicator = right.selectbox(t("indicator"), indicators, key="indicator", format_func=ind_names.__getitem__,
                            index=indicators.index(INJURY_RATE), label_visibility="collapsed")
series = data.series(str(page.path), page.user, indicator, add_months(month, -23), month, "month", (code,),
                     page.version)
chart = go.Figure()
for level, entity, name, colour, width in (("group", "*", t("group"), "#9e9e9e", 2),
                                           ("unit", code, unit_names[code], GROUP_COLOUR, 3)):
    line = series[(series["level"] == level) & (series["entity"] == entity)]
    chart.add_trace(go.Scatter(x=line["month"], y=line["value"], mode="lines+markers", name=name,
                               line=dict(color=colour, width=width)))
chart.update_layout(**chart_layout(height=300, xaxis=dict(tickformat="%Y-%m")))
right.plotly_chart(chart, width="stretch", config={"displayModeBar": False})

st.subheader(t("submissions_title"))
submitted = data.submissions(str(page.path), page.user, code, page.version)
if submitted.empty:
    st.info(t("no_submissions"))
else:
    st.dataframe(pd.DataFrame({
        t("batch"): submitted["batch_id"],
        t("col_time"): submitted["created_at"],
        t("col_months"): [", ".join(iso_month(m) for m in ms) for ms in submitted["months"]],
        t("col_values"): submitted["values"],
        t("actor"): submitted["actor"].map(lambda a: actor_text(a, lang)),
        t("col_file"): [source_text(f, s, lang) for f, s in zip(submitted["file_name"], submitted["source"])],
        t("col_batch_status"): [t("batch_" + s) for s in submitted["status"]],
        t("col_on_time"): [f"✖ {t('kind_late')}" if late else "✔" for late in submitted["late"]],
    }), hide_index=True, width="stretch", height=min(35 * len(submitted) + 38, 400),
        column_config={t("col_time"): st.column_config.DatetimeColumn(t("col_time"), format="YYYY-MM-DD HH:mm")})
finish_page()
