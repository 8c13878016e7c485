"""Breach flags for the executives: each rule declares its logic and the sentence a user reads.

The logic of the history rules lives in sql.py (DETERIORATING, U_CHART_SERIES, SILENCE); status, veto and
missing read the scoring result. Every breach carries the numbers behind it (`evidence`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

import duckdb
import pandas as pd

from metrics import reporting, scoring, sql, store
from metrics.formatting import display_number
from metrics.months import add_months, iso_month

U_CHART_BASELINE_MONTHS = 24
U_CHART_MIN_MONTHS = 12


class Severity(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Rule:
    kind: str
    severity: Severity
    sentence_zh: str
    sentence_en: str
    logic_zh: str
    logic_en: str

    def logic(self, lang: str) -> str:
        return self.logic_zh if lang == "zh" else self.logic_en


RULES: dict[str, Rule] = {r.kind: r for r in (
    Rule("veto", Severity.HIGH,
         "一票否决：{indicator_zh}为 {value}，超过控制值 {limit}，本期得分归零",
         "Veto: {indicator_en} is {value}, beyond the limit {limit}; the period's score is 0",
         "否决指标按本年累计口径超出控制值", "a veto indicator is red on the year-to-date basis"),
    Rule("red", Severity.HIGH,
         "超标：{indicator_zh} {value}，控制值 {limit}（目标 {target}）",
         "Red: {indicator_en} {value} against limit {limit} (target {target})",
         "本年累计值超出控制值", "year-to-date value beyond the limit"),
    Rule("yellow", Severity.MEDIUM,
         "预警：{indicator_zh} {value}，目标 {target}，控制值 {limit}",
         "Yellow: {indicator_en} {value}, target {target}, limit {limit}",
         "本年累计值介于目标值与控制值之间", "year-to-date value between target and limit"),
    Rule("missing", Severity.HIGH,
         "未报：本月 {count} 项应报指标没有数据",
         "Not reported: {count} due indicators have no value this month",
         "当月应报指标没有数据", "due indicators without a value on the month basis"),
    Rule("late", Severity.MEDIUM,
         "迟报：{submitted_at} 首次报送，晚于截止时间 {deadline}（迟 {days_late} 天）",
         "Late: first submitted {submitted_at}, after the deadline {deadline} ({days_late} days late)",
         "当月数据首次报送时间晚于次月报送截止日（data/reporting.toml）",
         "the month's first submission arrived after the deadline day of the next month (data/reporting.toml)"),
    Rule("deteriorating", Severity.MEDIUM,
         "连续三个月恶化：{indicator_zh} {v0} → {v1} → {v2} → {v3}",
         "Worse three months running: {indicator_en} {v0} → {v1} → {v2} → {v3}",
         "有方向的指标（比率按当月比值）连续三个月逐月变差", "a directed indicator's monthly value got worse in each of the last three months"),
    Rule("out_of_control", Severity.HIGH,
         "伤害率失控（u 控制图）：本月负伤 {events} 人，按自身基线应为 {expected}，上控制限 {upper_limit}",
         "Injury rate out of control (u-chart): {events} injuries this month, {expected} expected "
         "from the unit's own baseline, upper limit {upper_limit}",
         "本月负伤人数超过 期望值 + 3·√期望值（期望值 = 前 24 个月自身伤害率 × 本月工时）", "injuries above expected + 3·sqrt(expected), expected = baseline rate × this month's hours"),
    Rule("silence", Severity.MEDIUM,
         "疑似瞒报：连续 3 个月有工时（共 {exposure} 小时）但未排查出隐患",
         "Suspicious silence: hours worked for 3 months ({exposure} h) but no hazards found",
         "连续三个月有工时但排查隐患数为 0 或未报", "hours worked > 0 and hazards found zero or not reported in each of the last three months"),
)}


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
        return template.format(indicator_zh=zh, indicator_en=en, **shown)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _status_breaches(ytd: scoring.ScoreResult, names: dict[str, tuple[str, str]]) -> list[Breach]:
    rows = ytd.indicators[ytd.indicators["status"].isin(["red", "yellow"])]
    found = []
    for r in rows.itertuples(index=False):
        evidence = {"value": _num(r.value), "target": _num(r.target), "limit": _num(r.limit)}
        if r.status == "red" and r.veto:
            found.append(Breach("veto", r.subsidiary, *names[r.subsidiary], r.indicator, evidence))
        found.append(Breach(r.status, r.subsidiary, *names[r.subsidiary], r.indicator, evidence))
    return found


def _missing_breaches(monthly: scoring.ScoreResult) -> list[Breach]:
    return [Breach("missing", u.subsidiary, u.name_zh, u.name_en, None, {"count": int(u.missing)})
            for u in monthly.units.itertuples(index=False) if u.missing > 0]


def control_chart(con: duckdb.DuckDBPyConnection, first_month: date, last_month: date) -> pd.DataFrame:
    """The injury u-chart of every unit and the group ('*') per month: events, exposure, centre (the rate
    per hour of the preceding baseline), expected, upper_limit, lower_limit, out_of_control."""
    frame = store.query(con, sql.U_CHART_SERIES, {
        "events": "injuries", "exposure": "hours_worked", "first_month": first_month, "last_month": last_month,
        "baseline_months": U_CHART_BASELINE_MONTHS, "min_months": U_CHART_MIN_MONTHS})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def find_breaches(con: duckdb.DuckDBPyConnection, month: date) -> list[Breach]:
    """Every breach flag of `month`: high severity first, then in the order of RULES, then by unit."""
    ytd = scoring.score(con, month, scoring.Basis.YTD)
    monthly = scoring.score(con, month, scoring.Basis.MONTH)
    names = {u.subsidiary: (u.name_zh, u.name_en) for u in ytd.units.itertuples(index=False)}
    found = _status_breaches(ytd, names) + _missing_breaches(monthly)
    due = reporting.deadline(month)
    for r in store.query(con, sql.LATE_SUBMISSIONS, {"month": month, "deadline": due}).itertuples(index=False):
        submitted = pd.Timestamp(r.submitted_at).to_pydatetime()
        found.append(Breach("late", r.subsidiary, *names[r.subsidiary], None, {
            "submitted_at": f"{submitted:%Y-%m-%d %H:%M}", "deadline": f"{due:%Y-%m-%d}",
            "days_late": (submitted.date() - due.date()).days}))
    for r in store.query(con, sql.DETERIORATING, {"first_month": add_months(month, -3),
                                                  "month": month}).itertuples(index=False):
        found.append(Breach("deteriorating", r.subsidiary, *names[r.subsidiary], r.indicator,
                            {"v0": r.v0, "v1": r.v1, "v2": r.v2, "v3": r.v3}))
    u_chart = control_chart(con, month, month)
    for r in u_chart[u_chart["out_of_control"] & (u_chart["subsidiary"] != "*")].itertuples(index=False):
        found.append(Breach("out_of_control", r.subsidiary, *names[r.subsidiary], "injury_freq_rate", {
            "events": r.events, "exposure": r.exposure, "expected": r.expected, "upper_limit": r.upper_limit,
            "baseline_rate_per_million_hours": r.centre * 1e6, "baseline_months": int(r.baseline_months)}))
    silence = store.query(con, sql.SILENCE, {"exposure": "hours_worked", "found": "hazards_found",
                                             "first_month": add_months(month, -2), "month": month})
    for r in silence.itertuples(index=False):
        found.append(Breach("silence", r.subsidiary, *names[r.subsidiary], "hazards_found",
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
