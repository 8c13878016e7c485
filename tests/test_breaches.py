"""Breach rules on small stores with hand-computed evidence, and on the demo's stories."""
from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest

from metrics import store
from metrics.ingest.initialise import init_store
from metrics.scoring import breaches
from metrics.scoring.breaches import find_breaches
from tests.builders import add_values, memory_store, set_targets
from tests.test_hazard_indicators import hazard

OCT = date(2026, 10, 1)


def kinds(found, unit):
    return sorted({b.kind for b in found if b.subsidiary == unit})


def test_u_chart_flags_a_month_above_the_units_own_poisson_limit():
    con = memory_store()
    history = []
    for i in range(12):  # 2025-10 .. 2026-09: 6 injuries over 12 months of 1,000,000 hours
        month = date(2025, 10, 1) if i == 0 else date(2025 + (9 + i) // 12, (9 + i) % 12 + 1, 1)
        history += [(f"{month:%Y-%m}", u, "hours_worked", 1_000_000) for u in ("A", "B")]
        history += [(f"{month:%Y-%m}", u, "injuries", 1 if i % 2 else 0) for u in ("A", "B")]
    # expected = 6 / 12e6 * 1e6 = 0.5; upper limit = 0.5 + 3 * sqrt(0.5) = 2.621
    history += [("2026-10", "A", "hours_worked", 1_000_000), ("2026-10", "A", "injuries", 3),
                ("2026-10", "B", "hours_worked", 1_000_000), ("2026-10", "B", "injuries", 2)]
    add_values(con, history)
    found = [b for b in find_breaches(con, OCT) if b.kind == "out_of_control"]
    assert [b.subsidiary for b in found] == ["A"]
    assert found[0].evidence["expected"] == pytest.approx(0.5)
    assert found[0].evidence["upper_limit"] == pytest.approx(0.5 + 3 * 0.5 ** 0.5)
    assert found[0].evidence["baseline_months"] == 12


def test_the_control_chart_gives_every_month_its_own_baseline_and_the_group_a_line():
    con = memory_store()
    rows = []
    for month, injuries in (("2026-01", 2), ("2026-02", 0), ("2026-03", 4)):
        rows += [(month, "A", "hours_worked", 1_000_000), (month, "A", "injuries", injuries),
                 (month, "B", "hours_worked", 3_000_000), (month, "B", "injuries", 1)]
    add_values(con, rows)
    short = replace(breaches.BY_KIND["out_of_control"], min_months=2)
    chart = breaches.control_chart(con, date(2026, 1, 1), date(2026, 3, 1), short).set_index(["subsidiary", "month"])
    a_march = chart.loc[("A", "2026-03-01")]
    # A's baseline: Jan + Feb = 2 injuries / 2,000,000 h; March expected 1.0, upper 1 + 3·1 = 4.0: 4 is not above
    assert a_march["expected"] == pytest.approx(1.0)
    assert a_march["upper_limit"] == pytest.approx(4.0)
    assert not a_march["out_of_control"]
    # the group: Jan + Feb = 4 injuries / 8,000,000 h; March 5 injuries on 4,000,000 h: expected 2.0,
    # upper 2 + 3·sqrt(2) = 6.243
    group = chart.loc[("*", "2026-03-01")]
    assert (group["events"], group["exposure"]) == (5, 4_000_000)
    assert group["upper_limit"] == pytest.approx(2 + 3 * 2 ** 0.5)
    # January has no baseline yet: no limits, never flagged
    assert pd.isna(chart.loc[("A", "2026-01-01")]["centre"])
    assert not chart.loc[("A", "2026-01-01")]["out_of_control"]


@pytest.mark.parametrize("submitted, late_days", [
    (datetime(2026, 11, 10, 23, 59), None),      # the deadline day itself is on time
    (datetime(2026, 11, 11, 0, 1), 1),
    (datetime(2026, 12, 2, 8, 0), 22),
])
def test_a_first_submission_after_the_deadline_day_is_late(submitted, late_days):
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 3, 5, 1, False)])
    add_values(con, [("2026-10", "A", "injuries", 0)], submitted_at=submitted)
    late = [b for b in find_breaches(con, OCT) if b.kind == "late"]
    if late_days is None:
        assert late == []
    else:
        assert [(b.subsidiary, b.evidence["days_late"], b.evidence["deadline"]) for b in late] == [
            ("A", late_days, "2026-11-10")]
        assert late[0].evidence["submitted_at"] == f"{submitted:%Y-%m-%d %H:%M}"


