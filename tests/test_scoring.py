"""Each scoring rule of docs/rules.md on a small real store, with the expected values computed by hand."""
from datetime import date

import pandas as pd
import pytest

from metrics.scoring.scores import Basis, score
from tests.builders import add_values, memory_store, set_targets

OCT = date(2026, 10, 1)


def cell(result, unit, indicator):
    row = result.indicators[(result.indicators.subsidiary == unit) & (result.indicators.indicator == indicator)]
    assert len(row) == 1
    return row.iloc[0]


def unit_row(result, unit):
    return result.units[result.units.subsidiary == unit].iloc[0]


def test_group_rate_is_a_ratio_of_sums_not_a_mean_of_ratios():
    con = memory_store()
    add_values(con, [
        ("2026-10", "A", "injuries", 1), ("2026-10", "A", "hours_worked", 100_000),  # 10 per million hours
        ("2026-10", "B", "injuries", 3), ("2026-10", "B", "hours_worked", 900_000),  # 3.333 per million hours
    ])
    result = score(con, OCT, Basis.MONTH)
    assert cell(result, "A", "injury_freq_rate").value == pytest.approx(10.0)
    assert cell(result, "B", "injury_freq_rate").value == pytest.approx(10 / 3)
    # mean of the two ratios would be 6.667; the group's rate is 4 injuries / 1,000,000 hours
    assert result.group_values()["injury_freq_rate"] == pytest.approx(4.0)
    assert result.group_values()["injuries"] == 4
    assert result.group_values()["hours_worked"] == 1_000_000


def test_group_ratio_of_sums_year_to_date():
    con = memory_store()
    add_values(con, [
        ("2026-09", "A", "hazards_found", 10), ("2026-09", "A", "hazards_rectified", 10),
        ("2026-10", "A", "hazards_found", 30), ("2026-10", "A", "hazards_rectified", 15),
        ("2026-10", "B", "hazards_found", 60), ("2026-10", "B", "hazards_rectified", 60),
    ])
    result = score(con, OCT, Basis.YTD)
    assert cell(result, "A", "rectification_rate").value == pytest.approx(25 / 40 * 100)  # 62.5, not mean(100, 50)
    assert result.group_values()["rectification_rate"] == pytest.approx(85 / 100 * 100)
    sector = result.aggregates[(result.aggregates.level == "sector") & (result.aggregates.sector == "coal")
                               & (result.aggregates.indicator == "rectification_rate")]
    assert sector.iloc[0].value == pytest.approx(62.5)


def test_veto_zeroes_a_unit_whatever_its_other_scores():
    con = memory_store()
    set_targets(con, [
        (2026, "*", "fatalities", 0, 0, 20, True),
        (2026, "*", "injuries", 5, 10, 80, False),
    ])
    add_values(con, [
        ("2026-10", "A", "fatalities", 1), ("2026-10", "A", "injuries", 1),
        ("2026-10", "B", "fatalities", 0), ("2026-10", "B", "injuries", 1),
    ])
    result = score(con, OCT, Basis.YTD)
    a, b = unit_row(result, "A"), unit_row(result, "B")
    assert cell(result, "A", "injuries").status == "green"
    assert (a.unit_score, a.grade, bool(a.vetoed), a.red) == (0.0, "veto", True, 1)
    assert (b.unit_score, b.grade, bool(b.vetoed)) == (100.0, "A", False)


def test_red_non_veto_indicator_does_not_veto():
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, False), (2026, "*", "injuries", 5, 10, 80, False)])
    add_values(con, [("2026-10", "A", "fatalities", 1), ("2026-10", "A", "injuries", 1)])
    a = unit_row(score(con, OCT, Basis.YTD), "A")
    assert (a.unit_score, a.grade, bool(a.vetoed)) == (pytest.approx(80.0), "B", False)


