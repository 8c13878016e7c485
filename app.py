"""Entry point and overview (总览): `streamlit run app.py`.

Where the group stands this month, in under a minute: the year's vetoes, who has not reported, headline
figures with their change from last month and last year, safe days, scores by grade and a trend. The demo
store is created on the first start (ui.layout.setup_page); the other pages are in pages/.
"""
import streamlit as st

from metrics import charts

from metrics.formatting import display_number
from metrics.months import add_months, label
from ui import data
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.widgets import headline, month_page

setup_page()
page = month_page("app_title")
lang, month, ref = page.lang, page.month, page.reference
ov = page.overview()
unit_names, ind_names = page.unit_names, page.indicator_names
st.caption(f"{label(month, lang)} · {t('basis_' + page.basis)} · {t('headline_note')}")

values = ov.ytd.indicators.set_index(["subsidiary", "indicator"])["value"]
for u in ov.vetoed_units.itertuples(index=False):
    reason = "、".join(f"{ind_names[c]} {display_number(values[(u.subsidiary, c)])}" for c in u.veto_reason)
    st.error(t("veto_banner", unit=unit_names[u.subsidiary], reason=reason), icon="⛔")
if ov.missing_units:
    st.warning(t("missing_banner", units="、".join(unit_names[c] for c in ov.missing_units)), icon="📭")

h = ov.headlines
cols = st.columns(6)
headline(cols[0], t("h_fatalities"), h["fatalities"], 0)
headline(cols[1], t("h_ltifr"), h["ltifr"], 2)
headline(cols[2], t("h_rectification"), h["rectification_rate"], 1, "%")
headline(cols[3], t("red_flags"), h["red"], 0)
headline(cols[4], t("yellow_flags"), h["yellow"], 0)
reported = h["reported"]
cols[5].metric(t("h_reported"), f"{int(reported.value or 0)} / {ov.expected}",
               help=t("h_reported_help"))
cols[5].caption(t("vs_last_month_plain", value="—" if reported.previous is None else int(reported.previous)))

cols = st.columns(4)
for col, key, days in ((cols[0], "safe_days", ov.safe_days_fatality["*"]),
                       (cols[1], "lti_days", ov.safe_days_lost_time["*"])):
    col.metric(t(key), f"{'≥' if days.since_records else ''}{days.days:,} {t('days')}", help=t("safe_days_help"))
cols[2].metric(t("vetoed_units"), len(ov.vetoed_units))
cols[3].metric(t("units_scored"), int(ov.units["unit_score"].notna().sum()))

left, right = st.columns([5, 6])
left.markdown(f"**{t('scores_title')}**")
left.plotly_chart(charts.score_bars(ov.units, unit_names, lang), width="stretch", config={"displayModeBar": False})

right.markdown(f"**{t('trend_title')}**")
directed = ref.indicators[ref.indicators["direction"] != "none"]
codes = list(directed["code"])
indicator = right.selectbox(t("indicator"), codes, format_func=ind_names.get, key="indicator",
                            index=codes.index("injury_freq_rate"))
series = data.series(str(page.path), indicator, add_months(month, -23), month, "month", (), page.version)
chart = charts.indicator_trend(series[series["level"] == "group"], ind_names[indicator], lang,
                               height=max(32 * len(ov.units) + 10, 320))
right.plotly_chart(chart, width="stretch", config={"displayModeBar": False})
right.caption(t("trend_more"))
finish_page()
