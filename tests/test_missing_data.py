"""Missing is not zero, late is not failed (docs/rules.md, "Missing data"), on a hand-built group of four
units, January to March 2026, where D reported January and February only and had a fatality in January."""
from datetime import date

import pandas as pd
import pytest

from metrics.scoring.scores import Basis, score, to_json
from tests.builders import add_values, memory_store, set_targets

UNITS = [("A", "甲煤矿", "Mine A", "coal"), ("B", "乙化工", "Chem B", "chemical"),
         ("C", "丙物流", "Log C", "logistics"), ("D", "丁煤矿", "Mine D", "coal")]
MARCH = date(2026, 3, 1)
# month: unit: (hours_worked, lost_time_injuries, hazards_found, hazards_rectified, fatalities)
REPORTED = {
    "2026-01": {"A": (100_000, 1, 10, 10, 0), "B": (200_000, 0, 20, 18, 0), "C": (300_000, 0, 30, 27, 0),
                "D": (400_000, 1, 40, 20, 1)},
    "2026-02": {"A": (100_000, 0, 10, 10, 0), "B": (200_000, 1, 20, 18, 0), "C": (300_000, 0, 30, 27, 0),
                "D": (400_000, 1, 40, 20, 0)},
    "2026-03": {"A": (100_000, 0, 10, 10, 1), "B": (200_000, 0, 20, 18, 0), "C": (300_000, 1, 30, 27, 0)},
}
CODES = ("hours_worked", "lost_time_injuries", "hazards_found", "hazards_rectified", "fatalities")
TARGETS = [(2026, "*", "fatalities", 0, 0, 20, True), (2026, "*", "lost_time_injuries", 2, 4, 10, False),
           (2026, "*", "rectification_rate", 90, 80, 10, False), (2026, "*", "ltifr", 1.5, 3, 10, False)]


def four_units(reported=REPORTED, targets=TARGETS):
    con = memory_store(UNITS)
    set_targets(con, targets)
    for month, units in reported.items():
        add_values(con, [(month, unit, code, value) for unit, values in units.items()
                         for code, value in zip(CODES, values)])
    return con


def cell(result, unit, indicator):
    rows = result.indicators
    return rows[(rows.subsidiary == unit) & (rows.indicator == indicator)].iloc[0]


def unit_row(result, unit):
    return result.units[result.units.subsidiary == unit].iloc[0]


def test_group_year_to_date_holds_the_earlier_months_of_a_unit_whose_latest_month_is_missing():
    group = score(four_units(), MARCH, Basis.YTD).group_values()
    # A 3 × 100,000 + B 3 × 200,000 + C 3 × 300,000 + D 2 × 400,000 (leaving D out would give 1,800,000)
    assert group["hours_worked"] == 2_600_000
    assert group["lost_time_injuries"] == 5  # A 1 + B 1 + C 1 + D 2
    assert group["ltifr"] == pytest.approx(5 * 1_000_000 / 2_600_000)  # 1.923, not 3 / 1.8 = 1.667
    assert group["hazards_found"] == 260  # 30 + 60 + 90 + 80
    assert group["hazards_rectified"] == 205  # 30 + 54 + 81 + 40
    assert group["rectification_rate"] == pytest.approx(205 * 100 / 260)  # 78.8 %, not 165 / 180 = 91.7 %
    assert group["fatalities"] == 2  # D's January death and A's March death


def test_sector_totals_hold_them_too():
    aggregates = score(four_units(), MARCH, Basis.YTD).aggregates
    coal = aggregates[(aggregates.level == "sector") & (aggregates.sector == "coal")].set_index("indicator")
    assert coal.loc["hours_worked", "value"] == 300_000 + 800_000
    assert coal.loc["fatalities", "value"] == 2
    assert coal.loc["ltifr", "value"] == pytest.approx(3 * 1_000_000 / 1_100_000)


def test_a_january_death_vetoes_the_unit_although_march_is_not_reported():
    result = score(four_units(), MARCH, Basis.YTD)
    d = unit_row(result, "D")
    assert (d.grade, d.unit_score, bool(d.vetoed), bool(d.reported)) == ("veto", 0.0, True, False)
    death = cell(result, "D", "fatalities")
    assert (death.value, death.status, bool(death.partial)) == (1, "red", True)
    # the rest of D's year is missing: its March is not in
    assert cell(result, "D", "lost_time_injuries").status == "missing"
    assert pd.isna(cell(result, "D", "lost_time_injuries").value)  # 2 so far, within the limit of 4: unknown yet
    assert cell(result, "D", "rectification_rate").status == "missing"
    assert cell(result, "D", "ltifr").status == "missing"
    # the same death still counts in every later view of the year
    for month in (date(2026, 1, 1), date(2026, 2, 1), MARCH):
        assert score(four_units(), month, Basis.YTD).group_values()["fatalities"] >= 1
        assert unit_row(score(four_units(), month, Basis.YTD), "D").grade == "veto"


