"""The ledger's figures in the monthly data (docs/rules.md, "9. The hazard ledger", rule 12).

For a unit that keeps its hazard ledger here (subsidiaries.ledger_from), the indicators the catalog marks as
counted from the ledger (`ledger = "kept"` from its ledger_from month on, `ledger = "only"` always) are written
into the monthly data by the ledger itself, as batches of the source "ledger", for every month from ledger_from
that the unit has submitted (a month it has not submitted stays 未报: the ledger does not report for the unit).
They are written again whenever the ledger changes what they are: the unit's upload of a month, a hazard's
step, an import, a unit's ledger_from. So every figure scored is the ledger's, and every change to a month
already published is a new version of that value on the record (who changed this number: the batch, the person
whose change moved it, when), never a silent change.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import pandas as pd

from metrics import store
from metrics.core.catalog import Catalog, load_catalog
from metrics.core.months import add_months
from metrics.ingest import upload
from metrics.ingest.upload import INSERT_HISTORY_CHANGES, UPSERT_OBSERVATIONS
from metrics.ledger import imports, indicators
from metrics.store import Connection, audit, schema
from metrics.store.audit import Action

KEPT_UNITS = """
SELECT code, ledger_from FROM subsidiaries
WHERE ledger_from IS NOT NULL AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), code))
ORDER BY code
"""
# The unit-months from a unit's ledger_from on that a batch other than the ledger's own (an upload, the demo's
# seed) wrote a value of and that is not rolled back: what the unit has submitted.
SUBMITTED = """
SELECT DISTINCT h.subsidiary, h.month
FROM observation_history h
JOIN batches b ON b.id = h.batch_id
JOIN subsidiaries u ON u.code = h.subsidiary
WHERE u.ledger_from IS NOT NULL AND h.month >= u.ledger_from AND h.value IS NOT NULL
  AND b.source NOT IN ('ledger', 'rollback') AND b.status = 'committed'
  AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), h.subsidiary))
"""
HELD = """
SELECT o.month, o.subsidiary, o.indicator, o.value
FROM observations o JOIN subsidiaries u ON u.code = o.subsidiary
WHERE u.ledger_from IS NOT NULL AND o.month >= u.ledger_from
  AND list_contains(CAST($codes AS VARCHAR[]), o.indicator)
  AND ($units IS NULL OR list_contains(CAST($units AS VARCHAR[]), o.subsidiary))
"""
# What publishing changes: `incoming` is the ledger's figures (month, subsidiary, indicator, value), `held` what
# the store holds of them; a value the ledger no longer gives (its month no longer submitted) goes (value NULL).
CHANGES = """
SELECT coalesce(i.month, h.month) AS month, coalesce(i.subsidiary, h.subsidiary) AS subsidiary,
       coalesce(i.indicator, h.indicator) AS indicator, i.value, h.value AS previous_value,
       o.batch_id AS previous_batch_id
FROM incoming i
FULL JOIN held h ON h.month = i.month AND h.subsidiary = i.subsidiary AND h.indicator = i.indicator
LEFT JOIN observations o ON o.month = coalesce(i.month, h.month) AND o.subsidiary = coalesce(i.subsidiary, h.subsidiary)
     AND o.indicator = coalesce(i.indicator, h.indicator)