def test_a_correction_after_the_deadline_is_not_late():
    con = memory_store()
    add_values(con, [("2026-10", "A", "injuries", 0)], submitted_at=datetime(2026, 11, 5, 10, 0))
    con.execute("UPDATE observations SET value = 1")  # stands for a later correction batch
    add_values(con, [("2026-10", "A", "hours_worked", 1000)], submitted_at=datetime(2026, 11, 20, 10, 0))
    assert [b for b in find_breaches(con, OCT) if b.kind == "late"] == []


def test_silence_needs_three_months_of_hours_without_hazards_found():
    con = memory_store()
    add_values(con, [(m, u, "hours_worked", 100_000) for m in ("2026-08", "2026-09", "2026-10") for u in "ABC"]
               + [("2026-08", "A", "hazards_found", 0), ("2026-09", "A", "hazards_found", 0),
                  ("2026-10", "A", "hazards_found", 0),           # A: zero three times
                  ("2026-09", "B", "hazards_found", 4)])          # B: found some in September
    found = [b for b in find_breaches(con, OCT) if b.kind == "silence"]
    assert sorted(b.subsidiary for b in found) == ["A", "C"]  # C never reports hazards found
    assert found[0].evidence["exposure"] == 300_000


def test_three_months_of_deterioration():
    con = memory_store()
    rows = []
    for month, (found_a, fixed_a), overdue_b in zip(("2026-07", "2026-08", "2026-09", "2026-10"),
                                                    ((10, 10), (10, 9), (10, 8), (10, 7)), (1, 2, 2, 3)):
        rows += [(month, "A", "hazards_found", found_a), (month, "A", "hazards_rectified", fixed_a),
                 (month, "B", "hazards_overdue", overdue_b)]
    add_values(con, rows)
    found = [b for b in find_breaches(con, OCT) if b.kind == "deteriorating"]
    assert [(b.subsidiary, b.indicator) for b in found] == [("A", "rectification_rate")]  # B held still once
    assert [found[0].evidence[k] for k in ("v0", "v1", "v2", "v3")] == pytest.approx([100, 90, 80, 70])


def test_status_veto_and_missing_breaches_carry_their_numbers():
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, True), (2026, "*", "injuries", 2, 4, 10, False)])
    add_values(con, [("2026-10", "A", "fatalities", 1), ("2026-10", "A", "injuries", 3),
                     ("2026-10", "B", "fatalities", 0), ("2026-10", "B", "injuries", 5)])
    found = find_breaches(con, OCT, now=datetime(2026, 11, 11))  # past the deadline of 10 November
    assert kinds(found, "A") == ["veto", "yellow"]  # the death is listed once, as the veto
    assert kinds(found, "B") == ["red"]
    assert kinds(found, "C") == ["missing"]
    veto = next(b for b in found if b.kind == "veto")
    assert veto.evidence == {"value": 1, "target": 0, "limit": 0}
    names = {"fatalities": ("死亡人数", "Fatalities"), "injuries": ("负伤人数", "Injuries")}
    assert veto.message("zh", names) == "一票否决：本年累计死亡人数 1，按目标责任书一票否决，考核得分计为 0"
    red = next(b for b in found if b.kind == "red")
    assert red.message("zh", names) == "超标：本年累计负伤人数 5，控制值 4（目标 2）"
    missing = next(b for b in found if b.kind == "missing")
    assert missing.evidence == {"count": 2, "deadline": "2026-11-10", "reported": False}
    assert missing.message("zh", names) == "未报：已过报送截止日 2026-11-10，本月 2 项应报指标没有数据"


