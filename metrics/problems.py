"""Problems found in user input: each names the row, the column, the value and what to do."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum


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


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level is Level.ERROR]


def gate(problems: list[Problem]) -> None:
    """The one place that decides: any error rejects the input."""
    if errors(problems):
        raise Rejected(errors(problems))
