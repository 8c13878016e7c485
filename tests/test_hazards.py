"""The hazard ledger's closed loop (metrics/ledger/hazards.py through metrics/access.py; docs/rules.md, "9. The
hazard ledger"), on a real DuckDB store of units A, B and C: every step allowed and refused with its reasons,
overdue from the dates alone, an extension keeps the original deadline, the owner cannot verify, a major hazard's
verification and extension are the group's, nothing is ever deleted, and a unit sees only its own hazards."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from metrics import access, store
from metrics.auth.roles import Forbidden, Role, User
from metrics.ledger import hazards
from metrics.ledger.hazards import Change, HazardRefused, NewHazard, State, is_overdue
from metrics.store import audit, backup, raw_files
from metrics.store.raw_files import raw_dir
from tests.builders import memory_store
from tests.statements import every_statement

ADMIN = User("safety", Role.ADMIN)
EXEC = User("boss", Role.EXECUTIVE)
STAFF_A = User("a-staff", Role.UNIT, ("A",))
STAFF_B = User("b-staff", Role.UNIT, ("B",))
OWNER_A = User("王工", Role.UNIT, ("A",))  # the owner named in the five fixes, with an account of their own
FOUND = date(2026, 11, 2)
GUARD = NewHazard("A", "daily", "2号皮带机头", "护罩缺失", "general", "thing", "machinery", FOUND, "李工")
ROOF = NewHazard("A", "supervision", "1201 工作面", "顶板离层超限未处理", "major", "environment", "roof_fall", FOUND,
                 "省局检查组", criterion="coal", clause="第十二条")
FIVE = {"owner": "王工", "measures": "加装护罩并挂牌", "funds": 0.5, "deadline": date(2026, 11, 10),
        "verifier": "赵主任"}


@pytest.fixture()
def con(monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-20T10:00")
    connection = memory_store()
    yield connection
    connection.close()


def change(actor: User, on: date = date(2026, 11, 20), comment: str = "", **values) -> Change:
    return Change(actor.name, on, comment, values)


def issued(con, new: NewHazard = GUARD, **five) -> str:
    number = access.register_hazard(con, STAFF_A, new)
    access.hazard_step(con, STAFF_A, number, "issue", change(STAFF_A, **(FIVE | five)))
    return number


def rectified(con, new: NewHazard = GUARD, **five) -> str:
    number = issued(con, new, **five)
    access.attach_evidence(con, OWNER_A, number, b"photo after", "after.jpg", con_dir(con))
    access.hazard_step(con, OWNER_A, number, "submit", change(OWNER_A, rectified_on=date(2026, 11, 8)))
    return number


_EVIDENCE: list = []


def con_dir(con):
    """This test's evidence folder (set by the autouse fixture below)."""
    return _EVIDENCE[0]


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path):
    _EVIDENCE[:] = [tmp_path / "evidence"]


def refused(call) -> list[str]:
    with pytest.raises(HazardRefused) as caught:
        call()
    return [r.zh for r in caught.value.reasons]


def test_register_numbers_each_unit_and_year_in_sequence(con):
    first = access.register_hazard(con, STAFF_A, GUARD)
    second = access.register_hazard(con, STAFF_A, replace(GUARD, place="3号皮带"))
    other = access.register_hazard(con, STAFF_B, replace(GUARD, subsidiary="B"))
    assert (first, second, other) == ("A-2026-0001", "A-2026-0002", "B-2026-0001")
    found = hazards.get(con, first)
    assert found.state is State.REGISTERED and found.deadline is None and found.sent_back == 0