@pytest.mark.parametrize("now, kind, severity", [
    (datetime(2026, 11, 2, 9), "pending", "info"),  # 2 November: the month is due by 10 November
    (datetime(2026, 11, 10, 23, 59), "pending", "info"),  # the deadline day itself is on time
    (datetime(2026, 11, 11, 0, 1), "missing", "medium"),
])
def test_a_unit_that_has_not_reported_is_pending_until_the_deadline(now, kind, severity):
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 10, False)])
    add_values(con, [("2026-10", "A", "injuries", 0), ("2026-10", "B", "injuries", 0)])
    found = [b for b in find_breaches(con, OCT, now=now) if b.subsidiary == "C"]
    assert [(b.kind, b.rule.severity.value) for b in found] == [(kind, severity)]
    if kind == "pending":
        assert found[0].message("zh", {}) == "待报（截止 2026-11-10）：本月 1 项应报指标尚未报送"


def test_a_prorated_target_says_so():
    con = memory_store()
    set_targets(con, [(2026, "*", "emergency_drills", 12, 6, 10, False)])
    add_values(con, [("2026-10", "A", "emergency_drills", 4)])  # 4 < 6 × 10/12 = 5: red
    found = [b for b in find_breaches(con, OCT, now=datetime(2026, 11, 2)) if b.kind == "red"]
    names = {"emergency_drills": ("应急演练次数", "Emergency drills")}
    assert found[0].message("zh", names) == ("超标：本年累计应急演练次数 4，控制值 5（目标 10）"
                                             "（年度目标与控制值按 10/12 折算）")


def test_the_demo_stories_are_flagged(tmp_path):
    path = tmp_path / "demo.duckdb"
    init_store(path, with_demo=True, end_month=OCT)
    with store.connect(path, read_only=True) as con:
        found = find_breaches(con, OCT, now=datetime(2026, 12, 2))
    assert "veto" in kinds(found, "CM03")
    assert "missing" in kinds(found, "LG02")
    assert ("CH01", "rectification_rate") in {(b.subsidiary, b.indicator) for b in found
                                              if b.kind == "deteriorating"}
    assert "out_of_control" in kinds(found, "CN02")
    assert "silence" in kinds(found, "PW01")
    late = [b for b in found if b.kind == "late"]
    assert [(b.subsidiary, b.evidence["submitted_at"], b.evidence["days_late"]) for b in late] == [
        ("LG01", "2026-11-13 16:20", 3)]
    assert [b.subsidiary for b in found if b.kind == "veto"] == ["CM03"]


def every_kind_store():
    """One store in which each rule fires once, October 2026 (deadline: the end of 10 November):
    A: a death (veto), direct loss 15 between its target 10 and limit 20 (yellow), 3 injuries on 1,000,000 hours
       against 6 in the twelve months before on 12,000,000 (out of control: expected 0.5, upper limit 2.62),
       hours but no hazards found in August, September and October (silence; its ledger is not its figures), a
       major hazard found on 2 October, due on the 20th and open at the month's end (major overdue);
    B: direct loss 25 beyond the limit (red), hazards overdue 1, 2, 3, 4 from July (worse three months running),
       October first submitted on 13 November (late);
    C: nothing for October (missing after the deadline, pending before it)."""
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, True), (2026, "*", "direct_loss", 10, 20, 10, False)])
    history = []
    for i in range(12):  # 2025-10 .. 2026-09
        month = f"{2025 + (9 + i) // 12}-{(9 + i) % 12 + 1:02d}"
        history += [(month, "A", "hours_worked", 1_000_000), (month, "A", "injuries", 1 if i % 2 else 0)]
    add_values(con, history + [("2026-10", "A", "hours_worked", 1_000_000), ("2026-10", "A", "injuries", 3),
                               ("2026-10", "A", "fatalities", 1), ("2026-10", "A", "direct_loss", 15)])
    add_values(con, [("2026-07", "B", "hazards_overdue", 1), ("2026-08", "B", "hazards_overdue", 2),
                     ("2026-09", "B", "hazards_overdue", 3)])
    add_values(con, [("2026-10", "B", "hazards_overdue", 4), ("2026-10", "B", "fatalities", 0),
                     ("2026-10", "B", "direct_loss", 25)], submitted_at=datetime(2026, 11, 13, 10, 0))
    hazard(con, None, date(2026, 10, 2), date(2026, 10, 20), major=True)
    return con


