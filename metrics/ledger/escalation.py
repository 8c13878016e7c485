"""Escalation of open hazards (隐患超期提醒): which open hazards are due soon, due today, overdue or escalated on a
day, per owner and unit, each with a sentence that says no more than the dates do.

The reminder rules are declared once in RULES, each with its id, its words and its test on a hazard at a day; at
most one rule applies to a hazard on a day (due soon → due today → overdue → escalated, as the days pass). The
days come from data/hazards.toml's [settings] (due_soon_days, escalate_after_days). A hazard is reminded while
it is open (registered with a deadline, being rectified, awaiting verification or an extension); a closed or
void one never is. Sending the reminders is metrics/ledger/notify.py's. Rules: docs/rules.md, "9. The hazard
ledger".
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from metrics import store
from metrics.core.months import day_label
from metrics.core.text import Text
from metrics.ledger import hazards
from metrics.ledger.hazards import OPEN, Hazard
from metrics.ledger.vocabulary import Vocabulary, load_vocabulary
from metrics.store import Connection

# The open hazards of `units` (NULL: every unit) whose deadline is on or before $horizon, with their unit's names.
SELECT_DUE = """
SELECT h.*, u.name_zh, u.name_en
FROM hazards h JOIN subsidiaries u ON u.code = h.subsidiary
WHERE list_contains(CAST($states AS VARCHAR[]), h.state) AND h.deadline IS NOT NULL AND h.deadline <= $horizon
  AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), h.subsidiary))
"""

# A rule's test: whether it applies to an open hazard with a deadline on day `as_of` under the settings.
Applies = Callable[[Hazard, date, Vocabulary], bool]


def _days_left(hazard: Hazard, as_of: date) -> int:
    """Days from `as_of` to the deadline (negative once past it)."""
    assert hazard.deadline is not None
    return (hazard.deadline - as_of).days


def _due_soon(hazard: Hazard, as_of: date, settings: Vocabulary) -> bool:
    return 0 < _days_left(hazard, as_of) <= settings.due_soon_days


def _due_today(hazard: Hazard, as_of: date, settings: Vocabulary) -> bool:
    return _days_left(hazard, as_of) == 0


def _overdue(hazard: Hazard, as_of: date, settings: Vocabulary) -> bool:
    return 0 < hazards.days_over(hazard, as_of) < settings.escalate_after_days


def _escalated(hazard: Hazard, as_of: date, settings: Vocabulary) -> bool:
    return hazards.days_over(hazard, as_of) >= settings.escalate_after_days


@dataclass(frozen=True)
class Rule:
    """One reminder rule: its id (what the record of notifications keeps), its heading, its sentence (with
    {kind} 隐患 or 重大隐患, {number}, {place}, {deadline}, {days} as "3 天" or "3 days", {owner}) and its test."""
    id: str
    name: Text
    sentence: Text
    applies: Applies


_OVER = Text("{kind} {number}（{place}）整改期限 {deadline}，已超期 {days}，责任人 {owner}",
             "{kind} {number} ({place}): deadline {deadline}, {days} overdue; owner {owner}")
RULES: tuple[Rule, ...] = (
    Rule("due_soon", Text("即将到期", "Due soon"),
         Text("{kind} {number}（{place}）整改期限 {deadline}，还有 {days}到期，责任人 {owner}",
              "{kind} {number} ({place}): deadline {deadline}, due in {days}; owner {owner}"), _due_soon),
    Rule("due_today", Text("今日到期", "Due today"),
         Text("{kind} {number}（{place}）整改期限 {deadline}，今天到期，责任人 {owner}",
              "{kind} {number} ({place}): deadline {deadline}, due today; owner {owner}"), _due_today),
    Rule("overdue", Text("已超期", "Overdue"), _OVER, _overdue),
    Rule("escalated", Text("超期升级", "Escalated"), _OVER, _escalated),
)
"""Every reminder rule, from the least to the most urgent; at most one applies to a hazard on a day."""
RULE_IDS = {rule.id: rule for rule in RULES}
KIND = {False: Text("隐患", "Hazard"), True: Text("重大隐患", "Major hazard")}
NO_OWNER = Text("未填", "not given")


@dataclass(frozen=True)
class Reminder:
    """One open hazard under one rule on day `as_of`."""
    rule: Rule
    number: str
    unit: str
    unit_name: Text
    owner: str | None
    place: str
    deadline: date
    days_over: int
    as_of: date
    major: bool

    @property
    def days_left(self) -> int:
        return (self.deadline - self.as_of).days

    def sentence(self, lang: str) -> str:
        """隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，已超期 7 天，责任人 王工."""
        count = self.days_over or self.days_left
        days = f"{count} 天" if lang == "zh" else f"{count} day" + "s" * (count != 1)
        return self.rule.sentence.format(lang, kind=KIND[self.major].in_(lang), number=self.number,
                                         place=self.place, deadline=deadline_label(self.deadline, self.as_of, lang),
                                         days=days, owner=self.owner or NO_OWNER.in_(lang))

    def as_json(self) -> dict:
        return {"rule": self.rule.id, "number": self.number, "unit": self.unit, "owner": self.owner,
                "place": self.place, "deadline": self.deadline.isoformat(), "days_over": self.days_over,
                "days_left": max(self.days_left, 0), "major": self.major, "text_zh": self.sentence("zh"),
                "text_en": self.sentence("en")}


def deadline_label(deadline: date, as_of: date, lang: str) -> str:
    """11月10日 (10 Nov) within the year of `as_of`, 2025年12月28日 (28 Dec 2025) in another."""
    if deadline.year == as_of.year:
        return day_label(deadline, lang)
    return f"{deadline.year}年{day_label(deadline, lang)}" if lang == "zh" else f"{day_label(deadline, lang)} " \
        f"{deadline.year}"


def rule_of(hazard: Hazard, as_of: date, settings: Vocabulary) -> Rule | None:
    """The rule that applies to `hazard` on `as_of` (None: no reminder: closed, void, no deadline, not yet due)."""
    if hazard.state not in OPEN or hazard.deadline is None:
        return None
    return next((rule for rule in RULES if rule.applies(hazard, as_of, settings)), None)


def reminders(con: Connection, as_of: date, units: Iterable[str] | None = None,
              settings: Vocabulary | None = None) -> list[Reminder]:
    """The reminders of day `as_of` for the hazards of `units` (None: every unit), per unit and owner, the most
    urgent first within an owner."""
    settings = settings or load_vocabulary()
    frame = store.query(con, SELECT_DUE, {"states": sorted(s.value for s in OPEN),
                                          "horizon": as_of + timedelta(days=settings.due_soon_days),
                                          "units": None if units is None else list(units)})
    found = []
    for row in frame.to_dict("records"):
        hazard = hazards._hazard(row)
        rule = rule_of(hazard, as_of, settings)
        if rule is not None and hazard.deadline is not None:
            found.append(Reminder(rule, hazard.number, hazard.subsidiary, Text(row["name_zh"], row["name_en"]),
                                  hazard.owner, hazard.place, hazard.deadline, hazards.days_over(hazard, as_of),
                                  as_of, hazard.major))
    urgency = {rule.id: i for i, rule in enumerate(RULES)}
    return sorted(found, key=lambda r: (r.unit, r.owner or "", -urgency[r.rule.id], r.deadline, r.number))
