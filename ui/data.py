"""Cached, short-lived access to the store for the pages, always on behalf of the signed-in user
(see README: the store and concurrency; roles: metrics.access).

Every read goes through metrics.access with the acting user. Results are cached per store file version (the
modification times of the file and its WAL) and per the user's *scope* (everything or a set of units, and the
role's rights, `User.scope`): two users of the same scope get the same answers, so the cache never hands one user
what their role may not see or do.
Writes are never cached and open a writable connection (a refused write is put on the audit trail).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from metrics import access, store
from metrics.auth.roles import Permission, Role, User, can
from metrics.core import clock
from metrics.core.catalog import load_catalog
from metrics.core.limits import few_malloc_arenas
from metrics.core.paths import db_path
from metrics.ingest import template
from metrics.ingest.initialise import init_store
from metrics.ledger.escalation import Reminder
from metrics.ledger.hazards import Change, Hazard, LedgerFilter, LedgerList, LedgerSpan, NewHazard
from metrics.scoring import scores
from metrics.store.raw_files import raw_dir
from ui.i18n import t

few_malloc_arenas()  # the dashboard checks uploads in its own process (metrics/core/limits.py)

_BY_SCOPE: dict[str | type[Any], Callable[[Any], Any]] = {User: lambda user: user.scope}
"""How the caches tell users apart: by what they may see, not by who they are."""


def store_path() -> Path:
    return db_path()


@st.cache_resource(show_spinner="正在准备数据库 / Preparing the store…")
def _ensure(path: str) -> None:
    init_store(path)


def ensure_store() -> Path | None:
    """The store's path, its schema upgraded once per process; None where there is no store file.

    The dashboard never makes a store: a production store moved aside (as restore tells an operator to do)
    must not come back as an empty or a demo one that opens without sign-in. The demo store is made only
    when asked for (`make run`, `python -m metrics init --demo`).
    """
    path = store_path()
    if not path.exists():
        _ensure.clear()  # a store put back at the path is upgraded again
        return None
    with _unavailable_stops_the_page():
        _ensure(str(path))
    return path


_SEEN: dict[str, tuple[tuple[int, int, int], tuple[int, int]]] = {}
"""Per store path: the file's state (inode, modification times of the file and its WAL) when its data version
was last read, and that version."""


def version(path: Path) -> tuple[int, int, int, str]:
    """What a cached result depends on: the file (a restore puts another one at the path), its data version
    (access.data_version: advanced only by writes of data, so a sign-in or a download, which add a row to the
    audit trail, empty no cache) and the day (whether a month's reporting deadline has passed turns a pending unit
    into a missing one). The version is read from the store only when the file has changed since it was last
    read, so a page run whose store nobody wrote to opens no connection for it."""
    state = _file_state(path)
    seen = _SEEN.get(str(path))
    if seen is None or seen[0] != state:
        with _read(path) as con:
            seen = (state, access.data_version(con))
        _SEEN[str(path)] = seen
    return (state[0], *seen[1], clock.today().isoformat())


def _file_state(path: Path) -> tuple[int, int, int]:
    wal = path.with_name(path.name + ".wal")
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, wal.stat().st_mtime_ns if wal.exists() else 0


@contextmanager
def _unavailable_stops_the_page() -> Iterator[None]:
    """A store busy past the wait (another process writing) or a full disk ends the page with a sentence
    saying nothing was changed and what to do, instead of Streamlit's error page."""
    try:
        yield
    except store.StoreBusy:
        _stop("store_busy")
    except store.DiskFull:
        _stop("disk_full")


@contextmanager
def _opened(path, *, read_only: bool) -> Iterator:
    """store.connect for a page (yields its connection): every page opens the store here (and in ensure_store;
    duckdb itself is not imported by the pages' modules, tests/test_access.py)."""
    with _unavailable_stops_the_page(), store.connect(path, read_only=read_only) as con:
        yield con


def _stop(key: str) -> None:
    st.error(t(key), icon="⏳" if key == "store_busy" else "🛑")
    st.stop()


