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
        """The text in `lang` with its {placeholders} filled; a value that is a Text is taken in `lang` too."""
        return self.in_(lang).format(**{key: value.in_(lang) if isinstance(value, Text) else value
                                        for key, value in values.items()})

    def fill(self, **values: object) -> Text:
        """Both languages with their {placeholders} filled (as `format`): a sentence built of other sentences,
        e.g. a refusal with the unit it names, stays one Text."""
        return Text(self.format("zh", **values), self.format("en", **values))