def test_register_refuses_with_every_reason_and_writes_nothing(con):
    bad = replace(GUARD, source="walkabout", place=" ", level="major", found_on=date(2026, 12, 1))
    assert refused(lambda: access.register_hazard(con, STAFF_A, bad)) == [
        "检查类型“walkabout”不在可选项中（日常检查、定期检查、专项检查、季节性检查、节假日检查、上级督查、第三方咨询）",
        "请填写隐患部位", "重大隐患须注明所依据的判定标准", "重大隐患须注明判定标准的条款", "发现日期晚于今天"]
    assert store.scalar(con, "SELECT count(*) FROM hazards") == 0
    refusal = audit.entries(con).iloc[0]
    assert (refusal["action"], refusal["outcome"], refusal["target"]) == ("hazard_change", "refused", "A-2026-?")


def test_issue_needs_the_five_fixes_and_for_a_major_hazard_a_contingency_plan(con):
    number = access.register_hazard(con, STAFF_A, ROOF)
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "issue", change(STAFF_A, owner="王工"))) == [
        "五定不全：请填写整改责任人、整改措施、整改资金（万元，无资金填 0）、整改期限和验收人",
        "重大隐患须有应急预案（五定之定预案）"]
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "issue", change(
        STAFF_A, **(FIVE | {"verifier": "王工", "deadline": date(2026, 10, 1), "contingency": "撤人、停采"})))) == [
        "验收人不能是整改责任人本人", "整改期限早于发现日期"]
    after = access.hazard_step(con, STAFF_A, number, "issue", change(STAFF_A, **FIVE, contingency="撤人、停采"))
    assert (after.state, after.deadline, after.original_deadline) == (State.RECTIFYING, FIVE["deadline"],
                                                                      FIVE["deadline"])
    assert hazards.get(con, number) == after


def test_submit_needs_evidence_and_a_rectification_day_between_found_and_today(con):
    number = issued(con)
    assert refused(lambda: access.hazard_step(con, OWNER_A, number, "submit",
                                              change(OWNER_A, rectified_on=date(2026, 11, 21)))) == [
        "没有整改证据：请先上传整改后的照片或文件", "整改完成日期须在发现日期与今天之间"]
    sha = access.attach_evidence(con, OWNER_A, number, b"photo after", "after.jpg", con_dir(con))
    assert access.attach_evidence(con, OWNER_A, number, b"photo after", "again.jpg", con_dir(con)) == sha
    assert len(hazards.evidence(con, number)) == 1  # the same file attached twice is attached once
    kept = con_dir(con) / sha[:2] / f"{sha}.jpg"
    assert kept.read_bytes() == b"photo after" and not kept.stat().st_mode & 0o222  # write-once
    after = access.hazard_step(con, OWNER_A, number, "submit", change(OWNER_A, rectified_on=date(2026, 11, 8)))
    assert (after.state, after.rectified_on) == (State.AWAITING, date(2026, 11, 8))
    assert refused(lambda: access.attach_evidence(con, OWNER_A, number, b"late", "late.jpg", con_dir(con))) == [
        "只有登记或整改中的隐患可以添加整改证据"]


def test_the_owner_cannot_verify_and_a_sent_back_hazard_is_counted(con):
    number = rectified(con)
    assert refused(lambda: access.hazard_step(con, OWNER_A, number, "accept",
                                              change(OWNER_A, verified_on=date(2026, 11, 9)))) == [
        "整改责任人不能验收本人负责的隐患"]
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "send_back", change(STAFF_A))) == [
        "退回须写明原因"]
    back = access.hazard_step(con, STAFF_A, number, "send_back", change(STAFF_A, comment="护罩未固定"))
    assert (back.state, back.sent_back, back.rectified_on) == (State.RECTIFYING, 1, None)
    access.hazard_step(con, OWNER_A, number, "submit", change(OWNER_A, rectified_on=date(2026, 11, 12)))
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "accept",
                                              change(STAFF_A, verified_on=date(2026, 11, 11)))) == [
        "验收日期须在整改完成日期与今天之间"]
    closed = access.hazard_step(con, STAFF_A, number, "accept",
                                change(STAFF_A, comment="复查合格", verified_on=date(2026, 11, 13)))
    assert (closed.state, closed.verified_by, closed.closed_on, closed.result, closed.sent_back) == (
        State.CLOSED, "a-staff", date(2026, 11, 13), "复查合格", 1)
    steps = hazards.events(con, number)
    assert list(zip(steps["action"], steps["from_state"].fillna("-"), steps["to_state"])) == [
        ("register", "-", "registered"), ("issue", "registered", "rectifying"),
        ("evidence", "rectifying", "rectifying"), ("submit", "rectifying", "awaiting_verification"),
        ("send_back", "awaiting_verification", "rectifying"), ("submit", "rectifying", "awaiting_verification"),
        ("accept", "awaiting_verification", "closed")]
    assert list(steps["actor"]) == ["a-staff", "a-staff", "王工", "王工", "a-staff", "王工", "a-staff"]


