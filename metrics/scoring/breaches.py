"""Breach flags for the executives: each rule declared once, in RULES, with everything that makes it.

A `Rule` is one object, as datasette's filters and dbt-semantic-interfaces' validation rules are: its kind,
severity, its words as `Text` (name, the sentence a reader sees with the evidence's numbers, the rule behind
it), its constants (the window in months, the u-chart's baseline, the indicator codes it reads) and its check.
`find_breaches` builds one `Context` (the store, the month, now, the month's two scorings, the unit names) and
walks RULES; the SQL takes the constants as parameters, so a window is written only in its rule, and the words
are checked at import to name the months the rule declares. When a unit submitted a month, and whether that
was late, is decided in due_states.py. Rules: docs/rules.md, "Breaches".
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

import pandas as pd

from metrics import store
from metrics.core import clock, reporting
from metrics.core.codes import HAZARDS_FOUND, HOURS_WORKED, INJURIES, INJURY_RATE
from metrics.core.formatting import display_number
from metrics.core.months import iso_month
from metrics.core.text import LANGS, Text
from metrics.scoring import due_states, scores
from metrics.store import Connection, schema

# Directed indicators (derived ones as monthly ratios) that got worse from each month to the next over the
# $months months ending with $month: all $months + 1 monthly values present, each step worse than the last.
# Parameters: $month, $months (the rule's window).
DETERIORATING = """
WITH window_obs AS (
    SELECT o.month, o.subsidiary, o.indicator, o.value
    FROM observations o JOIN subsidiaries u ON u.code = o.subsidiary
    WHERE o.month BETWEEN CAST($month AS DATE) - to_months(CAST($months AS INTEGER)) AND CAST($month AS DATE)
),
monthly AS (
    SELECT w.month, w.subsidiary, w.indicator, w.value
    FROM window_obs w JOIN indicators i ON i.code = w.indicator
    WHERE i.direction <> 'none' AND i.numerator IS NULL
    UNION ALL
    SELECT n.month, n.subsidiary, d.code, n.value * d.factor / dn.value
    FROM indicators d
    JOIN window_obs n ON n.indicator = d.numerator
    JOIN window_obs dn ON dn.indicator = d.denominator AND dn.subsidiary = n.subsidiary AND dn.month = n.month
    WHERE d.numerator IS NOT NULL AND d.direction <> 'none' AND dn.value <> 0
),
steps AS (
    SELECT month, subsidiary, indicator, value,
           lag(value) OVER (PARTITION BY subsidiary, indicator ORDER BY month) AS previous
    FROM monthly
),
series AS (
    SELECT s.subsidiary, s.indicator, list(s.value ORDER BY s.month) AS vals, count(*) AS n,
           count(*) FILTER (WHERE CASE i.direction
               WHEN 'lower_better' THEN s.value > s.previous
               WHEN 'higher_better' THEN s.value < s.previous
               ELSE error('unknown direction ' || i.direction)
           END) AS worse
    FROM steps s JOIN indicators i ON i.code = s.indicator
    GROUP BY s.subsidiary, s.indicator
)
SELECT s.subsidiary, s.indicator, s.vals
FROM series s JOIN indicators i ON i.code = s.indicator
WHERE s.n = $months + 1 AND s.worse = $months
ORDER BY s.subsidiary, i.position
"""
# u-chart per month for every unit and the group ('*'): a month's event count against the entity's own rate
# over the preceding $baseline_months months (Poisson limits on exposure): expected ± 3·sqrt(expected),
# out of control above the upper limit. Without $min_months of baseline, or without any event in it (a
# u-chart needs a positive centre line), a month has no limits.
# Parameters: $events, $exposure (indicator codes), $first_month, $last_month, $baseline_months, $min_months.
U_CHART_SERIES = """
WITH pairs AS (
    SELECT e.month, e.subsidiary, e.value AS events, x.value AS exposure
    FROM observations e
    JOIN observations x ON x.month = e.month AND x.subsidiary = e.subsidiary AND x.indicator = $exposure
    JOIN subsidiaries u ON u.code = e.subsidiary
    WHERE e.indicator = $events AND x.value > 0
      AND e.month BETWEEN CAST($first_month AS DATE) - to_months(CAST($baseline_months AS INTEGER))
                      AND CAST($last_month AS DATE)
),
entities AS (
    SELECT month, subsidiary, events, exposure FROM pairs
    UNION ALL
    SELECT month, '*', sum(events), sum(exposure) FROM pairs GROUP BY month
),
baselines AS (
    SELECT c.month, c.subsidiary, c.events, c.exposure,
           sum(b.events) AS base_events, sum(b.exposure) AS base_exposure, count(b.month) AS baseline_months
    FROM entities c
    LEFT JOIN entities b ON b.subsidiary = c.subsidiary AND b.month < c.month
          AND b.month >= c.month - to_months(CAST($baseline_months AS INTEGER))
    WHERE c.month BETWEEN CAST($first_month AS DATE) AND CAST($last_month AS DATE)
    GROUP BY c.month, c.subsidiary, c.events, c.exposure
),
limits AS (
    SELECT *,
           CASE WHEN baseline_months >= $min_months AND base_events > 0 THEN base_events / base_exposure END
               AS centre
    FROM baselines
)
SELECT month, subsidiary, events, exposure, baseline_months, centre,
       centre * exposure AS expected,
       centre * exposure + 3 * sqrt(centre * exposure) AS upper_limit,
       greatest(centre * exposure - 3 * sqrt(centre * exposure), 0) AS lower_limit,
       coalesce(events > centre * exposure + 3 * sqrt(centre * exposure), false) AS out_of_control
