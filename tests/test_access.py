"""Roles enforced in metrics/ (not only by hiding buttons): what each role reads and writes through
metrics.access, on three unit users of different units, against what the store holds; and no page or UI
module reaches the store any other way."""
from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest

from metrics import access, store
from metrics.auth import users
from metrics.auth.roles import EXECUTIVE_RIGHTS, Forbidden, Permission, Role, User, can
from metrics.scoring.scores import Basis
from metrics.store import audit
from metrics.store.audit import Action
from metrics.store.raw_files import raw_dir
from tests.builders import add_user

ROOT = Path(__file__).resolve().parent.parent
OCTOBER = date(2026, 10, 1)
ADMIN = User("boss", Role.ADMIN)
EXECUTIVE = User("leader", Role.EXECUTIVE)
UNIT_USERS = [User("cm01", Role.UNIT, ("CM01",)), User("ch01", Role.UNIT, ("CH01",)),
              User("lg", Role.UNIT, ("LG01", "LG02"))]
ALL_UNITS = {"CM01", "CM02", "CM03", "CM04", "CH01", "CH02", "CH03", "PW01", "LG01", "LG02", "CN01", "CN02"}


@pytest.fixture(scope="module")
def shared(pristine):
    """The session's demo store, which the read tests share (nothing writes to it)."""
    return pristine


@pytest.fixture
def path(db):
    return db


def read(path, function, *args):
    with store.connect(path, read_only=True) as con:
        return function(con, *args)


# The rule table itself -------------------------------------------------------------------------------------

RIGHTS = {  # permission: (admin, executive, unit for own unit, unit for another unit)
    Permission.VIEW_GROUP: (True, True, True, True),
    Permission.VIEW_UNIT: (True, True, True, False),
    Permission.UPLOAD: (True, False, True, False),
    Permission.ROLLBACK: (True, False, True, False),
    Permission.PRESENT: (True, True, False, False),
    Permission.EDIT_TARGETS: (True, False, False, False),
    Permission.MANAGE_USERS: (True, False, False, False),
    Permission.VIEW_AUDIT: (True, False, False, False),
    Permission.KEEP_LEDGER: (True, False, True, False),
    Permission.SUPERVISE_MAJOR: (True, False, False, False),
}


def test_the_rule_table_covers_every_permission():
    assert set(RIGHTS) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission), ids=lambda p: p.value)
def test_who_may_do_what(permission):
    admin, executive, own, other = RIGHTS[permission]
    unit = UNIT_USERS[0]
    assert can(ADMIN, permission, "CH01") is admin
    assert can(EXECUTIVE, permission, "CH01") is executive
    assert can(unit, permission, "CM01") is own
    assert can(unit, permission, "CH01") is other
    assert (permission in EXECUTIVE_RIGHTS) is executive


# Reading ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", [ADMIN, EXECUTIVE], ids=lambda u: u.role.value)
def test_admins_and_executives_read_every_unit(shared, user):
    ov = read(shared, access.month_overview, user, OCTOBER, Basis.YTD)
    assert set(ov.result.indicators["subsidiary"]) == ALL_UNITS
    assert {b.subsidiary for b in read(shared, access.breaches_of_month, user, OCTOBER)} >= {"CM03", "LG02", "CN02"}
    assert read(shared, access.indicator_history, user, "CH02", OCTOBER)["value"].notna().any()


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_a_unit_user_reads_the_ranking_but_only_their_own_details(shared, user):
    mine = set(user.units)
    ov = read(shared, access.month_overview, user, OCTOBER, Basis.YTD)
    assert set(ov.units["subsidiary"]) == ALL_UNITS  # the ranking: every unit's score and grade
    assert ov.units["unit_score"].notna().sum() == 11  # every unit but LG02, which has not reported October
    assert set(ov.result.indicators["subsidiary"]) == mine == set(ov.ytd.indicators["subsidiary"])
    assert set(ov.result.aggregates["level"]) == {"group"}
    vetoed = ov.vetoed_units.set_index("subsidiary")
    assert vetoed.loc["CM03", "veto_reason"] is None  # the veto is ranking news; its indicator is a detail
    assert {b.subsidiary for b in read(shared, access.breaches_of_month, user, OCTOBER)} <= mine
    series = read(shared, access.series, user, "injuries", date(2026, 1, 1), OCTOBER, Basis.MONTH, None)
    assert set(series["level"]) == {"unit", "group"}
    assert set(series.loc[series["level"] == "unit", "entity"]) == mine
    asked = read(shared, access.series, user, "injuries", OCTOBER, OCTOBER, Basis.MONTH, ["CM03", *mine])
    assert set(asked.loc[asked["level"] == "unit", "entity"]) == mine
    chart = read(shared, access.control_chart, user, date(2026, 1, 1), OCTOBER)
    assert set(chart["subsidiary"]) == mine | {"*"}
    targets = read(shared, access.targets_of_year, user, 2026)
    assert set(targets["subsidiary"]) <= mine | {"*"}
    batches = read(shared, access.batches, user)
    assert len(batches) > 0
    for batch_id in batches["id"].head(5):
        assert set(read(shared, access.batch_changes, user, int(batch_id))["subsidiary"]) <= mine


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_a_unit_user_cannot_open_another_units_detail(shared, user):
    for function, args in ((access.indicator_history, ("CM03", OCTOBER)), (access.submissions, ("CM03",)),
                           (access.value_history, ("CM03", OCTOBER, "fatalities"))):
        with pytest.raises(Forbidden) as refused:
            read(shared, function, user, *args)
        assert refused.value.message("en") == ("you may see the details of your own units only (CM03 is not one of "
                                            "yours). Ask the group safety department for access.")
        assert "你只能查看本单位的详细指标（CM03 不是你的单位）" in refused.value.message("zh")
    own = user.units[0]
    assert len(read(shared, access.submissions, user, own)) > 0


