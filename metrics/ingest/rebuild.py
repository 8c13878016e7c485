"""Rebuild the store from its raw files, and say whether the result equals the live store.

Every uploaded file is kept write-once under its sha256 before it is parsed (raw_files.keep_raw_file), so the
observations can be derived again: a new store gets the catalog from data/ and the live store's sectors, units and
targets (configuration, not uploads), then every batch of the live store is replayed in id order —
an upload by importing its raw file with the same actor, file name and time, a rollback by rolling back the
same batch. Batches that never had a raw file (the demo seed, anything written by code) are copied from the
live store's observation_history, and counted as such: they are not evidence from raw files. An upload
whose raw file is missing or damaged, or whose replay does not commit, is reported and then copied the same
way, so one problem does not make every later batch differ.

Then observations, batches and observation_history are compared, with live batch ids mapped to the rebuilt
ids by replay order (a failed write leaves a gap in the live sequence, so the ids themselves may differ).
The audit trail is not compared (the rebuild is new history); a REBUILD row in the live store records the
outcome.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.core.paths import db_path
from metrics.ingest import upload
from metrics.ingest.initialise import init_store
from metrics.store import Connection, audit, raw_files, schema
from metrics.store.audit import Action

# A rebuild reads the whole live store in one snapshot, then replays it batch by batch.
SELECT_BATCHES_IN_ORDER = """
SELECT id, created_at, actor, source, note, file_name, sha256, rows, replaced, status, rolled_back_by
FROM batches ORDER BY id
"""
SELECT_ALL_HISTORY = """
SELECT batch_id, month, subsidiary, indicator, value, previous_value, previous_batch_id
FROM observation_history ORDER BY batch_id, month, subsidiary, indicator
"""
SELECT_ALL_OBSERVATIONS = """
SELECT month, subsidiary, indicator, value, batch_id FROM observations ORDER BY month, subsidiary, indicator
"""
SELECT_UNIT_ROWS = "SELECT code, name_zh, name_en, sector FROM subsidiaries ORDER BY code"
SELECT_TARGET_ROWS = """
SELECT year, subsidiary, indicator, target, limit_value AS "limit", weight, veto FROM targets
ORDER BY year, subsidiary, indicator
"""
# Copying batches that have no raw file to replay, a run of consecutive ones at once: `copied_batches` holds
# their batch rows (with their new ids), `changes` their history rows (batch_id, month, subsidiary,
# indicator, value — NULL where a rollback removed the value —, previous_value, previous_batch_id).
INSERT_COPIED_BATCHES = """
INSERT INTO batches (id, created_at, actor, source, note, file_name, sha256, rows, replaced, status)
SELECT id, created_at, actor, source, note, file_name, sha256, rows, replaced, 'committed' FROM copied_batches
"""
INSERT_COPIED_HISTORY = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT batch_id, month, subsidiary, indicator, value, previous_value, previous_batch_id FROM changes
"""
# Their effect on the observations: the last value each (month, subsidiary, indicator) was given in the run.
_LAST_COPIED = """
SELECT * FROM changes
QUALIFY row_number() OVER (PARTITION BY month, subsidiary, indicator ORDER BY batch_id DESC) = 1
"""
UPSERT_COPIED_OBSERVATIONS = f"""
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, batch_id FROM ({_LAST_COPIED}) WHERE value IS NOT NULL
ON CONFLICT (month, subsidiary, indicator) DO UPDATE SET value = excluded.value, batch_id = excluded.batch_id
"""
DELETE_COPIED_REMOVALS = f"""
DELETE FROM observations o USING ({_LAST_COPIED}) c
WHERE c.value IS NULL AND o.month = c.month AND o.subsidiary = c.subsidiary AND o.indicator = c.indicator
"""

MAX_EXAMPLES = 10
BATCH_FIELDS = ("actor", "source", "file_name", "sha256", "rows", "replaced", "status", "created_at",
                "rolled_back_by")
KEY = ["month", "subsidiary", "indicator"]
HISTORY_COLUMNS = ("batch_id", "month", "subsidiary", "indicator", "value", "previous_value", "previous_batch_id")


@dataclass(frozen=True)
class Difference:
    table: str
    kind: str
    count: int
    examples: list[str]

    def __str__(self) -> str:
        shown = "".join(f"\n    {e}" for e in self.examples)
        more = f"\n    … and {self.count - len(self.examples)} more" if self.count > len(self.examples) else ""
        return f"{self.table}: {self.count} {self.kind}{shown}{more}"


