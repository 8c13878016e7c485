"""What the upload page says is due (metrics.scoring.due_states.month_due through metrics.access.due): the month
due now, its deadline, and each unit's state, on a hand-built store (deadline day 10 of the next month,
data/reporting.toml).

Units A, B, C; October 2026 is due by the end of 10 November. A submits on 5 November, B on 12 November (late),
C never.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics import access
from metrics.auth.roles import Forbidden, Role, User
from metrics.core import reporting
from metrics.ingest import upload
from metrics.scoring import breaches, due_states, scorecard
from tests.builders import add_values, memory_store

OCTOBER = date(2026, 10, 1)
ADMIN = User(name="admin", role=Role.ADMIN)


@pytest.fixture
def con():
    con = memory_store()
    add_values(con, [("2026-10", "A", "injuries", 1), ("2026-10", "A", "hours_worked", 1000)],
               submitted_at=datetime(2026, 11, 5, 9, 30))
    yield con
    con.close()


def states(found: due_states.MonthDue) -> dict[str, tuple]:
    return {r.subsidiary: (r.state, None if r.first_submitted != r.first_submitted else r.first_submitted)
            for r in found.units.itertuples(index=False)}


def test_before_the_deadline_a_unit_without_values_is_pending(con):
    found = due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 8, 12))
    assert (found.month, found.deadline.date()) == (OCTOBER, date(2026, 11, 10))
    assert states(found) == {"A": ("reported", datetime(2026, 11, 5, 9, 30)), "B": ("pending", None),
                             "C": ("pending", None)}


def test_after_the_deadline_late_and_overdue(con):
    add_values(con, [("2026-10", "B", "injuries", 0)], submitted_at=datetime(2026, 11, 12, 16))
    found = due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 11, 0, 0, 1))
    assert states(found) == {"A": ("reported", datetime(2026, 11, 5, 9, 30)),
                             "B": ("late", datetime(2026, 11, 12, 16)), "C": ("overdue", None)}


def test_the_end_of_the_deadline_day_is_still_on_time(con):
    add_values(con, [("2026-10", "B", "injuries", 0)], submitted_at=datetime(2026, 11, 10, 23, 59))
    found = due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 10, 23, 59, 30))
    assert states(found)["B"][0] == "reported" and states(found)["C"][0] == "pending"


def test_a_unit_whose_only_batch_was_rolled_back_has_not_reported(con):
    done = upload.import_file(con, b"month,subsidiary,indicator,value\n2026-10,C,injuries,2\n", "c.csv",
                              actor="t", today=date(2026, 11, 20))
    assert states(due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 20)))["C"][0] == "late"
    upload.rollback(con, done.batch_id, actor="t")
    assert states(due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 20)))["C"] == ("overdue", None)


def test_the_month_due_is_the_last_complete_month_all_through_the_next():
    assert reporting.due_month(date(2026, 12, 2)) == date(2026, 11, 1)
    assert reporting.due_month(date(2026, 12, 31)) == date(2026, 11, 1)
    assert reporting.due_month(date(2027, 1, 1)) == date(2026, 12, 1)


def test_an_administrator_gets_every_unit_a_unit_user_only_their_own(con, monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-08T12:00")
    assert list(access.due(con, ADMIN).units["subsidiary"]) == ["A", "B", "C"]
    mine = access.due(con, User(name="b", role=Role.UNIT, units=("B",)))
    assert mine.month == OCTOBER  # the month due on 8 November
    assert mine.units[["subsidiary", "state"]].values.tolist() == [["B", "pending"]]
    with pytest.raises(Forbidden):
        access.due(con, User(name="boss", role=Role.EXECUTIVE))


def test_one_rule_decides_late_for_the_upload_page_the_breaches_and_the_scorecard(con, monkeypatch):
    """B first submits October on 12 November: late against the deadline day 10 wherever it is read; with the
    deadline day moved to 15 (data/reporting.toml), on time wherever it is read."""
    add_values(con, [("2026-10", "B", "injuries", 0)], submitted_at=datetime(2026, 11, 12, 16))

    def readings() -> tuple[str, list[str], list[list[date]]]:
        state = states(due_states.month_due(con, OCTOBER, now=datetime(2026, 11, 20)))["B"][0]
        late = [b.subsidiary for b in breaches.find_breaches(con, OCTOBER, now=datetime(2026, 11, 20))
                if b.kind == "late"]
        return state, late, list(scorecard.submissions(con, "B")["late"])

    assert readings() == ("late", ["B"], [[OCTOBER]])
    assert due_states.first_submissions(con, unit="B")[["month", "first_submitted", "late"]].values.tolist() == [
        [OCTOBER, datetime(2026, 11, 12, 16), True]]
    monkeypatch.setattr(reporting, "deadline_day", lambda: 15)
    assert readings() == ("reported", [], [[]])