def test_linear_score_in_the_yellow_band_both_directions():
    con = memory_store()
    set_targets(con, [
        (2026, "*", "injury_freq_rate", 1, 2, 10, False),      # lower is better
        (2026, "*", "rectification_rate", 95, 85, 30, False),  # higher is better
    ])
    add_values(con, [
        ("2026-10", "A", "injuries", 5), ("2026-10", "A", "hours_worked", 4_000_000),  # 1.25
        ("2026-10", "A", "hazards_found", 100), ("2026-10", "A", "hazards_rectified", 88),  # 88 %
    ])
    result = score(con, OCT, Basis.YTD)
    rate, rect = cell(result, "A", "injury_freq_rate"), cell(result, "A", "rectification_rate")
    assert (rate.status, rate.score) == ("yellow", pytest.approx(75.0))  # (2 - 1.25) / (2 - 1)
    assert (rect.status, rect.score) == ("yellow", pytest.approx(30.0))  # (88 - 85) / (95 - 85)
    a = unit_row(result, "A")
    assert a.unit_score == pytest.approx((75 * 10 + 30 * 30) / 40)  # 41.25
    assert (a.grade, a.yellow, a.red) == ("D", 2, 0)


@pytest.mark.parametrize("injuries, hours, status, expected", [
    (2, 2_000_000, "green", 100.0),   # at target (1.0)
    (4, 2_000_000, "yellow", 0.0),    # exactly at the limit (2.0): yellow, scores 0
    (5, 2_000_000, "red", 0.0),       # beyond the limit
    (0, 2_000_000, "green", 100.0),
])
def test_status_boundaries_lower_better(injuries, hours, status, expected):
    con = memory_store()
    set_targets(con, [(2026, "*", "injury_freq_rate", 1, 2, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", injuries), ("2026-10", "A", "hours_worked", hours)])
    c = cell(score(con, OCT, Basis.YTD), "A", "injury_freq_rate")
    assert (c.status, c.score) == (status, expected)


@pytest.mark.parametrize("rectified, status, expected", [(95, "green", 100.0), (85, "yellow", 0.0),
                                                         (84, "red", 0.0), (100, "green", 100.0)])
def test_status_boundaries_higher_better(rectified, status, expected):
    con = memory_store()
    set_targets(con, [(2026, "*", "rectification_rate", 95, 85, 1, False)])
    add_values(con, [("2026-10", "A", "hazards_found", 100), ("2026-10", "A", "hazards_rectified", rectified)])
    c = cell(score(con, OCT, Basis.YTD), "A", "rectification_rate")
    assert (c.status, c.score) == (status, expected)


def test_target_equal_to_limit_value_at_both_is_green():
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, None, 1, True)])  # blank limit = target
    add_values(con, [("2026-10", "A", "fatalities", 0), ("2026-10", "B", "fatalities", 1)])
    result = score(con, OCT, Basis.YTD)
    assert cell(result, "A", "fatalities").status == "green"
    assert cell(result, "B", "fatalities").status == "red"
    assert cell(result, "A", "fatalities").limit == 0


def test_missing_is_never_green_and_scores_zero():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 1, False), (2026, "*", "major_hazards", 0, 2, 1, False)])
    add_values(con, [("2026-10", "A", "major_hazards", 0)])  # injuries not reported
    result = score(con, OCT, Basis.YTD)
    c = cell(result, "A", "injuries")
    assert (c.status, c.score) == ("missing", 0.0)
    assert c.value != c.value  # NaN: no value
    a = unit_row(result, "A")
    assert (a.unit_score, a.missing) == (pytest.approx(50.0), 1)
    assert bool(a.reported) and pd.isna(a.reason)
    c = unit_row(result, "C")  # reported nothing at all: not reported, not failed
    assert pd.isna(c.unit_score) and pd.isna(c.grade)  # no score, no grade
    assert (bool(c.reported), c.reason, c.missing, c.due) == (False, "not_reported", 2, 2)