@dataclass(frozen=True)
class Unreplayed:
    """A batch that should have been replayed from its raw file but was copied from the live history."""
    batch_id: int
    file_name: str | None
    sha256: str | None
    reason: str

    def __str__(self) -> str:
        return f"batch {self.batch_id} ({self.file_name}, sha256 {self.sha256}): {self.reason}"


@dataclass
class RebuildResult:
    out: Path
    batches: int = 0
    from_raw: int = 0
    rollbacks: int = 0
    copied: dict[str, int] = field(default_factory=dict)
    """source -> batches copied from the live history because they never had a raw file (the demo seed)."""
    unreplayed: list[Unreplayed] = field(default_factory=list)
    """Uploads and rollbacks that could not be replayed (raw file missing or damaged, replay refused)."""
    differences: list[Difference] = field(default_factory=list)
    id_map: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        """The rebuilt store holds the same observations, batches and history as the live one."""
        return not self.differences

    @property
    def ok(self) -> bool:
        """Equal, and every upload and rollback was replayed from its raw file (nothing had to be copied)."""
        return self.equal and not self.unreplayed

    def report(self) -> str:
        copied = ", ".join(f"{n} {source}" for source, n in sorted(self.copied.items())) or "none"
        lines = [f"rebuilt store: {self.out}",
                 f"{self.batches} batches in order: {self.from_raw} uploads replayed from their raw files, "
                 f"{self.rollbacks} rollbacks replayed, {sum(self.copied.values())} copied from the live history "
                 f"because they never had a raw file ({copied}; not checked against raw files)"]
        if self.unreplayed:
            lines.append(f"{len(self.unreplayed)} batches could not be replayed and were copied from the live "
                         f"history instead:")
            lines += [f"  {u}" for u in self.unreplayed]
        if self.equal:
            lines.append("result: the rebuilt store equals the live store (observations, batches, history)")
        else:
            lines.append("result: the rebuilt store DIFFERS from the live store:")
            lines += [f"  {d}" for d in self.differences]
        if self.equal and self.unreplayed:
            lines.append("not verified: the batches above were not rebuilt from raw files")
        return "\n".join(lines)

    def as_detail(self) -> dict:
        """The audit row's detail."""
        return {"out": str(self.out), "equal": self.equal, "ok": self.ok, "batches": self.batches,
                "from_raw": self.from_raw, "rollbacks": self.rollbacks, "copied": self.copied,
                "unreplayed": [str(u) for u in self.unreplayed[:MAX_EXAMPLES]],
                "differences": [{"table": d.table, "kind": d.kind, "count": d.count} for d in self.differences]}


@dataclass(frozen=True)
class Snapshot:
    """The live store as one read-only connection saw it."""
    units: pd.DataFrame
    targets: pd.DataFrame
    batches: pd.DataFrame
    history: pd.DataFrame
    observations: pd.DataFrame
    sectors: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_snapshot(con: Connection) -> Snapshot:
    return Snapshot(units=store.query(con, SELECT_UNIT_ROWS), targets=store.query(con, SELECT_TARGET_ROWS),
                    batches=store.query(con, SELECT_BATCHES_IN_ORDER),
                    history=store.query(con, SELECT_ALL_HISTORY),
                    observations=store.query(con, SELECT_ALL_OBSERVATIONS),
                    sectors=store.query(con, schema.SELECT_SECTORS))


def find_raw_file(directory: Path, sha256: str) -> Path | None:
    """The kept upload with this sha256 (its name is the digest plus the original suffix), if any."""
    folder = directory / sha256[:2]
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if p.name.startswith(sha256) and not p.name.startswith("."))
    return found[0] if found else None


def _when(value) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _copy_batches(con: Connection, run: list, history: dict[int, pd.DataFrame],
                  id_map: dict[int, int]) -> None:
    """Write a run of consecutive live batches as they are recorded (batch rows and history, applied to the
    observations) in one transaction, and add their new ids to `id_map`."""
    if not run:
        return
    with store.transaction(con):
        for batch in run:
            id_map[int(batch.id)] = int(con.execute(schema.NEXT_BATCH_ID).fetchall()[0][0])
        rows = pd.DataFrame({
            "id": [id_map[int(b.id)] for b in run], "created_at": [_when(b.created_at) for b in run],
            "actor": [b.actor for b in run], "source": [b.source for b in run], "note": [_text(b.note) for b in run],
            "file_name": [_text(b.file_name) for b in run], "sha256": [_text(b.sha256) for b in run],
            "rows": [int(b.rows) for b in run], "replaced": [int(b.replaced) for b in run]}).astype(
            {"note": "string", "file_name": "string", "sha256": "string"})
        parts = [history[int(b.id)] for b in run if int(b.id) in history]
        changes = pd.concat(parts) if parts else pd.DataFrame(columns=list(HISTORY_COLUMNS))
        changes = changes.assign(batch_id=_mapped(changes["batch_id"], id_map),
                                 previous_batch_id=_mapped(changes["previous_batch_id"], id_map, missing=None))
        with store.registered(con, rows, "copied_batches"), store.registered(con, changes, "changes"):
            con.execute(INSERT_COPIED_BATCHES)
            con.execute(INSERT_COPIED_HISTORY)
            con.execute(UPSERT_COPIED_OBSERVATIONS)
            con.execute(DELETE_COPIED_REMOVALS)
        for batch in run:
            target = _rolled_back(batch, id_map) if batch.source == "rollback" else None
            if target is not None:
                con.execute(schema.MARK_ROLLED_BACK, {"batch_id": target, "rollback_id": id_map[int(batch.id)]})