def _read(path):
    return _opened(path, read_only=True)


def _write(path: Path):
    """A writable connection to a store that exists (store.connect would make an empty file where the store
    was moved aside since the page began)."""
    if not Path(path).exists():
        raise store.StoreError(f"no store at {path}: restore it or run `python -m metrics init` first")
    return _opened(path, read_only=False)


# Signing in -------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=256)
def signed_in_user(path: str, name: str, data_version: tuple) -> User | None:
    """The user as the store holds them now (role, units, still active), re-read whenever the store changes."""
    with _read(path) as con:
        return access.active_user(con, name)


@st.cache_data(show_spinner=False, max_entries=4)
def demo_user(path: str, data_version: tuple) -> User | None:
    with _read(path) as con:
        return access.demo_user(con)


@st.cache_data(show_spinner=False, max_entries=4)
def demo_roles(path: str, data_version: tuple) -> list:
    """The roles the demo can be viewed as (empty: no switch)."""
    with _read(path) as con:
        return access.demo_roles(con)


def viewed_as(role: Role, unit: str | None) -> User:
    """The demo administrator acting as `role` (metrics.access.viewed_as; the demo's role switch)."""
    return access.viewed_as(role, unit)


def authenticate(path: Path, name: str, password: str) -> User:
    with _write(path) as con:
        return access.authenticate(con, name, password)


def record_sign_in(path: Path, user: User, method: str) -> None:
    with _write(path) as con:
        access.record_sign_in(con, user, method)


def record_sign_out(path: Path, user: User) -> None:
    with _write(path) as con:
        access.record_sign_out(con, user)


# Reading ----------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def months(path: str, user: User, data_version: tuple) -> list[date]:
    with _read(path) as con:
        return access.months(con, user)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def month_overview(path: str, user: User, month: date, basis: str, data_version: tuple):
    with _read(path) as con:
        return access.month_overview(con, user, month, scores.Basis(basis))


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def series(path: str, user: User, indicator: str, first: date, last: date, basis: str,
           units: tuple[str, ...] | None, data_version: tuple):
    with _read(path) as con:
        return access.series(con, user, indicator, first, last, scores.Basis(basis),
                             None if units is None else list(units))


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def score_history(path: str, user: User, month: date, basis: str, units: tuple[str, ...] | None,
                  data_version: tuple):
    with _read(path) as con:
        return access.score_history(con, user, month, scores.Basis(basis), None if units is None else list(units))


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def control_chart(path: str, user: User, first: date, last: date, data_version: tuple):
    with _read(path) as con:
        return access.control_chart(con, user, first, last)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def indicator_history(path: str, user: User, unit: str, month: date, data_version: tuple):
    with _read(path) as con:
        return access.indicator_history(con, user, unit, month)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def submissions(path: str, user: User, unit: str, data_version: tuple):
    with _read(path) as con:
        return access.submissions(con, user, unit)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_SCOPE)
def reference(path: str, user: User, data_version: tuple):
    with _read(path) as con:
        return access.reference(con, user)


def unit_codes(path: str, user: User, data_version: tuple) -> list[str]:
    """The units the user may open in detail."""
    return list(access.visible_units(user, reference(path, user, data_version).units)["code"])


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_SCOPE)
def target_years(path: str, user: User, data_version: tuple) -> list[int]:
    with _read(path) as con:
        return access.target_years(con, user)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_BY_SCOPE)
def targets_of_year(path: str, user: User, year: int, data_version: tuple):
    with _read(path) as con:
        return access.targets_of_year(con, user, year)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def breaches_of_month(path: str, user: User, month: date, data_version: tuple) -> list:
    with _read(path) as con:
        return access.breaches_of_month(con, user, month)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def ledger_checks(path: str, user: User, month: date, data_version: tuple) -> list:
    """The ledger's things to check of the month (the breaches page's 台账核查提示)."""
    with _read(path) as con:
        return access.ledger_checks(con, user, month)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_BY_SCOPE)
