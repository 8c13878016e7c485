"""Sidebar controls shared by the pages: month and basis."""
from __future__ import annotations

from datetime import date

import streamlit as st

from metrics.months import label
from ui import data
from ui.i18n import current_lang, t


def month_and_basis(path) -> tuple[date, str] | None:
    """Month (latest by default) and basis pickers; None when the store has no data."""
    months = data.months(str(path), data.version(path))
    if not months:
        st.info(t("no_data"))
        return None
    lang = current_lang()
    month = st.sidebar.selectbox(t("month"), list(reversed(months)), format_func=lambda m: label(m, lang),
                                 key="month")
    basis = st.sidebar.radio(t("basis"), ["ytd", "month"], format_func={"ytd": t("basis_ytd"), "month": t("basis_month")}.get,
                             key="basis", horizontal=True)
    return month, basis
