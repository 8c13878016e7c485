"""Ranking (排名): every unit with score, grade, rank and its change, a small trend of its score, and a heat map
of units × indicators by status. Picking a row opens the unit's scorecard."""
import pandas as pd
import streamlit as st

from metrics.core.months import label
from metrics.reports.charts import status_heatmap
from ui import data
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.links import group_units, hazard_figures, hazard_link, keeping_units
from ui.markdown import plain
from ui.style import STATUS_ORDER, VETO_ROW_BACKGROUND, grade_label, status_label
from ui.widgets import month_page

setup_page()
page = month_page("nav_ranking")
lang, month, ref = page.lang, page.month, page.reference
ov = page.overview()
unit_names, sector_names, ind_names = page.unit_names, page.sector_names, page.indicator_names
st.caption(f"{label(month, lang)} · {t('basis_' + page.basis)}")

sectors = st.multiselect(t("col_sector"), list(ref.sectors["code"]), format_func=sector_names.__getitem__,
                         key="ranking_sectors", placeholder=t("all_sectors"))
units = ov.units[ov.units["sector"].isin(sectors)] if sectors else ov.units
units = units.reset_index(drop=True)
history = data.score_history(str(page.path), page.user, month, page.basis, None, page.version)
trend = history.pivot(index="subsidiary", columns="month", values="unit_score")


def movement(change) -> str:
    """Up ↑, down ↓ (not ▲, which is the yellow status)."""
    if change is None or pd.isna(change):
        return "—"
    return f"↑{int(change)}" if change > 0 else f"↓{int(-change)}" if change < 0 else "="


grade_names = {g: grade_label(g, ref.grades, lang) for g in list(ref.grades["grade"]) + ["veto"]}
unscored = t("grade_not_reported" if ov.deadline_passed else "grade_pending")


def grade_text(u) -> str:
    """The grade; a unit that reported nothing is 未报 (待报 before the deadline), never D; blanks are counted."""
    if u.reason == "not_reported":
        return unscored
    blanks = t("grade_blanks", count=int(u.missing)) if u.missing and not u.vetoed else ""
    return grade_names.get(u.grade, "—") + blanks


table = pd.DataFrame({
    t("col_rank"): ["—" if pd.isna(r) else str(r) for r in units["rank"]],
    t("col_rank_change"): [movement(c) for c in units["rank_change"]],
    t("col_unit"): [unit_names[c] for c in units["subsidiary"]],
    t("col_sector"): units["sector"].map(sector_names),
    t("col_score"): units["unit_score"].round(2),
    t("col_grade"): [grade_text(u) for u in units.itertuples(index=False)],
    t("col_change"): units["change"].round(2),
    t("col_red"): units["red"],
    t("col_yellow"): units["yellow"],
    t("col_missing"): units["missing"],
    # months without a score (not reported) are left out: the chart column cannot draw a gap
    t("col_trend"): [[round(v, 1) for v in trend.loc[c] if v == v] if c in trend.index else []
                     for c in units["subsidiary"]],
})
vetoed = units["vetoed"].to_numpy()
styled = table.style.apply(lambda row: [VETO_ROW_BACKGROUND if vetoed[row.name] else ""] * len(row), axis=1)
picked = st.dataframe(
    styled, hide_index=True, width="stretch", height=35 * len(table) + 38, key="ranking_table",
    on_select="rerun", selection_mode="single-row",
    column_config={
        t("col_rank"): st.column_config.TextColumn(t("col_rank"), width=50),
        t("col_rank_change"): st.column_config.TextColumn(t("col_rank_change"), width=70),
        t("col_sector"): st.column_config.TextColumn(t("col_sector"), width=90),
        t("col_red"): st.column_config.NumberColumn(t("col_red"), width=45),
        t("col_yellow"): st.column_config.NumberColumn(t("col_yellow"), width=55),
        t("col_missing"): st.column_config.NumberColumn(t("col_missing"), width=60),
        t("col_score"): st.column_config.ProgressColumn(t("col_score"), min_value=0, max_value=100, format="%.2f"),
        t("col_change"): st.column_config.NumberColumn(t("col_change"), format="%+.2f"),
        t("col_trend"): st.column_config.LineChartColumn(t("col_trend"), y_min=0, y_max=100,
                                                         help=t("col_trend_help")),
    })
st.caption(t("ranking_click"))
rows = picked.selection.rows if picked else []
if rows and page.user.visible(units.iloc[rows[0]]["subsidiary"]):
    st.session_state["unit"] = units.iloc[rows[0]]["subsidiary"]
    st.switch_page("pages/unit.py")
elif rows:
    st.info(t("ranking_own_units_only"), icon="🔒")

st.subheader(t("heatmap_title"))
due = ov.result.indicators[ov.result.indicators["subsidiary"].isin(units["subsidiary"])]
judged = set(due.loc[due["status"] != "none", "indicator"])
shown_codes = [c for c in ref.indicators["code"] if c in judged]
if not shown_codes:
    st.info(t("no_targets"))
else:
    reported = set(due["subsidiary"])  # a unit user's own units only; never a unit without any judged row
    order = [u for u in units["subsidiary"] if u in reported]
    heat = status_heatmap(due, order, shown_codes, unit_names, ind_names, lang)
    st.plotly_chart(heat, width="stretch", config={"displayModeBar": False})
    legend = ("　" if lang == "zh" else "\u2003").join(status_label(s, lang) for s in STATUS_ORDER)
    st.caption(f"{legend} · {t('heatmap_note')}")

# The hazard figures of the units shown open to the hazards behind them, of the units whose ledger holds them all.
behind = hazard_figures(page)
shown_units = list(units["subsidiary"])
figures = [c for c in ref.indicators["code"] if behind.get(c) == c]
drills = {c: linked for c in figures if (linked := keeping_units(page, c, month, page.basis, shown_units))}
if drills:
    with st.container(horizontal=True, wrap=True, vertical_alignment="center", key="hazard_links"):
        st.caption(t("hazards_links_note"))
        for code, linked in drills.items():
            hazard_link(code, month, group_units(page, linked), page.basis, plain(ind_names[code])
                        if len(linked) == len(shown_units) else t("hazards_figure_of", indicator=plain(ind_names[code]),
                                                                  count=len(linked)))
finish_page()
