"""The only way the pages reach the store: every function takes the acting user and applies the role rules
(metrics.auth.roles) before or after reading, so a page cannot show or write what its user may not.

What each role gets:
- admin, executive: everything as it is (executives cannot write).
- unit: the group's figures and the ranking (scores, grades, flag counts) of every unit, but indicator
  values, statuses, breaches, histories, batches and submissions of their own units only; sector roll-ups
  are withheld (a sector of one or two units would show another unit's figures). Uploads may carry only
  their own units; rollbacks only of batches that wrote only their own units.
Refusals raise roles.Forbidden (and are on the audit trail where something was to be written).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.auth import users
from metrics.auth.roles import Forbidden, Permission, Role, User, by_privilege, require
from metrics.core import reporting
from metrics.core.catalog import load_catalog
from metrics.core.months import months_ending
from metrics.ingest import targets, upload
from metrics.ingest.initialise import DEMO_KEY
from metrics.ledger import checks, escalation, figures, hazards, imports as hazard_imports, indicators
from metrics.reports.bulletin import Bulletin, build_bulletin
from metrics.scoring import breaches, due_states, overview, scorecard, scores
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action, Outcome

TARGET_YEARS = "SELECT DISTINCT year FROM targets ORDER BY year"
# Every version of one number: which batch wrote it, who and when (newest first).
VALUE_HISTORY = """
SELECT h.batch_id, b.created_at, b.actor, b.source, b.file_name, h.value, h.previous_value, b.status
FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.subsidiary = $unit AND h.month = CAST($month AS DATE) AND h.indicator = $indicator
ORDER BY h.batch_id DESC
"""
# The batches that wrote only values of `units` (what a unit user's upload page lists).
SELECT_BATCHES_OF_UNITS = """
SELECT id, created_at, actor, source, file_name, sha256, rows, replaced, status, rolled_back_by, note
FROM batches
WHERE id IN (SELECT batch_id FROM observation_history GROUP BY batch_id
             HAVING bool_and(list_contains(CAST($units AS VARCHAR[]), subsidiary)))
