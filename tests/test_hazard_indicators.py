"""The monthly hazard indicators counted from the ledger (metrics/ledger/indicators.py; docs/rules.md, "9. The
hazard ledger", rule 8), by hand on a small ledger of unit A in October and November 2026:

| hazard | found | level | deadline in force                     | closed | October f/m/r/o     | November |
| H1     | 10-05 | 一般  | 10-20                                 | 10-18  | 1/0/1/0             | -        |
| H2     | 10-10 | 重大  | 10-25, extended on 10-24 to 11-15     | 11-10  | 1/1/0/0             | -        |
| H3     | 10-20 | 一般  | 10-28                                 | open   | 1/0/0/1             | overdue  |
| H4     | 11-03 | 一般  | 11-30 (not past at the end of 11-30)  | open   | -                   | found    |
| H5     | 10-25 | 一般  | 11-05                                 | 11-20  | 1/0/0/0             | -        |
| H6     | 10-12 | 一般  | void (entered in error)               |        | counts nowhere      |          |
| H7     | 11-01 | 一般  | 11-10, extended on 11-09 to 12-10     | open   | -                   | found    |
| H8     | 10-01 | 一般  | 10-15, extended on 11-05 to 11-20     | open   | 1/0/0/1 (10-15)     | overdue  |

(f/m/r/o: found, major, rectified, overdue; H8's 10-15 was in force on 31 October.)
October: found 5, major 1, rectified 1, overdue 2 (H3, H8). November: found 2 (H4, H7), major 0, rectified 0,
overdue 2 (H3, H8).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from metrics import access
from metrics.auth.roles import Role, User
from metrics.ledger import indicators
from metrics.ledger.hazards import Change, NewHazard
from tests.builders import memory_store

ADMIN = User("safety", Role.ADMIN)
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
BASE = NewHazard("A", "daily", "皮带机头", "护罩缺失", "general", "thing", "machinery", OCT, "李工")


def hazard(con, tmp_path, found: date, deadline: date, *, major: bool = False, extended: tuple | None = None,
           closed: date | None = None, void: bool = False) -> str:
    new = replace(BASE, found_on=found, place=f"部位{found:%m%d}")
    if major:
        new = replace(new, level="major", criterion="coal", clause="第十条")
    number = access.register_hazard(con, ADMIN, new)
    five = {"owner": "王工", "measures": "整改", "funds": 0.0, "deadline": deadline, "verifier": "赵主任",
            "contingency": "撤人" if major else None}
    access.hazard_step(con, ADMIN, number, "issue", Change("", found, "", five))
    if extended:
        on, new_deadline = extended
        if major:
            access.hazard_step(con, ADMIN, number, "request_extension",
                               Change("", on, "材料未到", {"deadline": new_deadline}))
            access.hazard_step(con, ADMIN, number, "approve_extension", Change("", on, "同意"))
        else:
            access.hazard_step(con, ADMIN, number, "extend",
                               Change("", on, "材料未到", {"deadline": new_deadline, "approver": "矿长"}))
    if closed:
        access.attach_evidence(con, ADMIN, number, f"photo {number}".encode(), "after.jpg", tmp_path / "raw")
        access.hazard_step(con, ADMIN, number, "submit", Change("", closed, "", {"rectified_on": closed}))
        access.hazard_step(con, ADMIN, number, "accept", Change("", closed, "合格", {"verified_on": closed}))
    if void:
        access.hazard_step(con, ADMIN, number, "void", Change("", found, "重复登记", {"approver": "安全科长"}))
    return number


@pytest.fixture()
def ledger(monkeypatch, tmp_path):
    monkeypatch.setenv("SAFETY_NOW", "2026-12-01T09:00")
    con = memory_store()
    hazard(con, tmp_path, date(2026, 10, 5), date(2026, 10, 20), closed=date(2026, 10, 18))
    hazard(con, tmp_path, date(2026, 10, 10), date(2026, 10, 25), major=True,
           extended=(date(2026, 10, 24), date(2026, 11, 15)), closed=date(2026, 11, 10))
    hazard(con, tmp_path, date(2026, 10, 20), date(2026, 10, 28))
    hazard(con, tmp_path, date(2026, 11, 3), date(2026, 11, 30))
    hazard(con, tmp_path, date(2026, 10, 25), date(2026, 11, 5), closed=date(2026, 11, 20))
    hazard(con, tmp_path, date(2026, 10, 12), date(2026, 10, 30), void=True)
    hazard(con, tmp_path, date(2026, 11, 1), date(2026, 11, 10), extended=(date(2026, 11, 9), date(2026, 12, 10)))
    hazard(con, tmp_path, date(2026, 10, 1), date(2026, 10, 15), extended=(date(2026, 11, 5), date(2026, 11, 20)))
    yield con
    con.close()


def test_the_month_end_figures_by_hand(ledger):
    found = indicators.monthly(ledger, [OCT, NOV])
    got = {(row.month, row.indicator): row.value for row in found.itertuples()}
    assert got == {
        (OCT, "hazards_found"): 5, (OCT, "major_hazards"): 1, (OCT, "hazards_rectified"): 1,
        (OCT, "hazards_overdue"): 2,
        (NOV, "hazards_found"): 2, (NOV, "major_hazards"): 0, (NOV, "hazards_rectified"): 0,
        (NOV, "hazards_overdue"): 2}
    assert set(found["subsidiary"]) == {"A"}


def test_a_unit_without_hazards_has_no_row_not_a_zero(ledger):
    assert indicators.monthly(ledger, [OCT], units=["B"]).empty
    assert indicators.monthly(ledger, [date(2026, 9, 1)]).empty  # nothing found by September's end
