"""The pages' caches depend on a data version that only writes of data advance (issue 13, item 4): a sign-in, a
failed sign-in, a download, a refused or unchanged upload leave every cached result valid; an upload, a rollback, a
targets change or a user's deactivation makes the next page run compute anew."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth import users
from metrics.auth.roles import Role, User
from metrics.ingest import upload
from metrics.store import audit
from metrics.store.audit import Action
from tests.builders import ADMIN_PASSWORD, add_user, signed_in
from ui import data

APP = Path(__file__).resolve().parents[1] / "app.py"
ADMIN = User(name="test-admin", role=Role.ADMIN)
OCTOBER_LG02 = "month,subsidiary,indicator,value\n2026-10,LG02,hours_worked,226400\n"
"""LG02 has not reported 2026-10 in the demo: this file commits one new value."""


def commit_file(path: Path, text: str) -> upload.ImportResult:
    with store.connect(path) as con:
        return upload.import_file(con, text.encode(), "october.csv", actor="test")


def sign_in(path: Path) -> None:
    with store.connect(path) as con:
        users.authenticate(con, "chen", ADMIN_PASSWORD)


def failed_sign_in(path: Path) -> None:
    with store.connect(path) as con, pytest.raises(users.SignInFailed):
        users.authenticate(con, "chen", "not the password")


def download(path: Path) -> None:
    with store.connect(path) as con:
        audit.record(con, "chen", Action.EXPORT, target="bulletin 2026-10 pdf")


def rejected_upload(path: Path) -> None:
    assert commit_file(path, "month,subsidiary,indicator,value\n2026-10,LG02,hours_worked,-5\n").status == "rejected"


def unchanged_upload(path: Path) -> None:
    assert commit_file(path, "month,subsidiary,indicator,value\n2026-09,LG02,hours_worked,227636\n").status == \
        "unchanged"


def upload_a_value(path: Path) -> None:
    assert commit_file(path, OCTOBER_LG02).status == "committed"


def roll_back(path: Path) -> None:
    upload_a_value(path)
    with store.connect(path) as con:
        upload.rollback(con, int(upload.batches(con)["id"].max()), actor="test")


def change_targets(path: Path) -> None:
    with store.connect(path) as con:
        access.apply_targets(con, ADMIN, [(2, {"year": "2026", "subsidiary": "*", "indicator": "injuries",
                                               "target": "1", "limit": "2", "weight": "10", "veto": "false"})])


def deactivate(path: Path) -> None:
    with store.connect(path) as con:
        users.set_active(con, ADMIN, "lin", False)


@pytest.fixture
def store_with_user(db):
    add_user(db, "chen", "admin")
    add_user(db, "lin", "executive")
    return db


@pytest.mark.parametrize("event", [sign_in, failed_sign_in, download, rejected_upload, unchanged_upload])
def test_what_only_adds_to_the_trail_keeps_the_version(store_with_user, event):
    before = data.version(store_with_user)
    with store.connect(store_with_user, read_only=True) as con:
        rows_before = len(audit.entries(con))
    event(store_with_user)
    with store.connect(store_with_user, read_only=True) as con:
        assert len(audit.entries(con)) > rows_before  # the event is on the trail, and the file changed
    assert data.version(store_with_user) == before


@pytest.mark.parametrize("event", [upload_a_value, roll_back, change_targets, deactivate])
def test_a_write_of_data_advances_the_version(store_with_user, event):
    before = data.version(store_with_user)
    event(store_with_user)
    assert data.version(store_with_user) != before


def test_a_page_run_after_a_sign_in_reuses_the_cache_and_after_an_upload_computes_anew(store_with_user,
                                                                                         monkeypatch):
    computed = []
    real = access.month_overview
    monkeypatch.setattr(access, "month_overview", lambda *a, **k: computed.append(a[2]) or real(*a, **k))
    monkeypatch.setenv("SAFETY_DB", str(store_with_user))
    at = signed_in(AppTest.from_file(str(APP), default_timeout=60), "chen").run()
    assert not at.exception
    first = len(computed)
    assert first >= 1

    sign_in(store_with_user)
    download(store_with_user)
    at.run()
    assert not at.exception
    assert len(computed) == first, "a sign-in or a download emptied the overview's cache"

    upload_a_value(store_with_user)
    at.run()
    assert not at.exception
    assert len(computed) > first, "the overview was served from before the upload"