def bulletin(path: str, user: User, month: date, data_version: tuple):
    """The monthly bulletin (year to date) for the meeting page and its downloads."""
    with _read(path) as con:
        return access.bulletin(con, user, month)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_BY_SCOPE)
def batches(path: str, user: User, data_version: tuple):
    with _read(path) as con:
        return access.batches(con, user)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def batch_changes(path: str, user: User, batch_id: int, data_version: tuple):
    with _read(path) as con:
        return access.batch_changes(con, user, batch_id)


def template_files(path: str, user: User, month: date, data_version: tuple):
    """The month's template for the user's units as two makers of file contents (CSV, XLSX), called when a
    button is pressed (the same bytes as `python -m metrics template`)."""
    units = access.visible_units(user, reference(path, user, data_version).units)
    catalog = load_catalog()
    return tuple((lambda fmt=fmt: template.template_file(catalog, units, month, fmt)) for fmt in template.FORMATS)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_BY_SCOPE)
def due(path: str, user: User, data_version: tuple):
    """The month due now, its deadline and the state of each of the user's units (the version holds the day)."""
    with _read(path) as con:
        return access.due(con, user)


# The hazard ledger ------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def hazard_ledger(path: str, user: User, as_of: date, keep: LedgerFilter, data_version: tuple) -> LedgerList:
    """The ledger page's list of the hazards the user may see that `keep` keeps, with days over at `as_of` (the
    version holds the day): its first rows and its counts, read in SQL."""
    with _read(path) as con:
        return access.hazard_ledger(con, user, as_of, keep)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=_BY_SCOPE)
def hazards_behind(path: str, user: User, figure: str, months: tuple[date, ...], units: tuple[str, ...] | None,
                   data_version: tuple) -> tuple[str, ...]:
    """The numbers of the hazards behind `figure` of `units` (None: every unit the user may see) in `months`: those
    behind each month's figure, together (a figure summed over the months, as year to date), in order."""
    with _read(path) as con:
        return tuple(sorted({number for month in months for number in
                             access.hazards_behind(con, user, figure, month, None if units is None else list(units))}))


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_SCOPE)
def hazard_span(path: str, user: User, data_version: tuple) -> LedgerSpan:
    """How many hazards the user may see and the day the earliest was found."""
    with _read(path) as con:
        return access.hazard_span(con, user)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_SCOPE)
def hazard_reminders(path: str, user: User, as_of: date, data_version: tuple) -> list[Reminder]:
    """The reminders of day `as_of` of the hazards the user may see, per unit and owner."""
    with _read(path) as con:
        return access.hazard_reminders(con, user, as_of)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=_BY_SCOPE)
def hazard_record(path: str, user: User, number: str, data_version: tuple):
    """One hazard the user may see, its events and its evidence."""
    with _read(path) as con:
        return access.hazard_record(con, user, number)


def may_take(user: User, hazard: Hazard, action: str) -> bool:
    """Whether the user's role offers step `action` (a key of hazards.STEPS, or "evidence") on `hazard`: the rule
    access.hazard_step applies, asked before a form is shown (the step's own checks come when it is taken)."""
    if not can(user, Permission.KEEP_LEDGER, hazard.subsidiary):
        return False
    return not (hazard.major and action in access.SUPERVISED_STEPS) or can(user, Permission.SUPERVISE_MAJOR)


def evidence_file(path: Path, user: User, number: str, sha256: str) -> bytes:
    """One evidence file of a hazard the user may see, as kept write-once in raw/ under its sha256 (read when its
    download button is pressed)."""
    with _read(path) as con:
        _, _, evidence = access.hazard_record(con, user, number)
    if sha256 not in set(evidence["sha256"]):
        raise KeyError(f"hazard {number} has no evidence {sha256}")
    folder = raw_dir(path) / sha256[:2]
    return next(f for f in folder.iterdir() if f.name.split(".")[0] == sha256).read_bytes()


# The audit trail and users (administrators; never cached: the trail grows with every action) ----------------

