"""From a hazard number to the hazards behind it (issue 14, item 5): the hazard ledger page's address for the
hazards a figure counts, made here once for the pages' links and the bulletin's.

The address (pages/hazards.py reads it): `hazards?units=CM01&month=2026-09&figure=hazards_overdue&basis=ytd` is
the hazards behind the figure `hazards_overdue` of unit CM01 in September 2026. `units` lists the units of a
sector's or the group's figure, comma-separated, or is left out for every unit the reader may see; `basis` is the
period the number on the page covers (ytd: January to the month, what a summed figure such as hazards_found adds
up; month: the month alone); a stock (hazards_overdue, the month's end) is the same on either.

Which numbers open to hazards: an indicator the ledger counts is its own figure; a ratio of two of them
(rectification_rate: rectified / found) opens to the hazards of its denominator, the ones found, each showing
whether it was rectified. Which units: only those whose ledger holds the records of the month; a unit that types
its figures has no records behind them, and a link would open an empty list that reads as "none".
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from urllib.parse import urlencode

import pandas as pd

from metrics.core.months import iso_month

LEDGER_PAGE = "hazards"
"""The hazard ledger page's path in the dashboard's address (pages/hazards.py)."""


def figures_behind(indicators: pd.DataFrame) -> dict[str, str]:
    """Indicator code -> the ledger figure whose hazards stand behind it, for every indicator that has one: those
    the catalog marks as counted from the ledger (`ledger`), and each ratio of two of them (by its denominator).
    `indicators`: the catalog as the store holds it (Reference.indicators)."""
    ledger = set(indicators.loc[indicators["ledger"].notna(), "code"])
    behind = {code: code for code in indicators["code"] if code in ledger}
    for row in indicators.itertuples(index=False):
        if row.numerator in ledger and row.denominator in ledger:
            behind[row.code] = row.denominator
    return behind


def period_start(indicators: pd.DataFrame, figure: str, month: date, basis: str) -> date:
    """The first month of the records behind `figure` in `month` on `basis`: January for a summed figure year to
    date, else the month (a stock such as hazards_overdue is the month's end on either basis)."""
    rollup = indicators.set_index("code").at[figure, "rollup"]
    return date(month.year, 1, 1) if basis == "ytd" and rollup == "sum" else month


def keeping(units: pd.DataFrame, indicators: pd.DataFrame, figure: str, month: date, basis: str) -> frozenset[str]:
    """The units whose ledger holds every record behind `figure` in `month` on `basis`: those whose figures come
    from it (units.ledger_from) from the period's first month or before. A unit that changed over during the
    period typed part of it: a list of its records would be short of the number it opens from."""
    since = pd.to_datetime(units["ledger_from"])
    start = pd.Timestamp(period_start(indicators, figure, month, basis))
    return frozenset(units.loc[since.notna() & (since <= start), "code"])


def scope(linked: Iterable[str], everyone: Collection[str]) -> tuple[str, ...] | None:
    """The `units` of a link to the hazards of `linked`: None (every unit) when they are all of `everyone`, the
    units the reader may see."""
    units = tuple(sorted(set(linked)))
    return None if set(units) >= set(everyone) else units


def hazard_query(figure: str, month: date, units: Iterable[str] | None = None, basis: str = "ytd") -> dict[str, str]:
    """The ledger page's query for the hazards behind `figure` of `units` (None: every unit) in `month`."""
    query = {} if units is None else {"units": ",".join(units)}
    return query | {"month": iso_month(month), "figure": figure, "basis": basis}


def hazard_url(base: str, query: Mapping[str, str]) -> str:
    """The whole address of the ledger page with `query`, under the dashboard's address `base`
    (https://safety.example.cn or with a path prefix), for a document read outside the dashboard."""
    return f"{base.rstrip('/')}/{LEDGER_PAGE}?{urlencode(query, safe=',')}"
