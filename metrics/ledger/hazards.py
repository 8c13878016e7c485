"""The hazard ledger (隐患台账): each hazard as a record, and its closed loop.

登记 (registered) → 整改中 (rectifying, once its 五定 are set: owner, measures, funds, deadline, and for a major
hazard a contingency plan) → 待验收 (awaiting verification, once rectified with evidence) → 已销号 (closed, verified
by someone other than its owner). A verifier may send it back (退回: rectifying again, counted); a major hazard's
extension waits for the group (延期待批); a hazard entered in error is void (作废) with its reason and approver.
Nothing is deleted.

Each step is declared once in STEPS, with the states it starts from, the state it leads to and the checks it
must pass, each check with the sentence a refusal reads. A step that fails a check changes nothing and raises
HazardRefused with every reason. A step that passes writes the hazard, one append-only event (who, when, from →
to, comment) and one audit row, in one transaction. Overdue is computed from the dates (`is_overdue`), never
set by hand. Who may take a step (a unit's own staff, the group for a major hazard) is metrics/access.py's.
Rules: docs/rules.md, "9. The hazard ledger".
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from metrics import store
from metrics.core import clock
from metrics.core.text import Text
from metrics.ledger.vocabulary import Vocabulary, load_vocabulary
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action
from metrics.store.raw_files import keep_raw_file

SELECT_HAZARD = "SELECT * FROM hazards WHERE number = $number"
NEXT_SEQUENCE = """
SELECT coalesce(max(sequence), 0) + 1 FROM hazards WHERE subsidiary = $subsidiary AND year = $year
"""
INSERT_HAZARD = "INSERT INTO hazards BY NAME SELECT * FROM incoming"
UPDATE_HAZARD = """
UPDATE hazards SET owner = $owner, measures = $measures, funds = $funds, deadline = $deadline,
    deadline_since = $deadline_since,
    original_deadline = $original_deadline, contingency = $contingency, verifier = $verifier, state = $state,
    requested_deadline = $requested_deadline, rectified_on = $rectified_on, verified_on = $verified_on,
    verified_by = $verified_by, closed_on = $closed_on, result = $result, sent_back = $sent_back,
    extensions = $extensions, void_reason = $void_reason, void_approver = $void_approver, updated_at = $updated_at
WHERE number = $number
"""
INSERT_EVENT = """
INSERT INTO hazard_events (id, number, happened_at, actor, action, from_state, to_state, comment, detail)
VALUES (nextval('hazard_event_ids'), $number, $at, $actor, $action, $from_state, $to_state, $comment, $detail)
RETURNING id
"""
INSERT_DEADLINE = """
INSERT INTO hazard_deadlines VALUES ($number, $effective_from, $deadline, $event_id)
"""
SELECT_EVENTS = """
SELECT id, happened_at, actor, action, from_state, to_state, comment, detail FROM hazard_events
WHERE number = $number ORDER BY id
"""
INSERT_EVIDENCE = """
INSERT INTO hazard_evidence VALUES ($number, $sha256, $file_name, $bytes, $at, $actor)
ON CONFLICT DO NOTHING
"""
SELECT_EVIDENCE = """
SELECT sha256, file_name, bytes, added_at, added_by FROM hazard_evidence WHERE number = $number ORDER BY added_at
"""
COUNT_EVIDENCE = "SELECT count(*) FROM hazard_evidence WHERE number = $number"
# Every hazard of `units` (NULL: every unit), newest first, with what the ledger page and its filters need.
SELECT_HAZARDS = """
SELECT h.*, u.name_zh, u.name_en,
       (SELECT count(*) FROM hazard_evidence e WHERE e.number = h.number) AS evidence
