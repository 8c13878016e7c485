"""The demo's hazard ledgers (metrics/ledger/demo.py, data/demo/hazards.toml), on a demo store built as `make run`
builds it (`metrics init --demo`, ending 2026-10, so the demo's today is 2026-10-31): every unit keeps a ledger in
proportion to the hazards it typed, every hazard went through the declared steps (its events, its audit rows), and
the year's stories are there at the end month."""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from metrics import store
from metrics.cli.main import main
from metrics.ledger import demo, hazards
from metrics.ledger.hazards import Hazard, State, is_overdue
from metrics.ledger.vocabulary import load_vocabulary
from metrics.store import audit
from metrics.store.raw_files import raw_dir

TODAY = date(2026, 10, 31)
FIRST = date(2025, 11, 1)
UNITS = {"CM01", "CM02", "CM03", "CM04", "CH01", "CH02", "CH03", "PW01", "LG01", "LG02", "CN01", "CN02"}
GROUP = {"集团安全环保部 周振华", "集团安全环保部 吴启明"}


@pytest.fixture(scope="module")
def path(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("hazard_demo") / "safety.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", "2026-11-02T09:00")
        assert main(["init", "--demo", "--db", str(target), "--end-month", "2026-10"]) == 0
    return target


@pytest.fixture(scope="module")
def ledger(path) -> list[Hazard]:
    with store.connect(path, read_only=True) as con:
        return hazards.hazards(con)


def query(path: Path, sql: str, params: dict | None = None):
    with store.connect(path, read_only=True) as con:
        return store.query(con, sql, params or {})


def test_every_demo_unit_keeps_a_ledger_of_the_year(ledger):
    assert {h.subsidiary for h in ledger} == UNITS
    assert all(FIRST <= h.found_on <= TODAY for h in ledger)


TYPED = """
SELECT h.subsidiary, h.month, h.value AS found FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.indicator = 'hazards_found' AND h.month >= $first AND b.source <> 'ledger'
"""
KEPT, BEGINS, LEDGER_FROM = "LG01", date(2026, 3, 1), date(2026, 5, 1)  # data/demo/hazards.toml, [kept]


def test_each_unit_registers_about_one_in_fifty_of_the_hazards_it_typed(path, ledger):
    typed = query(path, TYPED, {"first": FIRST})
    typed = typed[typed["subsidiary"] != KEPT].groupby("subsidiary", as_index=False)["found"].sum()
    counts = Counter(h.subsidiary for h in ledger)
    for unit, found in zip(typed["subsidiary"], typed["found"]):
        # share 0.02 of the typed total, plus at most a month made to hold its typed major hazard and the
        # stories' own hazards (a pending major, one awaiting verification, one just registered)
        assert abs(counts[unit] - 0.02 * found) <= 3, (unit, counts[unit], found)
    assert counts["CM01"] > counts["PW01"]  # 515 typed against 137


def test_the_unit_that_keeps_its_whole_ledger_registers_every_hazard_it_typed(path, ledger):
    """LG01 registers one hazard for each it typed from March 2026 (a story may add one), and from May its hazard
    figures are the ledger's (the months it submitted), written by the ledger as corrections of what it typed."""
    typed = query(path, TYPED, {"first": BEGINS})
    typed = typed[typed["subsidiary"] == KEPT]
    found = Counter(date(h.found_on.year, h.found_on.month, 1) for h in ledger
                    if h.subsidiary == KEPT and h.found_on >= BEGINS)
    for month, count in zip(typed["month"], typed["found"]):
        assert 0 <= found[month.date()] - count <= 1, (month, found[month.date()], count)
    assert query(path, "SELECT ledger_from FROM subsidiaries WHERE code = $unit",
                 {"unit": KEPT})["ledger_from"][0].date() == LEDGER_FROM
    counted = query(path, "SELECT month, indicator, value FROM observations WHERE subsidiary = $unit "
                          "AND indicator IN ('hazards_found', 'hazards_overdue') AND month >= $first ORDER BY ALL",
                    {"unit": KEPT, "first": LEDGER_FROM})
    for row in counted.itertuples():
        month = row.month.date()
        if row.indicator == "hazards_found":
            assert row.value == found[month], (month, row.value)
    sources = query(path, "SELECT DISTINCT b.source FROM observations o JOIN batches b ON b.id = o.batch_id "
                          "WHERE o.subsidiary = $unit AND o.indicator = 'hazards_rectified' AND o.month >= $first",
                    {"unit": KEPT, "first": LEDGER_FROM})
    assert sources["source"].tolist() == ["ledger"]


def test_the_quiet_power_plant_registers_nothing_in_its_three_quiet_months(ledger):
    """PW01 typed no hazards for August to October: its ledger says the same."""
    assert not [h for h in ledger if h.subsidiary == "PW01" and h.found_on >= date(2026, 8, 1)]