@pytest.mark.parametrize("user", [EXECUTIVE, *UNIT_USERS], ids=lambda u: u.name)
def test_the_audit_trail_is_for_administrators(shared, user):
    with pytest.raises(Forbidden, match="only administrators may read the audit trail"):
        read(shared, access.audit_entries, user)


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_the_bulletin_is_not_for_unit_users(shared, user):
    with pytest.raises(Forbidden, match="the meeting page and the bulletin"):
        read(shared, access.bulletin, user, OCTOBER)


# Writing ---------------------------------------------------------------------------------------------------

def observations(path):
    return read(path, lambda con: store.query(con, "SELECT * FROM observations ORDER BY ALL"))


def upload(path, user, text: str):
    with store.connect(path) as con:
        return access.commit_upload(con, user, text.encode(), "f.csv", raw_dir(path))


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_a_unit_user_uploads_their_own_units(path, user):
    rows = "".join(f"2026-10,{unit},near_misses,555\n" for unit in user.units)
    done = upload(path, user, "month,subsidiary,indicator,value\n" + rows)
    assert (done.status, done.rows) == ("committed", len(user.units))


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_a_file_with_another_units_row_is_rejected_whole(path, user):
    before = observations(path)
    text = (f"month,subsidiary,indicator,value\n2026-10,{user.units[0]},near_misses,555\n"
            "2026-10,CM03,near_misses,1\n")
    done = upload(path, user, text)
    assert done.status == "rejected"
    [problem] = done.errors
    assert (problem.row, problem.column, problem.value) == (3, "subsidiary", "CM03")
    assert "CM03 is not one of yours" in problem.message and "不是你负责的单位" in problem.message_zh
    assert observations(path).equals(before)
    with store.connect(path, read_only=True) as con:
        assert audit.entries(con).iloc[0]["action"] == "upload_rejected"


def test_an_executive_cannot_upload_and_the_refusal_is_on_record(path):
    with store.connect(path) as con, pytest.raises(Forbidden, match="an executive account is read only"):
        access.commit_upload(con, EXECUTIVE, b"month,subsidiary,indicator,value\n2026-10,CM01,injuries,1\n",
                             "f.csv", raw_dir(path))
    with store.connect(path, read_only=True) as con:
        row = audit.entries(con).iloc[0]
    assert (row["actor"], row["action"], row["outcome"]) == ("leader", "access_denied", "refused")


# CM02's rows that warn against its stored values (2026-10: last month's hours 574,142, 2,825.5 employees, 840
# staff requiring certification; hours stored for 2026-08): none of the unit users has CM02.
CM02_ROWS = ("2026-10,CM02,hours_worked,6000000\n2026-10,CM02,staff_certified,9999\n"
             "2026-08,CM02,near_misses,1\n")


def check(path, user, text: str):
    with store.connect(path) as con:
        return access.check_upload(con, user, text.encode(), "f.csv", raw_dir(path))


@pytest.mark.parametrize("user", UNIT_USERS, ids=lambda u: u.name)
def test_a_unit_users_file_is_compared_with_their_own_units_stored_values_only(path, user):
    own = f"2026-10,{user.units[0]},hours_worked,1000\n"  # a tenth of any of their units' last month
    done = check(path, user, "month,subsidiary,indicator,value\n" + own + CM02_ROWS)
    assert [(p.row, p.value) for p in done.errors] == [(3, "CM02"), (4, "CM02"), (5, "CM02")]
    assert {p.row for p in done.warnings} == {2}
    assert all(user.units[0] in p.message_zh and "CM02" not in p.message_zh for p in done.warnings)
    assert (done.error_count, done.warning_count) == (3, len(done.warnings))


def test_an_administrators_file_is_compared_with_every_units_stored_values(path):
    done = check(path, ADMIN, "month,subsidiary,indicator,value\n" + CM02_ROWS)
    assert [(p.row, p.message_zh) for p in done.warnings] == [
        (2, "CM02 的实际工时是上月 574,142 的 10.5 倍：请检查单位（小时，不是万小时）"),
        (2, "CM02 2026-10 人均工时 2123.5 小时，超出 8–375：请检查实际工时和平均职工人数"),
        (3, "持证上岗人数（9,999）多于应持证人数（840）")]