def test_find_breaches_walks_the_declared_rules_by_severity_then_declaration():
    con = every_kind_store()
    after = [(b.kind, b.subsidiary) for b in find_breaches(con, OCT, now=datetime(2026, 11, 20))]
    assert after == [("veto", "A"), ("red", "B"), ("out_of_control", "A"), ("major_overdue", "A"),
                     ("yellow", "A"), ("missing", "C"), ("late", "B"), ("deteriorating", "B"), ("silence", "A")]
    before = [(b.kind, b.subsidiary) for b in find_breaches(con, OCT, now=datetime(2026, 11, 5))]
    assert before == [("veto", "A"), ("red", "B"), ("out_of_control", "A"), ("major_overdue", "A"),
                      ("yellow", "A"), ("late", "B"), ("deteriorating", "B"), ("silence", "A"), ("pending", "C")]
    assert {k for k, _ in after + before} == {r.kind for r in breaches.RULES}  # every declared rule fires here
    # the rules walked are the tuple given: within a severity, in its order
    silence, yellow = breaches.BY_KIND["silence"], breaches.BY_KIND["yellow"]
    assert [(b.kind, b.subsidiary) for b in find_breaches(con, OCT, datetime(2026, 11, 20), (silence, yellow))] == [
        ("silence", "A"), ("yellow", "A")]
    deteriorating = next(b for b in find_breaches(con, OCT, datetime(2026, 11, 20)) if b.kind == "deteriorating")
    assert deteriorating.evidence == {"v0": 1, "v1": 2, "v2": 3, "v3": 4}
    assert deteriorating.message("zh", {"hazards_overdue": ("逾期未整改隐患数", "Overdue hazards")}) == (
        "连续三个月变差：逾期未整改隐患数 1 → 2 → 3 → 4")


def test_a_window_changed_in_its_rule_changes_what_fires():
    """B's overdue hazards 3, 1, 2, 3 from July: worse in September and October only. A's hours in August,
    September and October, hazards found 4 in August: silent for two months only."""
    con = memory_store()
    add_values(con, [("2026-07", "B", "hazards_overdue", 3), ("2026-08", "B", "hazards_overdue", 1),
                     ("2026-09", "B", "hazards_overdue", 2), ("2026-10", "B", "hazards_overdue", 3)]
               + [(m, "A", "hours_worked", 50_000) for m in ("2026-08", "2026-09", "2026-10")]
               + [("2026-08", "A", "hazards_found", 4)])
    declared = (breaches.BY_KIND["deteriorating"], breaches.BY_KIND["silence"])
    assert find_breaches(con, OCT, rules=declared) == []
    two = tuple(replace(rule, window_months=2) for rule in declared)
    found = find_breaches(con, OCT, rules=two)
    assert [(b.kind, b.subsidiary, b.evidence) for b in found] == [
        ("deteriorating", "B", {"v0": 1, "v1": 2, "v2": 3}),
        ("silence", "A", {"months": 2, "exposure": 100_000})]


def test_a_rule_whose_words_name_other_months_than_it_declares_is_refused():
    breaches.check_words(breaches.RULES)  # as at import
    two = replace(breaches.BY_KIND["silence"], window_months=2)  # its words still say three months
    problems = breaches.words_disagree(two)
    assert problems == [
        "breach rule 'silence': its zh words name [3] months but it declares [2] (window_months, baseline_months); "
        "make them agree",
        "breach rule 'silence': its en words name [3] months but it declares [2] (window_months, baseline_months); "
        "make them agree"]
    with pytest.raises(ValueError, match="breach rule 'silence'"):
        breaches.check_words((two,))
    assert breaches.months_named("按本单位前 24 个月伤害率", "zh") == {24}
    assert breaches.months_named("over the previous 24 months and this month's hours", "en") == {24}
    assert breaches.months_named("连续十二个月", "zh") == {12}
