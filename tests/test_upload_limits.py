"""Each upload limit of data/limits.toml (issue 17), held at its boundary: a small file just beyond a lowered limit is
refused with one clear error that names the limit and the file's own figure, and changes nothing but one audit row;
the same file with the limit at its own figure (exactly at the limit is allowed) commits.

The limits are lowered through a Limits object (check_file) or a TOML file named by SAFETY_LIMITS (import_file and
the command line, which read data/limits.toml themselves). Every read goes through the worker process
(metrics/ingest/worker.py), as on the page. Demo store: LG02 铁运公司 has not reported 2026-10; today is 2026-11-23.
"""
from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from metrics import store
from metrics.cli.main import main
from metrics.core import reporting
from metrics.core.limits import LIMITS_ENV, Limits, LimitsError, load_limits
from metrics.core.problems import errors
from metrics.ingest import upload
from metrics.ingest.reader import UnreadableFile
from metrics.ingest.worker import read_grid_isolated
from metrics.store import raw_files
from tests import hostile
from tests.hostile import HEADER, NOTE, lg02_rows

TODAY = date(2026, 11, 23)
MIB = 1024 * 1024
DEFAULTS = load_limits()
NOTE_30 = (NOTE * 2)[:30]
"""A remark of 30 characters, longer than any other cell of the files below (safety_investment_planned has 25)."""


# --------------------------------------------------------------------------------------------------------------
# What the store holds, what the Chinese text may contain
# --------------------------------------------------------------------------------------------------------------

def store_dump(path: Path) -> dict[str, list[tuple]]:
    """Every table of the store but the audit trail (audit_log, and the trail's anchor in store_meta)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'main' AND table_name <> 'audit_log'").fetchall()]
        dumped = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()
    dumped["store_meta"] = [row for row in dumped["store_meta"] if not row[0].startswith("audit_")]
    return dumped


def audit_actions(path: Path) -> list[str]:
    """Every action on the audit trail, oldest first."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [a for (a,) in con.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]
    finally:
        con.close()


LATIN_ALLOWED = {"MB", "xlsx", "CSV", "UTF", "Excel", "GB", "GBK"}
PART_NAME = re.compile(r"xl/[\w/]+\.xml")


def latin_words(chinese: str) -> set[str]:
    """The Latin words of a Chinese message beyond numbers, MB, .xlsx, CSV UTF-8 and a workbook part's own name."""
    return {w for w in re.findall(r"[A-Za-z]+", PART_NAME.sub("", chinese)) if w not in LATIN_ALLOWED}


def assert_chinese(message_zh: str) -> None:
    assert message_zh and re.search(r"[\u4e00-\u9fff]", message_zh), message_zh
    assert latin_words(message_zh) == set(), message_zh


# --------------------------------------------------------------------------------------------------------------
# The small files, each with its own figure for one limit
# --------------------------------------------------------------------------------------------------------------

def lg02_csv(directory: Path, note: str | None = None) -> Path:
    """LG02's fifteen 2026-10 inputs (16 lines, 64 cells; with `note`, a fifth column, row 2's note `note`)."""
    lines = [HEADER, *lg02_rows()] if note is None else \
        [f"{HEADER},note", f"{lg02_rows()[0]},{note}", *(f"{line}," for line in lg02_rows()[1:])]
    path = directory / ("lg02.csv" if note is None else "lg02_note.csv")
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def lg02_values(note: str | None = None) -> list[list]:
    rows = [[m, u, i, float(v)] for m, u, i, v in (line.split(",") for line in lg02_rows())]
    return rows if note is None else [[*rows[0], note], *rows[1:]]


def lg02_xlsx(directory: Path, note: str | None = None) -> Path:
    """The same as lg02_csv, as a minimal .xlsx of 5 parts (tests/hostile.py's packaging)."""
    header = HEADER.split(",") + ([] if note is None else ["note"])
    rows = [hostile.row(1, header)] + [hostile.row(r, v) for r, v in enumerate(lg02_values(note), start=2)]
    return hostile.write_zip(directory / ("lg02.xlsx" if note is None else "lg02_note.xlsx"),
                             hostile.package(hostile.sheet_xml(rows)))


