"""Cached, short-lived access to the store for the pages (see README: the store and concurrency).

Results are cached per store file version (the modification times of the file and its WAL), so a
command-line import shows up on the next rerun without a restart.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from metrics import breaches, overview, scorecard, scoring, sql, store, targets, template, upload
from metrics.bulletin import Bulletin, build_bulletin
from metrics.catalog import load_catalog
from metrics.initialise import init_store
from metrics.paths import db_path


def store_path() -> Path:
    return db_path()


@st.cache_resource(show_spinner="正在准备数据库 / Preparing the store…")
def _ensure(path: str) -> None:
    init_store(path, with_demo=not Path(path).exists())


def ensure_store() -> Path:
    """Create the demo store on first start; upgrade an older one."""
    path = store_path()
    _ensure(str(path))
    if not path.exists():
        _ensure.clear()
        _ensure(str(path))
    return path


def version(path: Path) -> tuple[int, int]:
    wal = path.with_name(path.name + ".wal")
    return (path.stat().st_mtime_ns if path.exists() else 0, wal.stat().st_mtime_ns if wal.exists() else 0)


@st.cache_data(show_spinner=False, max_entries=64)
def months(path: str, data_version: tuple) -> list[date]:
    with store.connect(path, read_only=True) as con:
        return overview.available_months(con)


@st.cache_data(show_spinner=False, max_entries=64)
def month_overview(path: str, month: date, basis: str, data_version: tuple) -> overview.Overview:
    with store.connect(path, read_only=True) as con:
        return overview.build_overview(con, month, scoring.Basis(basis))


@st.cache_data(show_spinner=False, max_entries=64)
def series(path: str, indicator: str, first: date, last: date, basis: str, units: tuple[str, ...] | None,
           data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return overview.series(con, indicator, first, last, scoring.Basis(basis),
                               None if units is None else list(units))


@st.cache_data(show_spinner=False, max_entries=32)
def score_history(path: str, month: date, basis: str, units: tuple[str, ...] | None, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return overview.score_history(con, month, scoring.Basis(basis), None if units is None else list(units))


@st.cache_data(show_spinner=False, max_entries=32)
def control_chart(path: str, first: date, last: date, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return breaches.control_chart(con, first, last)


@st.cache_data(show_spinner=False, max_entries=64)
def indicator_history(path: str, unit: str, month: date, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return scorecard.indicator_history(con, unit, month)


@st.cache_data(show_spinner=False, max_entries=64)
def submissions(path: str, unit: str, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return scorecard.submissions(con, unit)


def unit_codes(path: str, data_version: tuple) -> list[str]:
    return list(reference(path, data_version).units["code"])


@st.cache_data(show_spinner=False, max_entries=8)
def target_years(path: str, data_version: tuple) -> list[int]:
    with store.connect(path, read_only=True) as con:
        return [int(y) for y in store.query(con, sql.TARGET_YEARS)["year"]]


def import_targets(path: Path, content: bytes):
    """A targets CSV uploaded on the page, validated whole. Raises Rejected (nothing written)."""
    with store.connect(path) as con:
        return targets.import_targets(con, content, load_catalog())


def apply_targets(path: Path, rows: list[tuple[int, dict[str, str]]]):
    """Validate target rows as the CSV import does, then replace the targets of each year they hold.
    Raises Rejected (nothing written)."""
    with store.connect(path) as con:
        return targets.apply_targets(con, rows, load_catalog())


@st.cache_data(show_spinner=False, max_entries=8)
def reference(path: str, data_version: tuple) -> overview.Reference:
    with store.connect(path, read_only=True) as con:
        return overview.reference(con)


@st.cache_data(show_spinner=False, max_entries=16)
def targets_of_year(path: str, year: int, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return store.query(con, sql.SELECT_TARGETS_OF_YEAR, {"year": year})


@st.cache_data(show_spinner=False, max_entries=32)
def breaches_of_month(path: str, month: date, data_version: tuple) -> list:
    with store.connect(path, read_only=True) as con:
        return breaches.find_breaches(con, month)


@st.cache_data(show_spinner=False, max_entries=16)
def bulletin(path: str, month: date, data_version: tuple) -> Bulletin:
    """The monthly bulletin (year to date) for the meeting page and its downloads."""
    with store.connect(path, read_only=True) as con:
        return build_bulletin(con, month)


def check_upload(path: Path, data: bytes, file_name: str):
    """Keep the uploaded file, then validate it against the store without writing (not cached: the store
    may change between the check and the commit)."""
    upload.keep_raw_file(data, file_name, upload.raw_dir(path))
    with store.connect(path, read_only=True) as con:
        return upload.import_file(con, data, file_name, actor="", dry_run=True)


def commit_upload(path: Path, data: bytes, file_name: str, actor: str):
    with store.connect(path) as con:
        return upload.import_file(con, data, file_name, actor=actor, raw_directory=upload.raw_dir(path))


def rollback_batch(path: Path, batch_id: int, actor: str):
    with store.connect(path) as con:
        return upload.rollback(con, batch_id, actor=actor)


@st.cache_data(show_spinner=False, max_entries=16)
def batches(path: str, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return upload.batches(con)


@st.cache_data(show_spinner=False, max_entries=64)
def batch_changes(path: str, batch_id: int, data_version: tuple):
    with store.connect(path, read_only=True) as con:
        return upload.batch_changes(con, batch_id)


def template_files(path: str, month: date, data_version: tuple):
    """The month's template as two makers of file contents (CSV, XLSX), called when a button is pressed."""
    units = reference(path, data_version).units
    frame = template.template_frame(load_catalog(), units, month)
    return (lambda: template.template_csv(frame)), (lambda: template.template_xlsx(frame, f"{month:%Y-%m}"))
