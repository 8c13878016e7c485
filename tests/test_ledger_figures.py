"""The ledger's figures in the monthly data (metrics/ledger/figures.py; docs/rules.md, "9. The hazard ledger",
rule 12), on the small ledger of unit A that tests/test_hazard_indicators.py counts by hand: October found 5,
major 1, rectified 1, overdue 2 (H3, H8); November found 2, major 0, rectified 0, overdue 2 (H3, H8).

Unit A types its October figures, then keeps its ledger here from October: the ledger's figures replace the
typed ones, each a new version on the record; its November upload may no longer carry them, and the November
figures come with the upload; a hazard closed afterwards corrects November; rolling the upload back takes them
away again (a month not submitted has no figures: 未报, not 0).
"""
from __future__ import annotations

from datetime import date

import pytest

from metrics import access, store
from metrics.core.catalog import Ledger, load_catalog
from metrics.ingest import upload
from metrics.ledger import figures
from metrics.ledger.hazards import Change
from tests.test_hazard_indicators import ADMIN, NOV, OCT, ledger  # noqa: F401  (the fixture)

OCTOBER = b"month,subsidiary,indicator,value\n2026-10,A,hours_worked,1000\n2026-10,A,hazards_found,9\n" \
          b"2026-10,A,hazards_rectified,9\n2026-10,B,hazards_found,4\n"
NOVEMBER_TYPED = b"month,subsidiary,indicator,value\n2026-11,A,hours_worked,1100\n2026-11,A,hazards_found,3\n"
NOVEMBER = b"month,subsidiary,indicator,value\n2026-11,A,hours_worked,1100\n2026-11,B,hazards_found,6\n"
HAZARD_CODES = ("hazards_found", "major_hazards", "hazards_rectified", "hazards_overdue")
# The values of a unit, but those of the indicators only the ledger counts (the module's figures are the typed ones'
# and those the ledger counts in their stead: `ledger_only` reads the others).
VALUES = """
SELECT month, subsidiary, indicator, value FROM observations
WHERE subsidiary = $unit AND list_contains(CAST($only AS VARCHAR[]), indicator) = $only_ones ORDER BY ALL
"""
ONLY = load_catalog().from_ledger(Ledger.ONLY)
HISTORY = """
SELECT h.value, h.previous_value, b.source FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.subsidiary = 'A' AND h.month = CAST($month AS DATE) AND h.indicator = $indicator ORDER BY h.batch_id
"""


def versions(con, month: date, indicator: str) -> list[tuple]:
    return con.execute(HISTORY, {"month": month, "indicator": indicator}).fetchall()


def values(con, unit: str = "A", *, ledger_only: bool = False) -> dict[tuple[date, str], float]:
    frame = store.query(con, VALUES, {"unit": unit, "only": ONLY, "only_ones": ledger_only})
    return {(row.month.date(), row.indicator): row.value for row in frame.itertuples()}


def submit(con, tmp_path, data: bytes) -> upload.ImportResult:
    return figures.import_monthly(con, data, "month.csv", actor="safety", raw_directory=tmp_path / "raw")


@pytest.fixture()
def kept(ledger, tmp_path):  # noqa: F811
    assert submit(ledger, tmp_path, OCTOBER).status == "committed"
    figures.keep_ledger(ledger, "A", OCT, actor="director")
    return ledger


def test_a_unit_keeps_its_ledger_from_a_month_and_its_typed_figures_give_way(kept):
    assert values(kept) == {
        (OCT, "hours_worked"): 1000, (OCT, "hazards_found"): 5, (OCT, "major_hazards"): 1,
        (OCT, "hazards_rectified"): 1, (OCT, "hazards_overdue"): 2}
    assert versions(kept, OCT, "hazards_found") == [(9.0, None, "upload"), (5.0, 9.0, "ledger")]
    assert values(kept, "B") == {(OCT, "hazards_found"): 4}  # B types its figures
    only = values(kept, ledger_only=True)  # and the ledger writes those only it counts, as it counts them
    assert set(only) == {(OCT, code) for code in ONLY}
    assert (only[(OCT, "hazards_due")], only[(OCT, "closure_days")], only[(OCT, "major_hazards_open")]) == (3, 13, 1)
    assert values(kept, "B", ledger_only=True) == {}
    assert figures.kept_units(kept) == {"A": OCT}


