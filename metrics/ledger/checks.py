"""The ledger's checks (台账核查提示, issue 14, items 4 and 7; docs/rules.md, "9. The hazard ledger", rules 14-18): what
the group's safety department should look at in a unit's hazard ledger, each worded as a thing to check, never as
a finding against the unit: the numbers do not say why they differ, only that they do.

Each check is declared once in CHECKS, as breach rules are (metrics/scoring/breaches.py): its id, its words as
Text (name, the sentence a reader sees with the numbers, the rule behind it, with the constants it uses), the
phrases a sentence picks from by the evidence, and its logic. The constants are data/hazards.toml's [checks].

- changeover: in the months just before a unit's figures come from its ledger (its changeover), a hazard figure
  the ledger takes over (catalog `ledger = "kept"`) typed one way and counted another;
- and, for a unit whose figures come from its ledger in the month (ledger_from on or before it), the signs of a
  ledger kept for show: hours worked and inspections done but no hazard registered; closures bunched on the
  deadline day; a hazard closed the day it was found without evidence of its own; hazards found per 10,000
  hours far below those of the other units of its sector over the same months.

A unit that types its hazard figures keeps its ledger elsewhere: what this store holds of it (an outside
consultancy's findings, a sample) is not its ledger, so none of the signs is read from it.
"""
from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core.catalog import Catalog, Ledger, load_catalog
from metrics.core.codes import HAZARDS_FOUND, HOURS_WORKED, INSPECTIONS_DONE
from metrics.core.formatting import display_number
from metrics.core.months import add_months, label, months_ending, parse_month
from metrics.core.text import Text
from metrics.ledger import indicators
from metrics.ledger.figures import LEDGER_SOURCE
from metrics.ledger.hazards import State
from metrics.ledger.vocabulary import HAZARDS_FILE
from metrics.store import Connection

UNITS = """
SELECT code, sector, ledger_from FROM subsidiaries
WHERE ledger_from IS NOT NULL AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), code))
ORDER BY code
"""
# The month's values of $codes for $units, each as the batch that wrote it last has it, that batch not the ledger's:
# what the unit typed (an upload, the demo's seed, a rollback to what was typed).
TYPED = """
SELECT o.subsidiary, o.indicator, o.value
FROM observations o JOIN batches b ON b.id = o.batch_id
WHERE o.month = $month AND b.source <> $ledger
  AND list_contains(CAST($units AS VARCHAR[]), o.subsidiary) AND list_contains(CAST($codes AS VARCHAR[]), o.indicator)
"""
MONTH_VALUES = """
SELECT subsidiary, indicator, value FROM observations
WHERE month = $month AND list_contains(CAST($units AS VARCHAR[]), subsidiary)
  AND list_contains(CAST($codes AS VARCHAR[]), indicator)
"""
INSPECTION_RECORDS = """
SELECT subsidiary, count(*) AS n FROM inspections
WHERE held_on >= $month AND held_on < $next AND list_contains(CAST($units AS VARCHAR[]), subsidiary)
GROUP BY subsidiary
"""
# The hazards closed (验收销号) in the month: how many, and how many were verified on the day their deadline fell.
CLOSURES = """
SELECT subsidiary, count(*) AS closures, count(*) FILTER (WHERE verified_on = deadline) AS on_deadline
FROM hazards
WHERE state = $closed AND closed_on >= $month AND closed_on < $next
  AND list_contains(CAST($units AS VARCHAR[]), subsidiary)
GROUP BY subsidiary ORDER BY subsidiary
"""
# The hazards closed in the month on the day they were found, with their evidence files (how many) and, of those,
# the ones that are also another hazard's evidence (the same file by sha256): evidence that is not its own.
SAME_DAY = """
WITH closed AS (
    SELECT number, subsidiary, place, found_on FROM hazards
    WHERE state = $closed AND closed_on = found_on AND closed_on >= $month AND closed_on < $next
      AND list_contains(CAST($units AS VARCHAR[]), subsidiary)
),
files AS (
    SELECT e.number, e.sha256,
           (SELECT min(o.number) FROM hazard_evidence o WHERE o.sha256 = e.sha256 AND o.number <> e.number) AS other
    FROM hazard_evidence e WHERE e.number IN (SELECT number FROM closed)
)
SELECT c.number, c.subsidiary, c.place, count(f.sha256) AS files, count(f.other) AS shared,
       min(f.other) AS shared_with
FROM closed c LEFT JOIN files f ON f.number = c.number
GROUP BY c.number, c.subsidiary, c.place
ORDER BY c.subsidiary, c.number
"""
# Every unit's months in [$first, $month] with hours worked and hazards found both reported, hours above 0.
RATE_PAIRS = """
SELECT h.subsidiary, u.sector, u.ledger_from, h.month, h.value AS hours, f.value AS found
FROM observations h
JOIN observations f ON f.subsidiary = h.subsidiary AND f.month = h.month AND f.indicator = $found
JOIN subsidiaries u ON u.code = h.subsidiary
WHERE h.indicator = $hours AND h.value > 0 AND h.month >= $first AND h.month <= $month
"""