WHERE h.value IS DISTINCT FROM i.value
"""
DELETE_GONE = """
DELETE FROM observations o USING changes c
WHERE c.value IS NULL AND o.month = c.month AND o.subsidiary = c.subsidiary AND o.indicator = c.indicator
"""

FIRST_FOUND = "SELECT min(found_on) FROM hazards WHERE subsidiary = $unit AND state <> 'void'"
SOURCE_OF_BATCH = "SELECT source FROM batches WHERE id = $batch_id"
UNITS_OF_HAZARDS = "SELECT DISTINCT subsidiary FROM hazards WHERE list_contains(CAST($numbers AS VARCHAR[]), number)"
SET_LEDGER_FROM = "UPDATE subsidiaries SET ledger_from = CAST($since AS DATE) WHERE code = $unit RETURNING code"

LEDGER_SOURCE = "ledger"


@dataclass(frozen=True)
class Published:
    batch_id: int | None
    """The batch the changes were written as (None: the monthly data already held the ledger's figures)."""
    changes: pd.DataFrame
    """month, subsidiary, indicator, value (NaN: removed), previous_value (NaN: new)."""


def kept_units(con: Connection, units: Collection[str] | None = None) -> dict[str, date]:
    """unit -> the first month its figures come from its ledger, of the units that keep it here."""
    frame = store.query(con, KEPT_UNITS, {"units": None if units is None else list(units)})
    return {r.code: pd.Timestamp(r.ledger_from).date() for r in frame.itertuples(index=False)}


def figures(con: Connection, units: Collection[str] | None = None, catalog: Catalog | None = None) -> pd.DataFrame:
    """month, subsidiary, indicator, value: what the ledger gives for the months each unit that keeps it here has
    submitted from its ledger_from on; a month without hazards counts 0 (the unit keeps its ledger here, so none
    found is none)."""
    catalog = catalog or load_catalog()
    codes = catalog.from_ledger()
    submitted = store.query(con, SUBMITTED, {"units": None if units is None else list(units)})
    if submitted.empty:
        return pd.DataFrame({"month": pd.Series([], dtype="datetime64[us]"), "subsidiary": pd.Series([], dtype=str),
                             "indicator": pd.Series([], dtype=str), "value": pd.Series([], dtype=float)})
    submitted["month"] = pd.to_datetime(submitted["month"]).dt.date
    counted = indicators.monthly(con, sorted(set(submitted["month"])), sorted(set(submitted["subsidiary"])))
    grid = submitted.merge(pd.DataFrame({"indicator": codes}), how="cross")
    merged = grid.merge(counted, on=["month", "subsidiary", "indicator"], how="left")
    merged["value"] = merged["value"].fillna(0.0).astype(float)
    return merged.sort_values(["subsidiary", "month", "indicator"], ignore_index=True)


def publish(con: Connection, *, actor: str, note: str, units: Collection[str] | None = None,
            catalog: Catalog | None = None) -> Published:
    """Write what the ledger's figures of `units` (None: every unit that keeps it here) change in the monthly data,
    as one batch of the ledger with its audit row, inside the caller's transaction if there is one."""
    catalog = catalog or load_catalog()
    params = {"units": None if units is None else list(units), "codes": catalog.from_ledger()}
    incoming = figures(con, units, catalog)
    held = store.query(con, HELD, params)
    with store.registered(con, incoming, "incoming"), store.registered(con, held, "held"):
        changes = store.query(con, CHANGES)
    if changes.empty:
        return Published(None, changes)
    with store.transaction(con):
        batch_id = con.execute(schema.NEXT_BATCH_ID).fetchall()[0][0]
        con.execute(schema.INSERT_BATCH, {"id": batch_id, "created_at": None, "actor": actor, "source": LEDGER_SOURCE,
                                          "note": note, "file_name": None, "sha256": None, "rows": len(changes),
                                          "replaced": int(changes["previous_value"].notna().sum())})
        with store.registered(con, changes, "changes"):
            con.execute(INSERT_HISTORY_CHANGES, {"batch_id": batch_id})
            con.execute(DELETE_GONE)
        with store.registered(con, changes[changes["value"].notna()], "changes"):
            con.execute(UPSERT_OBSERVATIONS, {"batch_id": batch_id})
        audit.record(con, actor, Action.LEDGER_FIGURES, target=note,
                     detail={"batch": int(batch_id), "values": len(changes),
                             "units": sorted(set(changes["subsidiary"])),
                             "months": sorted({f"{pd.Timestamp(m):%Y-%m}" for m in changes["month"]})})
    return Published(int(batch_id), changes)


def _refresh(con: Connection, units: Collection[str], *, actor: str, note: str) -> Published | None:
    """Publish the figures of those of `units` that keep their ledger here (None: none of them does)."""
    kept = kept_units(con, units)
    return publish(con, actor=actor, note=note, units=sorted(kept)) if kept else None


def import_monthly(con: Connection, data: bytes, file_name: str, *, actor: str, **options) -> upload.ImportResult:
    """The monthly upload (upload.import_file, with its `options`) and, in its transaction, the ledger's figures of
    the months it submits for the units that keep their ledger here."""
    def figures_of(con: Connection, changes: pd.DataFrame) -> None:
        _refresh(con, set(changes["subsidiary"]), actor=actor, note=f"{file_name}")
    return upload.import_file(con, data, file_name, actor=actor, then=figures_of, **options)


def rollback(con: Connection, batch_id: int, *, actor: str) -> upload.RollbackResult:
    """Roll a batch back (upload.rollback) and, in the same transaction, the ledger's figures with it: a month no
    longer submitted loses them. The ledger's own batches are not rolled back: they follow the hazards."""
    if store.scalar(con, SOURCE_OF_BATCH, {"batch_id": batch_id}) == LEDGER_SOURCE:
        raise upload.RollbackRefused(f"batch {batch_id} holds the hazard ledger's figures, which follow the ledger; "
                                     f"change the hazards behind them instead")
    units = set(store.query(con, upload.BATCH_UNITS, {"batch_id": batch_id})["subsidiary"])
    with store.transaction(con):
        done = upload.rollback(con, batch_id, actor=actor)
        _refresh(con, units, actor=actor, note=f"batch {done.rollback_batch_id}")
    return done


def after_hazards(con: Connection, numbers: Collection[str], *, actor: str) -> Published | None:
    """Publish the figures of the units of the hazards `numbers` (a step, a registration, an import), inside the
    caller's transaction."""
    units = set(store.query(con, UNITS_OF_HAZARDS, {"numbers": list(numbers)})["subsidiary"])
    return _refresh(con, units, actor=actor, note=", ".join(sorted(numbers)[:3]) + ("…" if len(numbers) > 3 else ""))


def keep_ledger(con: Connection, unit: str, since: date | None, *, actor: str) -> Published | None:
    """From `since` (a month's first day; None: no longer) the unit's figures come from its ledger here: set, on
    the audit trail, and the figures published in the same transaction. Values typed before `since` stay as typed;
    from `since` on the ledger's replace them, each a new version on the record."""
    first = store.scalar(con, FIRST_FOUND, {"unit": unit})
    if since is not None and (first is None or pd.Timestamp(first).date() >= add_months(since, 1)):
        raise ValueError(f"the ledger holds no hazard of {unit} found in {since:%Y-%m} or before; its figures from "
                         f"the ledger would all be 0: keep it from the month its ledger begins "
                         f"({'none registered yet' if first is None else f'{pd.Timestamp(first):%Y-%m}'})")
    with store.transaction(con):
        if store.scalar(con, SET_LEDGER_FROM, {"unit": unit, "since": since}) is None:
            raise ValueError(f"there is no unit with the code {unit}")
        audit.record(con, actor, Action.UNITS_CHANGE, target=unit,
                     detail={"unit": unit, "ledger_from": None if since is None else f"{since:%Y-%m}"})
        return _refresh(con, [unit], actor=actor, note=f"{unit} ledger from {since:%Y-%m}" if since else unit)


def import_hazards(con: Connection, data: bytes, file_name: str, *, actor: str, **options) -> imports.HazardImport:
    """A findings workbook (imports.import_file, with its `options`) and, in the same transaction, the figures of
    the units whose hazards it registers or updates."""
    with store.transaction(con):
        result = imports.import_file(con, data, file_name, actor=actor, **options)
        if result.status == "committed" and not result.dry_run:
            after_hazards(con, result.registered + result.updated, actor=actor)
    return result