def _rolled_back_live(batch, batches: pd.DataFrame) -> int | None:
    """The live batch that this rollback batch rolled back."""
    match = batches[batches["rolled_back_by"] == batch.id]
    return int(match.iloc[0]["id"]) if not match.empty else None


def _rolled_back(batch, id_map: dict[int, int]) -> int | None:
    live = getattr(batch, "rolls_back", None)
    return None if live is None or pd.isna(live) else id_map.get(int(live))


def _replay_upload(con, batch, raw_directory: Path) -> tuple[int | None, str]:
    """Import the batch's raw file as it was imported; (rebuilt batch id, '') or (None, why not)."""
    sha = _text(batch.sha256)
    if sha is None:
        return None, "no sha256 recorded"
    path = find_raw_file(raw_directory, sha)
    if path is None:
        return None, f"raw file missing (looked for {raw_directory / sha[:2] / sha}*)"
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        return None, f"raw file {path} is damaged (its content does not match its sha256)"
    result = upload.import_file(con, data, _text(batch.file_name) or path.name, actor=batch.actor,
                                created_at=_when(batch.created_at))
    if result.status != "committed":
        first = "; ".join(str(p) for p in result.errors[:3])
        return None, f"replaying the raw file gave {result.status}" + (f": {first}" if first else "")
    assert result.batch_id is not None  # a committed upload has its batch
    return int(result.batch_id), ""


def _replay_rollback(con, batch, id_map: dict[int, int]) -> tuple[int | None, str]:
    target = _rolled_back(batch, id_map)
    if target is None:
        return None, "the batch it rolled back is not known"
    try:
        done = upload.rollback(con, target, actor=batch.actor, created_at=_when(batch.created_at))
    except upload.RollbackRefused as exc:
        return None, f"rollback refused: {exc}"
    return int(done.rollback_batch_id), ""


def replay(con: Connection, snapshot: Snapshot, raw_directory: Path,
           result: RebuildResult) -> None:
    """Replay every live batch into the rebuilt store `con`, in id order, filling `result` and its id map.
    Batches to copy are gathered into runs and written together before the next replay needs the state."""
    batches = snapshot.batches.assign(rolls_back=[
        _rolled_back_live(b, snapshot.batches) if b.source == "rollback" else None
        for b in snapshot.batches.itertuples(index=False)])
    history = {int(k): v for k, v in snapshot.history.groupby("batch_id")}
    run: list = []
    for batch in batches.itertuples(index=False):
        result.batches += 1
        if batch.source not in ("upload", "rollback"):
            result.copied[batch.source] = result.copied.get(batch.source, 0) + 1
            run.append(batch)
            continue
        _copy_batches(con, run, history, result.id_map)
        run = []
        if batch.source == "upload":
            new_id, reason = _replay_upload(con, batch, raw_directory)
            result.from_raw += new_id is not None
        else:
            new_id, reason = _replay_rollback(con, batch, result.id_map)
            result.rollbacks += new_id is not None
        if new_id is None:
            result.unreplayed.append(Unreplayed(int(batch.id), _text(batch.file_name), _text(batch.sha256), reason))
            run.append(batch)
        else:
            result.id_map[int(batch.id)] = new_id
    _copy_batches(con, run, history, result.id_map)


def _mapped(series: pd.Series, id_map: dict[int, int], missing: int | None = -1) -> pd.Series:
    """Live batch ids as rebuilt ids; `missing` where a live id has no rebuilt batch (-1: so that it shows
    as different when compared)."""
    return series.map(lambda b: pd.NA if pd.isna(b) else id_map.get(int(b), missing)).astype("Int64")


