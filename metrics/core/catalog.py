"""The indicator catalog: parsed from data/catalog.toml into typed, validated records."""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from metrics.core import codes
from metrics.core.paths import CATALOG_FILE


class Kind(str, Enum):
    COUNT = "count"
    AMOUNT = "amount"
    HOURS = "hours"
    AVERAGE = "average"
    RATE = "rate"
    PERCENT = "percent"


class Direction(str, Enum):
    LOWER_BETTER = "lower_better"
    HIGHER_BETTER = "higher_better"
    NONE = "none"


class Category(str, Enum):
    RESULT = "result"
    PROCESS = "process"
    EXPOSURE = "exposure"


class Rollup(str, Enum):
    SUM = "sum"
    LAST = "last"
    MEAN = "mean"


class Ledger(str, Enum):
    """Where a hazard indicator comes from (docs/rules.md, "9. The hazard ledger"): KEPT, from the ledger of a
    unit that keeps its hazard ledger here (units.ledger_from) and typed by the others; ONLY, from the ledger
    alone (no unit types it)."""
    KEPT = "kept"
    ONLY = "only"


DERIVED_KINDS = {Kind.RATE, Kind.PERCENT}


class CatalogError(ValueError):
    """The catalog file breaks one of its own rules."""


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    definition_zh: str
    definition_en: str
    kind: Kind
    direction: Direction
    category: Category
    rollup: Rollup | None = None
    numerator: str | None = None
    denominator: str | None = None
    factor: float | None = None
    description: str = ""
    ledger: Ledger | None = None
    """Counted from the hazard ledger (None: typed by every unit)."""

    @property
    def derived(self) -> bool:
        return self.numerator is not None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def unit(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en


@dataclass(frozen=True)
class Catalog:
    version: int
    indicators: tuple[Indicator, ...]
    upper_bounds: dict[Kind, float] = field(default_factory=dict, hash=False)
    """kind -> the largest value one unit can report for one month (data/catalog.toml, [upper_bound])."""

    def __getitem__(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]

    @property
    def base(self) -> list[Indicator]:
        return [i for i in self.indicators if not i.derived]

    @property
    def derived(self) -> list[Indicator]:
        return [i for i in self.indicators if i.derived]

    @property
    def typed(self) -> list[Indicator]:
        """The base indicators a unit may type: all but those only the hazard ledger counts (`ledger = "only"`)."""
        return [i for i in self.base if i.ledger is not Ledger.ONLY]

    def from_ledger(self, *which: Ledger) -> list[str]:
        """The codes of the base indicators the ledger counts (`which`: only those of these kinds)."""
        return [i.code for i in self.indicators if i.ledger is not None and (not which or i.ledger in which)]


_FIELDS = {"code", "name_zh", "name_en", "unit_zh", "unit_en", "definition_zh", "definition_en", "kind", "direction",
           "category", "rollup", "numerator", "denominator", "factor", "description", "ledger"}
_NOT_HERE = {"veto_default": "a veto is set per year and unit in the targets (the veto column of "
                             "data/default_targets.csv, or the targets page), not in the catalog"}
"""Keys an indicator once had or might be given, and where what they meant is set instead."""


def _parse_indicator(raw: dict) -> Indicator:
    code = raw.get("code", "?")
    for key in sorted(set(raw) - _FIELDS):
        where = _NOT_HERE.get(key, f"unknown key; the keys are {', '.join(sorted(_FIELDS))}")
        raise CatalogError(f"indicator {code}: {key} is not read: {where}")
    try:
        ind = Indicator(
            code=raw["code"],
            name_zh=raw["name_zh"],
            name_en=raw["name_en"],
            unit_zh=raw["unit_zh"],
            unit_en=raw["unit_en"],
            definition_zh=raw["definition_zh"],
            definition_en=raw["definition_en"],
            kind=Kind(raw["kind"]),
            direction=Direction(raw["direction"]),
            category=Category(raw["category"]),
            rollup=Rollup(raw["rollup"]) if "rollup" in raw else None,
            numerator=raw.get("numerator"),
            denominator=raw.get("denominator"),
            factor=float(raw["factor"]) if "factor" in raw else None,
            description=raw.get("description", ""),
            ledger=Ledger(raw["ledger"]) if "ledger" in raw else None,
        )
    except (KeyError, ValueError) as exc:
        raise CatalogError(f"indicator {code}: {exc}") from exc
    if not ind.code.isascii() or ind.code != ind.code.lower() or " " in ind.code:
        raise CatalogError(f"indicator {code}: code must be ASCII snake_case")
    if ind.kind in DERIVED_KINDS:
        if not (ind.numerator and ind.denominator and ind.factor):
            raise CatalogError(f"indicator {code}: a {ind.kind.value} needs numerator, denominator and factor")
        if ind.rollup is not None:
            raise CatalogError(f"indicator {code}: a derived indicator has no roll-up; it is a ratio of sums")
        if ind.ledger is not None:
            raise CatalogError(f"indicator {code}: a derived indicator is computed from its inputs; mark them "
                               f"as counted from the ledger instead")
    elif ind.rollup is None or ind.numerator or ind.denominator:
        raise CatalogError(f"indicator {code}: a base indicator needs a roll-up and no formula")
    return ind


def parse_catalog(text: str) -> Catalog:
    """Parse and validate catalog TOML text."""
    doc = tomllib.loads(text)
    indicators = tuple(_parse_indicator(raw) for raw in doc.get("indicator", []))
    codes = [i.code for i in indicators]
    duplicated = {c for c in codes if codes.count(c) > 1}
    if duplicated:
        raise CatalogError(f"duplicate indicator codes: {sorted(duplicated)}")
    base = {i.code for i in indicators if not i.derived}
    for ind in indicators:
        for ref in (ind.numerator, ind.denominator):
            if ref is not None and ref not in base:
                raise CatalogError(f"indicator {ind.code}: formula input {ref} is not a base indicator")
    return Catalog(version=int(doc["version"]), indicators=indicators,
                   upper_bounds=_upper_bounds(doc.get("upper_bound", {}), indicators))


def _check_named_codes(indicators: dict[str, Indicator]) -> None:
    """Every code the program names (metrics/core/codes.py) is in the catalog with the shape the program uses."""
    for expected in codes.EXPECTED:
        found = indicators.get(expected.code)
        if found is None:
            raise CatalogError(f"indicator {expected.code}: the program reads it by this code "
                               f"(metrics/core/codes.py); keep it in the catalog or rename it there too")
        if (found.numerator, found.denominator) != (expected.numerator, expected.denominator):
            shape = (f"{expected.numerator} / {expected.denominator}" if expected.derived else "a base indicator")
            raise CatalogError(f"indicator {expected.code}: the program reads it as {shape} "
                               f"(metrics/core/codes.py)")


def _upper_bounds(raw: dict, indicators: tuple[Indicator, ...]) -> dict[Kind, float]:
    """The [upper_bound] table: a positive number for every kind an uploaded (base) indicator has, and none for a
    derived kind."""
    try:
        bounds = {Kind(kind): float(value) for kind, value in raw.items()}
    except (ValueError, TypeError) as exc:
        raise CatalogError(f"upper_bound: {exc}") from exc
    for kind, value in bounds.items():
        if kind in DERIVED_KINDS or not math.isfinite(value) or value <= 0:
            raise CatalogError(f"upper_bound {kind.value}: a positive number for a kind that is uploaded")
    missing = sorted({i.kind.value for i in indicators if not i.derived and i.kind not in bounds})
    if missing:
        raise CatalogError(f"upper_bound: no bound for the kind(s) {', '.join(missing)}")
    return bounds


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """The catalog the program runs on: parsed, and holding every code the program names."""
    catalog = parse_catalog(Path(path).read_text(encoding="utf-8"))
    _check_named_codes({i.code: i for i in catalog.indicators})
    return catalog
