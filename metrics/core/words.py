"""The one text catalogue: every word a page or a file shows, in Chinese and English, read from data/words.toml.

The pages ask it through ui.i18n.t (in the language of the session), the monthly bulletin (the meeting page, the
PPTX, the PDF, the Excel file) through metrics.reports.sections.word, so a page and a file say one thing in one
way. tests/test_words.py holds the catalogue and the code to each other: both languages with the same
{placeholders} for every key, every key asked for is here, every key here is asked for.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from metrics.core.paths import DATA
from metrics.core.text import LANGS, Text

WORDS_FILE = DATA / "words.toml"


def load(path: Path = WORDS_FILE) -> dict[str, Text]:
    """Every key of the catalogue file with its text; a key without exactly a Chinese and an English text (or
    with one empty) is an error naming it."""
    with path.open("rb") as file:
        entries = tomllib.load(file)
    words = {}
    for key, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS) \
                or not all(isinstance(text, str) and text for text in entry.values()):
            found = sorted(entry) if isinstance(entry, dict) else repr(entry)
            raise ValueError(f"{path.name}: {key} has {found}; give it a non-empty {key}.zh and {key}.en and "
                             "nothing else")
        words[key] = Text(entry["zh"], entry["en"])
    return words


WORDS: Mapping[str, Text] = MappingProxyType(load())


def word(key: str, lang: str, **values: object) -> str:
    """The text of `key` in `lang` with its {placeholders} filled from `values`; with no values, the text as
    written, braces and all (a Plotly hover template keeps its %{customdata})."""
    text = WORDS[key]
    return text.format(lang, **values) if values else text.in_(lang)