def test_year_to_date_is_missing_when_the_month_itself_is_not_reported():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 1, False)])
    add_values(con, [("2026-08", "A", "injuries", 0), ("2026-09", "A", "injuries", 1)])
    assert cell(score(con, date(2026, 9, 1), Basis.YTD), "A", "injuries").value == 1
    assert cell(score(con, OCT, Basis.YTD), "A", "injuries").status == "missing"


def test_zero_denominator_gives_no_value_and_is_left_out_of_the_score():
    con = memory_store()
    set_targets(con, [(2026, "*", "rectification_rate", 95, 85, 50, False),
                      (2026, "*", "injuries", 2, 4, 10, False)])
    add_values(con, [("2026-10", "A", "hazards_found", 0), ("2026-10", "A", "hazards_rectified", 0),
                     ("2026-10", "A", "injuries", 3)])  # injuries yellow: (4 - 3) / (4 - 2) = 50
    result = score(con, OCT, Basis.YTD)
    c = cell(result, "A", "rectification_rate")
    assert c.status == "none" and c.value != c.value and c.score != c.score
    assert unit_row(result, "A").unit_score == pytest.approx(50.0)


def test_derived_with_an_input_not_reported_is_missing():
    con = memory_store()
    set_targets(con, [(2026, "*", "injury_freq_rate", 1, 2, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", 1)])  # no hours worked
    assert cell(score(con, OCT, Basis.YTD), "A", "injury_freq_rate").status == "missing"


def test_annual_cap_on_a_count_judged_year_to_date():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 3, 1, False)])
    add_values(con, [("2026-01", "A", "injuries", 1), ("2026-02", "A", "injuries", 1),
                     ("2026-03", "A", "injuries", 1), ("2026-04", "A", "injuries", 1),
                     ("2026-05", "A", "injuries", 0)])
    expected = {2: ("green", 100.0), 3: ("yellow", 0.0), 4: ("red", 0.0), 5: ("red", 0.0)}
    for month, (status, points) in expected.items():
        c = cell(score(con, date(2026, month, 1), Basis.YTD), "A", "injuries")
        assert (c.status, c.score, c.target, c.limit) == (status, points, 2, 3), month


def test_month_basis_compares_sums_with_a_twelfth_of_the_annual_figures():
    con = memory_store()
    set_targets(con, [(2026, "*", "direct_loss", 12, 24, 1, False)])  # 1 and 2 per month
    add_values(con, [("2026-10", "A", "direct_loss", 1.5), ("2026-10", "B", "direct_loss", 1)])
    result = score(con, OCT, Basis.MONTH)
    a = cell(result, "A", "direct_loss")
    assert (a.status, a.score, a.target, a.limit) == ("yellow", pytest.approx(50.0), pytest.approx(1), pytest.approx(2))
    assert cell(result, "B", "direct_loss").status == "green"


def test_higher_better_sum_prorated_by_months_elapsed():
    con = memory_store()
    set_targets(con, [(2026, "*", "emergency_drills", 12, 6, 1, False)])  # through June: target 6, limit 3
    add_values(con, [(f"2026-0{m}", "A", "emergency_drills", 1) for m in range(1, 6)]
               + [("2026-06", "A", "emergency_drills", 0)]
               + [(f"2026-0{m}", "B", "emergency_drills", 1) for m in range(1, 7)]
               + [("2026-06", "C", "emergency_drills", 2)])
    result = score(con, date(2026, 6, 1), Basis.YTD)
    a = cell(result, "A", "emergency_drills")
    assert (a.value, a.target, a.limit, a.status) == (5, 6, 3, "yellow")
    assert a.score == pytest.approx(100 * (5 - 3) / (6 - 3))
    assert cell(result, "B", "emergency_drills").status == "green"
    assert cell(result, "C", "emergency_drills").status == "red"


def test_lower_better_sum_is_not_prorated_year_to_date():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 6, 12, 1, False)])
    add_values(con, [("2026-01", "A", "injuries", 5)])
    c = cell(score(con, date(2026, 1, 1), Basis.YTD), "A", "injuries")
    assert (c.target, c.limit, c.status) == (6, 12, "green")


