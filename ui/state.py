"""The view lives in the URL: month, basis, unit, indicator and language are taken from the query string when a
session starts and written back on every run, and the sidebar links carry them, so a link reproduces the view."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import streamlit as st

from metrics.core.codes import (
    HAZARDS_FOUND,
    HAZARDS_OVERDUE,
    HAZARDS_RECTIFIED,
    MAJOR_HAZARDS,
    RECTIFICATION_RATE,
)
from metrics.core.months import iso_month, parse_month
from metrics.ledger.hazards import MAJOR

URL_KEYS = ("lang", "month", "basis", "unit", "indicator")
BASES = ("ytd", "month")
HAZARDS_PAGE = "pages/hazards.py"
HAZARD_PARAMS = ("units", "level", "state", "source", "overdue", "age", "hazard")
"""The hazard ledger page's own view in the URL, beside the shared keys: its filters (lists comma-separated,
`overdue=1`, `age=7-30` days since found) and the hazard open (`hazard=A-2026-0007`)."""
HAZARD_FILTERS: dict[str, dict[str, str]] = {HAZARDS_FOUND: {}, MAJOR_HAZARDS: {"level": MAJOR},
                                             HAZARDS_RECTIFIED: {}, HAZARDS_OVERDUE: {"overdue": "1"},
                                             RECTIFICATION_RATE: {}}
"""The hazard indicators that open to the hazards behind them, with the filter of what each counts."""


def _encode(value) -> str:
    return iso_month(value) if isinstance(value, date) else str(value)


def _adopt(key: str, options: Iterable, parse: Callable[[str], object] = str) -> None:
    if key in st.session_state or key not in st.query_params:
        return
    try:
        value = parse(st.query_params[key])
    except ValueError:
        return
    if value in set(options):
        st.session_state[key] = value


def adopt_url(months: list[date], units: Iterable[str], indicators: Iterable[str]) -> None:
    """Take the view from the URL where the session has no choice of its own yet; values that do not exist in
    the store (a unit since removed, a month not yet reported) are ignored and the page's default applies."""
    _adopt("month", months, parse_month)
    _adopt("basis", BASES)
    _adopt("unit", units)
    _adopt("indicator", indicators)


def view_params() -> dict[str, str]:
    """The current view as query parameters."""
    return {key: _encode(st.session_state[key]) for key in URL_KEYS if st.session_state.get(key) is not None}


def publish() -> None:
    """Write the current view into the address bar (only when it changed)."""
    wanted = view_params()
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.update(wanted)


def hazards_link(unit: str, indicator: str) -> dict[str, str]:
    """The hazard ledger page's query for the hazards behind `indicator` of `unit` (a hazard number's
    drill-through): the current view, the unit, and overdue or major where the indicator counts only those."""
    return view_params() | {"units": unit} | HAZARD_FILTERS[indicator]
