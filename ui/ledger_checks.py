"""The breaches page's 台账核查提示 (ledger checks, issue 14 items 4 and 7): the month's things to check in the units'
hazard ledgers (metrics/ledger/checks.py), below the breaches, each with its unit and its sentence with the
numbers; below them a link for each to where in the ledger to look (the hazards behind the figure of the unit's
month, the one hazard, or the unit's ledger) and, folded, the rules behind them. They are things to check, not
breaches: no severity, no count in the breaches' totals."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.core.months import label
from metrics.ledger.checks import BY_ID, Flag
from ui import data
from ui.i18n import t
from ui.links import ICON, hazard_link
from ui.markdown import plain
from ui.state import HAZARDS_PAGE, view_params
from ui.widgets import WRAPPING_ROW, PageContext

WIDTHS = {"unit": 130, "ledger_check_kind": 150, "ledger_check_message": 520}
"""The table's column widths (px): the longest sentence in three lines on a 1280 px screen beside the sidebar."""


def where(flag: Flag, page: PageContext) -> str:
    """Where in the ledger a reader looks, as the link reads: the hazard, the figure of the unit's month, or the
    unit's ledger."""
    if flag.hazard:
        return t("ledger_check_where_hazard", number=flag.hazard)
    if flag.indicator:
        return t("ledger_check_where_figure", unit=flag.subsidiary, month=label(flag.month, page.lang),
                 figure=page.indicator_names.get(flag.indicator, flag.indicator))
    return t("ledger_check_where_unit", unit=flag.subsidiary)


def link(flag: Flag, page: PageContext) -> None:
    """A page link to where `flag` sends a reader on the ledger page (the same session)."""
    text = plain(where(flag, page))
    if flag.indicator:
        hazard_link(flag.indicator, flag.month, (flag.subsidiary,), "month", text)
    else:
        query = {"hazard": flag.hazard} if flag.hazard else {"units": flag.subsidiary}
        st.page_link(HAZARDS_PAGE, label=text, icon=ICON, query_params=view_params() | query)


def table(flags: list[Flag], page: PageContext) -> pd.DataFrame:
    names = {r.code: (r.name_zh, r.name_en) for r in page.reference.indicators.itertuples(index=False)}
    units = page.unit_names
    return pd.DataFrame({
        t("unit"): [f"{f.subsidiary} {units.get(f.subsidiary, '')}".strip() for f in flags],
        t("ledger_check_kind"): [f.rule.name.in_(page.lang) for f in flags],
        t("ledger_check_message"): [f.message(page.lang, names) for f in flags],
    })


def draw(page: PageContext) -> None:
    """The section: heading, what it is, the month's flags (or that there are none) and their rules."""
    st.subheader(t("ledger_checks_title"))
    st.caption(t("ledger_checks_note"))
    flags = data.ledger_checks(str(page.path), page.user, page.month, page.version)
    if not flags:
        st.info(t("no_ledger_checks"), icon="✔")
        return
    shown = table(flags, page)
    st.dataframe(shown, hide_index=True, width="stretch", row_height=WRAPPING_ROW, key="ledger_checks_table",
                 height=min(WRAPPING_ROW * len(shown) + 38, 6 * WRAPPING_ROW + 38),
                 column_config={t(key): st.column_config.TextColumn(t(key), width=width)
                                for key, width in WIDTHS.items()})
    st.caption(t("ledger_check_where"))
    with st.container(horizontal=True, wrap=True, key="ledger_check_links"):
        for flag in {where(f, page): f for f in flags}.values():
            link(flag, page)
    with st.expander(t("ledger_checks_rules")):
        for check_id in dict.fromkeys(f.check for f in flags):
            check = BY_ID[check_id]
            st.markdown(t("rule_line", name=plain(check.name.in_(page.lang)),
                          logic=plain(check.rule_text(page.lang))))