def _rows_differ(table: str, live: pd.DataFrame, rebuilt: pd.DataFrame, key: list[str],
                 fields: list[str]) -> list[Difference]:
    merged = live.merge(rebuilt, on=key, how="outer", suffixes=("_live", "_rebuilt"), indicator=True)
    found = []

    def example(row, columns) -> str:
        keys = ", ".join(f"{row[k]:%Y-%m}" if isinstance(row[k], pd.Timestamp) else str(row[k]) for k in key)
        return f"{keys}: " + ", ".join(columns)

    for side, kind in (("left_only", "rows missing from the rebuilt store"),
                       ("right_only", "rows only in the rebuilt store")):
        rows = merged[merged["_merge"] == side]
        if len(rows):
            found.append(Difference(table, kind, len(rows), [
                example(r, [f"{f}={r[f + ('_live' if side == 'left_only' else '_rebuilt')]}" for f in fields])
                for r in rows.head(MAX_EXAMPLES).to_dict("records")]))
    both = merged[merged["_merge"] == "both"]
    for f in fields:
        a, b = both[f"{f}_live"], both[f"{f}_rebuilt"]
        differs = ~((a == b).fillna(False) | (a.isna() & b.isna()))
        rows = both[differs.to_numpy()]
        if len(rows):
            found.append(Difference(table, f"rows whose {f} differs", len(rows), [
                example(r, [f"live {r[f + '_live']}", f"rebuilt {r[f + '_rebuilt']}"])
                for r in rows.head(MAX_EXAMPLES).to_dict("records")]))
    return found


def compare(live: Snapshot, rebuilt: Snapshot, id_map: dict[int, int]) -> list[Difference]:
    """Observations, batches and history of the two stores, live batch ids mapped to rebuilt ones."""
    differences = []
    live_obs = live.observations.assign(batch_id=_mapped(live.observations["batch_id"], id_map))
    differences += _rows_differ("observations", live_obs, rebuilt.observations.astype({"batch_id": "Int64"}), KEY,
                                ["value", "batch_id"])
    live_batches = live.batches.assign(id=_mapped(live.batches["id"], id_map),
                                       rolled_back_by=_mapped(live.batches["rolled_back_by"], id_map))
    rebuilt_batches = rebuilt.batches.astype({"id": "Int64", "rolled_back_by": "Int64"})
    differences += _rows_differ("batches", live_batches, rebuilt_batches, ["id"], list(BATCH_FIELDS))
    history_key = ["batch_id", *KEY]
    live_history = live.history.assign(batch_id=_mapped(live.history["batch_id"], id_map),
                                       previous_batch_id=_mapped(live.history["previous_batch_id"], id_map))
    rebuilt_history = rebuilt.history.astype({"batch_id": "Int64", "previous_batch_id": "Int64"})
    differences += _rows_differ("observation_history", live_history, rebuilt_history, history_key,
                                ["value", "previous_value", "previous_batch_id"])
    return differences


def rebuild(db: str | Path | None, out: Path, *, actor: str = "cli", timeout: float | None = None) -> RebuildResult:
    """Build a new store at `out` (which must not exist) by replaying the live store's batches from its raw
    files, compare it with the live store, and record the outcome in the live store's audit trail."""
    started = time.monotonic()
    source = db_path(db)
    if out.exists():
        raise FileExistsError(f"{out} already exists; a rebuild writes a new store")
    if out.resolve() == source.resolve():
        raise ValueError("the rebuilt store must be another file than the live store")
    with store.connect(source, read_only=True, timeout=timeout) as con:
        version = store.schema_version(con)
        if version != store.SCHEMA_VERSION:
            raise store.StoreError(f"the store {source} has schema version {version}, this program "
                                   f"{store.SCHEMA_VERSION}: run `python -m metrics init` to upgrade it first")
        live = read_snapshot(con)
    init_store(out)
    result = RebuildResult(out=out)
    with store.connect(out, timeout=timeout) as con:
        if not live.sectors.empty:
            store.upsert_sectors(con, live.sectors, list(live.sectors["code"]), actor="rebuild")
        if not live.units.empty:
            store.upsert_units(con, live.units, actor="rebuild")
        if not live.targets.empty:
            store.replace_targets(con, live.targets, actor="rebuild", source="rebuild")
        replay(con, live, raw_files.raw_dir(source), result)
        rebuilt = read_snapshot(con)
    result.differences = compare(live, rebuilt, result.id_map)
    result.seconds = time.monotonic() - started
    with store.connect(source, timeout=timeout) as con:
        audit.record(con, actor, Action.REBUILD, target=str(out),
                     outcome=audit.Outcome.OK if result.ok else audit.Outcome.FAILED, detail=result.as_detail())
    return result