class ChecksError(ValueError):
    """data/hazards.toml's [checks] breaks one of its rules."""


@dataclass(frozen=True)
class Settings:
    """data/hazards.toml's [checks]: the constants of the checks (each explained there)."""
    changeover_months: int
    deadline_day_min_closures: int
    deadline_day_share: float
    rate_months: int
    rate_fraction: float
    rate_min_peers: int


def parse_settings(text: str) -> Settings:
    """[checks] of data/hazards.toml; every constant required, counts whole and at least 1, shares in (0, 1)."""
    table = tomllib.loads(text).get("checks")
    if not isinstance(table, dict):
        raise ChecksError("data/hazards.toml: no [checks] table (the constants of the ledger's checks)")
    values: dict[str, int | float] = {}
    for spec in fields(Settings):
        raw = table.get(spec.name)
        share = spec.type == "float"
        if isinstance(raw, bool) or not isinstance(raw, (float, int) if share else int):
            raise ChecksError(f"data/hazards.toml [checks]: {spec.name} = {raw!r}: give a "
                              f"{'number between 0 and 1' if share else 'whole number of at least 1'}")
        if (share and not 0 < raw < 1) or (not share and raw < 1):
            raise ChecksError(f"data/hazards.toml [checks]: {spec.name} = {raw!r} is out of range: give a "
                              f"{'number between 0 and 1' if share else 'whole number of at least 1'}")
        values[spec.name] = float(raw) if share else int(raw)
    unknown = sorted(set(table) - set(values))
    if unknown:
        raise ChecksError(f"data/hazards.toml [checks]: unknown {', '.join(unknown)}; the constants are "
                          f"{', '.join(f.name for f in fields(Settings))}")
    return Settings(**values)  # type: ignore[arg-type]


