"""The monthly bulletin (安全生产月度通报): what the safety meeting sees for a month, as data and as an ordered
list of slides, for the presentation page and for the PPTX, PDF and Excel exports alike.

Everything is year to date (the basis of accountability); the numbers come from `overview`, `breaches` and
`scoring`, never recomputed here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

import pandas as pd

from metrics.core.codes import (
    HAZARDS_FOUND,
    HAZARDS_OVERDUE,
    HAZARDS_RECTIFIED,
    INJURY_RATE,
    LTIFR,
    MAJOR_HAZARDS,
    RECTIFICATION_RATE,
)
from metrics.core.months import label
from metrics.scoring import breaches, overview, scores
from metrics.scoring.breaches import Breach
from metrics.scoring.overview import Reference
from metrics.store import Connection

KEY_TRENDS = (INJURY_RATE, LTIFR, RECTIFICATION_RATE)
TREND_YEARS = 2
"""The key trends cover this year and the one before, year to date month by month."""
MOVERS = 3


class SlideKind(str, Enum):
    HEADLINE = "headline"
    VETO_AND_RED = "veto_and_red"
    RANKING = "ranking"
    MOVERS = "movers"
    TRENDS = "trends"
    RECTIFICATION = "rectification"
    SCORECARD = "scorecard"


TITLES = {
    SlideKind.HEADLINE: {"zh": "{month}集团安全生产总体情况", "en": "The group in {month}"},
    SlideKind.VETO_AND_RED: {"zh": "一票否决与超标事项", "en": "Vetoes and red flags"},
    SlideKind.RANKING: {"zh": "单位考核排名 · 本年累计", "en": "Unit ranking, year to date"},
    SlideKind.MOVERS: {"zh": "进步与退步最大的单位", "en": "Biggest improvers and decliners"},
    SlideKind.TRENDS: {"zh": "重点指标趋势 · 本年累计", "en": "Key indicator trends, year to date"},
    SlideKind.RECTIFICATION: {"zh": "隐患排查治理", "en": "Hazard rectification"},
    SlideKind.SCORECARD: {"zh": "{unit}记分卡", "en": "{unit} scorecard"},
}
DOCUMENT_TITLE = {"zh": "安全生产月度通报", "en": "Monthly safety bulletin"}


@dataclass(frozen=True)
class Slide:
    kind: SlideKind
    title: str
    unit: str | None = None
    """The unit of a scorecard slide."""


@dataclass(frozen=True)
class Bulletin:
    month: date
    overview: overview.Overview
    """Year to date: headlines with their changes, ranked units, vetoed and missing units, safe days."""
    breaches: list[Breach]
    trends: dict[str, pd.DataFrame]
    """Group line of each key indicator, year to date at the end of each month from January of the year before:
    month, value, target, limit (the year-to-date target and limit)."""
    reference: Reference

    def names(self, lang: str) -> dict[str, str]:
        units = self.reference.units
        return dict(zip(units["code"], units["name_zh" if lang == "zh" else "name_en"]))

    def indicator_names(self, lang: str) -> dict[str, str]:
        ind = self.reference.indicators
        return dict(zip(ind["code"], ind["name_zh" if lang == "zh" else "name_en"]))

    def flagged(self) -> list[Breach]:
        """The veto and red flags, vetoes first: the meeting's first business. A vetoed indicator is also red;
        it is listed once, as the veto."""
        vetoed = {(b.subsidiary, b.indicator) for b in self.breaches if b.kind == "veto"}
        return [b for b in self.breaches
                if b.kind == "veto" or (b.kind == "red" and (b.subsidiary, b.indicator) not in vetoed)]

    def movers(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The units whose score rose most and fell most since last month (at most MOVERS each, none
        unchanged): subsidiary, unit_score, previous_score, change, grade."""
        moved = self.overview.units.dropna(subset=["change"])
        moved = moved[moved["change"].round(9) != 0]
        columns = ["subsidiary", "unit_score", "previous_score", "change", "grade"]
        up = moved[moved["change"] > 0].sort_values(["change", "subsidiary"], ascending=[False, True])
        down = moved[moved["change"] < 0].sort_values(["change", "subsidiary"])
        return up.head(MOVERS)[columns].reset_index(drop=True), down.head(MOVERS)[columns].reset_index(drop=True)

    def rectification(self) -> pd.DataFrame:
        """Hazards per unit, year to date: subsidiary, found, rectified, rate, overdue (month end), status of
        the rate, major (major hazards); the group's row last with subsidiary '*'."""
        ind = self.overview.ytd.indicators
        wide = ind[ind["indicator"].isin([HAZARDS_FOUND, HAZARDS_RECTIFIED, RECTIFICATION_RATE,
                                          HAZARDS_OVERDUE, MAJOR_HAZARDS])]
        values = wide.pivot(index="subsidiary", columns="indicator", values="value")
        status = wide[wide["indicator"] == RECTIFICATION_RATE].set_index("subsidiary")["status"]
        frame = pd.DataFrame({
            "subsidiary": values.index,
            "found": values[HAZARDS_FOUND].to_numpy(),
            "rectified": values[HAZARDS_RECTIFIED].to_numpy(),
            "rate": values[RECTIFICATION_RATE].to_numpy(),
            "overdue": values[HAZARDS_OVERDUE].to_numpy(),
            "major": values[MAJOR_HAZARDS].to_numpy(),
            "status": status.reindex(values.index).to_numpy(),
        })
        group = self.overview.ytd.group_values()
        total = pd.DataFrame([{"subsidiary": "*", "found": group[HAZARDS_FOUND],
                               "rectified": group[HAZARDS_RECTIFIED], "rate": group[RECTIFICATION_RATE],
                               "overdue": group[HAZARDS_OVERDUE], "major": group[MAJOR_HAZARDS],
                               "status": None}])
        return pd.concat([frame.sort_values("rate", na_position="last"), total], ignore_index=True)

    def scorecard(self, unit: str) -> pd.DataFrame:
        """The unit's due indicators, year to date: indicator, value, target, limit, status, score, weight,
        veto."""
        rows = self.overview.ytd.unit_indicators(unit)
        return rows[rows["status"] != "none"][["indicator", "value", "target", "limit", "status", "score", "weight",
                                              "veto"]].reset_index(drop=True)

    def slides(self, lang: str, scorecards: Sequence[str] = ()) -> list[Slide]:
        """The slides in meeting order; one scorecard per unit asked for."""
        month = label(self.month, lang)
        names = self.names(lang)
        unknown = [u for u in scorecards if u not in names]
        if unknown:
            raise ValueError(f"no such unit: {', '.join(unknown)}; use the unit codes of the store")
        shown = [Slide(kind, TITLES[kind][lang].format(month=month)) for kind in SlideKind
                 if kind is not SlideKind.SCORECARD]
        return shown + [Slide(SlideKind.SCORECARD, TITLES[SlideKind.SCORECARD][lang].format(unit=names[u]), u)
                        for u in scorecards]


def build_bulletin(con: Connection, month: date) -> Bulletin:
    first = date(month.year - TREND_YEARS + 1, 1, 1)
    trends = {}
    for code in KEY_TRENDS:
        series = overview.series(con, code, first, month, scores.Basis.YTD, units=[])
        trends[code] = series[series["level"] == "group"][["month", "value", "target", "limit"]].reset_index(drop=True)
    return Bulletin(month=month, overview=overview.build_overview(con, month, scores.Basis.YTD),
                    breaches=breaches.find_breaches(con, month), trends=trends,
                    reference=overview.reference(con))


def file_name(month: date, extension: str, lang: str = "zh") -> str:
    """安全生产月度通报_2026年10月.pptx (English: Monthly-safety-bulletin_2026-10.pptx)."""
    if lang == "zh":
        return f"{DOCUMENT_TITLE['zh']}_{month.year}年{month.month}月.{extension}"
    return f"Monthly-safety-bulletin_{month:%Y-%m}.{extension}"