FROM hazards h JOIN subsidiaries u ON u.code = h.subsidiary
WHERE $units IS NULL OR list_contains(CAST($units AS VARCHAR[]), h.subsidiary)
ORDER BY h.found_on DESC, h.number DESC
"""


class State(str, Enum):
    REGISTERED = "registered"
    RECTIFYING = "rectifying"
    AWAITING = "awaiting_verification"
    EXTENSION = "extension_pending"
    CLOSED = "closed"
    VOID = "void"


STATE_NAMES = {
    State.REGISTERED: Text("登记", "Registered"),
    State.RECTIFYING: Text("整改中", "Being rectified"),
    State.AWAITING: Text("待验收", "Awaiting verification"),
    State.EXTENSION: Text("延期待批", "Extension awaiting approval"),
    State.CLOSED: Text("已销号", "Closed"),
    State.VOID: Text("作废", "Void"),
}
OPEN = frozenset({State.REGISTERED, State.RECTIFYING, State.AWAITING, State.EXTENSION})
MAJOR = "major"


class HazardRefused(ValueError):
    """A step the hazard's rules do not allow; nothing was changed. Carries every reason, in both languages."""

    def __init__(self, number: str, reasons: list[Text]) -> None:
        super().__init__(f"hazard {number}: " + "; ".join(r.en for r in reasons))
        self.number, self.reasons = number, reasons

    def message(self, lang: str) -> str:
        head = f"隐患 {self.number}：" if lang == "zh" else f"Hazard {self.number}: "
        return head + ("；" if lang == "zh" else "; ").join(r.in_(lang) for r in self.reasons)


@dataclass(frozen=True)
class Hazard:
    """One hazard as the ledger holds it (the columns of `hazards`)."""
    number: str
    subsidiary: str
    year: int
    sequence: int
    source: str
    place: str
    description: str
    level: str
    factor: str
    accident_type: str
    found_on: date
    found_by: str
    state: State
    created_at: datetime
    updated_at: datetime
    inspection_id: int | None = None
    criterion: str | None = None
    clause: str | None = None
    owner: str | None = None
    measures: str | None = None
    funds: float | None = None
    deadline: date | None = None
    deadline_since: date | None = None
    """The day the current deadline took effect (hazard_deadlines keeps every earlier one)."""
    original_deadline: date | None = None
    contingency: str | None = None
    verifier: str | None = None
    requested_deadline: date | None = None
    rectified_on: date | None = None
    verified_on: date | None = None
    verified_by: str | None = None
    closed_on: date | None = None
    result: str | None = None
    sent_back: int = 0
    extensions: int = 0
    void_reason: str | None = None
    void_approver: str | None = None

    @property
    def major(self) -> bool:
        return self.level == MAJOR


@dataclass(frozen=True)
class NewHazard:
    """What registering a hazard takes (登记). The 五定 may come with it or be set before it is issued."""
    subsidiary: str
    source: str
    place: str
    description: str
    level: str
    factor: str
    accident_type: str
    found_on: date
    found_by: str
    criterion: str | None = None
    clause: str | None = None
    inspection_id: int | None = None
    owner: str | None = None
    measures: str | None = None
    funds: float | None = None
    deadline: date | None = None
    contingency: str | None = None
    verifier: str | None = None


@dataclass(frozen=True)
class Change:
    """What a step brings: the acting person's name, the day it happened, a comment, and the fields it sets."""
    actor: str
    on: date
    comment: str = ""
    values: dict = field(default_factory=dict)
    evidence: int = 0
    """How many evidence files the hazard holds (read by `take`)."""

    def get(self, name: str):
        return self.values.get(name)


def is_overdue(hazard: Hazard, as_of: date) -> bool:
    """Open and past its current deadline at the end of `as_of` (an extension moves the deadline; a request
    still waiting for approval does not)."""
    return hazard.state in OPEN and hazard.deadline is not None and as_of > hazard.deadline


def days_over(hazard: Hazard, as_of: date) -> int:
    """Days past the deadline at `as_of` (0: not overdue)."""
    return (as_of - hazard.deadline).days if is_overdue(hazard, as_of) and hazard.deadline else 0


# The checks a step must pass. Each returns True when the hazard and the change FAIL it.
Fails = Callable[[Hazard, Change], bool]


@dataclass(frozen=True)
class Check:
    reason: Text
    fails: Fails


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _merged(hazard: Hazard, change: Change, name: str):
    """The value `name` has once the change is made (the change's, else the hazard's)."""
    return change.get(name) if name in change.values else getattr(hazard, name)


def _five_fixes_missing(hazard: Hazard, change: Change) -> bool:
    return any(_blank(_merged(hazard, change, n)) for n in ("owner", "measures", "deadline", "verifier")) \
        or _merged(hazard, change, "funds") is None


def _verifier_is_owner(hazard: Hazard, change: Change) -> bool:
    owner, verifier = _merged(hazard, change, "owner"), _merged(hazard, change, "verifier")
    return not _blank(owner) and not _blank(verifier) and _same_person(owner, verifier)


