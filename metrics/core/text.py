"""One bilingual text: what a user reads, in Chinese and in English, always in that order.

Rules, refusals, problems and audit actions carry their words as a `Text`, so a page, a file and the command
line all ask it the same way: `text.in_(lang)`, or `text.format(lang, **values)` for a sentence with numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def in_(self, lang: str) -> str:
        """The text in `lang` ("zh" or "en")."""
        if lang not in LANGS:
            raise ValueError(f"no text in {lang!r}: one of {', '.join(LANGS)}")
        return self.zh if lang == "zh" else self.en

    def format(self, lang: str, **values: object) -> str:
        """The text in `lang` with its {placeholders} filled."""
        return self.in_(lang).format(**values)
