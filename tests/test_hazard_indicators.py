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
Behind them (`behind`, the hazards a figure opens to; H1…H8 are A-2026-0001…0008): October's found H1 H2 H3 H5 H8,
major H2, rectified H1, overdue H3 H8; November's found H4 H7, overdue H3 H8.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.ledger import demo, indicators
from metrics.ledger.hazards import Change, NewHazard
from tests.builders import memory_store

ADMIN = User("safety", Role.ADMIN)
STAFF_B = User("b-staff", Role.UNIT, ("B",))
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


def numbers(*hazards: int) -> list[str]:
    return [f"A-2026-{h:04d}" for h in hazards]


def test_the_hazards_behind_each_figure_by_hand(ledger):
    assert indicators.behind(ledger, "hazards_found", OCT) == numbers(1, 2, 3, 5, 8)
    assert indicators.behind(ledger, "major_hazards", OCT, ["A"]) == numbers(2)
    assert indicators.behind(ledger, "hazards_rectified", OCT) == numbers(1)
    assert indicators.behind(ledger, "hazards_overdue", OCT) == numbers(3, 8)
    assert indicators.behind(ledger, "hazards_found", NOV) == numbers(4, 7)
    assert indicators.behind(ledger, "hazards_rectified", NOV) == []
    assert indicators.behind(ledger, "hazards_overdue", NOV) == numbers(3, 8)
    assert indicators.behind(ledger, "hazards_overdue", NOV, ["B"]) == []
    with pytest.raises(ValueError, match="rectification_rate is not counted from the hazard ledger"):
        indicators.behind(ledger, "rectification_rate", OCT)


def agrees(con, months: list[date], units: list[str]) -> pd.DataFrame:
    """Assert that every figure `monthly` gives is the count of the hazards `behind` it (unit by unit, and summed
    over the units); returns the figures compared."""
    figures = indicators.monthly(con, months, units)
    for row in figures.itertuples():
        assert len(indicators.behind(con, row.indicator, row.month, [row.subsidiary])) == row.value, row
    for (month, code), values in figures.groupby(["month", "indicator"])["value"]:
        assert len(indicators.behind(con, code, month, units)) == values.sum(), (month, code)
        assert len(indicators.behind(con, code, month, None)) == values.sum(), (month, code)
    return figures


def test_every_figure_is_the_count_of_the_hazards_behind_it(ledger):
    assert len(agrees(ledger, [date(2026, 9, 1), OCT, NOV], ["A"])) == 2 * len(indicators.COUNTED)


@pytest.fixture(scope="module")
def demo_ledger(pristine, tmp_path_factory):
    """The session's demo store with the demo's hazard ledgers, as `metrics init --demo` fills them."""
    path = tmp_path_factory.mktemp("demo_ledger") / "demo.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", "2026-11-02T09:00")
        demo.fill_store(path)
    return path


def test_every_figure_of_the_demo_is_the_count_of_the_hazards_behind_it(demo_ledger):
    with store.connect(demo_ledger, read_only=True) as con:
        first, last = store.query(con, "SELECT min(found_on) AS a, max(found_on) AS b FROM hazards").iloc[0]
        months = list(pd.date_range(pd.Timestamp(first).replace(day=1), last, freq="MS").date)
        units = sorted(store.query(con, "SELECT DISTINCT subsidiary FROM hazards")["subsidiary"])
        assert len(months) >= 12 and len(units) == 12
        compared = agrees(con, months, units)
        assert set(compared["subsidiary"]) == set(units) and set(compared["indicator"]) == set(indicators.COUNTED)
        assert compared["value"].sum() > 100


def test_a_unit_user_sees_the_hazards_behind_their_own_units_figures_only(ledger):
    assert access.hazards_behind(ledger, ADMIN, "hazards_found", OCT, None) == numbers(1, 2, 3, 5, 8)
    assert access.hazards_behind(ledger, STAFF_B, "hazards_found", OCT, None) == []
    assert access.hazards_behind(ledger, STAFF_B, "hazards_found", OCT, ["A", "B"]) == []
