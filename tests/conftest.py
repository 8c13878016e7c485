"""Shared fixtures: one demo store (ending 2026-10) built once per test session; tests copy it.

`pristine` is that store: a test, or a module's fixture, that only reads the demo opens it where it is (many modules
share the file, so nobody may write to it: the session checks at its end that it is unchanged); `db` is a fresh
copy of it for a test that writes. A module's fixture that writes (a served store with users added, names
changed) copies `pristine` into its own folder. Only a test that needs a store built otherwise (another end month,
no demo, the demo's build itself under test) calls init_store.
"""
import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from metrics.ingest.initialise import init_store
from tests.disk import mount_tmpfs, unmount


@pytest.fixture(scope="session")
def pristine(tmp_path_factory):
    """A demo store nobody writes to: copy it (the `db` fixture, or shutil.copy) before changing anything."""
    path = tmp_path_factory.mktemp("pristine") / "demo.duckdb"
    init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    built = _sha256(path)
    yield path
    assert _sha256(path) == built, f"a test wrote to the shared demo store {path}: give it the `db` fixture's copy"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def small_disk(tmp_path):
    """A maker of small tmpfs folders, small_disk("16m") -> Path, unmounted after the test (skipped where the
    test cannot mount one)."""
    mounted = []

    def make(size: str) -> Path:
        folder = tmp_path / f"disk-{len(mounted)}"
        mount_tmpfs(folder, size)
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        unmount(folder)


@pytest.fixture
def db(pristine, tmp_path):
    """A fresh copy of the demo store, for a test that writes."""
    path = tmp_path / "s.duckdb"
    shutil.copy(pristine, path)
    return path


@pytest.fixture(scope="module")
def chromium_browser():
    """Debian's Chromium, headless, one a test module (tests/browser.py; skipped where it is missing)."""
    from tests import browser

    with browser.launch() as launched:
        yield launched


@pytest.fixture
def new_page(chromium_browser):
    """new_page() opens a page in a fresh context (its own Streamlit session) that collects script errors."""
    from tests import browser

    with browser.page_maker(chromium_browser) as make:
        yield make