def test_last_and_mean_roll_ups():
    con = memory_store()
    set_targets(con, [(2026, "*", "hazards_overdue", 2, 5, 1, False)])
    add_values(con, [("2026-09", "A", "hazards_overdue", 6), ("2026-10", "A", "hazards_overdue", 1),
                     ("2026-09", "A", "avg_employees", 100), ("2026-10", "A", "avg_employees", 200),
                     ("2026-09", "A", "injuries", 1), ("2026-10", "A", "injuries", 2)])
    result = score(con, OCT, Basis.YTD)
    overdue = cell(result, "A", "hazards_overdue")
    assert (overdue.value, overdue.status, overdue.target) == (1, "green", 2)  # last month's stock, not prorated
    assert cell(result, "A", "avg_employees").value == 150
    assert cell(result, "A", "injury_rate_per_k").value == pytest.approx(3 * 1000 / 150)


def test_per_unit_override_beats_the_group_default():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 1, False), (2026, "A", "injuries", 5, 8, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", 3), ("2026-10", "B", "injuries", 3)])
    result = score(con, OCT, Basis.YTD)
    a, b = cell(result, "A", "injuries"), cell(result, "B", "injuries")
    assert (a.target, a.limit, a.status, a.score) == (5, 8, "green", 100.0)
    assert (b.target, b.limit, b.status, b.score) == (2, 4, "yellow", pytest.approx(50.0))


def test_override_replaces_the_whole_default_row():
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, True), (2026, "A", "fatalities", 0, 0, 5, False)])
    add_values(con, [("2026-10", "A", "fatalities", 1)])
    c = cell(score(con, OCT, Basis.YTD), "A", "fatalities")
    assert (c.weight, bool(c.veto)) == (5, False)


def test_indicator_targeted_for_some_units_only_is_not_due_elsewhere():
    con = memory_store()
    set_targets(con, [(2026, "A", "fatality_per_mt", 0, 0.1, 5, False)])
    add_values(con, [("2026-10", "A", "coal_output", 50), ("2026-10", "A", "fatalities", 0),
                     ("2026-10", "B", "fatalities", 0)])
    result = score(con, OCT, Basis.YTD)
    assert cell(result, "A", "fatality_per_mt").status == "green"
    assert cell(result, "B", "fatality_per_mt").status == "none"
    assert unit_row(result, "B").unit_score != unit_row(result, "B").unit_score  # no due indicator: null
    assert pd.isna(unit_row(result, "B").grade)


def test_the_year_of_the_month_picks_the_targets():
    con = memory_store()
    set_targets(con, [(2025, "*", "injuries", 0, 1, 1, False), (2026, "*", "injuries", 5, 6, 1, False)])
    add_values(con, [("2025-12", "A", "injuries", 1), ("2026-01", "A", "injuries", 1)])
    dec = cell(score(con, date(2025, 12, 1), Basis.MONTH), "A", "injuries")
    assert (dec.target, dec.limit) == (pytest.approx(0), pytest.approx(1 / 12))
    assert cell(score(con, date(2025, 12, 1), Basis.YTD), "A", "injuries").status == "yellow"
    jan = cell(score(con, date(2026, 1, 1), Basis.YTD), "A", "injuries")
    assert (jan.target, jan.status) == (5, "green")


