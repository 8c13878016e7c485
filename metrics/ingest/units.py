"""Subsidiaries (子（控）公司): importing the unit list."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from metrics.core.parsing import key, name_index
from metrics.core.problems import Problem, gate
from metrics.ingest.csvfiles import read_rows

COLUMNS = ["code", "name_zh", "name_en", "sector"]
MARKUP = re.compile(r"[<>\x00-\x1f\x7f]")


def sector_names(sectors: pd.DataFrame) -> dict[str, str]:
    """key(code / Chinese name / English name) -> sector code."""
    return name_index(zip(sectors["code"], sectors["name_zh"], sectors["name_en"]))


def _spellings(text: str) -> set[str]:
    """Every key a unit's code or name is found by in an upload (parsing.name_index)."""
    return set(name_index([(text,)])) if text else set()


def _name_clashes(rows: list[tuple[int, dict[str, str]]], stored: pd.DataFrame) -> list[Problem]:
    """A unit's code or name that already names another unit, in the file or among the stored units the file
    leaves as they are: an upload finds a unit by code or by name, so a name, like a code, names one unit."""
    codes = {row["code"] for _, row in rows}
    owners: dict[str, tuple[str, int | None, str]] = {}
    """key -> (the unit's code, its row in the file or None, its Chinese name)"""
    for unit in stored[~stored["code"].isin(codes)].itertuples(index=False):
        for text in (unit.code, unit.name_zh, unit.name_en):
            for spelling in _spellings(text):
                owners.setdefault(spelling, (unit.code, None, unit.name_zh))
    problems = []
    for row_no, row in rows:
        code = row["code"]
        for column in ("code", "name_zh", "name_en"):
            text = row[column]
            other = next((owners[k] for k in _spellings(text) if k in owners and owners[k][0] != code), None)
            if other is not None:
                problems.append(_clash(row_no, column, text, other))
        for column in ("code", "name_zh", "name_en"):
            for spelling in _spellings(row[column]):
                owners.setdefault(spelling, (code, row_no, row["name_zh"]))
    return problems


def _clash(row_no: int, column: str, text: str, other: tuple[str, int | None, str]) -> Problem:
    code, row, name = other
    if row is None:
        return Problem(row_no, column, text,
                       f"{text} already names unit {code} ({name}): unit names, like codes, are unique (an upload "
                       f"finds a unit by either); choose another name, or rename {code} in the same file",
                       message_zh=f"“{text}”已是单位 {code}（{name}）的编码或名称：单位名称与编码一样不得重复（上传时按"
                                  f"二者识别单位）；请另取名称，或在同一文件中同时修改 {code} 的名称")
    return Problem(row_no, column, text,
                   f"{text} already names unit {code} on row {row}: unit names, like codes, are unique (an upload "
                   f"finds a unit by either); give each unit its own",
                   message_zh=f"“{text}”已是第 {row} 行单位 {code} 的编码或名称：单位名称与编码一样不得重复（上传时按"
                              f"二者识别单位）；请为每个单位使用不同的名称")


def parse_units(path: str | Path, sectors: dict[str, str], stored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validate a units CSV (code,name_zh,name_en,sector); raises Rejected listing every problem.

    `sectors` maps every accepted spelling of a sector (code, Chinese or English name) to its code; `stored`: the
    units the store holds (code, name_zh, name_en), whose codes and names the file's other units may not take.
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    records = []
    rows = read_rows(path, COLUMNS)
    for row_no, row in rows:
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
    problems += _name_clashes(rows, stored if stored is not None else pd.DataFrame(columns=COLUMNS))
    gate(sorted(problems, key=lambda p: p.row or 0))
    return pd.DataFrame(records, columns=COLUMNS)