FROM limits
ORDER BY subsidiary, month
"""
# Hours worked reported but no hazards found (zero or not reported) in each of the $months months ending with
# $month. Parameters: $exposure, $found (indicator codes), $month, $months (the rule's window).
SILENCE = """
SELECT h.subsidiary, count(*) AS months, sum(h.value) AS exposure
FROM observations h
JOIN subsidiaries u ON u.code = h.subsidiary
LEFT JOIN observations f ON f.month = h.month AND f.subsidiary = h.subsidiary AND f.indicator = $found
WHERE h.indicator = $exposure AND h.value > 0 AND coalesce(f.value, 0) = 0
  AND h.month > CAST($month AS DATE) - to_months(CAST($months AS INTEGER)) AND h.month <= CAST($month AS DATE)
GROUP BY h.subsidiary
HAVING count(*) = $months
ORDER BY h.subsidiary
"""


class Severity(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    INFO = "info"
    """A reminder, not a breach (a month not yet due)."""


SEVERITY_NAMES = {Severity.HIGH: Text("高", "High"), Severity.MEDIUM: Text("中", "Medium"),
                  Severity.INFO: Text("提示", "Note")}
SEVERITY_SYMBOLS = {Severity.HIGH: "✖", Severity.MEDIUM: "▲", Severity.INFO: "ⓘ"}
PRORATED = Text("（年度目标与控制值按 {months}/12 折算）", " (annual target and limit prorated × {months}/12)")


def severity_label(severity: Severity, lang: str) -> str:
    """'✖ 高', '▲ Medium': the symbol reads on a projector and in grey."""
    return f"{SEVERITY_SYMBOLS[severity]} {SEVERITY_NAMES[severity].in_(lang)}"


@dataclass(frozen=True)
class Context:
    """What every check reads, built once per `find_breaches`: `now` is fixed here, so pending and missing
    cannot disagree about whether the deadline has passed."""
    con: Connection
    month: date
    now: datetime
    ytd: scores.ScoreResult
    monthly: scores.ScoreResult
    names: dict[str, tuple[str, str]]
    """Each unit's (Chinese, English) name."""
    prorated: frozenset[str]
    """The indicators whose annual target and limit are prorated by months elapsed (higher-better sums)."""

    @classmethod
    def of(cls, con: Connection, month: date, now: datetime | None = None) -> Context:
        ytd = scores.score(con, month, scores.Basis.YTD)
        monthly = scores.score(con, month, scores.Basis.MONTH)
        indicators = store.query(con, schema.SELECT_INDICATORS)
        prorated = indicators.loc[(indicators["rollup"] == "sum") & (indicators["direction"] == "higher_better"),
                                  "code"]
        return cls(con, month, now or clock.now(), ytd, monthly,
                   {u.subsidiary: (u.name_zh, u.name_en) for u in ytd.units.itertuples(index=False)},
                   frozenset(prorated))

    def breach(self, rule: Rule, unit: str, indicator: str | None, evidence: dict) -> Breach:
        return Breach(rule.kind, unit, *self.names[unit], indicator, evidence)


