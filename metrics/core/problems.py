"""Problems found in user input: each names the row, the column, the value and what to do."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import Enum

ROWS_NAMED = 3
"""At most this many row numbers in one problem's sentence ("rows 2, 3, 4 … and 9,997 more"): a problem of a
group of rows (conflicting duplicates) would otherwise grow with the group, and the list of them with its square."""
LISTED_PER_FILE = 100
"""At most this many errors, and as many warnings, listed for one file; a last line counts the rest."""


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    value: str | None
    message: str
    level: Level = Level.ERROR
    message_zh: str = ""
    marks: tuple[str, ...] = ()
    """The headers of every cell of the row the problem concerns, where that is more than `column` (a unit
    code and a unit name that disagree): the preview marks them all."""

    def text(self, lang: str) -> str:
        """The message in the reader's language (Chinese where one was written)."""
        return self.message_zh or self.message if lang == "zh" else self.message

    def as_dict(self) -> dict:
        d = asdict(self)
        d["level"] = self.level.value
        return d

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class Rejected(Exception):
    """Input was rejected whole; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def rows_named(rows: Sequence[int]) -> tuple[str, str]:
    """The rows of a group in a sentence, English and Chinese: every row up to ROWS_NAMED, else the first
    ROWS_NAMED and how many more ("2, 3, 4 … and 9,997 more", "2、3、4 … 行等，另有 9,997 行")."""
    shown = [str(r) for r in rows[:ROWS_NAMED]]
    more = len(rows) - len(shown)
    if not more:
        return ", ".join(shown), "、".join(shown) + " 行"
    return f"{', '.join(shown)} … and {more:,} more", f"{'、'.join(shown)} … 行等，另有 {more:,} 行"


def listed(problems: list[Problem], limit: int = LISTED_PER_FILE) -> list[Problem]:
    """The first `limit` errors and the first `limit` warnings, in their order, then a line for each kind
    counting the ones left out: a file with thousands of bad rows is rejected as surely, at a bounded cost."""
    seen = dict.fromkeys(Level, 0)
    kept = []
    for problem in problems:
        seen[problem.level] += 1
        if seen[problem.level] <= limit:
            kept.append(problem)
    return kept + [_unlisted(count - limit, level) for level, count in seen.items() if count > limit]


def _unlisted(count: int, level: Level) -> Problem:
    if level is Level.ERROR:
        return Problem(None, None, None, f"{count:,} more errors are not listed; the file is rejected anyway: "
                                         f"correct the ones above and check the file again to see the rest",
                       message_zh=f"另有 {count:,} 处错误未列出，文件同样不予写入：请先改正以上错误，"
                                  f"再重新检查文件，其余错误将随之列出")
    return Problem(None, None, None, f"{count:,} more warnings are not listed", level,
                   message_zh=f"另有 {count:,} 条提醒未列出")


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level is Level.ERROR]


def gate(problems: list[Problem]) -> None:
    """The one place that decides: any error rejects the input."""
    if errors(problems):
        raise Rejected(errors(problems))