def test_the_ledger_may_not_begin_before_its_first_hazard(ledger):  # noqa: F811
    with pytest.raises(ValueError, match="no hazard of A found in 2026-09 or before"):
        figures.keep_ledger(ledger, "A", date(2026, 9, 1), actor="director")
    with pytest.raises(ValueError, match="no hazard of B"):
        figures.keep_ledger(ledger, "B", OCT, actor="director")
    assert figures.kept_units(ledger) == {}


def test_an_upload_of_what_the_ledger_counts_is_refused_whole(kept, tmp_path):
    before = values(kept)
    refused = submit(kept, tmp_path, NOVEMBER_TYPED)
    assert refused.status == "rejected"
    [problem] = refused.errors
    assert (problem.row, problem.column, problem.value) == (3, "value", "3")
    assert problem.message_zh == ("A 自 2026-10 起在本系统记录隐患台账，排查隐患数由台账计算、不再填报："
                                  "请删去该值（留空）")
    assert "A keeps its hazard ledger in this system from 2026-10" in problem.message
    assert values(kept) == before


def test_the_months_figures_come_with_its_upload_and_a_later_step_corrects_them(kept, tmp_path):
    result = submit(kept, tmp_path, NOVEMBER)
    assert result.status == "committed"
    november = {k: v for (m, k), v in values(kept).items() if m == NOV}
    assert november == {"hours_worked": 1100, "hazards_found": 2, "major_hazards": 0, "hazards_rectified": 0,
                        "hazards_overdue": 2}
    h3 = store.scalar(kept, "SELECT number FROM hazards WHERE found_on = DATE '2026-10-20'")
    access.attach_evidence(kept, ADMIN, h3, b"photo", "after.jpg", tmp_path / "raw")
    day = date(2026, 11, 25)
    access.hazard_step(kept, ADMIN, h3, "submit", Change("", day, "", {"rectified_on": day}))
    access.hazard_step(kept, ADMIN, h3, "accept", Change("", day, "合格", {"verified_on": day}))
    assert values(kept)[(NOV, "hazards_overdue")] == 1
    assert values(kept)[(OCT, "hazards_overdue")] == 2  # open at October's end whenever it closed
    assert versions(kept, NOV, "hazards_overdue") == [(2.0, None, "ledger"), (1.0, 2.0, "ledger")]


def test_rolling_the_upload_back_takes_the_months_figures_with_it(kept, tmp_path):
    batch = submit(kept, tmp_path, NOVEMBER).batch_id
    figures.rollback(kept, batch, actor="safety")
    assert {m for m, _ in values(kept)} == {OCT}
    ledger_batch = store.scalar(kept, "SELECT max(id) FROM batches WHERE source = 'ledger'")
    with pytest.raises(upload.RollbackRefused, match="follow the ledger"):
        figures.rollback(kept, ledger_batch, actor="safety")


def test_nothing_is_written_when_the_ledger_already_agrees(kept):
    batches = store.scalar(kept, "SELECT count(*) FROM batches")
    assert figures.publish(kept, actor="safety", note="again").batch_id is None
    assert store.scalar(kept, "SELECT count(*) FROM batches") == batches


def test_a_failed_figure_write_undoes_the_upload_with_it(kept, tmp_path, monkeypatch):
    before = values(kept), store.scalar(kept, "SELECT count(*) FROM batches")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(figures, "publish", broken)
    with pytest.raises(RuntimeError):
        submit(kept, tmp_path, NOVEMBER)
    assert (values(kept), store.scalar(kept, "SELECT count(*) FROM batches")) == before


def test_a_unit_kept_before_it_submits_any_month_gets_no_figures_yet(ledger):  # noqa: F811
    """A's November not submitted, and its ledger kept from November: nothing to write yet (not a 0)."""
    published = figures.keep_ledger(ledger, "A", NOV, actor="director")
    assert published is not None and published.batch_id is None
    assert values(ledger) == {}