@cache
def load_settings(path: Path = HAZARDS_FILE) -> Settings:
    return parse_settings(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Context:
    """What every check reads: the month, its units that keep their ledger here (unit -> ledger_from, and each
    one's sector), the constants, the catalog."""
    con: Connection
    month: date
    ledger_from: dict[str, date]
    sector: dict[str, str]
    settings: Settings
    catalog: Catalog

    @property
    def next_month(self) -> date:
        return add_months(self.month, 1)

    def kept(self) -> list[str]:
        """The units whose figures of the month come from their ledger."""
        return [u for u, since in self.ledger_from.items() if since <= self.month]

    def changing_over(self) -> list[str]:
        """The units in whose changeover the month falls: one of the `changeover_months` before ledger_from."""
        n = self.settings.changeover_months
        return [u for u, since in self.ledger_from.items() if add_months(since, -n) <= self.month < since]


@dataclass(frozen=True)
class Flag:
    """One thing to check: the check, the unit and month, the indicator it is about (a figure of the ledger, what
    a reader opens on the ledger page), the hazard (for a check of one hazard) and the numbers."""
    check: str
    subsidiary: str
    month: date
    evidence: dict
    indicator: str | None = None
    hazard: str | None = None

    @property
    def rule(self) -> Check:
        return BY_ID[self.check]

    def message(self, lang: str, indicator_names: Mapping[str, tuple[str, str]],
                settings: Settings | None = None) -> str:
        """The sentence with the numbers, in `lang`: 2026年4月已整改隐患数：填报 17，台账 12，台账少 5……"""
        settings = settings or load_settings()
        names = indicator_names.get(self.indicator or "", ("", ""))
        shown = {key: display_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                 else value for key, value in self.evidence.items()}
        shown |= {key: label(parse_month(self.evidence[key]), lang) for key in self.rule.months}
        shown |= {"month": label(self.month, lang), "indicator": Text(*names).in_(lang),
                  **{name: display_number(value) for name, value in self.rule.constants(settings).items()}}
        for key, options in self.rule.phrases.items():
            shown[key] = options[self.evidence[key]].format(lang, **shown)
        return self.rule.sentence.format(lang, **shown)


Find = Callable[["Check", Context], "list[Flag]"]


@dataclass(frozen=True)
class Check:
    """One of the ledger's checks: everything the page, the command line and `find_flags` need of it."""
    id: str
    name: Text
    sentence: Text
    """What a reader sees: {placeholders} from the evidence, {month}, {indicator}, the phrases and constants."""
    logic: Text
    """The rule behind the flag, with {placeholders} of the constants it uses."""
    find: Find
    uses: tuple[str, ...] = ()
    """The constants of [checks] it uses (named in its words as {placeholders}; shares as percentages)."""
    phrases: Mapping[str, Mapping[str, Text]] = field(default_factory=dict)
    """evidence key -> its value -> the words the sentence takes for it under the same key."""
    months: tuple[str, ...] = ()
    """The evidence keys that hold a month (YYYY-MM), shown as the month's name."""
    compares_sector: bool = False
    """Compared with the other units of the sector: left out for a user who may see only some units (sector
    figures are withheld from them)."""

    def constants(self, settings: Settings) -> dict[str, float]:
        """The constants it uses, as its words name them (a share as a percentage)."""
        return {name: getattr(settings, name) * (100 if isinstance(getattr(settings, name), float) else 1)
                for name in self.uses}

    def rule_text(self, lang: str, settings: Settings | None = None) -> str:
        shown = {k: display_number(v) for k, v in self.constants(settings or load_settings()).items()}
        return self.logic.format(lang, **shown)


def _frame(ctx: Context, sql: str, units: list[str], **params) -> pd.DataFrame:
    """`sql` for `units` in the month ($month, and $next: the next month's first day, where it asks for it)."""
    month = {"month": ctx.month, "next": ctx.next_month} if "$next" in sql else {"month": ctx.month}
    return store.query(ctx.con, sql, {**month, "units": units, **params})


def _changeover(check: Check, ctx: Context) -> list[Flag]:
    units = ctx.changing_over()
    if not units:
        return []
    codes = ctx.catalog.from_ledger(Ledger.KEPT)
    typed = _frame(ctx, TYPED, units, codes=codes, ledger=LEDGER_SOURCE)
    counted = indicators.monthly(ctx.con, [ctx.month], units, ctx.catalog)
    both = typed.merge(counted[["subsidiary", "indicator", "value"]], on=["subsidiary", "indicator"],
                       suffixes=("_typed", "_counted"))
    order = {code: i for i, code in enumerate(codes)}
    both = both[both["value_typed"] != both["value_counted"]]
    found = []
    for r in sorted(both.itertuples(index=False), key=lambda r: (r.subsidiary, order[r.indicator])):
        typed_value, counted_value = float(r.value_typed), float(r.value_counted)
        found.append(Flag(check.id, r.subsidiary, ctx.month, {
            "typed": typed_value, "counted": counted_value, "difference": abs(typed_value - counted_value),
            "gap": "short" if counted_value < typed_value else "more",
            "ledger_from": f"{ctx.ledger_from[r.subsidiary]:%Y-%m}"},
            indicator=r.indicator))
    return found


def _no_findings(check: Check, ctx: Context) -> list[Flag]:
    """Hours and inspections in the month, and no hazard found in it: inspections as the ledger records them, or
    where it holds no inspection record of the unit's month, as the unit reported them (inspections_done)."""
    units = ctx.kept()
    if not units:
        return []
    values = _frame(ctx, MONTH_VALUES, units, codes=[HOURS_WORKED, INSPECTIONS_DONE])
    by = {(r.subsidiary, r.indicator): float(r.value) for r in values.itertuples(index=False)}
    records = {r.subsidiary: int(r.n) for r in _frame(ctx, INSPECTION_RECORDS, units).itertuples(index=False)}
    counted = indicators.monthly(ctx.con, [ctx.month], units, ctx.catalog)
    found_in_month = dict(zip(counted.loc[counted["indicator"] == HAZARDS_FOUND, "subsidiary"],
                              counted.loc[counted["indicator"] == HAZARDS_FOUND, "value"]))
    flags = []
    for unit in units:
        hours = by.get((unit, HOURS_WORKED), 0.0)
        source, inspections = ("records", records[unit]) if unit in records else \
            ("reported", by.get((unit, INSPECTIONS_DONE), 0.0))
        if hours > 0 and inspections > 0 and found_in_month.get(unit, 0.0) == 0:
            flags.append(Flag(check.id, unit, ctx.month, {"hours": hours, "count": inspections,
                                                           "inspections": source}, indicator=HAZARDS_FOUND))
    return flags


def _deadline_day(check: Check, ctx: Context) -> list[Flag]:
    units = ctx.kept()
    if not units:
        return []
    rows = _frame(ctx, CLOSURES, units, closed=State.CLOSED.value)
    s = ctx.settings
    return [Flag(check.id, r.subsidiary, ctx.month, {"closures": int(r.closures), "on_deadline": int(r.on_deadline),
                                                     "share": round(100 * r.on_deadline / r.closures)})
            for r in rows.itertuples(index=False)
            if r.closures >= s.deadline_day_min_closures and r.on_deadline / r.closures > s.deadline_day_share]


def _same_day(check: Check, ctx: Context) -> list[Flag]:
    units = ctx.kept()
    if not units:
        return []
    rows = _frame(ctx, SAME_DAY, units, closed=State.CLOSED.value)
    flags = []
    for r in rows.itertuples(index=False):
        if r.files > r.shared:
            continue
        evidence = {"number": r.number, "place": r.place, "files": int(r.files),
                    "evidence": "none" if r.files == 0 else "shared"}
        if r.files:
            evidence["shared_with"] = r.shared_with
        flags.append(Flag(check.id, r.subsidiary, ctx.month, evidence, hazard=r.number))
    return flags


def _low_rate(check: Check, ctx: Context) -> list[Flag]:
    """The unit's hazards found per 10,000 hours over its months in the window whose figures come from its ledger,
    against the other units of its sector over the same months (each month both reported hours and hazards)."""
    units = ctx.kept()
    if not units:
        return []
    s = ctx.settings
    window = months_ending(ctx.month, s.rate_months)
    pairs = store.query(ctx.con, RATE_PAIRS, {"found": HAZARDS_FOUND, "hours": HOURS_WORKED, "first": window[0],
                                              "month": ctx.month})
    pairs["month"] = pd.to_datetime(pairs["month"]).dt.date
    flags = []
    for unit in units:
        own = pairs[(pairs["subsidiary"] == unit) & (pairs["month"] >= ctx.ledger_from[unit])]
        months = sorted(set(own["month"]))
        peers = pairs[(pairs["sector"] == ctx.sector[unit]) & (pairs["subsidiary"] != unit)
                      & pairs["month"].isin(months)]
        peer_hours = float(peers["hours"].sum())
        if own.empty or peers["subsidiary"].nunique() < s.rate_min_peers or peer_hours == 0:
            continue
        rate = float(own["found"].sum()) * 10_000 / float(own["hours"].sum())
        sector_rate = float(peers["found"].sum()) * 10_000 / peer_hours
        if rate < s.rate_fraction * sector_rate:
            flags.append(Flag(check.id, unit, ctx.month, {
                "found": float(own["found"].sum()), "hours": float(own["hours"].sum()), "rate": round(rate, 2),
                "sector_rate": round(sector_rate, 2), "peers": int(peers["subsidiary"].nunique()),
                "months": len(months), "first": f"{months[0]:%Y-%m}",
                "period": "one" if len(months) == 1 else "span"}, indicator=HAZARDS_FOUND))
    return flags


_PERIOD = {"one": Text("{month}", "{month}"),
           "span": Text("{first}至{month}（{months} 个月）", "{first} to {month} ({months} months)")}

CHECKS: tuple[Check, ...] = (
    Check("changeover",
          Text("切换期填报与台账不一致", "Changeover: typed and ledger differ"),
          Text("{month}{indicator}：填报 {typed}，台账统计 {counted}，{gap}",
               "{month}, {indicator}: typed {typed}, counted from the ledger {counted}; {gap}"),
          Text("台账启用（指标改由台账统计）前 {changeover_months} 个月为切换期；切换期内同一月份既有填报值又有台账"
               "统计值的隐患指标，两者应一致",
               "in the {changeover_months} months before a unit's hazard figures come from its ledger (its "
               "changeover), a month's typed figure and the ledger's count of it should agree"),
          _changeover, uses=("changeover_months",),
          phrases={"gap": {
              "short": Text("台账少 {difference}，请核对台账记录是否完整",
                            "the ledger has {difference} fewer: check that its records are complete"),
              "more": Text("台账多 {difference}，请核对填报数是否准确",
                           "the ledger has {difference} more: check the typed figure")}}),
    Check("no_findings",
          Text("有检查无隐患登记", "Inspections but no hazard registered"),
          Text("{month}有工时 {hours} 小时、{inspections}，台账未登记隐患，请核对检查发现的问题是否已登记",
               "{month}: {hours} hours worked and {inspections}, but no hazard registered in the ledger: check "
               "that what the inspections found was registered"),
          Text("由台账统计隐患指标的单位，当月有工时、有检查（台账检查记录，没有记录时取填报的完成检查次数），"
               "但台账没有当月发现的隐患",
               "a unit whose hazard figures come from its ledger, with hours worked and inspections in the month "
               "(the ledger's inspection records, or the inspections done it reported where there are none), "
               "and no hazard found in the month in its ledger"),
          _no_findings,
          phrases={"inspections": {
              "records": Text("检查记录 {count} 次", "{count} inspection records"),
              "reported": Text("填报完成检查 {count} 次", "{count} inspections done as reported")}}),
    Check("deadline_day",
          Text("销号集中在整改期限当日", "Closures bunched on the deadline day"),
          Text("{month}验收销号 {closures} 项，其中 {on_deadline} 项（{share}%）在整改期限当日验收，"
               "请核对验收记录与实际整改时间",
               "{month}: {closures} hazards closed, {on_deadline} of them ({share}%) verified on their deadline "
               "day: check the verification records against when the work was done"),
          Text("当月验收销号不少于 {deadline_day_min_closures} 项，其中在整改期限当日验收的超过 "
               "{deadline_day_share}%",
               "at least {deadline_day_min_closures} hazards closed in the month, more than "
               "{deadline_day_share}% of them verified on their deadline day"),
          _deadline_day, uses=("deadline_day_min_closures", "deadline_day_share")),
    Check("same_day",
          Text("发现当日即销号，无本隐患整改证据", "Closed the day found, no evidence of its own"),
          Text("隐患 {number}（{place}）发现当日即验收销号，{evidence}，请核对整改与验收记录",
               "Hazard {number} was closed the day it was found and {evidence}: check the "
               "rectification and verification records"),
          Text("当月销号的隐患，验收日即发现日，且没有本隐患的整改证据（未附文件，或所附文件与其他隐患的相同）",
               "a hazard closed in the month on the day it was found, with no evidence of its own (no file, or "
               "only files that are another hazard's evidence too)"),
          _same_day,
          phrases={"evidence": {"none": Text("未附整改证据", "has no evidence attached"),
                                "shared": Text("所附整改证据与隐患 {shared_with} 的文件相同",
                                               "its evidence is the same file as hazard {shared_with}'s")}}),
    Check("low_rate",
          Text("隐患排查明显少于同板块", "Findings far below the sector's"),
          Text("{period}每万工时排查隐患 {rate} 项（{found} 项，{hours} 小时），同板块其他 {peers} 家单位同期合计"
               "每万工时 {sector_rate} 项，本单位不足其 {rate_fraction}%，请核对隐患排查是否全面",
               "{period}: {rate} hazards found per 10,000 hours ({found} in {hours} hours), the sector's other "
               "{peers} units together {sector_rate}: under {rate_fraction}% of theirs; check that inspections "
               "find and register what is there"),
          Text("由台账统计隐患指标的单位，截至当月 {rate_months} 个月内（台账启用后的月份）每万工时排查隐患数低于"
               "同板块其他单位同期合计的 {rate_fraction}%（同期有工时和隐患数据的其他单位不少于 {rate_min_peers} 家）",
               "a unit whose hazard figures come from its ledger: its hazards found per 10,000 hours over the "
               "{rate_months} months ending with the month (those from its ledger) below {rate_fraction}% of the "
               "sector's other units' together over the same months (at least {rate_min_peers} of them with hours "
               "and hazards found)"),
          _low_rate, uses=("rate_months", "rate_fraction", "rate_min_peers"), phrases={"period": _PERIOD},
          months=("first",), compares_sector=True),
)
"""Every ledger check, in the order the page lists them."""
BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


def find_flags(con: Connection, month: date, units: Collection[str] | None = None, *,
               compare_sectors: bool = True, settings: Settings | None = None,
               catalog: Catalog | None = None) -> list[Flag]:
    """Every flag of `month` (its first day) for `units` (None: every unit), in the order of CHECKS, then by unit.
    `compare_sectors` False leaves out the checks that compare a unit with the others of its sector."""
    frame = store.query(con, UNITS, {"units": None if units is None else list(units)})
    ctx = Context(con, month, {r.code: pd.Timestamp(r.ledger_from).date() for r in frame.itertuples(index=False)},
                  dict(zip(frame["code"], frame["sector"])), settings or load_settings(), catalog or load_catalog())
    if not ctx.ledger_from:
        return []
    return [flag for check in CHECKS if compare_sectors or not check.compares_sector
            for flag in check.find(check, ctx)]


def to_json(flags: list[Flag], indicator_names: Mapping[str, tuple[str, str]]) -> list[dict]:
    return [{"check": f.check, "subsidiary": f.subsidiary, "month": f"{f.month:%Y-%m}", "indicator": f.indicator,
             "hazard": f.hazard, "message_zh": f.message("zh", indicator_names),
             "message_en": f.message("en", indicator_names), "evidence": f.evidence} for f in flags]