Check = Callable[["Rule", Context], "list[Breach]"]


@dataclass(frozen=True)
class Rule:
    """One breach rule: everything a reader, the page, the bulletin and `find_breaches` need of it."""
    kind: str
    severity: Severity
    name: Text
    sentence: Text
    """What a reader sees: {placeholders} filled from the evidence, {indicator} with the indicator's name."""
    logic: Text
    """The rule behind the flag, as the page and the workbook state it."""
    check: Check
    """The rule's logic: given the rule (its constants) and the shared context, the flags it raises."""
    window_months: int | None = None
    """How many months running a history rule looks at (its words must name the same number)."""
    baseline_months: int | None = None
    """The u-chart: the months of the unit's own history that give its expected rate (named in its words)."""
    min_months: int | None = None
    """The u-chart: the fewest months of baseline that give a month limits at all."""
    codes: Mapping[str, str] = field(default_factory=dict)
    """The indicators the check reads (metrics/core/codes.py), by the SQL parameter that takes each."""
    indicator: str | None = None
    """The indicator every flag of the rule is about; None: each flag's own (or none)."""
    figure: str | None = None
    """The evidence key of the one number of its indicator a flag shows, if it has one (what opens to the
    hazards behind it), and the period that number covers."""
    basis: scores.Basis = scores.Basis.YTD

    def find(self, ctx: Context) -> list[Breach]:
        return self.check(self, ctx)


@dataclass
class Breach:
    kind: str
    subsidiary: str
    name: str
    name_en: str
    indicator: str | None
    evidence: dict = field(default_factory=dict)

    def unit_name(self, lang: str) -> str:
        return self.name if lang == "zh" else self.name_en

    @property
    def rule(self) -> Rule:
        return BY_KIND[self.kind]

    def message(self, lang: str, indicator_names: dict[str, tuple[str, str]]) -> str:
        indicator = Text(*indicator_names.get(self.indicator or "", ("", ""))).in_(lang)
        shown = {k: display_number(v) if isinstance(v, (int, float)) else v for k, v in self.evidence.items()}
        text = self.rule.sentence.format(lang, indicator=indicator, **shown)
        if self.evidence.get("prorated_months"):
            text += PRORATED.format(lang, months=self.evidence["prorated_months"])
        return text


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _statuses(rule: Rule, ctx: Context, status: str, veto: bool | None = None) -> list[Breach]:
    """The year's indicators in `status` (red or yellow), those of a veto indicator or not (None: either)."""
    rows = ctx.ytd.indicators[ctx.ytd.indicators["status"] == status]
    found = []
    for r in rows.itertuples(index=False):
        if veto is not None and bool(r.veto) is not veto:
            continue
        evidence = {"value": _num(r.value), "target": _num(r.target), "limit": _num(r.limit)}
        if r.partial:
            evidence["partial"] = True
        if r.indicator in ctx.prorated and ctx.month.month < 12:
            evidence["prorated_months"] = ctx.month.month
        found.append(ctx.breach(rule, r.subsidiary, r.indicator, evidence))
    return found


def _veto(rule: Rule, ctx: Context) -> list[Breach]:
    """A red veto indicator, listed once: as the veto, not again as red."""
    return _statuses(rule, ctx, "red", veto=True)


def _red(rule: Rule, ctx: Context) -> list[Breach]:
    return _statuses(rule, ctx, "red", veto=False)


def _yellow(rule: Rule, ctx: Context) -> list[Breach]:
    return _statuses(rule, ctx, "yellow")


def _unreported(rule: Rule, ctx: Context, past_deadline: bool) -> list[Breach]:
    """Units with due indicators without a value for the month, if the deadline has passed (`past_deadline`)
    or not, as asked: pending before it, missing after it."""
    if reporting.deadline_passed(ctx.month, ctx.now) is not past_deadline:
        return []
    due = reporting.deadline(ctx.month)
    return [ctx.breach(rule, u.subsidiary, None,
                       {"count": int(u.missing), "deadline": f"{due:%Y-%m-%d}", "reported": bool(u.reported)})
            for u in ctx.monthly.units.itertuples(index=False) if u.missing > 0]


def _missing(rule: Rule, ctx: Context) -> list[Breach]:
    return _unreported(rule, ctx, past_deadline=True)


