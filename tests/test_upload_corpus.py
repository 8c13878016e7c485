"""The monthly-upload corpus: real awkward and bad files on disk (tests/corpus/files), each with its outcome.

tests/corpus/expected.json says, per file, what the design's upload contract promises: committed (with the values
in the store afterwards and the batch's rows/replaced counts), unchanged, or rejected with the (row, column) of
every error, rows numbered as Excel shows them. A rejected or unchanged import must leave the store byte for byte
as it was. The files and the manifest are written once by tests/corpus/make_corpus.py; these tests only read them.

Every import runs against a fresh copy of one demo store (LG02 has not reported 2026-10, CM01 has) with
today = 2026-11-23, so 2026-11 is a past month and 2026-12 a future one.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from metrics import store
from metrics.cli.main import main
from metrics.core.months import parse_month
from metrics.ingest import upload
from metrics.store import audit

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = CORPUS / "files"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 23)
ACTOR = "corpus"

# Known product bugs: the expectation is the contract's; a file listed here is a strict xfail until fixed.
OUTCOME_BUGS: dict[str, str] = {}
PROBLEM_BUGS: dict[str, str] = {}


def _param(name: str, bugs: dict[str, str]):
    marks = [pytest.mark.xfail(strict=True, reason=bugs[name])] if name in bugs else []
    return pytest.param(name, marks=marks, id=name)


# --------------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demo:
    path: Path
    fingerprint: tuple[str, str | None]
    dump: dict[str, list[tuple]]
    values: dict[tuple, float]


@pytest.fixture(scope="session")
def demo_store(pristine) -> Demo:
    """The session's demo store (tests/conftest.py); its fingerprint, dump and values are what every fresh copy
    starts from."""
    return Demo(pristine, fingerprint(pristine), dump(pristine), observations(pristine))


@pytest.fixture
def db(demo_store, tmp_path) -> Path:
    """A private copy of the demo store (and its WAL, should there be one), byte for byte."""
    target = tmp_path / "store.duckdb"
    shutil.copy(demo_store.path, target)
    wal = demo_store.path.with_name(demo_store.path.name + ".wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + ".wal"))
    assert fingerprint(target) == demo_store.fingerprint
    return target


def fingerprint(path: Path) -> tuple[str, str | None]:
    """sha256 of the store file and of its WAL (None when there is none)."""
    wal = path.with_name(path.name + ".wal")
    return (hashlib.sha256(path.read_bytes()).hexdigest(),
            hashlib.sha256(wal.read_bytes()).hexdigest() if wal.exists() else None)


def dump(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                for table in ("observations", "observation_history", "batches")}
    finally:
        con.close()


def audit_actions(path: Path) -> list[str]:
    """The actions on the audit trail since the demo was built (newest first)."""
    with store.connect(path, read_only=True) as con:
        return [a for a in audit.entries(con)["action"] if a not in ("catalog_change", "units_change",
                                                                       "targets_change")]


def observations(path: Path) -> dict[tuple, float]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT subsidiary, strftime(month, '%Y-%m'), indicator, value FROM observations").fetchall()
    finally:
        con.close()
    return {(u, m, i): v for u, m, i, v in rows}


def import_corpus_file(path: Path, name: str, *, dry_run: bool = False) -> upload.ImportResult:
    with store.connect(path) as con:
        return upload.import_file(con, (FILES / name).read_bytes(), name, actor=ACTOR, today=TODAY,
                                  dry_run=dry_run)


def located(problems) -> list[tuple]:
    return sorted(((p.row, p.column) for p in problems), key=repr)


def expected_located(pairs) -> list[tuple]:
    return sorted((tuple(p) for p in pairs), key=repr)


def same_number(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


# --------------------------------------------------------------------------------------------------------------
# The corpus itself
# --------------------------------------------------------------------------------------------------------------

def test_corpus_is_complete_and_covers_every_outcome():
    on_disk = {f.name for f in FILES.iterdir()}
    assert on_disk == set(EXPECTED), "every file needs an expected outcome and every outcome a file"
    assert len(on_disk) >= 30
    statuses = [e["status"] for e in EXPECTED.values()]
    assert {"committed", "rejected", "unchanged"} <= set(statuses)
    assert statuses.count("rejected") >= 25
    assert (FILES / "r15_empty_file.csv").stat().st_size == 0
    assert any(name.endswith(".xlsx") for name in on_disk)
    for name, e in EXPECTED.items():
        if e["status"] == "rejected":
            assert e.get("errors") or e.get("error_rows"), name
        else:
            assert "rows" in e and "replaced" in e and not e.get("errors"), name


def test_corpus_generator_is_deterministic(tmp_path):
    """make_corpus.py would write the very same bytes again (the committed files are its output)."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    for name in EXPECTED:
        fresh, committed = (tmp_path / "files" / name).read_bytes(), (FILES / name).read_bytes()
        if fresh != committed and zipfile.is_zipfile(io.BytesIO(committed)):
            # Another openpyxl version may lay out the zip differently: compare what the sheet holds.
            assert sheet_cells(fresh) == sheet_cells(committed), name
        else:
            assert fresh == committed, name
    assert json.loads((tmp_path / "expected.json").read_text(encoding="utf-8")) == EXPECTED