def _same_person(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _deadline_before_found(hazard: Hazard, change: Change) -> bool:
    deadline = _merged(hazard, change, "deadline")
    return deadline is not None and deadline < hazard.found_on


def _no_contingency(hazard: Hazard, change: Change) -> bool:
    return hazard.major and _blank(_merged(hazard, change, "contingency"))


def _negative_funds(hazard: Hazard, change: Change) -> bool:
    funds = _merged(hazard, change, "funds")
    return funds is not None and funds < 0


def _no_evidence(hazard: Hazard, change: Change) -> bool:
    return change.evidence == 0


def _rectified_out_of_range(hazard: Hazard, change: Change) -> bool:
    done = change.get("rectified_on")
    return done is None or done < hazard.found_on or done > change.on


def _actor_is_owner(hazard: Hazard, change: Change) -> bool:
    return _same_person(change.actor, hazard.owner)


def _verified_before_rectified(hazard: Hazard, change: Change) -> bool:
    verified = change.get("verified_on")
    return verified is None or (hazard.rectified_on is not None and verified < hazard.rectified_on) \
        or verified > change.on


def _no_comment(hazard: Hazard, change: Change) -> bool:
    return _blank(change.comment)


def _extension_not_later(hazard: Hazard, change: Change) -> bool:
    new = change.get("deadline")
    return new is None or hazard.deadline is None or new <= hazard.deadline


def _no_approver(hazard: Hazard, change: Change) -> bool:
    return _blank(change.get("approver"))


def _approver_is_owner(hazard: Hazard, change: Change) -> bool:
    return _same_person(change.get("approver"), hazard.owner)


def _not_major(hazard: Hazard, change: Change) -> bool:
    return not hazard.major


def _is_major(hazard: Hazard, change: Change) -> bool:
    return hazard.major


NOT_FOUND = Text("台账中没有这个编号的隐患", "the ledger holds no hazard with this number")
NO_FIVE_FIXES = Check(Text("五定不全：请填写整改责任人、整改措施、整改资金（万元，无资金填 0）、整改期限和验收人",
                           "the five fixes are incomplete: give the owner, the measures, the funds (10k yuan; 0 if "
                           "none), the deadline and the verifier"), _five_fixes_missing)
VERIFIER_IS_OWNER = Check(Text("验收人不能是整改责任人本人", "the verifier cannot be the owner"), _verifier_is_owner)
DEADLINE_BEFORE_FOUND = Check(Text("整改期限早于发现日期", "the deadline is before the day the hazard was found"),
                              _deadline_before_found)
NO_CONTINGENCY = Check(Text("重大隐患须有应急预案（五定之定预案）",
                            "a major hazard needs a contingency plan"), _no_contingency)
NEGATIVE_FUNDS = Check(Text("整改资金不能为负数", "the funds cannot be negative"), _negative_funds)


@dataclass(frozen=True)
class Step:
    """One step of the loop: its name, the states it starts from, the state it leads to (None: stays) and its
    checks, in the order their reasons are read."""
    action: str
    name: Text
    sources: frozenset[State]
    target: State | None
    checks: tuple[Check, ...]


STEPS: dict[str, Step] = {s.action: s for s in (
    Step("update", Text("修改五定", "Update the five fixes"), frozenset({State.REGISTERED, State.RECTIFYING}), None,
         (VERIFIER_IS_OWNER, DEADLINE_BEFORE_FOUND, NEGATIVE_FUNDS)),
    Step("issue", Text("下达整改", "Issue for rectification"), frozenset({State.REGISTERED}), State.RECTIFYING,
         (NO_FIVE_FIXES, NO_CONTINGENCY, VERIFIER_IS_OWNER, DEADLINE_BEFORE_FOUND, NEGATIVE_FUNDS)),
    Step("submit", Text("整改完成，提交验收", "Rectified: submit for verification"), frozenset({State.RECTIFYING}),
         State.AWAITING,
         (Check(Text("没有整改证据：请先上传整改后的照片或文件", "no evidence: attach a photo or a document of the "
                     "rectification first"), _no_evidence),
          Check(Text("整改完成日期须在发现日期与今天之间", "the day it was rectified must be between the day it was "
                     "found and today"), _rectified_out_of_range))),
    Step("accept", Text("验收通过，销号", "Verified: close"), frozenset({State.AWAITING}), State.CLOSED,
         (Check(Text("整改责任人不能验收本人负责的隐患", "the owner cannot verify their own hazard"), _actor_is_owner),
          Check(Text("验收日期须在整改完成日期与今天之间", "the day of verification must be between the day it was "
                     "rectified and today"), _verified_before_rectified))),
    Step("send_back", Text("验收不通过，退回整改", "Not verified: send back"), frozenset({State.AWAITING}),
         State.RECTIFYING,
         (Check(Text("整改责任人不能验收本人负责的隐患", "the owner cannot verify their own hazard"), _actor_is_owner),
          Check(Text("退回须写明原因", "give the reason it is sent back"), _no_comment))),
    Step("extend", Text("延期", "Extend the deadline"), frozenset({State.RECTIFYING}), None,
         (Check(Text("重大隐患的延期须报集团审批", "a major hazard's extension is approved by the group"), _is_major),
          Check(Text("延期须写明原因", "give the reason for the extension"), _no_comment),
          Check(Text("新的整改期限须晚于现在的期限", "the new deadline must be later than the current one"),
                _extension_not_later),
          Check(Text("延期须有批准人", "name who approved the extension"), _no_approver),
          Check(Text("批准人不能是整改责任人本人", "the approver cannot be the owner"), _approver_is_owner))),
    Step("request_extension", Text("申请延期（重大隐患，报集团审批）", "Ask the group for an extension (major hazard)"),
         frozenset({State.RECTIFYING}), State.EXTENSION,
         (Check(Text("只有重大隐患的延期报集团审批", "only a major hazard's extension goes to the group"),
                _not_major),
          Check(Text("延期须写明原因", "give the reason for the extension"), _no_comment),
          Check(Text("新的整改期限须晚于现在的期限", "the new deadline must be later than the current one"),
                _extension_not_later))),
    Step("approve_extension", Text("批准延期", "Approve the extension"), frozenset({State.EXTENSION}),
         State.RECTIFYING, ()),
    Step("reject_extension", Text("不批准延期", "Refuse the extension"), frozenset({State.EXTENSION}),
         State.RECTIFYING, (Check(Text("不批准须写明原因", "give the reason the extension is refused"),
                                  _no_comment),)),
    Step("void", Text("作废", "Void"), OPEN, State.VOID,
         (Check(Text("作废须写明原因", "give the reason it is void"), _no_comment),
          Check(Text("作废须有批准人", "name who approved voiding it"), _no_approver))),
)}
"""Every step of the loop; `take` walks a step's checks and refuses with every reason that applies."""
GENERAL_EXTENSION = "extend"
MAJOR_EXTENSION = "request_extension"


def _hazard(row: dict) -> Hazard:
    names = {f.name for f in fields(Hazard)}
    values: dict[str, Any] = {k: (None if _missing(v) else v) for k, v in row.items() if k in names}
    for name in ("found_on", "deadline", "deadline_since", "original_deadline", "requested_deadline", "rectified_on",
                 "verified_on", "closed_on"):
        if values.get(name) is not None:
            values[name] = pd.Timestamp(values[name]).date()
    for name in ("created_at", "updated_at"):
        values[name] = pd.Timestamp(values[name]).to_pydatetime()
    for name in ("year", "sequence", "sent_back", "extensions"):
        values[name] = int(values[name] or 0)
    if values.get("inspection_id") is not None:
        values["inspection_id"] = int(values["inspection_id"])
    if values.get("funds") is not None:
        values["funds"] = float(values["funds"])
    values["state"] = State(values["state"])
    return Hazard(**values)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def get(con: Connection, number: str) -> Hazard | None:
    """One hazard, read as a row (every step reads its hazard: a DataFrame for one row costs more than the step)."""
    cursor = con.execute(SELECT_HAZARD, {"number": number})
    row = cursor.fetchone()
    return None if row is None else _hazard(dict(zip([d[0] for d in cursor.description], row)))


def hazards(con: Connection, units: Iterable[str] | None = None) -> list[Hazard]:
    """Every hazard of `units` (None: every unit), the newest found first."""
    frame = store.query(con, SELECT_HAZARDS, {"units": None if units is None else list(units)})
    return [_hazard(row) for row in frame.to_dict("records")]


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger page's list keeps; an empty choice restricts nothing. `age`: days since found at the
    list's day, both ends included; `numbers`: only these hazards (the ones behind a figure), None: any."""
    units: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    overdue: bool = False
    age: tuple[int, int] | None = None
    numbers: tuple[str, ...] | None = None


EVERY_HAZARD = LedgerFilter()
"""The filter that keeps every hazard."""


@dataclass(frozen=True)
class LedgerList:
    """The ledger page's list at a day: the first rows of the hazards the filter keeps, newest found first, and
    of the overdue ones among them, most days over first (LEDGER_COLUMNS each); how many it keeps, how many of
    those are overdue and how many major."""
    rows: pd.DataFrame
    overdue: pd.DataFrame
    shown: int
    overdue_count: int
    major: int


@dataclass(frozen=True)
class LedgerSpan:
    """How many hazards a ledger holds and the day the earliest was found (None: it holds none)."""
    total: int
    first_found: date | None


LIST_ROWS = 2000
"""A list reads at most this many rows (a ledger of a million hazards is filtered and counted whole, drawn in
part)."""


LEDGER_COLUMNS = ["number", "subsidiary", "name_zh", "name_en", "source", "place", "description", "level", "state",
                  "owner", "deadline", "found_on", "evidence", "days_over"]
# The hazards of $visible (NULL: every unit) with `keep`, whether the page's filters keep them ($units, $levels,
# $states, $sources, $numbers: lists, NULL: any; $found_from, $found_to: days, NULL: open-ended; $overdue: only
# the overdue ones), and `days_over` at $as_of: the rule of `is_overdue` and `days_over` (open, $open, and past
# its current deadline at the end of the day; 0 otherwise), which tests/test_hazards.py holds equal to them.
_LEDGER = """
WITH judged AS (
    SELECT h.number, h.subsidiary, h.source, h.place, h.description, h.level, h.state, h.owner, h.deadline,
           h.found_on,
           CASE WHEN list_contains(CAST($open AS VARCHAR[]), h.state) AND h.deadline < CAST($as_of AS DATE)
                THEN date_diff('day', h.deadline, CAST($as_of AS DATE)) ELSE 0 END AS days_over
    FROM hazards h
    WHERE $visible IS NULL OR list_contains(CAST($visible AS VARCHAR[]), h.subsidiary)
),
visible AS (
    SELECT *,
           ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
           AND ($levels IS NULL OR list_contains(CAST($levels AS VARCHAR[]), level))
           AND ($states IS NULL OR list_contains(CAST($states AS VARCHAR[]), state))
           AND ($sources IS NULL OR list_contains(CAST($sources AS VARCHAR[]), source))
           AND ($found_from IS NULL OR found_on >= CAST($found_from AS DATE))
           AND ($found_to IS NULL OR found_on <= CAST($found_to AS DATE))
           AND ($numbers IS NULL OR number IN (SELECT unnest(CAST($numbers AS VARCHAR[]))))
           AND (NOT $overdue OR days_over > 0) AS keep
    FROM judged
)
"""
LEDGER_COUNTS = _LEDGER + """
SELECT count(*) AS shown, count(*) FILTER (WHERE days_over > 0) AS overdue,
       count(*) FILTER (WHERE level = $major) AS major
FROM visible WHERE keep
"""
LEDGER_SPAN = """
SELECT count(*) AS total, min(found_on) AS first_found FROM hazards
WHERE $visible IS NULL OR list_contains(CAST($visible AS VARCHAR[]), subsidiary)
"""
# The first $limit hazards kept in each of the page's two lists, in the list's order (`overdue_list`: the overdue
# ones, most days over first; else all, newest found first), with their unit's names and how many evidence files
# each holds; the kept hazards read once for both.
LEDGER_ROWS = _LEDGER + """
, kept AS MATERIALIZED (SELECT * FROM visible WHERE keep),
top AS (
    (SELECT false AS overdue_list, * FROM kept ORDER BY found_on DESC, number DESC LIMIT $limit)
    UNION ALL
    (SELECT true AS overdue_list, * FROM kept WHERE days_over > 0 ORDER BY days_over DESC, number LIMIT $limit)
)
SELECT t.overdue_list, t.number, t.subsidiary, u.name_zh, u.name_en, t.source, t.place, t.description, t.level,
       t.state, t.owner, t.deadline, t.found_on, coalesce(e.n, 0) AS evidence, t.days_over
FROM top t JOIN subsidiaries u ON u.code = t.subsidiary
LEFT JOIN (SELECT number, count(*) AS n FROM hazard_evidence WHERE number IN (SELECT number FROM top)
           GROUP BY number) e ON e.number = t.number
ORDER BY t.overdue_list, CASE WHEN t.overdue_list THEN t.days_over END DESC,
         CASE WHEN t.overdue_list THEN t.number END, t.found_on DESC, t.number DESC
"""


def ledger_list(con: Connection, units: Iterable[str] | None, as_of: date, keep: LedgerFilter = EVERY_HAZARD,
                limit: int = LIST_ROWS) -> LedgerList:
    """The ledger page's list of the hazards of `units` (None: every unit) at `as_of`: the filter, the order,
    the counts and days over all in SQL, so a page of a million hazards reads only the rows it draws."""
    params = _ledger_params(units, as_of, keep)
    counts = store.query(con, LEDGER_COUNTS, params | {"major": MAJOR}).iloc[0]
    both = store.query(con, LEDGER_ROWS, params | {"limit": limit})
    listed = both.pop("overdue_list")
    rows, overdue = (both[listed == which].reset_index(drop=True) for which in (False, True))
    return LedgerList(rows=rows, overdue=overdue, shown=int(counts["shown"]), overdue_count=int(counts["overdue"]),
                      major=int(counts["major"]))


def ledger_span(con: Connection, units: Iterable[str] | None) -> LedgerSpan:
    """How many hazards `units` (None: every unit) hold and the day the earliest was found."""
    total, first = con.execute(LEDGER_SPAN, {"visible": None if units is None else list(units)}).fetchall()[0]
    return LedgerSpan(int(total), first)


def _ledger_params(units: Iterable[str] | None, as_of: date, keep: LedgerFilter) -> dict:
    def chosen(values: tuple[str, ...]) -> list[str] | None:
        return list(values) or None

    low, high = keep.age if keep.age is not None else (None, None)
    return {"visible": None if units is None else list(units), "as_of": as_of, "open": sorted(s.value for s in OPEN),
            "units": chosen(keep.units), "levels": chosen(keep.levels),
            "states": chosen(keep.states), "sources": chosen(keep.sources), "overdue": keep.overdue,
            "found_from": None if high is None else as_of - timedelta(days=high),
            "found_to": None if low is None else as_of - timedelta(days=low),
            "numbers": None if keep.numbers is None else list(keep.numbers)}


def events(con: Connection, number: str) -> pd.DataFrame:
    return store.query(con, SELECT_EVENTS, {"number": number})


def evidence(con: Connection, number: str) -> pd.DataFrame:
    return store.query(con, SELECT_EVIDENCE, {"number": number})


def check_new(hazard: NewHazard, vocabulary: Vocabulary, units: Iterable[str]) -> list[Text]:
    """Why `hazard` cannot be registered (empty: it can): every field it needs, in the vocabulary's terms."""
    reasons = []
    if hazard.subsidiary not in set(units):
        reasons.append(Text(f"没有编码为 {hazard.subsidiary} 的单位", f"there is no unit with the code "
                            f"{hazard.subsidiary}"))
    for kind, value, zh, en in (("source", hazard.source, "检查类型", "source"),
                                ("level", hazard.level, "隐患级别", "level"),
                                ("factor", hazard.factor, "隐患因素类别", "factor class"),
                                ("accident_type", hazard.accident_type, "可能导致的事故类型", "accident type")):
        if value not in vocabulary.codes(kind):
            names = "、".join(t.name.zh for t in vocabulary.terms[kind])
            reasons.append(Text(f"{zh}“{value}”不在可选项中（{names}）",
                                f"{en} {value!r} is not one of {', '.join(vocabulary.codes(kind))}"))
    for value, zh, en in ((hazard.place, "隐患部位", "place"), (hazard.description, "隐患描述", "description"),
                          (hazard.found_by, "发现人", "found by")):
        if _blank(value):
            reasons.append(Text(f"请填写{zh}", f"give the {en}"))
    if hazard.level == MAJOR:
        if hazard.criterion not in vocabulary.codes("criterion"):
            reasons.append(Text("重大隐患须注明所依据的判定标准", "a major hazard needs the criterion it meets"))
        if _blank(hazard.clause):
            reasons.append(Text("重大隐患须注明判定标准的条款", "a major hazard needs the clause of its criterion"))
    if hazard.found_on > clock.today():
        reasons.append(Text("发现日期晚于今天", "the day it was found is after today"))
    if hazard.funds is not None and hazard.funds < 0:
        reasons.append(NEGATIVE_FUNDS.reason)
    if not _blank(hazard.owner) and _same_person(hazard.owner, hazard.verifier):
        reasons.append(VERIFIER_IS_OWNER.reason)
    if hazard.deadline is not None and hazard.deadline < hazard.found_on:
        reasons.append(DEADLINE_BEFORE_FOUND.reason)
    return reasons


def register(con: Connection, hazard: NewHazard, *, actor: str, now: datetime | None = None,
             vocabulary: Vocabulary | None = None) -> str:
    """Register `hazard` (登记) and return its number, unit-year-sequence (A-2026-0007); refused with every
    reason otherwise, nothing written."""
    now = now or datetime.now()  # the trail's clock is the machine's (metrics/core/clock.py)
    units = store.query(con, schema.SELECT_UNITS)["code"].tolist()
    reasons = check_new(hazard, vocabulary or load_vocabulary(), units)
    if reasons:
        raise HazardRefused(f"{hazard.subsidiary}-{hazard.found_on.year}-?", reasons)
    with store.transaction(con):
        year = hazard.found_on.year
        sequence = int(store.scalar(con, NEXT_SEQUENCE, {"subsidiary": hazard.subsidiary, "year": year}))
        number = f"{hazard.subsidiary}-{year}-{sequence:04d}"
        row = asdict(hazard) | {"number": number, "year": year, "sequence": sequence, "state": State.REGISTERED.value,
                                "original_deadline": hazard.deadline, "requested_deadline": None,
                                "deadline_since": hazard.found_on if hazard.deadline else None,
                                "rectified_on": None, "verified_on": None, "verified_by": None, "closed_on": None,
                                "result": None, "sent_back": 0, "extensions": 0, "void_reason": None,
                                "void_approver": None, "created_at": now, "updated_at": now}
        with store.registered(con, pd.DataFrame([row])):
            con.execute(INSERT_HAZARD)
        event = _record(con, number, actor, now, "register", None, State.REGISTERED, "", {"hazard": asdict(hazard)})
        if hazard.deadline is not None:
            con.execute(INSERT_DEADLINE, {"number": number, "effective_from": hazard.found_on,
                                          "deadline": hazard.deadline, "event_id": event})
    return number


def take(con: Connection, number: str, action: str, change: Change, *, now: datetime | None = None) -> Hazard:
    """Take step `action` (a key of STEPS) on hazard `number`; returns the hazard as it now is. Refused with
    every reason that applies, nothing written (HazardRefused)."""
    now = now or datetime.now()  # the trail's clock is the machine's (metrics/core/clock.py)
    step = STEPS[action]
    with store.transaction(con):
        hazard = get(con, number)
        if hazard is None:
            raise HazardRefused(number, [NOT_FOUND])
        change = replace(change, evidence=int(store.scalar(con, COUNT_EVIDENCE, {"number": number})))
        reasons = refusals(hazard, step, change)
        if reasons:
            raise HazardRefused(number, reasons)
        after = replace(_after(hazard, step, change), updated_at=now)
        if after.deadline != hazard.deadline:
            after = replace(after, deadline_since=change.on if after.deadline else None)
        con.execute(UPDATE_HAZARD, _params(after, now))
        event = _record(con, number, change.actor, now, action, hazard.state, after.state, change.comment,
                        _changed(hazard, after) | {k: v for k, v in change.values.items() if not hasattr(hazard, k)})
        if after.deadline is not None and after.deadline != hazard.deadline:
            con.execute(INSERT_DEADLINE, {"number": number, "effective_from": change.on, "deadline": after.deadline,
                                          "event_id": event})
    return after


def _changed(before: Hazard, after: Hazard) -> dict:
    """The fields a step changed, as they are after it (the event's detail)."""
    return {f.name: getattr(after, f.name) for f in fields(Hazard)
            if f.name not in ("state", "updated_at") and getattr(before, f.name) != getattr(after, f.name)}


def refusals(hazard: Hazard, step: Step, change: Change) -> list[Text]:
    """Every reason `step` cannot be taken on `hazard` with `change` (empty: it can)."""
    if hazard.state not in step.sources:
        sources = "、".join(STATE_NAMES[s].zh for s in step.sources)
        return [Text(f"隐患处于“{STATE_NAMES[hazard.state].zh}”，只有处于“{sources}”的隐患可以{step.name.zh}",
                     f"the hazard is {STATE_NAMES[hazard.state].en.lower()}; only a hazard "
                     f"{' or '.join(STATE_NAMES[s].en.lower() for s in step.sources)} can be taken through "
                     f"'{step.name.en}'")]
    return [check.reason for check in step.checks if check.fails(hazard, change)]


_FIVE_FIXES = ("owner", "measures", "funds", "contingency", "verifier")


def _after(hazard: Hazard, step: Step, change: Change) -> Hazard:
    """The hazard once `step` is taken."""
    state = step.target or hazard.state
    match step.action:
        case "update":
            values = {k: change.get(k) for k in (*_FIVE_FIXES, "deadline") if k in change.values}
            if "deadline" in values and hazard.state is not State.REGISTERED:
                values.pop("deadline")  # once issued, a deadline moves only by an extension
            if hazard.state is State.REGISTERED and "deadline" in values:
                values["original_deadline"] = values["deadline"]
            return replace(hazard, **values)
        case "issue":
            values = {k: change.get(k) for k in (*_FIVE_FIXES, "deadline") if k in change.values}
            deadline = values.get("deadline", hazard.deadline)
            return replace(hazard, **values, state=state, original_deadline=deadline)
        case "submit":
            return replace(hazard, state=state, rectified_on=change.get("rectified_on"))
        case "accept":
            return replace(hazard, state=state, verified_on=change.get("verified_on"), verified_by=change.actor,
                           closed_on=change.get("verified_on"), result=change.comment or None)
        case "send_back":
            return replace(hazard, state=state, rectified_on=None, sent_back=hazard.sent_back + 1)
        case "extend":
            return replace(hazard, deadline=change.get("deadline"), extensions=hazard.extensions + 1)
        case "request_extension":
            return replace(hazard, state=state, requested_deadline=change.get("deadline"))
        case "approve_extension":
            return replace(hazard, state=state, deadline=hazard.requested_deadline, requested_deadline=None,
                           extensions=hazard.extensions + 1)
        case "reject_extension":
            return replace(hazard, state=state, requested_deadline=None)
        case "void":
            return replace(hazard, state=state, void_reason=change.comment, void_approver=change.get("approver"))
    raise ValueError(f"unknown step {step.action!r}")


def _params(hazard: Hazard, now: datetime) -> dict:
    keep = ("number", "owner", "measures", "funds", "deadline", "deadline_since", "original_deadline", "contingency",
            "verifier",
            "requested_deadline", "rectified_on", "verified_on", "verified_by", "closed_on", "result", "sent_back",
            "extensions", "void_reason", "void_approver")
    return {k: getattr(hazard, k) for k in keep} | {"state": hazard.state.value, "updated_at": now}


def add_evidence(con: Connection, number: str, data: bytes, file_name: str, *, actor: str, directory: Path,
                 now: datetime | None = None) -> str:
    """Keep `data` write-once under its sha256 in `directory` (the store's raw/, metrics/store/raw_files.py, so
    backups hold it) and attach it to hazard `number` (registered or being rectified); returns the sha256. The
    same file attached twice is attached once. Run inside one read-write connection, so no other upload's clean-up
    of raw/ runs between keeping the file and committing its row."""
    now = now or datetime.now()  # the trail's clock is the machine's (metrics/core/clock.py)
    hazard = get(con, number)
    if hazard is None or hazard.state not in (State.REGISTERED, State.RECTIFYING):
        raise HazardRefused(number, [Text("只有登记或整改中的隐患可以添加整改证据",
                                          "evidence can be attached only to a hazard registered or being rectified")])
    if not data:
        raise HazardRefused(number, [Text(f"文件“{file_name}”是空的", f"the file {file_name!r} is empty")])
    kept = keep_raw_file(data, file_name, directory)
    sha256 = kept.name.split(".")[0]
    with store.transaction(con):
        con.execute(INSERT_EVIDENCE, {"number": number, "sha256": sha256, "file_name": file_name,
                                      "bytes": len(data), "at": now, "actor": actor})
        _record(con, number, actor, now, "evidence", hazard.state, hazard.state, "",
                {"sha256": sha256, "file_name": file_name, "bytes": len(data)})
    return sha256


def _record(con: Connection, number: str, actor: str, now: datetime, action: str, before: State | None,
            after: State | None, comment: str, detail: dict) -> int:
    """The step's event and its audit row, inside the caller's transaction; returns the event's id."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    event = con.execute(INSERT_EVENT, {"number": number, "at": now, "actor": actor, "action": action,
                                       "from_state": before.value if before else None,
                                       "to_state": after.value if after else None, "comment": comment,
                                       "detail": text}).fetchall()[0][0]
    audit.record(con, actor, Action.HAZARD_CHANGE, target=number, at=now,
                 detail={"step": action, "state": after.value if after else None})
    return int(event)
