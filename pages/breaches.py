"""Breaches (预警与问责): every flag of the month with the numbers and the rule behind it."""
import pandas as pd
import streamlit as st

from metrics.months import iso_month, label
from ui import data
from ui.i18n import t
from ui.layout import setup_page
from ui.widgets import month_page

setup_page()
page = month_page("nav_breaches")
lang, month, ref = page.lang, page.month, page.reference
found = data.breaches_of_month(str(page.path), month, page.version)
names = {r.code: (r.name_zh, r.name_en) for r in ref.indicators.itertuples(index=False)}
st.caption(label(month, lang))
if not found:
    st.success(t("no_breaches"))
    st.stop()
table = pd.DataFrame({
    t("severity"): [t(f"sev_{b.rule.severity.value}") for b in found],
    t("breach_kind"): [t(f"kind_{b.kind}") for b in found],
    t("unit"): [b.unit_name(lang) for b in found],
    t("message"): [b.message(lang, names) for b in found],
    t("rule"): [b.rule.logic(lang) for b in found],
})
kinds = st.multiselect(t("breach_kind"), list(dict.fromkeys(table[t("breach_kind")])), key="breach_kinds",
                       placeholder=t("all_kinds"))
shown = table[table[t("breach_kind")].isin(kinds)] if kinds else table
st.dataframe(shown, hide_index=True, width="stretch", height=min(36 * len(shown) + 40, 900))
st.download_button(t("download_csv"), shown.to_csv(index=False).encode("utf-8-sig"),
                   file_name=f"breaches-{iso_month(month)}.csv", mime="text/csv")
