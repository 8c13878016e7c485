"""Shared fixtures: one demo store (ending 2026-10) built once per test session; tests copy it."""
import shutil
from datetime import date
from pathlib import Path

import pytest

from metrics.ingest.initialise import init_store
from tests.disk import mount_tmpfs, unmount


@pytest.fixture(scope="session")
def pristine(tmp_path_factory):
    """A demo store nobody writes to: copy it (shutil.copy) before changing anything."""
    path = tmp_path_factory.mktemp("pristine") / "demo.duckdb"
    init_store(path, with_demo=True, end_month=date(2026, 10, 1))
    return path


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
