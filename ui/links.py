"""The pages' links from a hazard number to the hazards behind it (metrics/core/links.py makes the address; the
hazard ledger page, pages/hazards.py, lists them). A link is a page link, so it opens in the same session (a
link into a new tab would ask a password-store user to sign in again).

Only a figure of a unit whose ledger holds the records of its month has a link: a unit that types its figures
has nothing behind them to list."""
from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

import streamlit as st

from metrics.core.links import figures_behind, keeping, scope
from ui import data
from ui.i18n import t
from ui.markdown import plain
from ui.state import HAZARDS_PAGE, hazards_link
from ui.style import STATUS_SYMBOLS
from ui.widgets import PageContext

ICON = "📋"


def hazard_figures(page: PageContext) -> dict[str, str]:
    """Indicator code -> the ledger figure whose hazards a number of it opens to (metrics/core/links.py)."""
    return figures_behind(page.reference.indicators)


def keeping_units(page: PageContext, figure: str, month: date, basis: str, units: Collection[str]) -> frozenset[str]:
    """Those of `units` whose ledger holds every record behind `figure` in `month` on `basis`."""
    return keeping(page.reference.units, page.reference.indicators, figure, month, basis) & frozenset(units)


def group_units(page: PageContext, linked: Collection[str]) -> tuple[str, ...] | None:
    """The `units` of a link to the hazards of a sector's or the group's figure over `linked` (keeping_units):
    None, every unit, when they are all the units the user may see."""
    return scope(linked, data.unit_codes(str(page.path), page.user, page.version))


def hazard_link(figure: str, month: date, units: Iterable[str] | None, basis: str, label: str, where=st) -> None:
    """A page link labelled `label` to the hazards behind `figure` of `units` (None: every unit) in `month`, the
    number on `basis` (ytd or month); `where`: a column or container (default: the page)."""
    where.page_link(HAZARDS_PAGE, label=label, icon=ICON, query_params=hazards_link(figure, month, units, basis))


PERCENT_SIGNS = ("%", "‰")
"""The units of measure a link writes after its number (a count's name already says what it counts)."""


def hazard_label(name: str, value: str, measure: str | None, status: str | None = None) -> str:
    """'✖ 超期未整改隐患数：11', the name and the number as the page shows them (a rate with its %), after the
    status's symbol where the figure is judged (a red one in red); the name goes in as plain text."""
    number = f"{value}{measure}" if measure in PERCENT_SIGNS and value != "—" else value
    text = t("hazards_behind", indicator=plain(name), value=plain(number))
    symbol = STATUS_SYMBOLS.get(status or "", "—")
    if symbol == "—":
        return text
    return f":red[{symbol} {text}]" if status == "red" else f"{symbol} {text}"