def sheet_cells(data: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [(c.coordinate, c.value, c.number_format) for row in sheet.iter_rows() for c in row if c.value is not None]


# --------------------------------------------------------------------------------------------------------------
# Each file: outcome and store, then every problem at its row and column
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [_param(n, OUTCOME_BUGS) for n in EXPECTED])
def test_outcome_and_store(demo_store, db, name):
    expected = EXPECTED[name]
    before_dump, before_values = demo_store.dump, demo_store.values

    result = import_corpus_file(db, name)

    assert result.status == expected["status"], [str(p) for p in result.problems]
    if expected["status"] != "committed":
        assert (result.rows, result.replaced, result.batch_id) == (0, 0, None)
        assert dump(db) == before_dump, "a rejected or unchanged import changed the data"
        assert audit_actions(db) == [f"upload_{expected['status']}"], "one audit row, nothing else"
        return

    assert (result.rows, result.replaced) == (expected["rows"], expected["replaced"])
    after_values = observations(db)
    # Nothing removed; exactly `rows` values written, `replaced` of them over a different stored value.
    assert before_values.keys() <= after_values.keys()
    written = {k for k, v in after_values.items() if k not in before_values or not same_number(before_values[k], v)}
    assert len(written) == expected["rows"]
    assert sum(k in before_values for k in written) == expected["replaced"]
    for unit, month, indicator, value in expected.get("values", []):
        assert (unit, month, indicator) in after_values, (unit, month, indicator)
        assert same_number(after_values[(unit, month, indicator)], value), (unit, month, indicator)
    for unit, month, indicator in expected.get("absent", []):
        assert (unit, month, indicator) not in after_values, f"{unit} {month} {indicator}: blank became a value"

    con = duckdb.connect(str(db), read_only=True)
    try:
        batch = con.execute("SELECT actor, source, file_name, sha256, rows, replaced, status FROM batches "
                            "WHERE id = ?", [result.batch_id]).fetchall()
        history = con.execute("SELECT subsidiary, strftime(month, '%Y-%m'), indicator, value, previous_value "
                              "FROM observation_history WHERE batch_id = ?", [result.batch_id]).fetchall()
    finally:
        con.close()
    digest = hashlib.sha256((FILES / name).read_bytes()).hexdigest()
    assert batch == [(ACTOR, "upload", name, digest, expected["rows"], expected["replaced"], "committed")]
    assert len(history) == expected["rows"]
    assert {(u, m, i) for u, m, i, _, _ in history} == written
    for unit, month, indicator, value, previous in expected.get("history", []):
        assert (unit, month, indicator, value, previous) in history

    # The identical re-upload is a no-op: `unchanged`, nothing written.
    committed = dump(db)
    again = import_corpus_file(db, name)
    assert (again.status, again.rows, again.replaced, again.batch_id) == ("unchanged", 0, 0, None)
    assert dump(db) == committed
    assert audit_actions(db)[0] == "upload_unchanged"


@pytest.mark.parametrize("name", [_param(n, PROBLEM_BUGS) for n in EXPECTED])
def test_every_problem_at_its_row_and_column(db, name):
    expected = EXPECTED[name]
    result = import_corpus_file(db, name, dry_run=True)

    if "error_rows" in expected:  # the column is left open: errors, all on these rows
        assert result.errors, "expected errors, got none"
        assert {p.row for p in result.errors} <= set(expected["error_rows"]), [str(p) for p in result.errors]
    else:
        assert located(result.errors) == expected_located(expected.get("errors", [])), \
            [str(p) for p in result.errors]
    assert located(result.warnings) == expected_located(expected["warnings"]), [str(p) for p in result.warnings]
    messages = " | ".join(p.message for p in result.problems)
    for fragment in expected.get("messages", []):
        assert fragment in messages, f"{fragment!r} not in {messages!r}"
    for problem in result.problems:
        assert problem.message.strip()


# --------------------------------------------------------------------------------------------------------------
# Sequences and problem details
# --------------------------------------------------------------------------------------------------------------

def test_resubmission_replaces_then_same_value_is_unchanged(db):
    first = import_corpus_file(db, "c08_wide_english_codes_new_and_replaced.csv")
    assert (first.status, first.rows, first.replaced) == ("committed", 6, 1)
    settled = dump(db)
    # c15 sets CM01 / 2026-10 injuries to 3: c08 already did, so nothing changes.
    second = import_corpus_file(db, "c15_resubmission_replaces_one_value.csv")
    assert (second.status, second.rows, second.replaced) == ("unchanged", 0, 0)
    assert dump(db) == settled


