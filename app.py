"""Entry point and overview (总览): `streamlit run app.py`.

Where the group stands this month, in under a minute: the year's vetoes, who has not reported, headline
figures with their change from last month and last year, safe days, scores by grade and a trend. The demo
store is created on the first start (ui.layout.setup_page); the other pages are in pages/.
"""
import streamlit as st

from metrics.core.codes import INJURY_RATE, RECTIFICATION_RATE
from metrics.core.months import add_months, label
from metrics.reports import charts
from ui import data
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.links import group_units, hazard_figures, hazard_link, keeping_units
from ui.markdown import plain
from ui.widgets import group_banners, group_headlines, month_page

setup_page()
page = month_page("app_title")
lang, month, ref = page.lang, page.month, page.reference
ov = page.overview()
unit_names, ind_names = page.unit_names, page.indicator_names
st.caption(f"{label(month, lang)} · {t('basis_' + page.basis)} · {t('headline_note_' + page.basis)}")

group_banners(ov, unit_names, ind_names, lang)
first, second = st.columns(6), st.columns(4)
group_headlines(ov, [*first, *second[:3]])
# The rectification rate opens to the hazards behind it (those found), of the units whose ledger holds them all.
figure = hazard_figures(page).get(RECTIFICATION_RATE)
visible = data.unit_codes(str(page.path), page.user, page.version)
linked = keeping_units(page, figure, month, page.basis, visible) if figure else frozenset()
if figure and linked:
    units = group_units(page, linked)
    name = plain(ind_names[RECTIFICATION_RATE])
    hazard_link(figure, month, units, page.basis, t("hazards_of_all", indicator=name) if units is None
                else t("hazards_of_some", indicator=name, count=len(units)))
second[3].metric(t("units_scored"), int(ov.units["unit_score"].notna().sum()))

left, right = st.columns([5, 6])
left.markdown(f"**{t('scores_title')}**")
left.plotly_chart(charts.score_bars(ov.units, unit_names, lang, overdue=ov.deadline_passed), width="stretch",
                  config={"displayModeBar": False})

right.markdown(f"**{t('trend_title')}**")
directed = ref.indicators[ref.indicators["direction"] != "none"]
codes = list(directed["code"])
indicator = right.selectbox(t("indicator"), codes, format_func=ind_names.__getitem__, key="indicator",
                            index=codes.index(INJURY_RATE))
series = data.series(str(page.path), page.user, indicator, add_months(month, -23), month, "month", (), page.version)
chart = charts.indicator_trend(series[series["level"] == "group"], ind_names[indicator], lang,
                               height=max(32 * len(ov.units) + 10, 320))
right.plotly_chart(chart, width="stretch", config={"displayModeBar": False})
right.caption(t("trend_more"))
finish_page()
