"""Breach rules on small stores with hand-computed evidence, and on the demo's stories."""
from datetime import date

import pytest

from metrics.breaches import find_breaches
from metrics.initialise import init_store
from metrics import store
from tests.builders import add_values, memory_store, set_targets

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
    found = find_breaches(con, OCT)
    assert kinds(found, "A") == ["red", "veto", "yellow"]
    assert kinds(found, "B") == ["red"]
    assert kinds(found, "C") == ["missing"]
    veto = next(b for b in found if b.kind == "veto")
    assert veto.evidence == {"value": 1, "target": 0, "limit": 0}
    names = {"fatalities": ("死亡人数", "Fatalities")}
    assert veto.message("zh", names) == "一票否决：死亡人数为 1，超过控制值 0，本期得分归零"
    assert next(b for b in found if b.kind == "missing").evidence == {"count": 2}


def test_the_demo_stories_are_flagged(tmp_path):
    path = tmp_path / "demo.duckdb"
    init_store(path, with_demo=True, end_month=OCT)
    with store.connect(path, read_only=True) as con:
        found = find_breaches(con, OCT)
    assert "veto" in kinds(found, "CM03")
    assert "missing" in kinds(found, "LG02")
    assert ("CH01", "rectification_rate") in {(b.subsidiary, b.indicator) for b in found
                                              if b.kind == "deteriorating"}
    assert "out_of_control" in kinds(found, "CN02")
    assert "silence" in kinds(found, "PW01")
    assert [b.subsidiary for b in found if b.kind == "veto"] == ["CM03"]
