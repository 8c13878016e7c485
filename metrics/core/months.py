"""Months: parsing the notations users write, and the arithmetic the rules need."""
from __future__ import annotations

import re
from datetime import date

from metrics.core.parsing import fold_width

_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$", re.ASCII),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?$", re.ASCII),
    re.compile(r"^(\d{4})(\d{2})$", re.ASCII),
)


def parse_month(text: str) -> date:
    """The first day of the month written as 2026-10, 2026/10, 2026年10月 or 202610.

    Raises ValueError with a message a user can act on.
    """
    cleaned = fold_width(str(text))
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12 and 1900 <= year <= 2999:
                return date(year, month, 1)
            break
    raise ValueError(f"not a month: {text!r}; write it as 2026-10, 2026/10, 2026年10月 or 202610")


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_ending(month: date, count: int) -> list[date]:
    """The `count` months ending with `month`, oldest first."""
    return [add_months(month, -i) for i in range(count - 1, -1, -1)]


def last_complete_month(today: date) -> date:
    return add_months(date(today.year, today.month, 1), -1)


def month_end(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def iso_month(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def label(month: date, lang: str) -> str:
    """2026年10月 in Chinese, Oct 2026 in English."""
    return f"{month.year}年{month.month}月" if lang == "zh" else month.strftime("%b %Y")


def day_label(day: date, lang: str) -> str:
    """12月10日 in Chinese, 10 Dec in English (a deadline within the coming weeks)."""
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {day:%b}"