def audit_entries(path: Path, user: User, **filters):
    with _read(path) as con:
        return access.audit_entries(con, user, **filters)


def audit_actors(path: Path, user: User) -> list[str]:
    with _read(path) as con:
        return access.audit_actors(con, user)


def verify_audit(path: Path, user: User, lang: str) -> list[str]:
    with _read(path) as con:
        return access.verify_audit(con, user, lang)


def value_history(path: Path, user: User, unit: str, month: date, indicator: str):
    with _read(path) as con:
        return access.value_history(con, user, unit, month, indicator)


def list_users(path: Path, user: User):
    with _read(path) as con:
        return access.list_users(con, user)


def change_user(path: Path, user: User, change, *args, **kwargs):
    """A change to a user account by `user` (access.change_user: `change` is its audit action)."""
    with _write(path) as con:
        return access.change_user(con, user, change, *args, **kwargs)


# Writing ----------------------------------------------------------------------------------------------------

_ONE_UPLOAD = threading.Lock()
"""One upload checked or committed at a time in this process: the largest file the limits allow takes about a
gigabyte while it is shaped and checked (bench/LIMITS.md), so two at once would take twice that; the next one
waits, its spinner showing."""


def check_upload(path: Path, user: User, data: bytes, file_name: str):
    """Keep the uploaded file, then validate it against the store without writing values (not cached: the
    store may change between the check and the commit; a rejection is recorded)."""
    with _ONE_UPLOAD, _write(path) as con:
        return access.check_upload(con, user, data, file_name, raw_dir(path))


def commit_upload(path: Path, user: User, data: bytes, file_name: str):
    with _ONE_UPLOAD, _write(path) as con:
        return access.commit_upload(con, user, data, file_name, raw_dir(path))


def rollback_batch(path: Path, user: User, batch_id: int):
    with _write(path) as con:
        return access.rollback(con, user, batch_id)


def import_targets(path: Path, user: User, content: bytes):
    """A targets CSV uploaded on the page, validated whole. Raises Rejected (nothing written)."""
    with _write(path) as con:
        return access.import_targets(con, user, content)


def apply_targets(path: Path, user: User, rows: list[tuple[int, dict[str, str]]]):
    """Validate target rows as the CSV import does, then replace the targets of each year they hold.
    Raises Rejected (nothing written)."""
    with _write(path) as con:
        return access.apply_targets(con, user, rows)


def exported(path: Path, user: User, what: str, file_name: str, make, rows: int | None = None):
    """A download's contents maker that puts the download on the audit trail when it runs (on the click)."""
    def made() -> bytes:
        content = make() if callable(make) else make
        with _write(path) as con:
            access.record_export(con, user, what, file_name, rows)
        return content
    return made


def register_hazard(path: Path, user: User, new: NewHazard) -> str:
    """Register a hazard; raises HazardRefused (every reason) or Forbidden, nothing written but the refusal."""
    with _write(path) as con:
        return access.register_hazard(con, user, new)


def hazard_step(path: Path, user: User, number: str, action: str, change: Change) -> Hazard:
    """Take a step of the loop; raises HazardRefused or Forbidden, nothing written but the refusal."""
    with _write(path) as con:
        return access.hazard_step(con, user, number, action, change)


def attach_evidence(path: Path, user: User, number: str, content: bytes, file_name: str) -> str:
    """Keep an evidence file in the store's raw/ and attach it, in one read-write connection (so no upload's
    clean-up of raw/ runs between the two); returns its sha256."""
    with _write(path) as con:
        return access.attach_evidence(con, user, number, content, file_name, raw_dir(path))


def import_hazards(path: Path, user: User, content: bytes, file_name: str, *, dry_run: bool):
    """A findings workbook checked (dry_run: a rejection is recorded) or committed, one at a time like an upload
    (it is read as an upload is); not cached: the ledger may change between the check and the commit."""
    with _ONE_UPLOAD, _write(path) as con:
        return access.import_hazards(con, user, content, file_name, raw_dir(path), dry_run=dry_run)
