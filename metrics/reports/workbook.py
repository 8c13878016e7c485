"""The monthly bulletin as an Excel workbook, the meeting's data annex: a summary, the ranked scores, every
due indicator of every unit and every breach flag, year to date, in Chinese or English.

Built only from the `Bulletin` (nothing recomputed) and written only through `exports.xlsx_bytes`, the one
sanitising path: numbers stay numbers, names that came from uploads are made inert.
"""
from __future__ import annotations

import pandas as pd

from metrics.core import exports
from metrics.core.codes import FATALITIES, LTIFR, RECTIFICATION_RATE
from metrics.core.months import add_months, label
from metrics.reports.bulletin import DOCUMENT_TITLE, Bulletin
from metrics.reports.charts import status_label
from metrics.reports.sections import unit_grade_cell
from metrics.scoring import breaches
from metrics.scoring.breaches import Breach

SHEETS = {
    "summary": {"zh": "概况", "en": "Summary"},
    "scores": {"zh": "得分排名", "en": "Scores"},
    "indicators": {"zh": "指标明细", "en": "Indicator values"},
    "breaches": {"zh": "预警清单", "en": "Breaches"},
}
WORDS = {
    "item": {"zh": "项目（本年累计）", "en": "Item (year to date)"},
    "change_month": {"zh": "较上月", "en": "Change from last month"},
    "change_year": {"zh": "较去年同期", "en": "Change from last year"},
    "note": {"zh": "说明", "en": "Note"},
    "red": {"zh": "超标（红）项数", "en": "Red flags"},
    "yellow": {"zh": "预警（黄）项数", "en": "Yellow flags"},
    "reported": {"zh": "已报送单位数", "en": "Units reported"},
    "expected": {"zh": "应报送单位数", "en": "Units expected"},
    "missing_units": {"zh": "未报送单位数", "en": "Units not reported"},
    "vetoed_units": {"zh": "一票否决单位数", "en": "Units vetoed"},
    "safe_days": {"zh": "集团安全生产天数（无死亡）", "en": "Days without a fatality"},
    "lti_days": {"zh": "集团无损失工时伤害天数", "en": "Days without a lost-time injury"},
    "since_records": {"zh": "期间无事故记录，自有数据起算（下限）",
                      "en": "no event on record: counted from the first month on record (a lower bound)"},
    "rank": {"zh": "排名", "en": "Rank"},
    "code": {"zh": "单位编码", "en": "Code"},
    "unit": {"zh": "单位", "en": "Unit"},
    "sector": {"zh": "板块", "en": "Sector"},
    "score": {"zh": "得分", "en": "Score"},
    "grade": {"zh": "等级", "en": "Grade"},
    "vetoed": {"zh": "一票否决", "en": "Vetoed"},
    "red_count": {"zh": "超标", "en": "Red"},
    "yellow_count": {"zh": "预警", "en": "Yellow"},
    "missing_count": {"zh": "未报", "en": "Missing"},
    "change": {"zh": "较上月", "en": "Change"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "measure": {"zh": "计量单位", "en": "Unit of measure"},
    "value": {"zh": "本年累计值", "en": "Value, year to date"},
    "breach_value": {"zh": "本期值", "en": "Value"},
    "target": {"zh": "目标值", "en": "Target"},
    "limit": {"zh": "控制值", "en": "Limit"},
    "status": {"zh": "状态", "en": "Status"},
    "indicator_score": {"zh": "指标得分", "en": "Score"},
    "weight": {"zh": "权重", "en": "Weight"},
    "veto": {"zh": "否决项", "en": "Veto"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    "kind": {"zh": "类型", "en": "Kind"},
    "message": {"zh": "说明", "en": "What happened"},
    "rule": {"zh": "判定规则", "en": "Rule"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    "grade_veto": {"zh": "否决", "en": "Veto"},
}
LIST_SEPARATOR = {"zh": "、", "en": ", "}


def bulletin_xlsx(bulletin: Bulletin, lang: str = "zh") -> bytes:
    """The workbook: summary, scores, indicator values and breaches, in `lang` ('zh' or 'en')."""
    if lang not in LIST_SEPARATOR:
        raise ValueError(f"no such language: {lang!r} (zh or en)")
    sheets = {
        SHEETS["summary"][lang]: _summary(bulletin, lang),
        SHEETS["scores"][lang]: _scores(bulletin, lang),
        SHEETS["indicators"][lang]: _indicators(bulletin, lang),
        SHEETS["breaches"][lang]: _breaches(bulletin, lang),
    }
    return exports.xlsx_bytes(sheets, title=f"{DOCUMENT_TITLE[lang]} {label(bulletin.month, lang)}")


def _summary(bulletin: Bulletin, lang: str) -> pd.DataFrame:
    """The headline figures with last month and the same month last year and the changes from each; the
    counts of units expected, not reported and vetoed; the group's safe days."""
    w = _words(lang)
    ov = bulletin.overview
    indicator_names = bulletin.indicator_names(lang)
    names = bulletin.names(lang)
    h = ov.headlines
    figures = [(indicator_names[code], h[code]) for code in (FATALITIES, LTIFR, RECTIFICATION_RATE)]
    figures += [(w[code], h[code]) for code in ("red", "yellow", "reported")]
    rows = [[item, f.value, f.previous, f.change(f.previous), f.last_year, f.change(f.last_year), ""]
            for item, f in figures]
    separator = LIST_SEPARATOR[lang]
    rows += [[w["expected"], ov.expected, None, None, None, None, ""],
             [w["missing_units"], len(ov.missing_units), None, None, None, None,
              separator.join(names[c] for c in ov.missing_units)],
             [w["vetoed_units"], len(ov.vetoed_units), None, None, None, None,
              separator.join(names[c] for c in ov.vetoed_units["subsidiary"])]]
    for key, days in (("safe_days", ov.safe_days_fatality["*"]), ("lti_days", ov.safe_days_lost_time["*"])):
        rows.append([w[key], days.days, None, None, None, None, w["since_records"] if days.since_records else ""])
    month = bulletin.month
    columns = [w["item"], label(month, lang), label(add_months(month, -1), lang), w["change_month"],
               label(add_months(month, -12), lang), w["change_year"], w["note"]]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns[1:-1]:
        frame[column] = pd.to_numeric(frame[column])
    return frame


def _scores(bulletin: Bulletin, lang: str) -> pd.DataFrame:
    """The ranked units: rank, code, unit, sector, score, grade, vetoed, red, yellow, missing, change."""
    w = _words(lang)
    units = bulletin.overview.units
    sectors = dict(zip(bulletin.reference.sectors["code"], bulletin.reference.sectors[_name_column(lang)]))
    grades = _grade_words(bulletin, lang)
    return pd.DataFrame({
        w["rank"]: units["rank"],
        w["code"]: units["subsidiary"],
        w["unit"]: units["subsidiary"].map(bulletin.names(lang)),
        w["sector"]: units["sector"].map(sectors),
        w["score"]: units["unit_score"],
        w["grade"]: [grades.get(u.grade, "") if u.reason != "not_reported" else unit_grade_cell(u, bulletin, lang).text
                     for u in units.itertuples(index=False)],
        w["vetoed"]: [w["yes"] if v else w["no"] for v in units["vetoed"]],
        w["red_count"]: units["red"],
        w["yellow_count"]: units["yellow"],
        w["missing_count"]: units["missing"],
        w["change"]: units["change"],
    })


def _indicators(bulletin: Bulletin, lang: str) -> pd.DataFrame:
    """Every due indicator of every unit in ranking order (`Bulletin.scorecard`): unit, indicator, unit of
    measure, value, target, limit, status (symbol and word), score, weight, veto."""
    w = _words(lang)
    names = bulletin.names(lang)
    indicators = bulletin.reference.indicators.set_index("code")
    indicator_names = indicators[_name_column(lang)]
    measures = indicators["unit_zh" if lang == "zh" else "unit_en"]
    cards = [bulletin.scorecard(code).assign(subsidiary=code) for code in bulletin.overview.units["subsidiary"]]
    rows = pd.concat(cards, ignore_index=True)
    return pd.DataFrame({
        w["unit"]: rows["subsidiary"].map(names),
        w["indicator"]: rows["indicator"].map(indicator_names),
        w["measure"]: rows["indicator"].map(measures),
        w["value"]: rows["value"].astype("float64"),
        w["target"]: rows["target"].astype("float64"),
        w["limit"]: rows["limit"].astype("float64"),
        w["status"]: [status_label(s, lang) for s in rows["status"]],
        w["indicator_score"]: rows["score"].astype("float64"),
        w["weight"]: rows["weight"].astype("float64"),
        w["veto"]: [w["yes"] if v else w["no"] for v in rows["veto"]],
    })


def _breaches(bulletin: Bulletin, lang: str) -> pd.DataFrame:
    """Every flag of the month as the breaches page lists it: severity, kind, unit, sector, indicator, value,
    target, limit, the sentence with the numbers and the rule."""
    w = _words(lang)
    found = bulletin.breaches
    units = bulletin.reference.units
    sector_of = dict(zip(units["code"], units["sector_zh" if lang == "zh" else "sector_en"]))
    indicator_names = bulletin.indicator_names(lang)
    both = {r.code: (r.name_zh, r.name_en) for r in bulletin.reference.indicators.itertuples(index=False)}
    return pd.DataFrame({
        w["severity"]: [breaches.severity_label(b.rule.severity, lang) for b in found],
        w["kind"]: [b.rule.name.in_(lang) for b in found],
        w["unit"]: [b.unit_name(lang) for b in found],
        w["sector"]: [sector_of.get(b.subsidiary, "") for b in found],
        w["indicator"]: [indicator_names.get(b.indicator, "") if b.indicator else "" for b in found],
        w["breach_value"]: pd.Series([_evidence(b, "value") for b in found], dtype="float64"),
        w["target"]: pd.Series([_evidence(b, "target") for b in found], dtype="float64"),
        w["limit"]: pd.Series([_evidence(b, "limit") for b in found], dtype="float64"),
        w["message"]: [b.message(lang, both) for b in found],
        w["rule"]: [b.rule.logic.in_(lang) for b in found],
    })


def _words(lang: str) -> dict[str, str]:
    return {key: text[lang] for key, text in WORDS.items()}


def _name_column(lang: str) -> str:
    return "name_zh" if lang == "zh" else "name_en"


def _grade_words(bulletin: Bulletin, lang: str) -> dict[str, str]:
    """'A 优秀' for each grade of the store and '否决' for a veto."""
    grades = bulletin.reference.grades
    words = {g: f"{g} {n}" for g, n in zip(grades["grade"], grades[_name_column(lang)])}
    return words | {"veto": WORDS["grade_veto"][lang]}


def _evidence(breach: Breach, key: str) -> float | None:
    value = breach.evidence.get(key)
    return float(value) if isinstance(value, (int, float)) else None