def test_a_few_are_overdue_at_the_end_month_the_slipping_plant_most(ledger):
    overdue = [h for h in ledger if is_overdue(h, TODAY)]
    assert Counter(h.subsidiary for h in overdue) == {"CH01": 3, "CM04": 1, "LG01": 1, "CN02": 1}
    assert {h.state for h in overdue} == {State.RECTIFYING}
    assert not [h for h in ledger if is_overdue(h, TODAY - timedelta(days=400))]


def test_exactly_one_major_hazard_awaits_the_groups_decision_on_its_extension(ledger):
    pending = [h for h in ledger if h.state is State.EXTENSION]
    assert len(pending) == 1
    hazard = pending[0]
    assert (hazard.subsidiary, hazard.level, hazard.criterion, hazard.source) == ("CM02", "major", "coal",
                                                                                  "supervision")
    assert hazard.verifier in GROUP and hazard.contingency
    assert hazard.requested_deadline == hazard.deadline + timedelta(days=40)
    assert hazard.deadline == hazard.original_deadline > TODAY and not is_overdue(hazard, TODAY)


def test_major_hazards_are_few_each_with_its_criterion_clause_and_plan(ledger):
    majors = [h for h in ledger if h.major]
    assert 3 <= len(majors) <= 8 and len(majors) < len(ledger) / 10
    criteria = set(load_vocabulary().codes("criterion"))
    assert all(h.criterion in criteria and h.clause and h.contingency for h in majors)
    assert all(h.verified_by in GROUP for h in majors if h.state is State.CLOSED)


def test_one_sent_back_once_then_closed_one_void_with_reason_and_approver(path, ledger):
    sent = [h for h in ledger if h.sent_back]
    assert [h.sent_back for h in sent] == [1] and sent[0].state is State.CLOSED
    events = query(path, "SELECT action FROM hazard_events WHERE number = $n ORDER BY id", {"n": sent[0].number})
    assert events["action"].tolist() == ["register", "issue", "evidence", "submit", "send_back", "evidence", "submit",
                                         "accept"]
    void = [h for h in ledger if h.state is State.VOID]
    assert len(void) == 1
    assert void[0].void_reason == "经核实与本月已登记的隐患重复，作废" and void[0].void_approver
    assert void[0].void_approver != void[0].owner


def test_every_hazard_went_through_the_steps_with_its_events_and_audit_rows(path, ledger):
    registered = query(path, "SELECT number FROM hazard_events WHERE action = 'register'")["number"]
    assert sorted(registered) == sorted(h.number for h in ledger)
    events = query(path, "SELECT count(*) AS n FROM hazard_events")["n"][0]
    rows = query(path, "SELECT count(*) AS n FROM audit_log WHERE action = 'hazard_change'")["n"][0]
    assert rows == events
    with store.connect(path, read_only=True) as con:
        assert audit.verify(con) == []


def test_every_closed_hazard_has_evidence_kept_and_a_verifier_who_is_not_its_owner(path, ledger):
    closed = [h for h in ledger if h.state is State.CLOSED]
    assert len(closed) > 0.8 * len(ledger)
    evidence = query(path, "SELECT number, sha256, file_name FROM hazard_evidence")
    held = set(evidence["number"])
    for hazard in closed:
        assert hazard.number in held
        assert hazard.verified_by and hazard.verified_by != hazard.owner
        assert hazard.found_on <= hazard.rectified_on <= hazard.verified_on == hazard.closed_on <= TODAY
    for sha256, name in zip(evidence["sha256"], evidence["file_name"]):
        kept = raw_dir(path) / sha256[:2] / f"{sha256}.txt"
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == sha256
        assert name.startswith("整改完成记录-") and "隐患整改完成记录" in kept.read_text(encoding="utf-8")


def test_the_five_fixes_hold_deadlines_a_week_to_a_month_out_and_most_close_on_time(ledger):
    issued = [h for h in ledger if h.original_deadline is not None]
    assert all(7 <= (h.original_deadline - h.found_on).days <= 30 for h in issued)
    assert all(h.owner and h.measures and h.verifier and h.funds is not None for h in issued)
    closed = [h for h in ledger if h.state is State.CLOSED]
    late = [h for h in closed if h.rectified_on > h.deadline]
    assert len(late) < 0.15 * len(closed)
    assert sorted(h.state.value for h in ledger if h.original_deadline is None) == ["registered", "void"]


def test_the_ledger_is_the_same_whenever_the_demo_is_built(path, monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-02T09:00")
    setting = demo.load_setting()
    with store.connect(path, read_only=True) as con:
        first, second = demo.drafts(con, TODAY, setting), demo.drafts(con, TODAY, setting)
    assert first == second and len(first) == len(query(path, "SELECT number FROM hazards"))


def test_a_store_that_holds_hazards_gets_no_second_demo_ledger(path, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    with store.connect(copy) as con:
        before = store.scalar(con, "SELECT count(*) FROM audit_log")
        with pytest.raises(ValueError, match="already holds hazards"):
            demo.fill(con, raw_dir(copy))
        assert store.scalar(con, "SELECT count(*) FROM audit_log") == before