def _pending(rule: Rule, ctx: Context) -> list[Breach]:
    return _unreported(rule, ctx, past_deadline=False)


def _late(rule: Rule, ctx: Context) -> list[Breach]:
    """Units whose first submission of the month was late (due_states.first_submissions decides)."""
    due = reporting.deadline(ctx.month)
    first = due_states.first_submissions(ctx.con, month=ctx.month)
    found = []
    for r in first[first["late"]].itertuples(index=False):
        submitted = pd.Timestamp(r.first_submitted).to_pydatetime()
        found.append(ctx.breach(rule, r.subsidiary, None, {
            "submitted_at": f"{submitted:%Y-%m-%d %H:%M}", "deadline": f"{due:%Y-%m-%d}",
            "days_late": (submitted.date() - due.date()).days}))
    return found


def _deteriorating(rule: Rule, ctx: Context) -> list[Breach]:
    """Evidence: the window's monthly values, oldest first, as v0, v1, …"""
    rows = store.query(ctx.con, DETERIORATING, {"month": ctx.month, "months": rule.window_months})
    return [ctx.breach(rule, r.subsidiary, r.indicator, {f"v{i}": float(v) for i, v in enumerate(r.vals)})
            for r in rows.itertuples(index=False)]


def control_chart(con: Connection, first_month: date, last_month: date, rule: Rule | None = None) -> pd.DataFrame:
    """The injury u-chart of every unit and the group ('*') per month, with the constants of `rule` (None: the
    declared out_of_control rule): events, exposure, centre (the rate per hour of the preceding baseline),
    expected, upper_limit, lower_limit, out_of_control."""
    rule = rule or BY_KIND["out_of_control"]
    frame = store.query(con, U_CHART_SERIES, {
        **rule.codes, "first_month": first_month, "last_month": last_month,
        "baseline_months": rule.baseline_months, "min_months": rule.min_months})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def _out_of_control(rule: Rule, ctx: Context) -> list[Breach]:
    chart = control_chart(ctx.con, ctx.month, ctx.month, rule)
    return [ctx.breach(rule, r.subsidiary, rule.indicator, {
        "events": r.events, "exposure": r.exposure, "expected": r.expected, "upper_limit": r.upper_limit,
        "baseline_rate_per_million_hours": r.centre * 1e6, "baseline_months": int(r.baseline_months)})
        for r in chart[chart["out_of_control"] & (chart["subsidiary"] != "*")].itertuples(index=False)]


def _silence(rule: Rule, ctx: Context) -> list[Breach]:
    rows = store.query(ctx.con, SILENCE, {**rule.codes, "month": ctx.month, "months": rule.window_months})
    return [ctx.breach(rule, r.subsidiary, rule.indicator, {"months": int(r.months), "exposure": r.exposure})
            for r in rows.itertuples(index=False)]


# Major (重大) hazards open at the end of $month past the deadline in force then (the latest set before the
# month ended), from the hazard ledger: its rule 8 for hazards_overdue, for major hazards. Parameter: $month.
MAJOR_OVERDUE = """
WITH bounds AS (
    SELECT CAST($month AS DATE) + INTERVAL 1 MONTH AS next_month,
           CAST(CAST($month AS DATE) + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS last_day
),
open_major AS (
    SELECT h.number, h.subsidiary
    FROM hazards h, bounds b
    WHERE h.level = 'major' AND h.state <> 'void' AND h.found_on < b.next_month
      AND (h.closed_on IS NULL OR h.closed_on >= b.next_month)
),
in_force AS (
    SELECT o.number, o.subsidiary, d.deadline,
           row_number() OVER (PARTITION BY o.number ORDER BY d.effective_from DESC, d.event_id DESC) AS newest
    FROM open_major o JOIN hazard_deadlines d ON d.number = o.number, bounds b
    WHERE d.effective_from < b.next_month
)
SELECT f.subsidiary, count(*) AS hazards, string_agg(f.number, '、' ORDER BY f.deadline, f.number) AS numbers,
       min(f.deadline) AS deadline, max(b.last_day - f.deadline) AS days_over
FROM in_force f, bounds b
WHERE f.newest = 1 AND f.deadline < b.last_day
GROUP BY f.subsidiary
ORDER BY f.subsidiary
"""


