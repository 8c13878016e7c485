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

The indicators counted from the ledger alone (`ledger = "only"`) on the same ledger: due (the deadline in force at
the month's end falls in it) and closed on time; closed in the month (whenever found), their days from found to
closed, those extended and those sent back; open major hazards at the month's end and the overdue ones among them:

| month    | due                                | on time | closed (days)         | extended | open major | overdue |
| October  | H1 (10-20), H3 (10-28), H8 (10-15) | H1      | H1 (13)               | 0        | H2         | 0       |
| November | H2 (11-15), H4 (11-30), H5 (11-05) | H2      | H2 (31), H5 (26) = 57 | H2       | 0          | 0       |
|          | H8 (11-20: extended after October) |         |                       |          |            |         |

(overdue: the major hazards open at the month's end past the deadline in force at its end; H2's on 31 October was
11-15. H8, extended on 5 November after its deadline of 15 October had passed, is due in October by the deadline
then in force and again in November by its new one; H4, due on 30 November and open at its end, was not closed on
time.)
No repeats (every place differs), no send-backs, no outside findings.

A second ledger of unit A (`loop`) for what the first lacks: a repeat, a send-back, outside findings, a hazard
extended across a month's end, one closed the day it was found; L1…L8 are A-2026-0001…0008:

| hazard | found | place, class | source      | deadline in force                 | closed, steps                 |
| L1     | 07-02 | 配电室, 物   | daily       | 07-20                             | 07-10                         |
| L2     | 09-15 | 配电室, 物   | daily       | void                              |                               |
| L3     | 09-20 | 3号皮带, 物  | daily       | 09-30                             | 09-28                         |
| L4     | 10-01 | 配电室, 物   | daily, 重大 | 10-20                             | open                          |
| L5     | 10-15 | 3号皮带, 物  | supervision | 10-31                             | 10-27, sent back on 10-22     |
| L6     | 10-16 | 3号皮带, 人  | consultancy | 10-30, extended on 10-29 to 11-10 | 11-08                         |
| L7     | 11-05 | 值班室, 管理 | daily       | 11-15                             | 11-05 (the day found: 0 days) |
| L8     | 11-20 | 3号皮带, 物  | daily       | 12-15                             | open                          |

Repeats (the same place and class found 1 to 90 days before): L5 (L3, 25 days before) in October, L8 (L5, 36 days)
in November; L4 is none (L1 is 91 days before it, L2 is void); L6 is another class.

| figure                          | October                         | November                         |
| found / major / rectified       | 3 (L4 L5 L6) / 1 (L4) / 1 (L5)  | 2 (L7 L8) / 0 / 1 (L7)           |
| overdue / open major / overdue major | 1 (L4) / 1 / 1             | 1 (L4) / 1 / 1                   |
| due / closed on time            | 2 (L4, L5) / 1 (L5)             | 2 (L6 11-10, L7 11-15) / 2       |
| closed / days / extended / sent back | 1 (L5) / 12 / 0 / 1 (L5)   | 2 (L6, L7) / 23 + 0 / 1 (L6) / 0 |
| repeat                          | 1 (L5)                          | 1 (L8)                           |
| outside found / rectified       | 2 (L5, L6) / 1 (L5)             | 0 / 0                            |

So October's on-time closure rate is 1/2 = 50 %, mean days to close 12, extension rate 0 %, send-back rate 100 %,
outside findings' rectification rate 1/2 = 50 %; November's 100 %, 23/2 = 11.5 days, 50 %, 0 %, not applicable.
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.core.catalog import load_catalog
from metrics.ledger import demo, figures, indicators
from metrics.ledger.hazards import Change, NewHazard
from metrics.scoring import scores
from tests.builders import add_values, memory_store, set_targets

ADMIN = User("safety", Role.ADMIN)
STAFF_B = User("b-staff", Role.UNIT, ("B",))
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
BASE = NewHazard("A", "daily", "皮带机头", "护罩缺失", "general", "thing", "machinery", OCT, "李工")


def hazard(con, tmp_path, found: date, deadline: date, *, major: bool = False, extended: tuple | None = None,
           closed: date | None = None, void: bool = False, place: str | None = None, factor: str = "thing",
           source: str = "daily", sent_back: tuple[date, date] | None = None) -> str:
    """Register a hazard of unit A found on `found`, issue it with `deadline`, extend it (on, to), send it back
    (submitted on, sent back on) and close it on `closed`, or void it."""
    new = replace(BASE, found_on=found, place=place or f"部位{found:%m%d}", factor=factor, source=source)
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
    if sent_back:
        submitted, back = sent_back
        access.attach_evidence(con, ADMIN, number, f"first {number}".encode(), "first.jpg", tmp_path / "raw")
        access.hazard_step(con, ADMIN, number, "submit", Change("", submitted, "", {"rectified_on": submitted}))
        access.hazard_step(con, ADMIN, number, "send_back", Change("", back, "护罩未固定"))
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


@pytest.fixture()
def loop(monkeypatch, tmp_path):
    """The second ledger of the module's docstring: L1…L8."""
    monkeypatch.setenv("SAFETY_NOW", "2026-12-01T09:00")
    con = memory_store()
    hazard(con, tmp_path, date(2026, 7, 2), date(2026, 7, 20), place="配电室", closed=date(2026, 7, 10))
    hazard(con, tmp_path, date(2026, 9, 15), date(2026, 9, 30), place="配电室", void=True)
    hazard(con, tmp_path, date(2026, 9, 20), date(2026, 9, 30), place="3号皮带", closed=date(2026, 9, 28))
    hazard(con, tmp_path, date(2026, 10, 1), date(2026, 10, 20), place="配电室", major=True)
    hazard(con, tmp_path, date(2026, 10, 15), date(2026, 10, 31), place="3号皮带", source="supervision",
           sent_back=(date(2026, 10, 20), date(2026, 10, 22)), closed=date(2026, 10, 27))
    hazard(con, tmp_path, date(2026, 10, 16), date(2026, 10, 30), place="3号皮带", factor="person",
           source="consultancy", extended=(date(2026, 10, 29), date(2026, 11, 10)), closed=date(2026, 11, 8))
    hazard(con, tmp_path, date(2026, 11, 5), date(2026, 11, 15), place="值班室", factor="management",
           closed=date(2026, 11, 5))
    hazard(con, tmp_path, date(2026, 11, 20), date(2026, 12, 15), place="3号皮带")
    yield con
    con.close()


def by_month(con, months: list[date]) -> dict[tuple[date, str], float]:
    return {(row.month, row.indicator): row.value for row in indicators.monthly(con, months).itertuples()}


ONLY_CODES = ("hazards_due", "hazards_closed_on_time", "hazards_closed", "closure_days", "hazards_closed_extended",
              "hazards_closed_sent_back", "major_hazards_open", "major_hazards_overdue", "repeat_hazards",
              "outside_hazards_found", "outside_hazards_rectified")


def figures_of(month: date, kept: tuple[int, int, int, int], only: tuple[int, ...]) -> dict[tuple[date, str], int]:
    """found, major, rectified, overdue, then the ONLY_CODES in their order."""
    return {(month, code): value for code, value in
            zip(("hazards_found", "major_hazards", "hazards_rectified", "hazards_overdue", *ONLY_CODES), kept + only)}


def test_the_month_end_figures_by_hand(ledger):
    found = indicators.monthly(ledger, [OCT, NOV])
    assert by_month(ledger, [OCT, NOV]) == (
        figures_of(OCT, (5, 1, 1, 2), (3, 1, 1, 13, 0, 0, 1, 0, 0, 0, 0))
        | figures_of(NOV, (2, 0, 0, 2), (4, 1, 2, 57, 1, 0, 0, 0, 0, 0, 0)))
    assert set(found["subsidiary"]) == {"A"}


def test_repeats_send_backs_and_outside_findings_by_hand(loop):
    assert by_month(loop, [OCT, NOV]) == (
        figures_of(OCT, (3, 1, 1, 1), (2, 1, 1, 12, 0, 1, 1, 1, 1, 2, 1))
        | figures_of(NOV, (2, 0, 1, 1), (2, 2, 2, 23, 1, 0, 1, 1, 1, 0, 0)))


def test_the_hazards_behind_the_figures_of_the_second_ledger_by_hand(loop):
    def of(*hazards: int) -> list[str]:
        return numbers(*hazards)

    assert indicators.behind(loop, "repeat_hazards", OCT) == of(5)
    assert indicators.behind(loop, "repeat_hazards", NOV) == of(8)
    assert indicators.behind(loop, "hazards_due", OCT) == of(4, 5)
    assert indicators.behind(loop, "hazards_due", NOV) == of(6, 7)
    assert indicators.behind(loop, "hazards_closed", NOV) == of(6, 7)
    assert indicators.behind(loop, "closure_days", NOV) == of(6, 7)  # 23 and 0 days
    assert indicators.behind(loop, "hazards_closed_sent_back", OCT) == of(5)
    assert indicators.behind(loop, "hazards_closed_extended", NOV) == of(6)
    assert indicators.behind(loop, "outside_hazards_found", OCT) == of(5, 6)
    assert indicators.behind(loop, "outside_hazards_rectified", OCT) == of(5)
    assert indicators.behind(loop, "major_hazards_overdue", NOV) == of(4)
    assert len(agrees(loop, [date(2026, 7, 1), date(2026, 9, 1), OCT, NOV], ["A"])) == 4 * len(indicators.COUNTED)


def test_the_ledger_counts_what_the_catalog_says_it_does(ledger):
    assert indicators.derived() == list(load_catalog().from_ledger())
    assert set(indicators.COUNTED) == set(load_catalog().from_ledger())
    marked = replace(load_catalog(), indicators=(*load_catalog().indicators,
                                                 replace(load_catalog()["hazards_found"], code="hazards_guessed")))
    with pytest.raises(ValueError, match="marks hazards_guessed as counted from the hazard ledger"):
        indicators.monthly(ledger, [OCT], catalog=marked)


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
        assert size(con, row.indicator, indicators.behind(con, row.indicator, row.month, [row.subsidiary])) \
            == row.value, row
    for (month, code), values in figures.groupby(["month", "indicator"])["value"]:
        assert size(con, code, indicators.behind(con, code, month, units)) == values.sum(), (month, code)
        assert size(con, code, indicators.behind(con, code, month, None)) == values.sum(), (month, code)
    return figures


DAYS = """
SELECT coalesce(sum(date_diff('day', found_on, closed_on)), 0) FROM hazards WHERE list_contains($numbers, number)
"""


def size(con, code: str, numbers: list[str]) -> float:
    """What the hazards `numbers` add up to in the figure of `code`: how many they are, or for the days to close
    their days from found to closed."""
    return store.scalar(con, DAYS, {"numbers": numbers}) if code == "closure_days" else len(numbers)


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


def test_the_ratios_score_as_ratios_of_sums_and_do_not_apply_to_a_unit_without_the_ledger(loop):
    """A keeps its ledger here from October, B types its figures: with targets for the on-time closure rate (90,
    limit 80) and repeat hazards (12 a year, limit 24), A's November year to date is (1 + 2) / (2 + 2) = 75 % on
    time, red; its repeats 2 against 12 and 24 in full, green. B has no value for either and neither is due from
    it: not applicable (—), not missing (○)."""
    add_values(loop, [("2026-10", unit, "hours_worked", 1000) for unit in ("A", "B")])
    add_values(loop, [("2026-11", unit, "hours_worked", 1100) for unit in ("A", "B")])
    figures.keep_ledger(loop, "A", OCT, actor="director")
    set_targets(loop, [(2026, "*", "on_time_closure_rate", 90, 80, 1, False),
                       (2026, "*", "repeat_hazards", 12, 24, 1, False)])
    result = scores.score(loop, NOV, scores.Basis.YTD)
    judged = result.indicators.set_index(["subsidiary", "indicator"])
    assert judged.loc[("A", "on_time_closure_rate"), ["value", "status"]].tolist() == [75.0, "red"]
    assert judged.loc[("A", "repeat_hazards"), ["value", "status"]].tolist() == [2.0, "green"]
    for code in ("on_time_closure_rate", "repeat_hazards", "days_to_close"):
        assert judged.loc[("B", code), "status"] == "none" and pd.isna(judged.loc[("B", code), "value"])
    units = result.units.set_index("subsidiary")
    assert units.loc["B", "missing"] == 0 and units.loc["A", "red"] == 1
    assert result.group_values()["on_time_closure_rate"] == 75.0
    assert result.group_values()["days_to_close"] == (12 + 23) / 3
    october = scores.score(loop, OCT, scores.Basis.MONTH).indicators.set_index(["subsidiary", "indicator"])
    assert october.loc[("A", "send_back_rate"), "value"] == 100.0
    assert october.loc[("A", "outside_rectification_rate"), "value"] == 50.0