def test_a_closed_hazard_takes_no_further_step(con):
    number = rectified(con)
    access.hazard_step(con, STAFF_A, number, "accept", change(STAFF_A, verified_on=date(2026, 11, 9)))
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "send_back", change(
        STAFF_A, comment="再看看"))) == ["隐患处于“已销号”，只有处于“待验收”的隐患可以验收不通过，退回整改"]


def test_overdue_comes_from_the_dates_alone(con):
    number = issued(con)  # deadline 10 November
    found = hazards.get(con, number)
    assert not is_overdue(found, date(2026, 11, 10)) and is_overdue(found, date(2026, 11, 11))
    assert hazards.days_over(found, date(2026, 11, 20)) == 10
    ledger = access.hazard_ledger(con, ADMIN, date(2026, 11, 20))
    assert int(ledger.rows.set_index("number").loc[number, "days_over"]) == 10
    assert (list(ledger.overdue["number"]), ledger.overdue_count) == ([number], 1)
    registered = access.register_hazard(con, STAFF_A, replace(GUARD, place="配电室"))
    assert not is_overdue(hazards.get(con, registered), date(2027, 1, 1))  # no deadline yet: not overdue


def test_a_general_extension_moves_the_deadline_and_keeps_the_original(con):
    number = issued(con)
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "extend", change(
        STAFF_A, deadline=date(2026, 11, 5), approver="王工"))) == [
        "延期须写明原因", "新的整改期限须晚于现在的期限", "批准人不能是整改责任人本人"]
    after = access.hazard_step(con, STAFF_A, number, "extend", change(
        STAFF_A, comment="备件未到", deadline=date(2026, 11, 30), approver="矿长"))
    assert (after.deadline, after.original_deadline, after.extensions) == (date(2026, 11, 30), date(2026, 11, 10), 1)
    assert not is_overdue(after, date(2026, 11, 20))
    assert access.hazard_step(con, STAFF_A, number, "update", change(
        STAFF_A, deadline=date(2026, 12, 31), measures="加装护罩")).deadline == date(2026, 11, 30)


def test_a_major_extension_waits_for_the_group_and_the_group_verifies(con):
    number = issued(con, ROOF, contingency="撤人、停采")
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "extend", change(
        STAFF_A, comment="支护材料未到", deadline=date(2026, 11, 30), approver="矿长"))) == [
        "重大隐患的延期须报集团审批"]
    pending = access.hazard_step(con, STAFF_A, number, "request_extension", change(
        STAFF_A, comment="支护材料未到", deadline=date(2026, 11, 30)))
    assert (pending.state, pending.deadline, pending.requested_deadline) == (
        State.EXTENSION, date(2026, 11, 10), date(2026, 11, 30))
    assert is_overdue(pending, date(2026, 11, 20))  # a request is not an approval
    with pytest.raises(Forbidden) as caught:
        access.hazard_step(con, STAFF_A, number, "approve_extension", change(STAFF_A))
    assert caught.value.message("zh") == "重大隐患的验收、销号和延期由集团安全部审批。如需权限请联系集团安全部。"
    approved = access.hazard_step(con, ADMIN, number, "approve_extension", change(ADMIN, comment="同意"))
    assert (approved.state, approved.deadline, approved.original_deadline, approved.extensions) == (
        State.RECTIFYING, date(2026, 11, 30), date(2026, 11, 10), 1)
    access.attach_evidence(con, OWNER_A, number, b"report", "report.pdf", con_dir(con))
    access.hazard_step(con, OWNER_A, number, "submit", change(OWNER_A, rectified_on=date(2026, 11, 18)))
    with pytest.raises(Forbidden):
        access.hazard_step(con, STAFF_A, number, "accept", change(STAFF_A, verified_on=date(2026, 11, 19)))
    closed = access.hazard_step(con, ADMIN, number, "accept", change(ADMIN, verified_on=date(2026, 11, 19)))
    assert (closed.state, closed.verified_by) == (State.CLOSED, "safety")


