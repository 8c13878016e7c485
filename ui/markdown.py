"""Text from the data inside Streamlit's Markdown.

Banners, captions, headings, metric labels and st.table cells are Markdown: a unit named
`[数据异常，请点此重新登录](http://evil.example/login)` would be a live link for every viewer. Names, file names,
definitions and reasons that come from the store or a file go through `plain` before they join a sentence.
"""
from __future__ import annotations

import re

MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#~|$"})
"""The characters that make links and images `[…](…)`, emphasis, code, HTML, headings, tables, Streamlit's
`:red[…]` and `$math$`; a backslash before any of them shows it as written."""
OPENERS = re.compile(r"^([-+]|\d+[.)])(?=\s)|(:)(?=[A-Za-z])", re.MULTILINE)
"""`- `, `+ ` and `1. ` start a list only at the start of a line; a colon before a word starts Streamlit's
`:red[…]` and `:warning:`."""
AUTOLINKED = re.compile(r"(?i)(?<=\bhttps)(?=:)|(?<=\bhttp)(?=:)|(?<=\bwww)(?=\.)|(?<=@)")
"""Where GitHub's autolinks find a link in plain text (`http://…`, `www.…`, `name@host`): no escape stops them,
so a word joiner (U+2060, not drawn) goes there."""
WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """The text shown as written, never as Markdown and never as a link."""
    escaped = OPENERS.sub(lambda m: f"\\{m[0]}", str(text).translate(MARKDOWN_SPECIALS))
    return AUTOLINKED.sub(WORD_JOINER, escaped)