def test_blank_cells_never_delete_a_value_already_reported(db):
    assert import_corpus_file(db, "c08_wide_english_codes_new_and_replaced.csv").status == "committed"
    result = import_corpus_file(db, "c10_blank_cells_are_not_reported.csv")
    # c10 leaves LG02 hazards_found blank: the 14 written by c08 stays; CM01 injuries stays at c08's 3.
    assert (result.status, result.rows, result.replaced) == ("committed", 1, 1)
    values = observations(db)
    assert values[("LG02", "2026-10", "hazards_found")] == 14
    assert values[("CM01", "2026-10", "injuries")] == 3
    assert values[("CM01", "2026-10", "hazards_found")] == 43


def test_did_you_mean_names_the_closest_unit_for_each_cell(db):
    result = import_corpus_file(db, "r01_unknown_unit_did_you_mean_gb18030.csv", dry_run=True)
    by_row = {p.row: p for p in result.errors}
    assert by_row[2].value == "铁运公" and "did you mean 铁运公司" in by_row[2].message
    assert by_row[3].value == "东峰煤" and "did you mean 东峰煤矿" in by_row[3].message


def test_rejected_values_are_shown_as_written(db):
    result = import_corpus_file(db, "r04_na_and_slash_are_not_numbers.csv", dry_run=True)
    assert sorted(p.value for p in result.errors) == ["/", "NA"]
    months = import_corpus_file(db, "r05_unparseable_months.csv", dry_run=True)
    assert sorted(p.value for p in months.errors) == ["2026-13", "26年10月", "Oct 2026"]


def test_warning_shows_the_value_as_written(db):
    result = import_corpus_file(db, "c13_hours_ten_times_last_month.csv", dry_run=True)
    assert [p.value for p in result.warnings] == ["2276360"]


def test_dry_run_of_a_committable_file_writes_nothing(db):
    before = fingerprint(db)
    result = import_corpus_file(db, "c08_wide_english_codes_new_and_replaced.csv", dry_run=True)
    assert (result.status, result.rows, result.replaced, result.batch_id) == ("committed", 6, 1, None)
    assert fingerprint(db) == before


# --------------------------------------------------------------------------------------------------------------
# The command line on corpus files: JSON, exit codes, store untouched when rejected
# --------------------------------------------------------------------------------------------------------------

def cli_import(capsys, db: Path, name: str, *extra: str) -> tuple[int, dict]:
    code = main(["import", str(FILES / name), "--json", "--db", str(db), *extra])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_cli_commits_with_json_and_actor(db, capsys):
    code, doc = cli_import(capsys, db, "c01_long_utf8_english_codes.csv", "--actor", "safety-office")
    assert code == 0
    assert (doc["status"], doc["rows"], doc["replaced"], doc["errors"], doc["warnings"]) == \
        ("committed", 5, 0, [], [])
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT actor, file_name FROM batches WHERE id = ?", [doc["batch"]]).fetchall() == \
            [("safety-office", "c01_long_utf8_english_codes.csv")]
    finally:
        con.close()
    code, doc = cli_import(capsys, db, "c01_long_utf8_english_codes.csv")
    assert (code, doc["status"], doc["rows"]) == (0, "unchanged", 0)


def test_cli_rejects_with_every_error_and_exit_1(demo_store, db, capsys):
    code, doc = cli_import(capsys, db, "r01_unknown_unit_did_you_mean_gb18030.csv")
    assert code == 1 and doc["status"] == "rejected"
    assert sorted((e["row"], e["column"]) for e in doc["errors"]) == [(2, "单位名称"), (3, "单位名称")]
    assert all(set(e) == {"row", "column", "value", "message"} for e in doc["errors"])
    assert dump(db) == demo_store.dump and audit_actions(db) == ["upload_rejected"]


def test_cli_dry_run_and_unchanged_exit_0(db, capsys):
    before = fingerprint(db)
    code, doc = cli_import(capsys, db, "c08_wide_english_codes_new_and_replaced.csv", "--dry-run")
    assert (code, doc["status"], doc["rows"], doc["replaced"], doc.get("dry_run")) == (0, "committed", 6, 1, True)
    assert fingerprint(db) == before  # a dry run writes nothing, not even to the audit trail
    code, doc = cli_import(capsys, db, "c16_every_value_equals_store.csv")
    assert (code, doc["status"]) == (0, "unchanged")
    assert audit_actions(db) == ["upload_unchanged"]


def test_python_dash_m_rejects_an_empty_file(db):
    before = dump(db)
    run = subprocess.run([sys.executable, "-m", "metrics", "import", str(FILES / "r15_empty_file.csv"), "--json",
                          "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["status"] == "rejected" and len(doc["errors"]) == 1 and doc["errors"][0]["row"] is None
    assert dump(db) == before and audit_actions(db) == ["upload_rejected"]


def test_month_helpers_agree_with_the_manifest():
    """The manifest's months are ISO months the product reads back unchanged (guards typos in expected.json)."""
    for e in EXPECTED.values():
        for _unit, month, *_ in e.get("values", []) + e.get("absent", []):
            assert parse_month(month).strftime("%Y-%m") == month