def test_demo_mode_never_applies_to_a_store_with_users(path):
    assert read(path, access.demo_user) is access.DEMO_USER
    add_user(path, "admin")
    assert read(path, access.demo_user) is None


def test_a_unit_user_rolls_back_only_batches_of_their_own_units(path):
    mine = upload(path, ADMIN, "month,subsidiary,indicator,value\n2026-10,CM01,near_misses,9\n").batch_id
    shared = upload(path, ADMIN, "month,subsidiary,indicator,value\n2026-10,CM01,injuries,9\n"
                                 "2026-10,CH01,injuries,9\n").batch_id
    unit = UNIT_USERS[0]
    with store.connect(path) as con:
        with pytest.raises(Forbidden, match=r"CH01 is not one of yours"):
            access.rollback(con, unit, shared)
        assert access.rollback(con, unit, mine).removed == 0


@pytest.mark.parametrize("user", [EXECUTIVE, *UNIT_USERS], ids=lambda u: u.name)
def test_only_administrators_change_targets(path, user):
    before = read(path, lambda con: store.query(con, "SELECT * FROM targets ORDER BY ALL"))
    with store.connect(path) as con:
        with pytest.raises(Forbidden, match="only the group safety department's administrators may change targets"):
            access.apply_targets(con, user, [])
        with pytest.raises(Forbidden):
            access.import_targets(con, user, b"year,subsidiary,indicator,target,limit,weight,veto\n")
    assert read(path, lambda con: store.query(con, "SELECT * FROM targets ORDER BY ALL")).equals(before)


# No way around metrics.access ------------------------------------------------------------------------------

UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
CHECKED_MODULES = {"access", "users"}
"""Inside ui/data.py, a connection may be handed only to these modules' functions (they check the role)."""


def test_a_cached_read_an_administrator_made_is_not_served_to_an_executive(shared):
    """The pages' caches (ui/data.py) tell users apart by User.scope: an administrator and an executive both see
    every unit, but only the administrator may ask what is due to upload."""
    from ui import data

    version = data.version(shared)
    assert data.due(str(shared), ADMIN, version).month is not None  # cached for the administrator
    with pytest.raises(Forbidden):
        data.due(str(shared), EXECUTIVE, version)
    assert ADMIN.scope != EXECUTIVE.scope
    assert User("b", Role.ADMIN).scope == ADMIN.scope  # two administrators share what they read
    assert User("x", Role.UNIT, ("CM01",)).scope == UNIT_USERS[0].scope != UNIT_USERS[1].scope


@pytest.mark.parametrize("source", UI_FILES, ids=lambda p: p.name)
def test_pages_reach_the_store_only_through_ui_data(source):
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 for alias in node.names}
    forbidden = {"duckdb", "metrics.store", "metrics.store.schema", "metrics.scoring.overview",
                 "metrics.scoring.scorecard", "metrics.scoring.scores.score", "metrics.scoring.breaches.find_breaches",
                 "metrics.reports.bulletin.build_bulletin", "metrics.ingest.upload.import_file",
                 "metrics.ingest.targets.apply_targets", "metrics.ingest.targets.import_targets"}
    if source.name == "data.py":  # the one module that opens connections, and hands them to metrics.access
        forbidden -= {"metrics.store"}
    else:
        forbidden |= {"metrics.access"}
    assert not imported & forbidden, imported & forbidden


def test_every_connection_in_ui_data_goes_to_a_checked_function():
    tree = ast.parse((ROOT / "ui" / "data.py").read_text(encoding="utf-8"))
    unchecked = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if not any(isinstance(a, ast.Name) and a.id == "con" for a in call.args):
            continue
        target = call.func
        module = target.value.id if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) else None
        if module not in CHECKED_MODULES:
            unchecked.append(ast.unparse(call))
    assert unchecked == []


def test_user_changes_go_through_access_and_a_refused_one_is_on_the_record(db):
    """Like an upload: without the right to manage users the change is access_denied on the trail; a change the
    accounts' rules refuse (deactivating the last administrator) is on the trail as that change, refused; a change
    made is on the trail as made, and a refused one leaves the account as it was."""
    add_user(db, "chen", "admin")
    add_user(db, "lin", "executive")
    chen, lin = User("chen", Role.ADMIN), User("lin", Role.EXECUTIVE)
    with store.connect(db) as con:
        with pytest.raises(Forbidden):
            access.change_user(con, lin, Action.USER_DEACTIVATE, "chen")
        with pytest.raises(users.UserError, match="last administrator"):
            access.change_user(con, chen, Action.USER_DEACTIVATE, "chen")
        access.change_user(con, chen, Action.USER_CHANGE, "lin", Role.UNIT, ["CM01"])
        trail = audit.entries(con).head(3)
        assert users.active_user(con, "chen") is not None
        assert users.active_user(con, "lin").units == ("CM01",)
    assert trail[["actor", "action", "outcome", "target"]].values.tolist() == [
        ["chen", "user_change", "ok", "lin"],
        ["chen", "user_deactivate", "refused", "chen"],
        ["lin", "access_denied", "refused", "user chen"],
    ]
    assert "last administrator" in json.loads(trail.iloc[1]["detail"])["reason"]