def test_void_needs_a_reason_and_an_approver_and_deletes_nothing(con):
    number = issued(con)
    assert refused(lambda: access.hazard_step(con, STAFF_A, number, "void", change(STAFF_A))) == [
        "作废须写明原因", "作废须有批准人"]
    void = access.hazard_step(con, STAFF_A, number, "void", change(STAFF_A, comment="与 A-2026-0002 重复",
                                                                    approver="安全科长"))
    assert (void.state, void.void_reason, void.void_approver) == (State.VOID, "与 A-2026-0002 重复", "安全科长")
    assert not is_overdue(void, date(2027, 1, 1))
    assert store.scalar(con, "SELECT count(*) FROM hazards") == 1


def test_no_statement_deletes_or_updates_a_hazard_event_or_deletes_a_hazard():
    for name, text in every_statement().items():
        flat = " ".join(text.split()).upper()
        assert "DELETE FROM HAZARD" not in flat, name
        assert "UPDATE HAZARD_EVENTS" not in flat and "UPDATE HAZARD_EVIDENCE" not in flat, name


def test_a_unit_sees_and_changes_only_its_own_hazards_and_an_executive_only_reads(con):
    mine = access.register_hazard(con, STAFF_A, GUARD)
    theirs = access.register_hazard(con, STAFF_B, replace(GUARD, subsidiary="B"))
    assert list(access.hazard_ledger(con, STAFF_A, date(2026, 11, 20)).rows["number"]) == [mine]
    assert set(access.hazard_ledger(con, EXEC, date(2026, 11, 20)).rows["number"]) == {mine, theirs}
    b_only = hazards.LedgerFilter(units=("B",))  # a unit user's filter cannot reach past their own units
    assert access.hazard_ledger(con, STAFF_A, date(2026, 11, 20), b_only).shown == 0
    assert (access.hazard_span(con, STAFF_A).total, access.hazard_span(con, EXEC).total) == (1, 2)
    with pytest.raises(Forbidden):
        access.hazard_record(con, STAFF_A, theirs)
    with pytest.raises(Forbidden):
        access.hazard_step(con, STAFF_A, theirs, "issue", change(STAFF_A, **FIVE))
    with pytest.raises(Forbidden) as caught:
        access.register_hazard(con, EXEC, GUARD)
    assert caught.value.message("zh") == "领导账号只读，不能修改隐患台账。如需权限请联系集团安全部。"
    denied = audit.entries(con)
    assert list(denied.loc[denied["action"] == "access_denied", "target"]) == ["hazard of A", f"hazard {theirs}"]
    found, steps, files = access.hazard_record(con, EXEC, theirs)
    assert (found.subsidiary, list(steps["action"]), len(files)) == ("B", ["register"], 0)


def test_every_step_is_on_the_audit_trail_with_its_outcome(con):
    number = rectified(con)
    with pytest.raises(HazardRefused):
        access.hazard_step(con, OWNER_A, number, "accept", change(OWNER_A, verified_on=date(2026, 11, 9)))
    rows = audit.entries(con).sort_values("id")
    mine = rows[rows["action"] == "hazard_change"]
    assert list(zip(mine["target"], mine["outcome"])) == [(number, "ok")] * 4 + [(number, "refused")]
    assert audit.verify(con) == []