ORDER BY id DESC
"""

DEMO_USER = User(name="demo", role=Role.ADMIN, display_name="演示管理员 / demo admin", demo=True)


def data_version(con: Connection) -> tuple[int, int]:
    """What cached reads depend on (audit.data_version): the same for every user, and no data in itself."""
    return audit.data_version(con)


# Signing in comes before there is an acting user to check: these are the users part's own functions, offered
# here so that the pages keep one door to the store.
active_user = users.active_user
authenticate = users.authenticate
record_sign_in = users.record_sign_in
record_sign_out = users.record_sign_out


def demo_user(con: Connection) -> User | None:
    """The demo administrator when the store holds the demo group and no users (None: sign-in needed). Demo mode
    opens without signing in, so it never applies to a store where anyone has an account, whatever its flag."""
    if store.meta(con, DEMO_KEY) != "true" or store.scalar(con, schema.COUNT_USERS):
        return None
    return DEMO_USER


def demo_roles(con: Connection) -> list[Role]:
    """The roles the demo can be viewed as, the demo administrator's first (then from the most privileged down;
    a unit user's only where the store has units). Empty, so no switch, unless the store is the demo and holds
    no users: where people sign in, each sees what their own role gives them."""
    if demo_user(con) is None or store.scalar(con, schema.COUNT_USERS):
        return []
    has_units = bool(store.scalar(con, schema.COUNT_UNITS))
    return [role for role in reversed(by_privilege()) if has_units or User("", role).sees_every_unit]


def viewed_as(role: Role, unit: str | None) -> User:
    """The demo administrator acting as `role` (a unit user of `unit`): every page then reads through this
    module what that role reads. Only for a role of `demo_roles`."""
    return replace(DEMO_USER, role=role, units=() if User("", role).sees_every_unit or unit is None else (unit,))


def list_users(con: Connection, user: User) -> pd.DataFrame:
    """The store's users (metrics.auth.users.list_users) with a `demo` column: on the demo store the demo
    administrator comes first, who is in no table (the demo opens signed in as them)."""
    frame = users.list_users(con, user).assign(demo=False)
    if demo_user(con) is None:
        return frame
    demo = pd.DataFrame([{"name": DEMO_USER.name, "display_name": DEMO_USER.display_name,
                          "role": DEMO_USER.role.value, "units": [], "active": True, "failed_attempts": 0,
                          "has_password": False, "demo": True}]).reindex(columns=frame.columns)
    return pd.concat([demo, frame], ignore_index=True) if len(frame) else demo


def _denied(con: Connection, user: User, exc: Forbidden, target: str) -> Forbidden:
    """Put a refused write on the record (the connection must be writable) and hand the refusal back."""
    audit.record(con, user.name, Action.ACCESS_DENIED, target=target, outcome=Outcome.REFUSED,
                 detail={"permission": exc.permission.value if exc.permission else None, "unit": exc.unit})
    return exc


_USER_CHANGES: dict[Action, Callable[..., object]] = {
    Action.USER_CREATE: users.create_user,
    Action.USER_CHANGE: users.change_role,
    Action.USER_PASSWORD: users.set_password,
    Action.USER_UNLOCK: users.unlock,
    Action.USER_DEACTIVATE: lambda con, actor, name: users.set_active(con, actor, name, False),
    Action.USER_ACTIVATE: lambda con, actor, name: users.set_active(con, actor, name, True),
}
"""The changes to a user account, by the audit action each records."""


def change_user(con: Connection, user: User, change: Action, name: str, *args, **kwargs):
    """Make `change` to the account `name` on behalf of `user` (arguments as metrics.auth.users takes them). Refused on
    the record either way: without the right to manage users (access_denied, as a refused upload), or by a rule of
    the accounts (the last administrator, a short password: the change's own action, outcome refused)."""
    try:
        return _USER_CHANGES[change](con, user, name, *args, **kwargs)
    except Forbidden as exc:
        raise _denied(con, user, exc, f"user {name}") from None
    except users.UserError as exc:
        audit.record(con, user.name, change, target=name, outcome=Outcome.REFUSED, detail={"reason": str(exc)})
        raise


def _require_write(con: Connection, user: User, permission: Permission, target: str,
                   unit: str | None = None) -> None:
    try:
        require(user, permission, unit)
    except Forbidden as exc:
        raise _denied(con, user, exc, target) from None


# Reading --------------------------------------------------------------------------------------------------

def months(con: Connection, user: User) -> list[date]:
    require(user, Permission.VIEW_GROUP)
    return overview.available_months(con)


def reference(con: Connection, user: User) -> overview.Reference:
    """The catalog, grades, sectors and every unit's name (the ranking names every unit)."""
    require(user, Permission.VIEW_GROUP)
    return overview.reference(con)


def visible_units(user: User, units: pd.DataFrame, column: str = "code") -> pd.DataFrame:
    """The rows of `units` the user may see in detail."""
    return units if user.sees_every_unit else units[units[column].isin(user.units)]


def _result_for(user: User, result: scores.ScoreResult) -> scores.ScoreResult:
    return replace(result, indicators=visible_units(user, result.indicators, "subsidiary"),
                   aggregates=result.aggregates[result.aggregates["level"] == "group"])


def month_overview(con: Connection, user: User, month: date,
                   basis: scores.Basis) -> overview.Overview:
    """The month's overview; a unit user's holds the other units' scores and grades, not their indicators."""
    require(user, Permission.VIEW_GROUP)
    found = overview.build_overview(con, month, basis)
    if user.sees_every_unit:
        return found

    def own_reasons(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["veto_reason"] = [r if user.visible(u) else None
                                for u, r in zip(frame["subsidiary"], frame["veto_reason"])]
        return frame

    return replace(found, result=_result_for(user, found.result), ytd=_result_for(user, found.ytd),
                   units=own_reasons(found.units), vetoed_units=own_reasons(found.vetoed_units))


def series(con: Connection, user: User, indicator: str, first: date, last: date,
           basis: scores.Basis, units: list[str] | None) -> pd.DataFrame:
    """overview.series for the units the user may see (a unit user: no sector lines)."""
    require(user, Permission.VIEW_GROUP)
    if not user.sees_every_unit:
        units = list(user.units) if units is None else [u for u in units if user.visible(u)]
    frame = overview.series(con, indicator, first, last, basis, units)
    return frame if user.sees_every_unit else frame[frame["level"] != "sector"].reset_index(drop=True)


def score_history(con: Connection, user: User, month: date, basis: scores.Basis,
                  units: list[str] | None) -> pd.DataFrame:
    """Unit scores over the twelve months ending with `month`: ranking figures, which every role sees."""
    require(user, Permission.VIEW_GROUP)
    return scores.score_history(con, months_ending(month, 12), basis, units)


def control_chart(con: Connection, user: User, first: date, last: date) -> pd.DataFrame:
    require(user, Permission.VIEW_GROUP)
    frame = breaches.control_chart(con, first, last)
    return frame if user.sees_every_unit else \
        frame[(frame["subsidiary"] == "*") | frame["subsidiary"].isin(user.units)].reset_index(drop=True)


def indicator_history(con: Connection, user: User, unit: str, month: date) -> pd.DataFrame:
    require(user, Permission.VIEW_UNIT, unit)
    return scorecard.indicator_history(con, unit, month)


def submissions(con: Connection, user: User, unit: str) -> pd.DataFrame:
    require(user, Permission.VIEW_UNIT, unit)
    return scorecard.submissions(con, unit)


def breaches_of_month(con: Connection, user: User, month: date) -> list[breaches.Breach]:
    require(user, Permission.VIEW_GROUP)
    return [b for b in breaches.find_breaches(con, month) if user.visible(b.subsidiary)]


def bulletin(con: Connection, user: User, month: date) -> Bulletin:
    require(user, Permission.PRESENT)
    return build_bulletin(con, month)


def target_years(con: Connection, user: User) -> list[int]:
    require(user, Permission.VIEW_GROUP)
    return [int(y) for y in store.query(con, TARGET_YEARS)["year"]]


def targets_of_year(con: Connection, user: User, year: int) -> pd.DataFrame:
    """The year's targets: the group default (*) and the overrides of the units the user may see."""
    require(user, Permission.VIEW_GROUP)
    frame = store.query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": year})
    if user.sees_every_unit:
        return frame
    return frame[(frame["subsidiary"] == "*") | frame["subsidiary"].isin(user.units)].reset_index(drop=True)


def batches(con: Connection, user: User) -> pd.DataFrame:
    """The batches the user may see: all, or those that wrote only their own units' values."""
    require(user, Permission.VIEW_GROUP)
    if user.sees_every_unit:
        return upload.batches(con)
    return store.query(con, SELECT_BATCHES_OF_UNITS, {"units": list(user.units)})


def batch_changes(con: Connection, user: User, batch_id: int) -> pd.DataFrame:
    require(user, Permission.VIEW_GROUP)
    return visible_units(user, upload.batch_changes(con, batch_id), "subsidiary").reset_index(drop=True)


def due(con: Connection, user: User, month: date | None = None) -> due_states.MonthDue:
    """What the upload page says is due: the month due now (or `month`), its deadline and the state of each unit
    the user uploads for (a unit user: their own; an administrator: every unit)."""
    require(user, Permission.UPLOAD)
    found = due_states.month_due(con, month or reporting.due_month())
    return replace(found, units=visible_units(user, found.units, "subsidiary").reset_index(drop=True))


def audit_entries(con: Connection, user: User, **filters) -> pd.DataFrame:
    require(user, Permission.VIEW_AUDIT)
    return audit.entries(con, **filters)


def audit_actors(con: Connection, user: User) -> list[str]:
    require(user, Permission.VIEW_AUDIT)
    return audit.actors(con)


def verify_audit(con: Connection, user: User, lang: str = "en") -> list[str]:
    require(user, Permission.VIEW_AUDIT)
    return audit.verify(con, lang)


def value_history(con: Connection, user: User, unit: str, month: date,
                  indicator: str) -> pd.DataFrame:
    """Who wrote each version of one number and when (newest first): batch_id, created_at, actor, source,
    file_name, value, previous_value, status."""
    require(user, Permission.VIEW_UNIT, unit)
    return store.query(con, VALUE_HISTORY, {"unit": unit, "month": month, "indicator": indicator})


# Writing (the connection must be writable: refusals are recorded) -----------------------------------------

def check_upload(con: Connection, user: User, data: bytes, file_name: str,
                 raw_directory: Path) -> upload.ImportResult:
    """Keep the file while it is validated without writing (upload.kept_while_read: it goes afterwards, and the
    commit keeps it again); a rejection is the user's upload refused (audited)."""
    _require_write(con, user, Permission.UPLOAD, file_name)
    with upload.kept_while_read(con, data, file_name, raw_directory):
        return upload.import_file(con, data, file_name, actor=user.name, dry_run=True, record_rejection=True,
                                  allowed_units=None if user.sees_every_unit else user.units)


def commit_upload(con: Connection, user: User, data: bytes, file_name: str,
                  raw_directory: Path) -> upload.ImportResult:
    _require_write(con, user, Permission.UPLOAD, file_name)
    return figures.import_monthly(con, data, file_name, actor=user.name, raw_directory=raw_directory,
                                  allowed_units=None if user.sees_every_unit else user.units)


def rollback(con: Connection, user: User, batch_id: int) -> upload.RollbackResult:
    _require_write(con, user, Permission.ROLLBACK, f"batch {batch_id}")
    for unit in store.query(con, upload.BATCH_UNITS, {"batch_id": batch_id})["subsidiary"]:
        _require_write(con, user, Permission.ROLLBACK, f"batch {batch_id}", unit)
    return figures.rollback(con, batch_id, actor=user.name)


def apply_targets(con: Connection, user: User,
                  rows: list[tuple[int, dict[str, str]]]) -> pd.DataFrame:
    _require_write(con, user, Permission.EDIT_TARGETS, "targets")
    return targets.apply_targets(con, rows, load_catalog(), actor=user.name, source="edit")


def import_targets(con: Connection, user: User, content: bytes) -> pd.DataFrame:
    _require_write(con, user, Permission.EDIT_TARGETS, "targets")
    return targets.import_targets(con, content, load_catalog(), actor=user.name)


def record_export(con: Connection, user: User, what: str, file_name: str, rows: int | None = None,
                  at: datetime | None = None) -> None:
    """A file the user took away (a download of the pages or the command line)."""
    audit.record(con, user.name, Action.EXPORT, target=file_name, detail={"what": what, "rows": rows}, at=at)


# The hazard ledger -----------------------------------------------------------------------------------------

SUPERVISED_STEPS = frozenset({"accept", "send_back", "approve_extension", "reject_extension"})
"""The steps of a major hazard that are the group's (Permission.SUPERVISE_MAJOR); for a general hazard the
unit's own staff take them."""


def hazard_ledger(con: Connection, user: User, as_of: date, keep: hazards.LedgerFilter = hazards.EVERY_HAZARD,
                  limit: int = hazards.LIST_ROWS) -> hazards.LedgerList:
    """The ledger page's list of the hazards the user may see (a unit user: their own units'): those `keep`
    keeps, days over at `as_of`, the first `limit` of them and of the overdue ones, and their counts."""
    require(user, Permission.VIEW_GROUP)
    return hazards.ledger_list(con, None if user.sees_every_unit else user.units, as_of, keep, limit)


def hazard_span(con: Connection, user: User) -> hazards.LedgerSpan:
    """How many hazards the user may see and the day the earliest was found."""
    require(user, Permission.VIEW_GROUP)
    return hazards.ledger_span(con, None if user.sees_every_unit else user.units)


def hazards_behind(con: Connection, user: User, code: str, month: date, units: list[str] | None) -> list[str]:
    """The numbers of the hazards behind the ledger's figure of `code` of `month` (ledger.indicators.behind) for
    `units` (their sum; None: every unit the user may see): a unit user's, of their own units only."""
    require(user, Permission.VIEW_GROUP)
    if not user.sees_every_unit:
        units = list(user.units) if units is None else [u for u in units if user.visible(u)]
    return indicators.behind(con, code, month, units)


def hazard_record(con: Connection, user: User, number: str) -> tuple[hazards.Hazard, pd.DataFrame, pd.DataFrame]:
    """One hazard, its events and its evidence."""
    found = hazards.get(con, number)
    if found is None:
        raise hazards.HazardRefused(number, [hazards.NOT_FOUND])
    require(user, Permission.VIEW_UNIT, found.subsidiary)
    return found, hazards.events(con, number), hazards.evidence(con, number)


def register_hazard(con: Connection, user: User, new: hazards.NewHazard) -> str:
    """Register a hazard of a unit the user keeps the ledger of; a refusal is on the record."""
    _require_write(con, user, Permission.KEEP_LEDGER, f"hazard of {new.subsidiary}", new.subsidiary)
    try:
        with store.transaction(con):
            number = hazards.register(con, new, actor=user.name)
            figures.after_hazards(con, [number], actor=user.name)
            return number
    except hazards.HazardRefused as exc:
        _refused_step(con, user, exc, "register")
        raise


def hazard_step(con: Connection, user: User, number: str, action: str, change: hazards.Change) -> hazards.Hazard:
    """Take a step of the loop on behalf of `user` (the change's actor is the user); a refusal, by the rights or
    by the hazard's rules, is on the record."""
    found = hazards.get(con, number)
    if found is None:
        raise hazards.HazardRefused(number, [hazards.NOT_FOUND])
    _require_write(con, user, Permission.KEEP_LEDGER, f"hazard {number}", found.subsidiary)
    if found.major and action in SUPERVISED_STEPS:
        _require_write(con, user, Permission.SUPERVISE_MAJOR, f"hazard {number}")
    try:
        with store.transaction(con):
            taken = hazards.take(con, number, action, replace(change, actor=user.name))
            figures.after_hazards(con, [number], actor=user.name)
            return taken
    except hazards.HazardRefused as exc:
        _refused_step(con, user, exc, action)
        raise


def attach_evidence(con: Connection, user: User, number: str, data: bytes, file_name: str,
                    directory: Path) -> str:
    found = hazards.get(con, number)
    if found is None:
        raise hazards.HazardRefused(number, [hazards.NOT_FOUND])
    _require_write(con, user, Permission.KEEP_LEDGER, f"hazard {number}", found.subsidiary)
    try:
        return hazards.add_evidence(con, number, data, file_name, actor=user.name, directory=directory)
    except hazards.HazardRefused as exc:
        _refused_step(con, user, exc, "evidence")
        raise


def import_hazards(con: Connection, user: User, data: bytes, file_name: str, raw_directory: Path, *,
                   dry_run: bool = False) -> hazard_imports.HazardImport:
    """Import a findings workbook into the ledger of the units the user keeps it of: a unit user's file may carry
    only their own units' rows (any other rejects it, naming the row). A dry run is the page's check: nothing is
    written but a rejection, which is the user's import refused (audited)."""
    _require_write(con, user, Permission.KEEP_LEDGER, file_name)
    return figures.import_hazards(con, data, file_name, actor=user.name, dry_run=dry_run,
                                  raw_directory=raw_directory, record_rejection=True if dry_run else None,
                                  allowed_units=None if user.sees_every_unit else user.units)


def _refused_step(con: Connection, user: User, exc: hazards.HazardRefused, step: str) -> None:
    audit.record(con, user.name, Action.HAZARD_CHANGE, target=exc.number, outcome=Outcome.REFUSED,
                 detail={"step": step, "reason": "; ".join(r.en for r in exc.reasons)})


def hazard_reminders(con: Connection, user: User, as_of: date) -> list[escalation.Reminder]:
    """The reminders of day `as_of` (due soon, due today, overdue, escalated) of the hazards the user may see (a
    unit user: their own units'), per unit and owner."""
    require(user, Permission.VIEW_GROUP)
    return escalation.reminders(con, as_of, None if user.sees_every_unit else user.units)


def ledger_checks(con: Connection, user: User, month: date) -> list[checks.Flag]:
    """The ledger's things to check of `month` (metrics/ledger/checks.py) of the units the user may see; a unit
    user's leave out the comparison with the other units of the sector, whose figures they may not see."""
    require(user, Permission.VIEW_GROUP)
    if user.sees_every_unit:
        return checks.find_flags(con, month)
    return checks.find_flags(con, month, user.units, compare_sectors=False)
