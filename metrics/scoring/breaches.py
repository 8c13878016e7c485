"""Breach flags for the executives: each rule declares its logic and the sentence a user reads.

Rules: docs/rules.md, "Breaches". The logic of the history rules lives in sql.py (DETERIORATING, U_CHART_SERIES,
SILENCE); status, veto, missing and pending read the scoring result. Every breach carries the numbers behind it
(`evidence`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

import pandas as pd

from metrics import store
from metrics.core import reporting
from metrics.core.codes import HAZARDS_FOUND, HOURS_WORKED, INJURIES, INJURY_RATE
from metrics.core.formatting import display_number
from metrics.core.months import add_months, iso_month
from metrics.scoring import scores
from metrics.store import Connection, schema

# Directed indicators (derived ones as monthly ratios) that got worse in each of the last three months.
# Parameters: $first_month (three months before $month), $month.
DETERIORATING = """
WITH window_obs AS (
    SELECT o.month, o.subsidiary, o.indicator, o.value
    FROM observations o JOIN subsidiaries u ON u.code = o.subsidiary
    WHERE o.month BETWEEN CAST($first_month AS DATE) AND CAST($month AS DATE)
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
series AS (
    SELECT subsidiary, indicator, list(value ORDER BY month) AS vals, count(*) AS n
    FROM monthly GROUP BY subsidiary, indicator
)
SELECT s.subsidiary, s.indicator, s.vals[1] AS v0, s.vals[2] AS v1, s.vals[3] AS v2, s.vals[4] AS v3
FROM series s JOIN indicators i ON i.code = s.indicator
WHERE s.n = 4 AND CASE i.direction
    WHEN 'lower_better' THEN s.vals[1] < s.vals[2] AND s.vals[2] < s.vals[3] AND s.vals[3] < s.vals[4]
    WHEN 'higher_better' THEN s.vals[1] > s.vals[2] AND s.vals[2] > s.vals[3] AND s.vals[3] > s.vals[4]
    ELSE error('unknown direction ' || i.direction)
END
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
# A unit's first submission of a month (the earliest batch that wrote a value for it) after the deadline.
# Parameters: $month, $deadline (the last moment a submission is on time).
LATE_SUBMISSIONS = """
SELECT h.subsidiary, min(b.created_at) AS submitted_at
FROM observation_history h
JOIN batches b ON b.id = h.batch_id
JOIN subsidiaries u ON u.code = h.subsidiary
WHERE h.month = CAST($month AS DATE) AND h.value IS NOT NULL
GROUP BY h.subsidiary
HAVING min(b.created_at) > CAST($deadline AS TIMESTAMP)
ORDER BY h.subsidiary
"""
# Hours worked reported but no hazards found (zero or not reported) in each of the last three months.
# Parameters: $exposure, $found (indicator codes), $first_month, $month.
SILENCE = """
SELECT h.subsidiary, count(*) AS months, sum(h.value) AS exposure
FROM observations h
JOIN subsidiaries u ON u.code = h.subsidiary
LEFT JOIN observations f ON f.month = h.month AND f.subsidiary = h.subsidiary AND f.indicator = $found
WHERE h.indicator = $exposure AND h.value > 0 AND coalesce(f.value, 0) = 0
  AND h.month BETWEEN CAST($first_month AS DATE) AND CAST($month AS DATE)
GROUP BY h.subsidiary
HAVING count(*) = 3
ORDER BY h.subsidiary
"""

U_CHART_BASELINE_MONTHS = 24
U_CHART_MIN_MONTHS = 12


class Severity(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    INFO = "info"
    """A reminder, not a breach (a month not yet due)."""


SEVERITY_NAMES = {Severity.HIGH: {"zh": "高", "en": "High"}, Severity.MEDIUM: {"zh": "中", "en": "Medium"},
                  Severity.INFO: {"zh": "提示", "en": "Note"}}
SEVERITY_SYMBOLS = {Severity.HIGH: "✖", Severity.MEDIUM: "▲", Severity.INFO: "ⓘ"}


def severity_label(severity: Severity, lang: str) -> str:
    """'✖ 高', '▲ Medium': the symbol reads on a projector and in grey."""
    return f"{SEVERITY_SYMBOLS[severity]} {SEVERITY_NAMES[severity][lang]}"


@dataclass(frozen=True)
class Rule:
    kind: str
    severity: Severity
    name_zh: str
    name_en: str
    sentence_zh: str
    sentence_en: str
    logic_zh: str
    logic_en: str

    def logic(self, lang: str) -> str:
        return self.logic_zh if lang == "zh" else self.logic_en

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


RULES: dict[str, Rule] = {r.kind: r for r in (
    Rule("veto", Severity.HIGH,
         "一票否决", "Veto",
         "一票否决：本年累计{indicator_zh} {value}，按目标责任书一票否决，考核得分计为 0",
         "Veto: {indicator_en} {value} this year; under the responsibility letter it vetoes the year's score (0)",
         "否决指标本年累计超出控制值（目标责任书约定的一票否决事项）",
         "a veto indicator of the responsibility letter is beyond its limit year to date"),
    Rule("red", Severity.HIGH,
         "超标", "Red",
         "超标：本年累计{indicator_zh} {value}，控制值 {limit}（目标 {target}）",
         "Red: {indicator_en} {value} year to date against the limit {limit} (target {target})",
         "本年累计值超出控制值", "year-to-date value beyond the limit"),
    Rule("yellow", Severity.MEDIUM,
         "预警", "Yellow",
         "预警：本年累计{indicator_zh} {value}，目标 {target}，控制值 {limit}",
         "Yellow: {indicator_en} {value} year to date, target {target}, limit {limit}",
         "本年累计值介于目标值与控制值之间", "year-to-date value between target and limit"),
    Rule("missing", Severity.MEDIUM,
         "未报", "Not reported",
         "未报：已过报送截止日 {deadline}，本月 {count} 项应报指标没有数据",
         "Not reported: past the deadline {deadline}, {count} due indicators have no value this month",
         "报送截止日已过，当月应报指标没有数据",
         "due indicators without a value for the month after its deadline (data/reporting.toml)"),
    Rule("pending", Severity.INFO,
         "待报", "Due, not yet reported",
         "待报（截止 {deadline}）：本月 {count} 项应报指标尚未报送",
         "Due by {deadline}: {count} due indicators not yet submitted this month",
         "报送截止日之前尚未报送的应报指标，仅作提示，不计为未报",
         "due indicators not yet submitted before the month's deadline: a reminder, not a breach"),
    Rule("late", Severity.MEDIUM,
         "迟报", "Late",
         "迟报：{submitted_at} 首次报送，晚于截止时间 {deadline}（迟 {days_late} 天）",
         "Late: first submitted {submitted_at}, after the deadline {deadline} ({days_late} days late)",
         "当月数据首次报送时间晚于次月报送截止日",
         "the month's first submission arrived after the deadline day of the next month (data/reporting.toml)"),
    Rule("deteriorating", Severity.MEDIUM,
         "连续变差", "Worse three months running",
         "连续三个月变差：{indicator_zh} {v0} → {v1} → {v2} → {v3}",
         "Worse three months running: {indicator_en} {v0} → {v1} → {v2} → {v3}",
         "有方向的指标（比率按当月比值）连续三个月逐月变差",
         "a directed indicator's monthly value got worse in each of the last three months"),
    Rule("out_of_control", Severity.HIGH,
         "超出统计控制限", "Beyond the control limit",
         "负伤人数超出统计控制限（u 控制图）：本月负伤 {events} 人，上控制限 {upper_limit}"
         "（按本单位前 24 个月伤害率与本月工时推算的期望值 {expected}）",
         "Injuries beyond the statistical control limit (u-chart): {events} this month, upper limit {upper_limit} "
         "(expected {expected} from the unit's own rate over the previous 24 months and this month's hours)",
         "本月负伤人数超过 期望值 + 3·√期望值（期望值 = 前 24 个月自身伤害率 × 本月工时）",
         "injuries above expected + 3·sqrt(expected), expected = baseline rate × this month's hours"),
    Rule("silence", Severity.MEDIUM,
         "未排查出隐患（需核实）", "No hazards found (to verify)",
         "连续 3 个月有工时（共 {exposure} 小时）但未排查出隐患，需核实",
         "Hours worked for 3 months running ({exposure} h) but no hazards found: to be verified",
         "连续三个月有工时但排查隐患数为 0 或未报",
         "hours worked > 0 and hazards found zero or not reported in each of the last three months"),
)}
"""Each flag the breaches page, the bulletin and `breaches --json` can raise: its kind, its severity, the sentence
a reader sees (with the evidence's numbers) and the rule behind it. Rules: docs/rules.md, "Breaches"."""
PRORATED = {"zh": "（年度目标与控制值按 {months}/12 折算）", "en": " (annual target and limit prorated × {months}/12)"}


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
        return RULES[self.kind]

    def message(self, lang: str, indicator_names: dict[str, tuple[str, str]]) -> str:
        zh, en = indicator_names.get(self.indicator or "", ("", ""))
        template = self.rule.sentence_zh if lang == "zh" else self.rule.sentence_en
        shown = {k: display_number(v) if isinstance(v, (int, float)) else v for k, v in self.evidence.items()}
        text = template.format(indicator_zh=zh, indicator_en=en, **shown)
        if self.evidence.get("prorated_months"):
            text += PRORATED[lang].format(months=self.evidence["prorated_months"])
        return text


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _status_breaches(ytd: scores.ScoreResult, names: dict[str, tuple[str, str]],
                     prorated: set[str]) -> list[Breach]:
    """Red and yellow statuses of the year; a red veto indicator is listed once, as the veto. `prorated`: the
    indicators whose annual target and limit are prorated by months elapsed (higher-better sums)."""
    rows = ytd.indicators[ytd.indicators["status"].isin(["red", "yellow"])]
    found = []
    for r in rows.itertuples(index=False):
        evidence = {"value": _num(r.value), "target": _num(r.target), "limit": _num(r.limit)}
        if r.partial:
            evidence["partial"] = True
        if r.indicator in prorated and ytd.month.month < 12:
            evidence["prorated_months"] = ytd.month.month
        kind = "veto" if r.status == "red" and r.veto else r.status
        found.append(Breach(kind, r.subsidiary, *names[r.subsidiary], r.indicator, evidence))
    return found


def _missing_breaches(monthly: scores.ScoreResult, now: datetime | None) -> list[Breach]:
    """Due indicators without a value for the month: pending before its deadline, missing after it."""
    due = reporting.deadline(monthly.month)
    kind = "missing" if reporting.deadline_passed(monthly.month, now) else "pending"
    return [Breach(kind, u.subsidiary, u.name_zh, u.name_en, None,
                   {"count": int(u.missing), "deadline": f"{due:%Y-%m-%d}", "reported": bool(u.reported)})
            for u in monthly.units.itertuples(index=False) if u.missing > 0]


def control_chart(con: Connection, first_month: date, last_month: date) -> pd.DataFrame:
    """The injury u-chart of every unit and the group ('*') per month: events, exposure, centre (the rate
    per hour of the preceding baseline), expected, upper_limit, lower_limit, out_of_control."""
    frame = store.query(con, U_CHART_SERIES, {
        "events": INJURIES, "exposure": HOURS_WORKED, "first_month": first_month, "last_month": last_month,
        "baseline_months": U_CHART_BASELINE_MONTHS, "min_months": U_CHART_MIN_MONTHS})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def find_breaches(con: Connection, month: date, now: datetime | None = None) -> list[Breach]:
    """Every flag of `month` as of `now` (default: `clock.now()`, which decides pending or missing): high
    severity first, then in the order of RULES, then by unit."""
    ytd = scores.score(con, month, scores.Basis.YTD)
    monthly = scores.score(con, month, scores.Basis.MONTH)
    names = {u.subsidiary: (u.name_zh, u.name_en) for u in ytd.units.itertuples(index=False)}
    indicators = store.query(con, schema.SELECT_INDICATORS)
    prorated = set(indicators.loc[(indicators["rollup"] == "sum") & (indicators["direction"] == "higher_better"),
                                  "code"])
    found = _status_breaches(ytd, names, prorated) + _missing_breaches(monthly, now)
    due = reporting.deadline(month)
    for r in store.query(con, LATE_SUBMISSIONS, {"month": month, "deadline": due}).itertuples(index=False):
        submitted = pd.Timestamp(r.submitted_at).to_pydatetime()
        found.append(Breach("late", r.subsidiary, *names[r.subsidiary], None, {
            "submitted_at": f"{submitted:%Y-%m-%d %H:%M}", "deadline": f"{due:%Y-%m-%d}",
            "days_late": (submitted.date() - due.date()).days}))
    for r in store.query(con, DETERIORATING, {"first_month": add_months(month, -3),
                                                  "month": month}).itertuples(index=False):
        found.append(Breach("deteriorating", r.subsidiary, *names[r.subsidiary], r.indicator,
                            {"v0": r.v0, "v1": r.v1, "v2": r.v2, "v3": r.v3}))
    u_chart = control_chart(con, month, month)
    for r in u_chart[u_chart["out_of_control"] & (u_chart["subsidiary"] != "*")].itertuples(index=False):
        found.append(Breach("out_of_control", r.subsidiary, *names[r.subsidiary], INJURY_RATE, {
            "events": r.events, "exposure": r.exposure, "expected": r.expected, "upper_limit": r.upper_limit,
            "baseline_rate_per_million_hours": r.centre * 1e6, "baseline_months": int(r.baseline_months)}))
    silence = store.query(con, SILENCE, {"exposure": HOURS_WORKED, "found": HAZARDS_FOUND,
                                             "first_month": add_months(month, -2), "month": month})
    for r in silence.itertuples(index=False):
        found.append(Breach("silence", r.subsidiary, *names[r.subsidiary], HAZARDS_FOUND,
                            {"months": int(r.months), "exposure": r.exposure}))
    order, severity = list(RULES), list(Severity)
    return sorted(found, key=lambda b: (severity.index(b.rule.severity), order.index(b.kind), b.subsidiary))


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
