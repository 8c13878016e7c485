"""The store: where every number, record and audit row is kept, and the only part that knows its engine.

The other parts call the interface below: `connect` (a short-lived connection, retried while another process
holds the file), `transaction`, `query` and `scalar` (a statement with bound parameters, answered as a frame
or one value), `registered` (a frame readable by a statement as a table), and the shared writes of reference
data and batches. `Connection` is the type they annotate with. What only DuckDB understands (the connection
and its file lock, registered frames, backup's `ATTACH`/`COPY FROM DATABASE`) lives in this folder alone:
connection.py, backup.py. The tables and their migrations are schema.py; the audit trail is audit.py.
"""
from metrics.store.connection import (
    SCHEMA_VERSION,
    Connection,
    DatabaseError,
    DiskFull,
    StoreBusy,
    StoreError,
    connect,
    insert_new_batch,
    insert_new_batches,
    is_disk_full,
    load_reference_data,
    meta,
    migrate,
    query,
    registered,
    replace_targets,
    scalar,
    schema_version,
    set_meta,
    target_changes,
    transaction,
    upsert_sectors,
    upsert_units,
)

__all__ = ["SCHEMA_VERSION", "Connection", "DatabaseError", "DiskFull", "StoreBusy", "StoreError", "connect",
           "insert_new_batch", "insert_new_batches", "is_disk_full", "load_reference_data", "meta", "migrate", "query",
           "registered", "replace_targets", "scalar", "schema_version", "set_meta", "target_changes", "transaction",
           "upsert_sectors", "upsert_units"]