def _major_overdue(rule: Rule, ctx: Context) -> list[Breach]:
    rows = store.query(ctx.con, MAJOR_OVERDUE, {"month": ctx.month})
    return [ctx.breach(rule, r.subsidiary, None, {"hazards": int(r.hazards), "numbers": r.numbers,
                                                  "deadline": f"{pd.Timestamp(r.deadline):%Y-%m-%d}",
                                                  "days_over": int(r.days_over)})
            for r in rows.itertuples(index=False) if r.subsidiary in ctx.names]


RULES: tuple[Rule, ...] = (
    Rule("veto", Severity.HIGH,
         Text("一票否决", "Veto"),
         Text("一票否决：本年累计{indicator} {value}，按目标责任书一票否决，考核得分计为 0",
              "Veto: {indicator} {value} this year; under the responsibility letter it vetoes the year's score (0)"),
         Text("否决指标本年累计超出控制值（目标责任书约定的一票否决事项）",
              "a veto indicator of the responsibility letter is beyond its limit year to date"),
         _veto, figure="value"),
    Rule("red", Severity.HIGH,
         Text("超标", "Red"),
         Text("超标：本年累计{indicator} {value}，控制值 {limit}（目标 {target}）",
              "Red: {indicator} {value} year to date against the limit {limit} (target {target})"),
         Text("本年累计值超出控制值", "year-to-date value beyond the limit"),
         _red, figure="value"),
    Rule("yellow", Severity.MEDIUM,
         Text("预警", "Yellow"),
         Text("预警：本年累计{indicator} {value}，目标 {target}，控制值 {limit}",
              "Yellow: {indicator} {value} year to date, target {target}, limit {limit}"),
         Text("本年累计值介于目标值与控制值之间", "year-to-date value between target and limit"),
         _yellow, figure="value"),
    Rule("missing", Severity.MEDIUM,
         Text("未报", "Not reported"),
         Text("未报：已过报送截止日 {deadline}，本月 {count} 项应报指标没有数据",
              "Not reported: past the deadline {deadline}, {count} due indicators have no value this month"),
         Text("报送截止日已过，当月应报指标没有数据",
              "due indicators without a value for the month after its deadline (data/reporting.toml)"),
         _missing),
    Rule("pending", Severity.INFO,
         Text("待报", "Due, not yet reported"),
         Text("待报（截止 {deadline}）：本月 {count} 项应报指标尚未报送",
              "Due by {deadline}: {count} due indicators not yet submitted this month"),
         Text("报送截止日之前尚未报送的应报指标，仅作提示，不计为未报",
              "due indicators not yet submitted before the month's deadline: a reminder, not a breach"),
         _pending),
    Rule("late", Severity.MEDIUM,
         Text("迟报", "Late"),
         Text("迟报：{submitted_at} 首次报送，晚于截止时间 {deadline}（迟 {days_late} 天）",
              "Late: first submitted {submitted_at}, after the deadline {deadline} ({days_late} days late)"),
         Text("当月数据首次报送时间晚于次月报送截止日",
              "the month's first submission arrived after the deadline day of the next month (data/reporting.toml)"),
         _late),
    Rule("deteriorating", Severity.MEDIUM,
         Text("连续变差", "Worse three months running"),
         Text("连续三个月变差：{indicator} {v0} → {v1} → {v2} → {v3}",
              "Worse three months running: {indicator} {v0} → {v1} → {v2} → {v3}"),
         Text("有方向的指标（比率按当月比值）连续三个月逐月变差",
              "a directed indicator's monthly value got worse in each of the last three months"),
         _deteriorating, window_months=3, figure="v3", basis=scores.Basis.MONTH),
    Rule("out_of_control", Severity.HIGH,
         Text("超出统计控制限", "Beyond the control limit"),
         Text("负伤人数超出统计控制限（u 控制图）：本月负伤 {events} 人，上控制限 {upper_limit}"
              "（按本单位前 24 个月伤害率与本月工时推算的期望值 {expected}）",
              "Injuries beyond the statistical control limit (u-chart): {events} this month, upper limit "
              "{upper_limit} (expected {expected} from the unit's own rate over the previous 24 months and this "
              "month's hours)"),
         Text("本月负伤人数超过 期望值 + 3·√期望值（期望值 = 前 24 个月自身伤害率 × 本月工时）",
              "injuries above expected + 3·sqrt(expected), expected = baseline rate × this month's hours"),
         _out_of_control, baseline_months=24, min_months=12,
         codes={"events": INJURIES, "exposure": HOURS_WORKED}, indicator=INJURY_RATE),
    Rule("silence", Severity.MEDIUM,
         Text("未排查出隐患（需核实）", "No hazards found (to verify)"),
         Text("连续 3 个月有工时（共 {exposure} 小时）但未排查出隐患，需核实",
              "Hours worked for 3 months running ({exposure} h) but no hazards found: to be verified"),
         Text("连续三个月有工时但排查隐患数为 0 或未报",
              "hours worked > 0 and hazards found zero or not reported in each of the last three months"),
         _silence, window_months=3, codes={"exposure": HOURS_WORKED, "found": HAZARDS_FOUND},
         indicator=HAZARDS_FOUND),
    Rule("major_overdue", Severity.HIGH,
         Text("重大隐患逾期", "Major hazard overdue"),
         Text("重大事故隐患逾期未销号：月末 {hazards} 项（{numbers}），最早整改期限 {deadline}，"
              "至月末逾期 {days_over} 天",
              "Major hazards past their deadline at the month's end: {hazards} ({numbers}); the earliest deadline "
              "{deadline}, {days_over} days over by the month's end"),
         Text("月末仍未销号、已过当时有效整改期限的重大事故隐患（隐患台账）",
              "major hazards still open at the month's end past the deadline then in force (the hazard ledger)"),
         _major_overdue),
)
"""Every flag the breaches page, the bulletin and `breaches --json` can raise, in the order they are listed within
a severity. Rules: docs/rules.md, "Breaches"."""

