"""Strict converters for uploaded cells: a number or a month is read exactly, or refused with a reason."""
from __future__ import annotations

import math
import re
import unicodedata

from metrics.core.exports import neutralise

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$", re.ASCII)
_MINUS_SIGNS = {"\u2212": "-", "\u2013": "-", "\u2014": "-"}
_FULL_WIDTH = str.maketrans({**{chr(0xFF01 + i): chr(0x21 + i) for i in range(94)}, "\u3000": " ", **_MINUS_SIGNS})
"""Full-width ASCII (０-９, ．, ，, ＋, －, ｅ …) and the ideographic space to ASCII, minus signs to "-": the only
folding a number or a month gets. NFKC would also read "1²" as 12, "①" as 1 and "١٢" as 12."""


def normalise(text: str) -> str:
    """Full-width characters folded to ASCII (NFKC), surrounding spaces removed."""
    return unicodedata.normalize("NFKC", text).translate(_FULL_WIDTH).strip()


def fold_width(text: str) -> str:
    """Full-width digits and signs folded to ASCII (_FULL_WIDTH), surrounding spaces removed; any other
    character, a superscript or a circled or Arabic-Indic digit among them, stays as it is and is refused."""
    return text.translate(_FULL_WIDTH).strip()


def parse_number(text: str) -> float:
    """A number written plainly, with thousands separators, in full-width digits, or as 1.5E+05; -0 is 0.

    Raises ValueError for anything else (words, 1,5, NaN, infinity, 95%, 1², ①).
    """
    cleaned = fold_width(text)
    if _GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _PLAIN.match(cleaned):
        raise ValueError(text)
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value + 0.0  # -0.0 + 0.0 is 0.0: "-0" is stored and shown as 0


def name_index(records) -> dict[str, str]:
    """key(spelling) -> code, for records of (code, *other spellings): codes and names both resolve, also as
    the sanitising export writes them (`'=1+1` for a unit named `=1+1`), so a template comes back as it went."""
    return {key(form): code for code, *names in records for text in (*names, code) if text
            for form in (neutralise(text), text)}


def key(text: str) -> str:
    """How names are compared: NFKC, no spaces, case-folded."""
    return re.sub(r"\s+", "", normalise(text)).casefold()
