"""A major (重大) hazard past its deadline at a month's end is a red (high) breach of its unit
(metrics/scoring/breaches.py, rule major_overdue; docs/rules.md, "9. The hazard ledger", rule 13), by hand:

| hazard | found | deadline in force                               | closed | end of October      | end of November |
| M1     | 10-01 | 10-20                                           | open   | 11 days over        | 41 days over    |
| M2     | 10-02 | 10-15, extended on 11-05 to 11-30 (the group)   | open   | 16 days over (10-15) | not over (11-30) |
| M3     | 10-03 | 10-25, closed 10-24                             | 10-24  | closed              | closed          |
| G1     | 10-04 | 10-10 (general)                                 | open   | not a major hazard  |                 |
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics.scoring.breaches import find_breaches
from tests.builders import memory_store
from tests.test_hazard_indicators import NOV, OCT, hazard


@pytest.fixture()
def ledger(monkeypatch, tmp_path):
    monkeypatch.setenv("SAFETY_NOW", "2026-12-01T09:00")
    con = memory_store()
    hazard(con, tmp_path, date(2026, 10, 1), date(2026, 10, 20), major=True)
    hazard(con, tmp_path, date(2026, 10, 2), date(2026, 10, 15), major=True,
           extended=(date(2026, 11, 5), date(2026, 11, 30)))
    hazard(con, tmp_path, date(2026, 10, 3), date(2026, 10, 25), major=True, closed=date(2026, 10, 24))
    hazard(con, tmp_path, date(2026, 10, 4), date(2026, 10, 10))
    yield con
    con.close()


def flags(con, month: date) -> list[tuple]:
    return [(b.subsidiary, b.evidence) for b in find_breaches(con, month, datetime(2026, 12, 1, 9))
            if b.kind == "major_overdue"]


def test_a_major_hazard_past_its_deadline_at_the_months_end_is_a_high_breach(ledger):
    [(unit, evidence)] = flags(ledger, OCT)
    assert unit == "A"
    assert evidence == {"hazards": 2, "numbers": "A-2026-0002、A-2026-0001", "deadline": "2026-10-15",
                        "days_over": 16}
    [(unit, evidence)] = flags(ledger, NOV)
    assert evidence == {"hazards": 1, "numbers": "A-2026-0001", "deadline": "2026-10-20", "days_over": 41}


def test_its_sentence_names_the_hazards(ledger):
    [breach] = [b for b in find_breaches(ledger, NOV, datetime(2026, 12, 1, 9)) if b.kind == "major_overdue"]
    assert breach.rule.severity.value == "high"
    assert breach.message("zh", {}) == ("重大事故隐患逾期未销号：月末 1 项（A-2026-0001），最早整改期限 2026-10-20，"
                                        "至月末逾期 41 天")
    assert breach.message("en", {}).startswith("Major hazards past their deadline at the month's end: 1 (A-2026-0001)")


def test_no_flag_before_the_deadline_passes(ledger):
    assert flags(ledger, date(2026, 9, 1)) == []