_COUNTS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12,
           "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12}
_MONTHS_NAMED = {"zh": re.compile(r"(\d+|十[一二]?|[一两二三四五六七八九]) ?个月"),
                 "en": re.compile(r"\b(\d+|[a-z]+) months?\b")}


def months_named(text: str, lang: str) -> set[int]:
    """The month counts a text names: '连续三个月', '前 24 个月', 'three months running' → {3}, {24}, {3}."""
    said = (_COUNTS.get(w, int(w) if w.isdigit() else None) for w in _MONTHS_NAMED[lang].findall(text))
    return {n for n in said if n is not None}


def words_disagree(rule: Rule) -> list[str]:
    """Where a rule's words name other months than it declares (its window, its baseline): in each language,
    the months its name, sentence and logic name together must be exactly those."""
    declared = {n for n in (rule.window_months, rule.baseline_months) if n is not None}
    problems = []
    for lang in LANGS:
        words = (rule.name.in_(lang), rule.sentence.in_(lang), rule.logic.in_(lang))
        named = set().union(*(months_named(w, lang) for w in words))
        if named != declared:
            problems.append(f"breach rule {rule.kind!r}: its {lang} words name {sorted(named)} months but it "
                            f"declares {sorted(declared)} (window_months, baseline_months); make them agree")
    return problems


def check_words(rules: tuple[Rule, ...]) -> None:
    """Refuse rules whose words and constants disagree (run on RULES at import)."""
    problems = [p for rule in rules for p in words_disagree(rule)]
    if problems:
        raise ValueError("; ".join(problems))


check_words(RULES)
BY_KIND: dict[str, Rule] = {r.kind: r for r in RULES}


def find_breaches(con: Connection, month: date, now: datetime | None = None,
                  rules: tuple[Rule, ...] = RULES) -> list[Breach]:
    """Every flag of `month` as of `now` (default: `clock.now()`, which decides pending or missing): each rule of
    `rules` checked against one context; high severity first, then in the order of `rules`, then by unit."""
    ctx = Context.of(con, month, now)
    found = [b for rule in rules for b in rule.find(ctx)]
    severity = list(Severity)
    rank = {r.kind: (severity.index(r.severity), i) for i, r in enumerate(rules)}
    return sorted(found, key=lambda b: (*rank[b.kind], b.subsidiary))


def to_json(month: date, breaches: list[Breach], indicator_names: dict[str, tuple[str, str]]) -> dict:
    return {
        "month": iso_month(month),
        "breaches": [{
            "kind": b.kind,
            "severity": b.rule.severity.value,
            "subsidiary": b.subsidiary,
            "name": b.name,
            "indicator": b.indicator,
            "message_zh": b.message("zh", indicator_names),
            "message_en": b.message("en", indicator_names),
            "evidence": b.evidence,
        } for b in breaches],
    }
