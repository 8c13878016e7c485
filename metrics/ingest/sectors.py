"""Sectors (板块): the reference data every unit belongs to, held in the store and imported like the units.

A new store starts with the sectors of data/sectors.csv (store.load_reference_data, only while it holds none);
from then on the store's table is what the pages, the sector roll-ups and `units import` read. `sectors import`
adds sectors and renames them (a sector left out of the file is kept: units belong to it), validated whole
(docs/rules.md, reference data); `sectors export` writes them in the import format.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core.exports import neutralise
from metrics.core.parsing import key
from metrics.core.problems import Problem, gate
from metrics.ingest.csvfiles import read_rows
from metrics.ingest.units import MARKUP
from metrics.store import Connection, schema

COLUMNS = ["code", "name_zh", "name_en"]
CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""A sector code: lower-case letters, digits and _, starting with a letter (it is compared case-folded with the
names when a units file names a sector, so an upper-case code could pass for another sector's name)."""


def parse_sectors(source: str | Path | bytes, held: pd.DataFrame) -> pd.DataFrame:
    """Validate a sectors CSV (code,name_zh,name_en) against the sectors the store `held`; raises Rejected listing
    every problem. Every spelling (code, Chinese name, English name) must name one sector only, among the file's
    and the held sectors it leaves as they are, because a units file may name a sector by any of them."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    records = []
    for row_no, row in read_rows(source, COLUMNS):
        code = row["code"]
        if not CODE.fullmatch(code):
            problems.append(Problem(row_no, "code", code, "a sector code is 1 to 32 lower-case letters, digits or _, "
                                                          "starting with a letter (e.g. coal, new_energy)"))
        elif code in seen:
            problems.append(Problem(row_no, "code", code, f"code already used on row {seen[code]}; list each "
                                                          f"sector once"))
        seen.setdefault(code, row_no)
        for column, language in (("name_zh", "Chinese"), ("name_en", "English")):
            if not row[column]:
                problems.append(Problem(row_no, column, "", f"a sector needs its {language} name (the "
                                                            f"{language} pages show it)"))
            elif MARKUP.search(row[column]):
                problems.append(Problem(row_no, column, row[column], "a sector's name may not hold < > or control "
                                                                     "characters; write it as plain text"))
        records.append((row_no, {column: row[column] for column in COLUMNS}))
    if not records:
        problems.append(Problem(None, None, None, "the file has no sector rows"))
    problems.extend(_ambiguous(records, held))
    gate(sorted(problems, key=lambda p: p.row or 0))
    return pd.DataFrame([record for _, record in records], columns=COLUMNS)


def _ambiguous(records: list[tuple[int, dict[str, str]]], held: pd.DataFrame) -> list[Problem]:
    """A code or name of the file that is already a spelling of another sector (one the store holds and the file
    leaves as it is, or one earlier in the file)."""
    listed = {record["code"] for _, record in records}
    owner: dict[str, tuple[str, str, str]] = {}  # key(spelling) -> (sector code, its column, where it is written)
    for sector in held.itertuples(index=False):
        if sector.code not in listed:
            for column in COLUMNS:
                owner.setdefault(key(getattr(sector, column)), (sector.code, column, "in the store"))
    problems = []
    for row_no, record in records:
        for column in COLUMNS:
            spelling = key(record[column])
            if not spelling:
                continue
            code, its, where = owner.setdefault(spelling, (record["code"], column, f"on row {row_no}"))
            if code != record["code"]:
                problems.append(Problem(row_no, column, record[column], f"is already the {its} of sector {code} "
                                        f"({where}); a code or name may name one sector only, since a units file "
                                        f"names a sector by any of them: choose another"))
    return problems


def changed(held: pd.DataFrame, incoming: pd.DataFrame) -> list[str]:
    """The codes of `incoming` that are new or renamed."""
    before = {r.code: (r.name_zh, r.name_en) for r in held.itertuples(index=False)}
    return [r.code for r in incoming.itertuples(index=False) if before.get(r.code) != (r.name_zh, r.name_en)]


def import_sectors(con: Connection, source: str | Path | bytes, *, actor: str) -> list[str]:
    """Validate a sectors file whole, then add and rename its sectors in one transaction with the audit row;
    returns the codes added or renamed. Raises Rejected (nothing written)."""
    held = store.query(con, schema.SELECT_SECTORS)
    frame = parse_sectors(source, held)
    return store.upsert_sectors(con, frame, changed(held, frame), actor=actor)


def export_sectors(con: Connection) -> str:
    """Every sector as CSV text in the import format, through the sanitising export."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in store.query(con, schema.SELECT_SECTORS).itertuples(index=False):
        writer.writerow([neutralise(getattr(record, column)) for column in COLUMNS])
    return out.getvalue()