def test_grade_boundaries_survive_floating_point():
    con = memory_store()
    set_targets(con, [(2026, "*", "injury_freq_rate", 1, 2, 1, False), (2026, "*", "major_hazards", 0, 2, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", 6), ("2026-10", "A", "hours_worked", 5_000_000),  # 1.2 -> 80
                     ("2026-10", "A", "major_hazards", 0)])                                      # 100
    a = unit_row(score(con, OCT, Basis.YTD), "A")
    assert a.unit_score == pytest.approx(90.0)
    assert a.grade == "A"


def test_counts_of_red_yellow_missing_are_integers_of_due_indicators():
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 0, 1, 1, False), (2026, "*", "serious_injuries", 0, 1, 1, False),
                      (2026, "*", "major_hazards", 0, 2, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", 5), ("2026-10", "A", "serious_injuries", 1)])
    a = unit_row(score(con, OCT, Basis.YTD), "A")
    assert (a.red, a.yellow, a.missing) == (1, 1, 1)


def _two_units_two_months(con):
    set_targets(con, [(2026, "*", "injury_freq_rate", 1, 2, 10, False), (2026, "*", "injuries", 3, 5, 10, False)])
    add_values(con, [
        ("2026-09", "A", "injuries", 1), ("2026-09", "A", "hours_worked", 500_000),
        ("2026-09", "B", "injuries", 0), ("2026-09", "B", "hours_worked", 1_500_000),
        ("2026-10", "A", "injuries", 2), ("2026-10", "A", "hours_worked", 500_000),
        ("2026-10", "B", "injuries", 1), ("2026-10", "B", "hours_worked", 1_500_000),
    ])


@pytest.mark.parametrize("basis, a_rate, group_rate", [
    (Basis.MONTH, 4.0, 1.5),        # A: 2 / 0.5 M h; group: 3 / 2 M h
    (Basis.YTD, 3.0, 1.0),          # A: 3 / 1 M h; group: 4 / 4 M h
    (Basis.ROLLING12, 3.0, 1.0),    # the same two months are the whole twelve
])
def test_a_series_point_is_the_scored_value_of_its_period(basis, a_rate, group_rate):
    from metrics.scoring.overview import series
    con = memory_store()
    _two_units_two_months(con)
    frame = series(con, "injury_freq_rate", date(2026, 9, 1), OCT, basis).set_index(["level", "entity", "month"])
    october = pd.Timestamp(OCT)
    assert frame.loc[("unit", "A", october), "value"] == pytest.approx(a_rate)
    assert frame.loc[("group", "*", october), "value"] == pytest.approx(group_rate)
    scored = score(con, OCT, basis)
    assert cell(scored, "A", "injury_freq_rate").value == pytest.approx(a_rate)
    assert scored.group_values()["injury_freq_rate"] == pytest.approx(group_rate)
    assert frame.loc[("unit", "A", october), "status"] == cell(scored, "A", "injury_freq_rate").status
    only_a = series(con, "injury_freq_rate", date(2026, 9, 1), OCT, basis, units=["A"])
    assert set(only_a.loc[only_a["level"] == "unit", "entity"]) == {"A"}
    assert set(series(con, "injury_freq_rate", date(2026, 9, 1), OCT, basis, units=[])["level"]) == {"sector", "group"}


def test_rolling_twelve_months_judge_annual_sums_in_full():
    con = memory_store()
    _two_units_two_months(con)
    # A's injuries over the twelve months to October: 3, target 3 → green (the month basis would judge 2
    # against 3/12 and call it red)
    assert cell(score(con, OCT, Basis.ROLLING12), "A", "injuries").status == "green"
    assert cell(score(con, OCT, Basis.MONTH), "A", "injuries").status == "red"


def test_score_history_equals_scoring_each_month():
    from metrics.scoring.scores import score_history
    con = memory_store()
    _two_units_two_months(con)
    history = score_history(con, [date(2026, 9, 1), OCT], Basis.YTD).set_index(["subsidiary", "month"])
    for month in (date(2026, 9, 1), OCT):
        for unit in ("A", "B"):
            assert history.loc[(unit, pd.Timestamp(month)), "unit_score"] == pytest.approx(
                unit_row(score(con, month, Basis.YTD), unit)["unit_score"])
    only_b = score_history(con, [OCT], Basis.YTD, units=["B"])
    assert only_b["subsidiary"].tolist() == ["B"]
    assert only_b["unit_score"].iloc[0] == pytest.approx(unit_row(score(con, OCT, Basis.YTD), "B")["unit_score"])