def test_a_unit_that_reported_nothing_for_the_month_is_not_scored():
    without_death = {m: {u: v[:4] + (0,) for u, v in units.items()} for m, units in REPORTED.items()}
    for basis in (Basis.YTD, Basis.MONTH):
        result = score(four_units(without_death), MARCH, basis)
        d = unit_row(result, "D")
        assert pd.isna(d.unit_score) and pd.isna(d.grade), basis
        assert (d.reason, bool(d.reported), bool(d.vetoed)) == ("not_reported", False, False)
        assert int(d.missing) == 4  # every due indicator: missing, never a 0 dressed up as a score
        a = unit_row(result, "A")
        assert a.unit_score == a.unit_score and a.grade in ("A", "B", "C", "D")


def test_a_lower_better_sum_already_beyond_its_annual_limit_is_red_before_the_month_is_in():
    reported = {m: {u: v for u, v in units.items()} for m, units in REPORTED.items()}
    reported["2026-02"]["D"] = (400_000, 4, 40, 20, 0)  # 1 + 4 = 5 lost-time injuries, beyond the limit of 4
    result = score(four_units(reported), MARCH, Basis.YTD)
    lti = cell(result, "D", "lost_time_injuries")
    assert (lti.value, lti.status, lti.score, bool(lti.partial)) == (5, "red", 0.0, True)
    assert int(unit_row(result, "D").red) == 2  # the death (a veto) and the injuries


def test_a_higher_better_sum_is_not_judged_from_the_months_reported():
    targets = TARGETS + [(2026, "*", "emergency_drills", 12, 6, 10, False)]
    reported = {m: dict(units) for m, units in REPORTED.items()}
    con = four_units(reported, targets)
    add_values(con, [("2026-01", "D", "emergency_drills", 0)])
    assert cell(score(con, MARCH, Basis.YTD), "D", "emergency_drills").status == "missing"


def test_group_month_basis_holds_only_that_month():
    group = score(four_units(), MARCH, Basis.MONTH).group_values()
    assert group["hours_worked"] == 600_000
    assert group["fatalities"] == 1


def test_score_json_says_why_there_is_no_score():
    without_death = {m: {u: v[:4] + (0,) for u, v in units.items()} for m, units in REPORTED.items()}
    units = {u["subsidiary"]: u for u in to_json(score(four_units(without_death), MARCH, Basis.YTD))["units"]}
    assert (units["D"]["score"], units["D"]["grade"], units["D"]["reason"], units["D"]["reported"]) == (
        None, None, "not_reported", False)
    assert units["A"]["reason"] is None and units["A"]["reported"] is True
    vetoed = {u["subsidiary"]: u for u in to_json(score(four_units(), MARCH, Basis.YTD))["units"]}["D"]
    assert (vetoed["score"], vetoed["grade"], vetoed["veto"], vetoed["reason"]) == (0.0, "veto", True, None)
    assert vetoed["indicators"]["fatalities"] == {"value": 1.0, "status": "red", "score": 0.0, "partial": True}


def test_a_unit_that_has_not_reported_moves_nobody_up_the_ranking():
    from metrics.scoring.overview import build_overview

    reported = {m: dict(units) for m, units in REPORTED.items()}
    reported["2026-01"]["D"] = (400_000, 1, 40, 40, 0)
    reported["2026-02"]["D"] = (400_000, 0, 40, 40, 0)  # D scores 100 in February: second, after C
    without_death = {m: {u: v[:4] + (0,) for u, v in units.items()} for m, units in reported.items()}
    ranked = build_overview(four_units(without_death), MARCH).units.set_index("subsidiary")
    assert pd.isna(ranked.loc["D", "rank"]) and pd.isna(ranked.loc["D", "change"])
    assert list(ranked.index[-1:]) == ["D"]  # after the scored units
    # February: C 100, D 100, B 86.7, A 80; March: C, B, A. B is second only because D is not in: no rise.
    assert ranked.loc[["C", "B", "A"], "rank"].tolist() == [1, 2, 3]
    assert ranked.loc[["C", "B", "A"], "rank_change"].tolist() == [0, 0, 0]
