"""The view lives in the URL: month, basis, unit, indicator and language are taken from the query string when a
session starts and written back on every run, and the sidebar links carry them, so a link reproduces the view."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import streamlit as st

from metrics.core.links import hazard_query
from metrics.core.months import iso_month, parse_month

URL_KEYS = ("lang", "month", "basis", "unit", "indicator")
BASES = ("ytd", "month")
HAZARDS_PAGE = "pages/hazards.py"
HAZARD_PARAMS = ("units", "level", "state", "source", "overdue", "age", "hazard", "figure")
"""The hazard ledger page's own view in the URL, beside the shared keys: its filters (lists comma-separated,
`overdue=1`, `age=7-30` days since found), the hazard open (`hazard=A-2026-0007`) and the figure whose hazards
the list holds (`figure=hazards_overdue`, with the shared `month`)."""


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


def hazards_link(figure: str, month: date, units: Iterable[str] | None, basis: str) -> dict[str, str]:
    """The hazard ledger page's query for the hazards behind `figure` of `units` (None: every unit) in `month`, on
    `basis` (metrics/core/links.py), with the rest of the current view."""
    return view_params() | hazard_query(figure, month, units, basis)