def expanded(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def xlsx_expanding_to(directory: Path, total: int = 2 * MIB) -> Path:
    """LG02's rows as .xlsx whose parts expand to exactly `total` bytes: whitespace between the sheet's rows."""
    def build(padding: int) -> Path:
        rows = [hostile.row(1, HEADER.split(","))] + [hostile.row(r, v) for r, v in enumerate(lg02_values(), 2)]
        return hostile.write_zip(directory / "lg02_expanding.xlsx",
                                 hostile.package(hostile.sheet_xml([*rows, " " * padding])))

    path = build(total - expanded(build(0)))
    assert expanded(path) == total
    return path


def xlsx_shared_strings_of(directory: Path, size: int = 2 * MIB) -> Path:
    """LG02's rows as .xlsx whose header is four shared strings in a part of exactly `size` bytes (whitespace
    after the last entry)."""
    def build(padding: int) -> Path:
        strings = list(hostile.sst_xml(HEADER.split(","), 4))
        rows = [hostile.row(1, range(4), [True] * 4)] + [hostile.row(r, v) for r, v in enumerate(lg02_values(), 2)]
        parts = hostile.package(hostile.sheet_xml(rows), [*strings[:-1], b" " * padding, strings[-1]])
        return hostile.write_zip(directory / "lg02_shared.xlsx", parts)

    def part_size(path: Path) -> int:
        with zipfile.ZipFile(path) as archive:
            return archive.getinfo(hostile.SST).file_size

    path = build(size - part_size(build(0)))
    assert part_size(path) == size
    return path


def csv_of_size(directory: Path, size: int = 2 * MIB) -> Path:
    """A valid long CSV of exactly `size` bytes: the first 2,100 values of csv_long_valid (every unit and input,
    2000-01 to 2000-12), each row's remark padded, then empty lines up to the size."""
    path = hostile.csv_long_valid(directory, values=2100, size=size)
    with path.open("ab") as handle:
        handle.write(b"\n" * (size - path.stat().st_size))
    assert path.stat().st_size == size
    return path


@dataclass(frozen=True)
class Case:
    limit: str
    refused_at: int
    """The limit one below the file's own figure: refused."""
    allowed_at: int
    """The file's own figure: allowed (exactly at the limit)."""
    make: Callable[[Path], Path]
    message: str
    row: int | None
    committed_rows: int
    """Values the file commits when allowed."""


SPLIT = "split it into several files (a year or a few months each) and upload them one by one"
DAMAGED_END = "open it in Excel and save it again, or save the sheet as CSV UTF-8"

CASES = [
    Case("file_mb", 1, 2, csv_of_size, f"the file is 2.0 MB, more than the 1 MB allowed; {SPLIT}", None, 2100),
    Case("rows", 15, 16, lg02_csv, f"the file has more than the 15 rows allowed; {SPLIT}", None, 15),
    Case("rows", 15, 16, lg02_xlsx, f"the file has more than the 15 rows allowed; {SPLIT}", None, 15),
    Case("columns", 4, 5, lambda d: lg02_csv(d, NOTE_30),
         "this row has a value in column 5, beyond the 4 columns allowed; a monthly file has one column per "
         "indicator and a few more: remove the extra columns", 1, 15),
    Case("columns", 4, 5, lambda d: lg02_xlsx(d, NOTE_30),
         "this row has a value in column 5, beyond the 4 columns allowed; a monthly file has one column per "
         "indicator and a few more: remove the extra columns", 1, 15),
    Case("cells", 63, 64, lg02_csv, f"up to this row the file has more than the 63 cells allowed; {SPLIT}", 16, 15),
    Case("cells", 63, 64, lg02_xlsx, f"up to this row the file has more than the 63 cells allowed; {SPLIT}", 16, 15),
    Case("cell_chars", 29, 30, lambda d: lg02_csv(d, NOTE_30),
         "a cell in this row is longer than the 29 characters allowed; shorten it (a cell holds one value) and "
         "upload the file again", 2, 15),
    Case("cell_chars", 29, 30, lambda d: lg02_xlsx(d, NOTE_30),
         "a cell in this row is longer than the 29 characters allowed; shorten it (a cell holds one value) and "
         "upload the file again", 2, 15),
    Case("xlsx_expanded_mb", 1, 2, xlsx_expanding_to,
         "the .xlsx file expands to 2.0 MB, more than the 1 MB allowed; split it into several files (a year or a "
         "few months each), or save it as CSV UTF-8", None, 15),
    Case("xlsx_part_mb", 1, 2, xlsx_shared_strings_of,
         "the part xl/sharedStrings.xml of the .xlsx file expands to 2.0 MB, more than the 1 MB allowed for a part "
         "other than a sheet; save the sheet as CSV UTF-8", None, 15),
    Case("xlsx_parts", 4, 5, lg02_xlsx,
         f"the .xlsx file cannot be read: it holds 5 parts, more than the 4 allowed (a workbook has a few dozen); "
         f"{DAMAGED_END}", None, 15),
]


@pytest.fixture(params=CASES, ids=lambda c: c.limit)
def case(request, tmp_path) -> tuple[Case, Path]:
    """(the case, its file); pytest numbers the ids of a limit held by a CSV and an .xlsx (rows0, rows1)."""
    return request.param, request.param.make(tmp_path)


def lowered(limit: str, value: int) -> Limits:
    return dataclasses.replace(DEFAULTS, **{limit: value})


def override(directory: Path, **values: int) -> Path:
    path = directory / "limits.toml"
    path.write_text("".join(f"{key} = {value}\n" for key, value in values.items()), encoding="utf-8")
    return path


def import_with(monkeypatch, db: Path, file: Path, **limits: int) -> upload.ImportResult:
    """import_file under data/limits.toml with `limits` in place (SAFETY_LIMITS)."""
    monkeypatch.setenv(LIMITS_ENV, str(override(file.parent, **limits)))
    with store.connect(db) as con:
        return upload.import_file(con, file.read_bytes(), file.name, actor="limits", today=TODAY,
                                  raw_directory=raw_files.raw_dir(db))


def assert_one_refusal(problems, case: Case) -> None:
    found = errors(problems)
    assert [(p.row, p.message) for p in found] == [(case.row, case.message)]
    assert_chinese(found[0].message_zh)


# --------------------------------------------------------------------------------------------------------------
# Each counted limit
# --------------------------------------------------------------------------------------------------------------

def test_check_file_refuses_a_file_just_beyond_the_limit(case, db):
    limit, file = case
    with store.connect(db, read_only=True) as con:
        validated, cells, encoding = upload.check_file(con, file.read_bytes(), file.name, today=TODAY,
                                                       limits=lowered(limit.limit, limit.refused_at))
    assert (cells, encoding) == (None, None)
    assert_one_refusal(validated.problems, limit)


def test_import_refuses_it_on_record_and_changes_nothing(case, db, monkeypatch):
    limit, file = case
    before, trail = store_dump(db), audit_actions(db)
    result = import_with(monkeypatch, db, file, **{limit.limit: limit.refused_at})
    assert (result.status, result.rows, result.batch_id, result.error_count) == ("rejected", 0, None, 1)
    assert_one_refusal(result.problems, limit)
    assert store_dump(db) == before
    assert audit_actions(db) == [*trail, "upload_rejected"]
    assert not [p for p in raw_files.raw_dir(db).rglob("*") if p.is_file()]


def test_the_command_line_refuses_it_with_exit_1(case, db, monkeypatch, capsys):
    limit, file = case
    monkeypatch.setenv("SAFETY_NOW", TODAY.isoformat())
    monkeypatch.setenv(LIMITS_ENV, str(override(file.parent, **{limit.limit: limit.refused_at})))
    before, trail = store_dump(db), audit_actions(db)
    code = main(["import", "--db", str(db), str(file), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    doc = json.loads(out)
    assert (doc["status"], doc["error_count"]) == ("rejected", 1)
    assert [(e["row"], e["message"]) for e in doc["errors"]] == [(limit.row, limit.message)]
    assert "Traceback" not in out + err
    assert store_dump(db) == before
    assert audit_actions(db) == [*trail, "upload_rejected"]


def test_the_same_file_exactly_at_the_limit_commits(case, db, monkeypatch):
    limit, file = case
    result = import_with(monkeypatch, db, file, **{limit.limit: limit.allowed_at})
    assert errors(result.problems) == []
    assert (result.status, result.rows) == ("committed", limit.committed_rows)


# --------------------------------------------------------------------------------------------------------------
# Time and memory: what no count foresees, bounded in the worker
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forty_mb(tmp_path_factory) -> Path:
    """About 40 MB of LG02's fifteen rows repeated (1,214,567 lines): reading it takes seconds and hundreds of MB."""
    return hostile.csv_duplicates_then_bad(tmp_path_factory.mktemp("forty"), size=40_000_000)


TOO_SLOW = ("reading the file took longer than the 1 s allowed and was stopped; split it into several files (a year "
            "or a few months each), or save it as CSV UTF-8, which reads faster than .xlsx")
TOO_BIG = ("reading the file needed more than the 150 MB of memory allowed and was stopped; split it into several "
           "files (a year or a few months each) and upload them one by one")


@pytest.mark.parametrize(("limit", "value", "message"), [("seconds", 1, TOO_SLOW), ("memory_mb", 150, TOO_BIG)])
def test_a_file_beyond_the_time_or_memory_of_the_worker_is_stopped_and_refused(forty_mb, tmp_path, db, monkeypatch,
                                                                               limit, value, message):
    small = lg02_csv(tmp_path)
    # The worker itself fits: a small file reads within the same limit.
    assert len(read_grid_isolated(small.read_bytes(), small.name, lowered(limit, value)).rows) == 16
    with store.connect(db, read_only=True) as con:
        validated, cells, _ = upload.check_file(con, forty_mb.read_bytes(), forty_mb.name, today=TODAY,
                                                limits=lowered(limit, value))
    assert cells is None
    assert [(p.row, p.message) for p in errors(validated.problems)] == [(None, message)]
    assert_chinese(validated.problems[0].message_zh)
    before, trail = store_dump(db), audit_actions(db)
    monkeypatch.setenv(LIMITS_ENV, str(override(tmp_path, **{limit: value})))
    with store.connect(db) as con:
        result = upload.import_file(con, forty_mb.read_bytes(), forty_mb.name, actor="limits", today=TODAY)
    assert (result.status, [p.message for p in result.errors]) == ("rejected", [message])
    assert store_dump(db) == before
    assert audit_actions(db) == [*trail, "upload_rejected"]


def test_within_the_declared_time_and_memory_the_same_file_is_read(forty_mb):
    grid = read_grid_isolated(forty_mb.read_bytes(), forty_mb.name, DEFAULTS)
    assert len(grid.rows) == 1 + 40_000_000 // len("".join(line + "\n" for line in lg02_rows()).encode()) * 15 + 1
    assert grid.rows[-1] == ["2026-13", "LG02", "near_misses", "5"]


# --------------------------------------------------------------------------------------------------------------
# The limits file itself
# --------------------------------------------------------------------------------------------------------------

def test_the_declared_defaults():
    assert DEFAULTS == Limits(file_mb=64, rows=2_000_000, columns=256, cells=8_000_000, cell_chars=1_000,
                              xlsx_expanded_mb=256, xlsx_part_mb=32, xlsx_parts=1_000, seconds=60, memory_mb=1_536)


@pytest.mark.parametrize(("text", "said"), [
    ("row = 5\n", ("unknown limit(s) row; the limits are cell_chars, cells, columns, file_mb, memory_mb, rows, "
                   "seconds, xlsx_expanded_mb, xlsx_part_mb, xlsx_parts")),
    ("rows = 0\n", "rows is 0; a limit is a whole number of at least 1"),
    ("file_mb = 1.5\n", "file_mb is 1.5; a limit is a whole number of at least 1"),
    ('seconds = "60"\n', "seconds is '60'; a limit is a whole number of at least 1"),
    ("cells = -3\n", "cells is -3; a limit is a whole number of at least 1"),
    ("columns = true\n", "columns is True; a limit is a whole number of at least 1"),
], ids=["unknown", "zero", "float", "string", "negative", "bool"])
def test_a_limits_file_that_is_not_whole_positive_numbers_is_refused_naming_file_and_key(tmp_path, text, said):
    path = tmp_path / "limits.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LimitsError) as raised:
        load_limits(path)
    assert str(raised.value) == f"{path}: {said}"


def test_safety_limits_names_a_file_whose_values_replace_the_declared_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(LIMITS_ENV, str(override(tmp_path, rows=5, seconds=7)))
    assert load_limits() == dataclasses.replace(DEFAULTS, rows=5, seconds=7)
    monkeypatch.delenv(LIMITS_ENV)
    assert load_limits() == DEFAULTS


def test_an_explicit_file_wins_over_safety_limits(tmp_path, monkeypatch):
    (tmp_path / "env").mkdir()
    monkeypatch.setenv(LIMITS_ENV, str(override(tmp_path / "env", rows=5)))
    assert load_limits(override(tmp_path, cells=9)) == dataclasses.replace(DEFAULTS, cells=9)


def test_the_command_line_refuses_an_oversized_file_before_reading_it(tmp_path, db, monkeypatch, capsys):
    """refuse_oversized: the file's size from the disk, the file never read; on record as any rejection."""
    file = csv_of_size(tmp_path, 3 * MIB // 2)
    monkeypatch.setenv(LIMITS_ENV, str(override(tmp_path, file_mb=1)))
    before, trail = store_dump(db), audit_actions(db)
    assert main(["import", "--db", str(db), str(file), "--json", "--actor", "limits"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(e["row"], e["message"]) for e in doc["errors"]] == [
        (None, f"the file is 1.5 MB, more than the 1 MB allowed; {SPLIT}")]
    assert store_dump(db) == before
    assert audit_actions(db) == [*trail, "upload_rejected"]


def test_a_limits_file_that_cannot_be_read_is_an_error_naming_it(tmp_path):
    path = tmp_path / "limits.toml"
    path.write_text("rows = \n", encoding="utf-8")
    with pytest.raises(LimitsError, match=re.escape(str(path))):
        load_limits(path)
    with pytest.raises(LimitsError, match=re.escape(str(tmp_path / "absent.toml"))):
        load_limits(tmp_path / "absent.toml")


# --------------------------------------------------------------------------------------------------------------
# The earliest month (data/reporting.toml)
# --------------------------------------------------------------------------------------------------------------

def month_file(directory: Path, last: str) -> Path:
    """LG02's fifteen 2026-10 rows, then one more row for the month `last` (row 17)."""
    path = directory / "months.csv"
    path.write_text("".join(line + "\n" for line in [HEADER, *lg02_rows(), f"{last},LG02,emergency_drills,1"]),
                    encoding="utf-8")
    return path


def test_a_month_before_the_earliest_is_refused_naming_the_row_and_the_earliest_month(tmp_path, db):
    file = month_file(tmp_path, "1999-12")
    before, trail = store_dump(db), audit_actions(db)
    with store.connect(db) as con:
        result = upload.import_file(con, file.read_bytes(), file.name, actor="limits", today=TODAY)
    assert result.status == "rejected"
    assert [(p.row, p.column, p.value, p.message, p.message_zh) for p in result.errors] == [
        (17, "month", "1999-12", "1999-12 is before 2000-01, the earliest month the dashboard takes; check the year",
         "1999年12月早于系统接受的最早月份（2000年1月）：请检查年份")]
    assert store_dump(db) == before
    assert audit_actions(db) == [*trail, "upload_rejected"]


def test_the_earliest_month_itself_is_taken(tmp_path, db):
    file = month_file(tmp_path, "2000-01")
    with store.connect(db) as con:
        result = upload.import_file(con, file.read_bytes(), file.name, actor="limits", today=TODAY)
        assert (result.status, result.rows) == ("committed", 16)
        assert store.scalar(con, "SELECT value FROM observations WHERE subsidiary = 'LG02' AND "
                                 "indicator = 'emergency_drills' AND month = DATE '2000-01-01'") == 1


@pytest.fixture
def reporting_file(tmp_path, monkeypatch):
    """A reporting.toml of the test's own in place of data/reporting.toml (the settings are cached: cleared)."""
    path = tmp_path / "reporting.toml"
    monkeypatch.setattr(reporting, "REPORTING_FILE", path)
    reporting._settings.cache_clear()
    reporting.earliest_month.cache_clear()
    yield path
    reporting._settings.cache_clear()
    reporting.earliest_month.cache_clear()


def test_the_earliest_month_is_read_from_data_reporting_toml():
    assert reporting.REPORTING_FILE == Path(__file__).resolve().parents[1] / "data" / "reporting.toml"
    assert 'earliest_month = "2000-01"' in reporting.REPORTING_FILE.read_text(encoding="utf-8").splitlines()
    assert reporting.earliest_month() == date(2000, 1, 1)


def test_another_earliest_month_moves_the_boundary(reporting_file, tmp_path, db):
    reporting_file.write_text('deadline_day = 10\nearliest_month = "1999-12"\n', encoding="utf-8")
    assert reporting.earliest_month() == date(1999, 12, 1)
    file = month_file(tmp_path, "1999-12")
    with store.connect(db) as con:
        assert upload.import_file(con, file.read_bytes(), file.name, actor="limits", today=TODAY).status == \
            "committed"


def test_an_earliest_month_that_is_not_a_month_is_an_error_naming_the_file(reporting_file):
    reporting_file.write_text('deadline_day = 10\nearliest_month = "soon"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f'{reporting_file}: earliest_month must be a month such as '
                                                   f'"2000-01", not \'soon\'')):
        reporting.earliest_month()


def test_a_refused_read_is_an_unreadable_file_with_both_languages():
    """What the worker hands back for a refusal is the reader's own exception, row included."""
    with pytest.raises(UnreadableFile) as raised:
        read_grid_isolated(b"month,subsidiary\n" + b"x" * 40 + b"\n", "x.csv", lowered("cell_chars", 30))
    assert (str(raised.value), raised.value.row) == (
        ("a cell in this row is longer than the 30 characters allowed; shorten it (a cell holds one value) and "
         "upload the file again"), 2)
    assert_chinese(raised.value.message_zh)
