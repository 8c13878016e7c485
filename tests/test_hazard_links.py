"""From a hazard number to the hazards behind it (issue 14, item 5): the address metrics/core/links.py makes, and
the links the overview, the ranking, the unit scorecard and the breaches page draw, run with Streamlit's AppTest
on a copy of the demo store (ending 2026-10) where CM01 keeps its hazard ledger here from January 2026
(tests/builders.kept_ledger) and every other unit types its figures.

CM01 at the end of October 2026, by hand from builders.KEPT_LEDGER: 7 hazards found in 2026 (1 in October), none
closed, 6 open past their deadline (0001, deadline 02-15; 0002 to 0006, deadlines 10-02 to 10-06), so
hazards_overdue 6 is red (limit 5), rectification_rate 0 % is red (limit 85), major_hazards 0 is green.
"""
from __future__ import annotations

import shutil
from datetime import date
from urllib.parse import parse_qs

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics.core.links import figures_behind, hazard_query, hazard_url, keeping, period_start, scope
from tests.builders import kept_ledger
from tests.test_hazard_page import APP, ok

NOW = "2026-11-20T10:00"
OCTOBER = date(2026, 10, 1)


# --- the address ----------------------------------------------------------------------------------------------

INDICATORS = pd.DataFrame({
    "code": ["hazards_found", "hazards_rectified", "hazards_overdue", "rectification_rate", "injuries", "ltifr"],
    "ledger": ["kept", "kept", "kept", None, None, None],
    "rollup": ["sum", "sum", "last", None, "sum", None],
    "numerator": [None, None, None, "hazards_rectified", None, "injuries"],
    "denominator": [None, None, None, "hazards_found", None, "hours_worked"],
})
UNITS = pd.DataFrame({"code": ["A", "B", "C"],
                      "ledger_from": [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-05-01"), pd.NaT]})


def test_a_ledger_figure_opens_to_itself_and_a_ratio_of_two_to_its_denominator():
    assert figures_behind(INDICATORS) == {"hazards_found": "hazards_found", "hazards_rectified": "hazards_rectified",
                                          "hazards_overdue": "hazards_overdue", "rectification_rate": "hazards_found"}


@pytest.mark.parametrize("figure, month, basis, first", [
    ("hazards_found", date(2026, 9, 1), "ytd", date(2026, 1, 1)),  # summed: January to September
    ("hazards_found", date(2026, 9, 1), "month", date(2026, 9, 1)),
    ("hazards_overdue", date(2026, 9, 1), "ytd", date(2026, 9, 1)),  # a stock: the month's end on either basis
])
def test_the_records_behind_a_figure_begin_with_its_period(figure, month, basis, first):
    assert period_start(INDICATORS, figure, month, basis) == first


@pytest.mark.parametrize("figure, month, basis, kept", [
    ("hazards_found", date(2026, 9, 1), "ytd", {"A"}),  # B typed January to April of the year
    ("hazards_found", date(2026, 9, 1), "month", {"A", "B"}),
    ("hazards_overdue", date(2026, 9, 1), "ytd", {"A", "B"}),
    ("hazards_overdue", date(2026, 4, 1), "month", {"A"}),  # B's ledger begins in May
    ("hazards_found", date(2025, 12, 1), "month", set()),
])
def test_only_a_unit_whose_ledger_holds_the_whole_period_is_linked(figure, month, basis, kept):
    assert keeping(UNITS, INDICATORS, figure, month, basis) == kept


def test_the_query_and_the_whole_address():
    query = hazard_query("hazards_overdue", date(2026, 9, 1), ("CM01", "CM02"), "month")
    assert query == {"units": "CM01,CM02", "month": "2026-09", "figure": "hazards_overdue", "basis": "month"}
    assert hazard_query("hazards_found", date(2026, 9, 1)) == {"month": "2026-09", "figure": "hazards_found",
                                                                "basis": "ytd"}
    assert hazard_url("https://safety.example.cn/dash/", query) == (
        "https://safety.example.cn/dash/hazards?units=CM01,CM02&month=2026-09&figure=hazards_overdue&basis=month")


def test_a_group_figure_over_every_unit_names_none():
    assert scope({"A", "B"}, ["A", "B"]) is None
    assert scope({"B", "A"}, ["A", "B", "C"]) == ("A", "B")


# --- the pages' links -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kept(pristine, tmp_path_factory):
    path = tmp_path_factory.mktemp("hazard-links") / "safety.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)
        kept_ledger(path)
    return path


def page(path, monkeypatch, script: str, **query: str) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(path))
    monkeypatch.setenv("SAFETY_NOW", NOW)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update(query)
    if script != "app.py":
        at.switch_page(script)
    return ok(at.run())


def hazard_links(at: AppTest) -> dict[str, dict[str, str]]:
    """Each link to the hazards behind a figure (not the navigation's to the ledger page): its label -> its query."""
    links = {link.proto.label: {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
             for link in at.get("page_link") if link.proto.page == "hazards"}
    return {label: query for label, query in links.items() if "figure" in query}


def contract(query: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k in ("units", "month", "figure", "basis")}


def test_the_scorecards_hazard_numbers_open_the_hazards_behind_them(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/unit.py", unit="CM01"))
    in_cm01 = {"units": "CM01", "month": "2026-10", "basis": "ytd"}
    assert {label: contract(q) for label, q in links.items()} == {
        ":red[✖ 超期未整改隐患数：6]": in_cm01 | {"figure": "hazards_overdue"},
        ":red[✖ 隐患整改率：0%]": in_cm01 | {"figure": "hazards_found"},
        "排查隐患数：7": in_cm01 | {"figure": "hazards_found"},
        "已整改隐患数：0": in_cm01 | {"figure": "hazards_rectified"},
        "✔ 重大隐患数：0": in_cm01 | {"figure": "major_hazards"},
    }
    assert links[":red[✖ 超期未整改隐患数：6]"]["unit"] == "CM01"  # the rest of the view comes along


def test_the_scorecard_of_the_month_alone_links_the_months_numbers(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/unit.py", unit="CM01", basis="month", lang="en"))
    assert contract(links["Hazards found: 1"]) == {"units": "CM01", "month": "2026-10",
                                                         "figure": "hazards_found", "basis": "month"}
    assert ":red[✖ Overdue hazards: 6]" in links


def test_a_unit_that_types_its_figures_has_no_links(kept, monkeypatch):
    at = page(kept, monkeypatch, "pages/unit.py", unit="CM02")  # one overdue hazard in the ledger, figures typed
    assert hazard_links(at) == {}


def test_the_breaches_link_the_flags_of_a_unit_keeping_its_ledger(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/breaches.py"))
    in_cm01 = {"units": "CM01", "month": "2026-10", "basis": "ytd"}
    # CH01's red 超期未整改隐患数 11 is typed: no link.
    assert {label: contract(q) for label, q in links.items()} == {
        ":red[✖ 东峰煤矿 · 超期未整改隐患数：6]": in_cm01 | {"figure": "hazards_overdue"},
        ":red[✖ 东峰煤矿 · 隐患整改率：0%]": in_cm01 | {"figure": "hazards_found"},
    }


def test_the_ranking_links_each_figure_of_the_units_shown(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/ranking.py"))
    assert {label: contract(q) for label, q in links.items()} == {
        f"{name}（1 个单位）": {"units": "CM01", "month": "2026-10", "figure": figure, "basis": "ytd"}
        for name, figure in (("排查隐患数", "hazards_found"), ("已整改隐患数", "hazards_rectified"),
                             ("重大隐患数", "major_hazards"), ("超期未整改隐患数", "hazards_overdue"))}


def test_the_overviews_rectification_rate_opens_the_hazards_found(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "app.py", month="2026-10"))
    assert {label: contract(q) for label, q in links.items()} == {
        "隐患整改率：查看在本系统建立隐患台账的单位的隐患明细（1 个单位）":
            {"units": "CM01", "month": "2026-10", "figure": "hazards_found", "basis": "ytd"}}


def test_the_demo_as_built_links_nothing_but_what_its_ledgers_hold(pristine, monkeypatch):
    """The session's demo store: no unit keeps its ledger here, so no number has a link."""
    for script in ("app.py", "pages/ranking.py", "pages/breaches.py", "pages/unit.py"):
        assert hazard_links(page(pristine, monkeypatch, script)) == {}, script
