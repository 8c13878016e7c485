"""The hazard ledger's vocabularies and settings, read from data/hazards.toml: sources (检查类型), levels,
factor classes (人/物/环境/管理), the criteria a major hazard is judged by, and GB 6441's accident types."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from metrics.core.paths import DATA
from metrics.core.text import Text

HAZARDS_FILE = DATA / "hazards.toml"
LISTS = ("source", "level", "factor", "criterion", "accident_type")


class VocabularyError(ValueError):
    """data/hazards.toml breaks one of its own rules."""


@dataclass(frozen=True)
class Term:
    code: str
    name: Text
    outside: bool = False
    """A source outside the unit (a higher authority, a consultancy): the closure rate of outside findings."""


@dataclass(frozen=True)
class Vocabulary:
    terms: dict[str, tuple[Term, ...]]
    due_soon_days: int
    escalate_after_days: int

    def codes(self, kind: str) -> tuple[str, ...]:
        return tuple(term.code for term in self.terms[kind])

    def name(self, kind: str, code: str, lang: str) -> str:
        for term in self.terms[kind]:
            if term.code == code:
                return term.name.in_(lang)
        raise KeyError(f"{kind} {code}")


def parse_vocabulary(text: str) -> Vocabulary:
    doc = tomllib.loads(text)
    terms: dict[str, tuple[Term, ...]] = {}
    for kind in LISTS:
        entries = doc.get(kind, [])
        if not entries:
            raise VocabularyError(f"data/hazards.toml: no [[{kind}]] entries")
        try:
            found = tuple(Term(str(e["code"]), Text(str(e["zh"]), str(e["en"])), bool(e.get("outside", False)))
                          for e in entries)
        except KeyError as exc:
            raise VocabularyError(f"data/hazards.toml: a [[{kind}]] entry has no {exc.args[0]}") from None
        codes = [t.code for t in found]
        if len(set(codes)) != len(codes):
            raise VocabularyError(f"data/hazards.toml: a [[{kind}]] code is listed twice")
        terms[kind] = found
    if {t.code for t in terms["level"]} != {"general", "major"}:
        raise VocabularyError("data/hazards.toml: the levels are general and major (一般 / 重大)")
    settings = doc.get("settings", {})
    return Vocabulary(terms, int(settings.get("due_soon_days", 3)), int(settings.get("escalate_after_days", 7)))


@cache
def load_vocabulary(path: Path = HAZARDS_FILE) -> Vocabulary:
    return parse_vocabulary(Path(path).read_text(encoding="utf-8"))