def test_evidence_is_kept_beside_the_uploads_survives_their_clean_up_and_is_in_a_backup(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-20T10:00")
    path = tmp_path / "store.duckdb"
    with store.connect(path) as con:
        store.migrate(con)
        store.load_reference_data(con)
        store.upsert_units(con, pd.DataFrame([("A", "甲煤矿", "Mine A", "coal")],
                                             columns=["code", "name_zh", "name_en", "sector"]), actor="test")
        number = access.register_hazard(con, STAFF_A, GUARD)
        sha = access.attach_evidence(con, STAFF_A, number, b"photo after", "after.jpg", raw_dir(path))
        (raw_dir(path) / "ab").mkdir()
        (raw_dir(path) / "ab" / f"ab{'0' * 62}.csv").write_bytes(b"a rejected upload")
        assert raw_files.drop_unnamed_raw_files(con, raw_dir(path)) == 1  # the rejected upload's file goes
    assert (raw_dir(path) / sha[:2] / f"{sha}.jpg").read_bytes() == b"photo after"
    made = backup.backup(path, tmp_path / "backups", actor="test")
    assert made.raw_files == 1 and made.tables["hazard_evidence"] == 1 and made.tables["hazards"] == 1
    assert (made.path / "raw" / sha[:2] / f"{sha}.jpg").read_bytes() == b"photo after"


def test_the_ledger_table_judges_overdue_as_each_hazard_does(con):
    """The ledger list's days over (SQL, a whole table at once) equal days_over of each hazard, and its overdue list
    holds exactly the hazards is_overdue says are, for every state, on the deadline, the day after and later."""
    issued(con)  # being rectified, deadline 10 November
    access.register_hazard(con, STAFF_A, replace(GUARD, place="配电室"))  # no deadline
    closed = rectified(con, replace(GUARD, place="3号皮带"))
    access.hazard_step(con, STAFF_A, closed, "accept", change(STAFF_A, verified_on=date(2026, 11, 9)))
    awaiting = rectified(con, replace(GUARD, place="4号皮带"))
    void = issued(con, replace(GUARD, place="5号皮带"))
    access.hazard_step(con, STAFF_A, void, "void", change(STAFF_A, comment="重复", approver="科长"))
    every = hazards.hazards(con)
    for day in (date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 20)):
        ledger = access.hazard_ledger(con, ADMIN, day)
        assert ledger.rows.set_index("number")["days_over"].to_dict() == {h.number: hazards.days_over(h, day)
                                                                          for h in every}
        assert set(ledger.overdue["number"]) == {h.number for h in every if is_overdue(h, day)}
        assert ledger.overdue_count == len(ledger.overdue)
    assert access.hazard_ledger(con, ADMIN, date(2026, 11, 20)).rows.set_index("number")["days_over"].to_dict()[
        awaiting] == 10
    on_the_day = access.hazard_ledger(con, ADMIN, date(2026, 11, 10))
    assert (on_the_day.overdue_count, len(on_the_day.rows)) == (0, 5)  # due on the 10th: not yet over that day


def four_hazards(con) -> None:
    """On 20 November (found on, deadline, days over on the 20th):
    A-2026-0001 general, being rectified, daily, found 11-02, deadline 11-10: 10 days over;
    A-2026-0002 major, registered, supervision, found 11-02, no deadline;
    B-2026-0001 general, being rectified, consultancy, found 11-15, deadline 11-30: not over;
    A-2026-0003 general, being rectified, daily, found 11-05, deadline 11-12: 8 days over, one evidence file."""
    issued(con)
    access.register_hazard(con, STAFF_A, ROOF)
    theirs = access.register_hazard(con, ADMIN, replace(GUARD, subsidiary="B", source="consultancy",
                                                        found_on=date(2026, 11, 15), place="装车站台"))
    access.hazard_step(con, ADMIN, theirs, "issue", change(ADMIN, **(FIVE | {"deadline": date(2026, 11, 30)})))
    third = issued(con, replace(GUARD, place="配电室", found_on=date(2026, 11, 5)), deadline=date(2026, 11, 12))
    access.attach_evidence(con, OWNER_A, third, b"photo after", "after.jpg", con_dir(con))


