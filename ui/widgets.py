"""Sidebar controls shared by the pages: month and basis."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from metrics import overview
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


@dataclass(frozen=True)
class PageContext:
    """What every month page starts from: the store, the language, the chosen period and its data."""
    path: Path
    lang: str
    month: date
    basis: str
    version: tuple
    reference: overview.Reference

    def overview(self) -> overview.Overview:
        return data.month_overview(str(self.path), self.month, self.basis, self.version)


def month_page(title_key: str) -> PageContext:
    """Title, sidebar month and basis pickers; stops the page when the store holds no data yet."""
    path = data.store_path()
    st.title(t(title_key))
    picked = month_and_basis(path)
    if picked is None:
        st.stop()
    version = data.version(path)
    return PageContext(path=path, lang=current_lang(), month=picked[0], basis=picked[1], version=version,
                       reference=data.reference(str(path), version))
