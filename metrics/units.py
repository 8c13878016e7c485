"""Subsidiaries (子（控）公司): importing the unit list."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from metrics.csvfiles import read_rows
from metrics.parsing import key, name_index
from metrics.problems import Problem, gate

COLUMNS = ["code", "name_zh", "name_en", "sector"]
MARKUP = re.compile(r"[<>\x00-\x1f\x7f]")


def sector_names(sectors: pd.DataFrame) -> dict[str, str]:
    """key(code / Chinese name / English name) -> sector code."""
    return name_index(zip(sectors["code"], sectors["name_zh"], sectors["name_en"]))


def parse_units(path: str | Path, sectors: dict[str, str]) -> pd.DataFrame:
    """Validate a units CSV (code,name_zh,name_en,sector); raises Rejected listing every problem.

    `sectors` maps every accepted spelling of a sector (code, Chinese or English name) to its code.
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    records = []
    for row_no, row in read_rows(path, COLUMNS):
        code = row["code"]
        if not code or code == "*":
            problems.append(Problem(row_no, "code", code, "a unit needs a code (and * is reserved for the "
                                                          "group default)"))
        elif code in seen:
            problems.append(Problem(row_no, "code", code, f"code already used on row {seen[code]}"))
        seen.setdefault(code, row_no)
        if not row["name_zh"]:
            problems.append(Problem(row_no, "name_zh", "", "a unit needs its Chinese name"))
        for column in ("code", "name_zh", "name_en"):
            if MARKUP.search(row[column] or ""):
                problems.append(Problem(row_no, column, row[column], "a unit's code and names may not hold < > or "
                                        "control characters (they are shown on every page); write the name as "
                                        "plain text"))
        sector = sectors.get(key(row["sector"]))
        if sector is None:
            problems.append(Problem(row_no, "sector", row["sector"],
                                    f"unknown sector; use one of {', '.join(sorted(set(sectors.values())))}"))
        records.append({"code": code, "name_zh": row["name_zh"], "name_en": row["name_en"] or row["name_zh"],
                        "sector": sector})
    if not records:
        problems.append(Problem(None, None, None, "the file has no unit rows"))
    gate(problems)
    return pd.DataFrame(records, columns=COLUMNS)