@pytest.mark.parametrize("keep, shown, overdue", [
    (hazards.EVERY_HAZARD, ["B-2026-0001", "A-2026-0003", "A-2026-0002", "A-2026-0001"],
     ["A-2026-0001", "A-2026-0003"]),
    (hazards.LedgerFilter(units=("A",)), ["A-2026-0003", "A-2026-0002", "A-2026-0001"],
     ["A-2026-0001", "A-2026-0003"]),
    (hazards.LedgerFilter(levels=("major",)), ["A-2026-0002"], []),
    (hazards.LedgerFilter(states=("rectifying",)), ["B-2026-0001", "A-2026-0003", "A-2026-0001"],
     ["A-2026-0001", "A-2026-0003"]),
    (hazards.LedgerFilter(sources=("consultancy", "supervision")), ["B-2026-0001", "A-2026-0002"], []),
    (hazards.LedgerFilter(overdue=True), ["A-2026-0003", "A-2026-0001"], ["A-2026-0001", "A-2026-0003"]),
    # days since found on the 20th: B-0001 5, A-0003 15, A-0002 and A-0001 18
    (hazards.LedgerFilter(age=(5, 15)), ["B-2026-0001", "A-2026-0003"], ["A-2026-0003"]),
    (hazards.LedgerFilter(age=(16, 30)), ["A-2026-0002", "A-2026-0001"], ["A-2026-0001"]),
    (hazards.LedgerFilter(numbers=("A-2026-0002", "B-2026-0001", "Z-2026-0001")), ["B-2026-0001", "A-2026-0002"],
     []),
    (hazards.LedgerFilter(numbers=()), [], []),  # a figure with no hazard behind it: none, not every one
    (hazards.LedgerFilter(units=("A",), overdue=True, age=(0, 16)), ["A-2026-0003"], ["A-2026-0003"]),
])
def test_the_ledger_list_is_filtered_and_ordered_in_sql(con, keep, shown, overdue):
    four_hazards(con)
    listed = access.hazard_ledger(con, ADMIN, date(2026, 11, 20), keep)
    assert (list(listed.rows["number"]), list(listed.overdue["number"])) == (shown, overdue)
    assert (listed.shown, listed.overdue_count) == (len(shown), len(overdue))
    assert listed.major == ("A-2026-0002" in shown)


def test_the_ledger_list_reads_the_pages_columns_counts_past_its_rows_and_spans_the_ledger(con):
    four_hazards(con)
    listed = access.hazard_ledger(con, ADMIN, date(2026, 11, 20), limit=1)
    assert (list(listed.rows["number"]), list(listed.overdue["number"])) == (["B-2026-0001"], ["A-2026-0001"])
    assert (listed.shown, listed.overdue_count, listed.major) == (4, 2, 1)  # counted whole, read in part
    assert list(listed.rows.columns) == hazards.LEDGER_COLUMNS
    row = access.hazard_ledger(con, ADMIN, date(2026, 11, 20)).rows.set_index("number").loc["A-2026-0003"]
    assert (row["name_zh"], row["name_en"], row["place"], row["owner"], int(row["evidence"]),
            int(row["days_over"])) == ("甲煤矿", "Mine A", "配电室", "王工", 1, 8)
    earlier = access.hazard_ledger(con, ADMIN, date(2026, 11, 11))  # A-0001 one day over, A-0003 due the 12th
    assert earlier.overdue.set_index("number")["days_over"].to_dict() == {"A-2026-0001": 1}
    assert access.hazard_span(con, ADMIN) == hazards.LedgerSpan(4, date(2026, 11, 2))
    assert access.hazard_span(con, User("c-staff", Role.UNIT, ("C",))) == hazards.LedgerSpan(0, None)
