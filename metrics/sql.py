"""Every SQL statement of the product, in one place.

Values are always bound as parameters ($name or ?); nothing here is built by formatting values into text.
Swapping DuckDB for a shared server database means porting this module and `store.py`, nothing else.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------------------
# Schema migrations. Index i holds the script that upgrades a store from version i to version i + 1.
# Append only: a released script is never edited, so an older store always upgrades the same way.
# ---------------------------------------------------------------------------------------------------------

MIGRATIONS: tuple[str, ...] = (
    # v1: catalog, units, targets, observations and who wrote them.
    """
    CREATE TABLE store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
    CREATE TABLE indicators (
        code VARCHAR PRIMARY KEY,
        position INTEGER NOT NULL,
        name_zh VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        unit_zh VARCHAR NOT NULL,
        unit_en VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        direction VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        rollup VARCHAR,
        numerator VARCHAR,
        denominator VARCHAR,
        factor DOUBLE,
        veto_default BOOLEAN NOT NULL,
        description VARCHAR NOT NULL
    );
    CREATE TABLE sectors (code VARCHAR PRIMARY KEY, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL);
    CREATE TABLE grades (
        grade VARCHAR PRIMARY KEY, min_score DOUBLE NOT NULL, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL
    );
    CREATE TABLE subsidiaries (
        code VARCHAR PRIMARY KEY, name_zh VARCHAR NOT NULL, name_en VARCHAR NOT NULL, sector VARCHAR NOT NULL
    );
    CREATE TABLE targets (
        year INTEGER NOT NULL,
        subsidiary VARCHAR NOT NULL,
        indicator VARCHAR NOT NULL,
        target DOUBLE NOT NULL,
        limit_value DOUBLE,
        weight DOUBLE NOT NULL CHECK (weight >= 0),
        veto BOOLEAN NOT NULL,
        PRIMARY KEY (year, subsidiary, indicator)
    );
    CREATE SEQUENCE batch_ids START 1;
    CREATE TABLE batches (
        id BIGINT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        note VARCHAR
    );
    CREATE TABLE observations (
        month DATE NOT NULL,
        subsidiary VARCHAR NOT NULL,
        indicator VARCHAR NOT NULL,
        value DOUBLE NOT NULL CHECK (value >= 0),
        batch_id BIGINT NOT NULL,
        PRIMARY KEY (month, subsidiary, indicator)
    );
    """,
    # v2: provenance of uploaded files and the history of every value a batch replaced, for rollback.
    """
    ALTER TABLE batches ADD COLUMN file_name VARCHAR;
    ALTER TABLE batches ADD COLUMN sha256 VARCHAR;
    ALTER TABLE batches ADD COLUMN rows INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN status VARCHAR NOT NULL DEFAULT 'committed';
    ALTER TABLE batches ADD COLUMN rolled_back_by BIGINT;
    -- One row per value a batch wrote (value) over what it replaced (previous_*); value is NULL where a
    -- rollback removed a value that did not exist before the rolled-back batch.
    CREATE TABLE observation_history (
        batch_id BIGINT NOT NULL,
        month DATE NOT NULL,
        subsidiary VARCHAR NOT NULL,
        indicator VARCHAR NOT NULL,
        value DOUBLE,
        previous_value DOUBLE,
        previous_batch_id BIGINT
    );
    """,
    # v3: the catalog's definitions (指标口径), shown on the indicators page.
    """
    ALTER TABLE indicators ADD COLUMN definition_zh VARCHAR NOT NULL DEFAULT '';
    ALTER TABLE indicators ADD COLUMN definition_en VARCHAR NOT NULL DEFAULT '';
    """,
    # v4: people who sign in, and the audit trail (append-only: only INSERT and SELECT statements below
    # name audit_log; each row carries the sha256 of the row before it, so an edit or a gap shows).
    """
    CREATE TABLE users (
        name VARCHAR PRIMARY KEY,
        display_name VARCHAR NOT NULL,
        role VARCHAR NOT NULL CHECK (role IN ('admin', 'executive', 'unit')),
        units VARCHAR[] NOT NULL,
        password_hash VARCHAR,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TIMESTAMP,
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMP NOT NULL
    );
    CREATE SEQUENCE audit_ids START 1;
    CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY,
        happened_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        outcome VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        detail VARCHAR NOT NULL,
        previous_hash VARCHAR NOT NULL,
        hash VARCHAR NOT NULL
    );
    """,
    # v5: the audit trail's anchor and its unambiguous encoding (metrics/audit.py). store_meta keeps the id and
    # hash of the last row written (audit_head_id, audit_head_hash), rewritten in the transaction of every
    # row, so rows removed from the end of the trail show; rows from audit_json_from on are hashed as a
    # canonical JSON array, the rows an older program wrote (before it) as their fields joined by U+001F.
    # An upgraded store is anchored at the row it holds last.
    """
    INSERT INTO store_meta (key, value) SELECT 'audit_head_id', CAST(coalesce(max(id), 0) AS VARCHAR)
    FROM audit_log;
    INSERT INTO store_meta (key, value) SELECT 'audit_head_hash', coalesce(max_by(hash, id), repeat('0', 64))
    FROM audit_log;
    INSERT INTO store_meta (key, value) SELECT 'audit_json_from', CAST(coalesce(max(id), 0) + 1 AS VARCHAR)
    FROM audit_log;
    """,
    # v6: the catalog's veto_default goes. It was stored and never read: a veto is a target's (targets.veto).
    """
    ALTER TABLE indicators DROP COLUMN veto_default;
    """,
)
AUDIT_ANCHOR_VERSION = 5
"""The schema version from which a store keeps its audit trail's anchor (the v5 script above)."""

SCHEMA_VERSION_TABLE_EXISTS = """
SELECT count(*) FROM information_schema.tables WHERE table_name = 'store_meta' AND table_schema = 'main'
"""
GET_META = "SELECT value FROM store_meta WHERE key = $key"
SET_META = """
INSERT INTO store_meta (key, value) VALUES ($key, $value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""

# ---------------------------------------------------------------------------------------------------------
# Reference data: catalog, sectors, grades, units.
# ---------------------------------------------------------------------------------------------------------

UPSERT_INDICATORS = """
INSERT INTO indicators BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET
    position = excluded.position, name_zh = excluded.name_zh, name_en = excluded.name_en,
    unit_zh = excluded.unit_zh, unit_en = excluded.unit_en, kind = excluded.kind,
    direction = excluded.direction, category = excluded.category, rollup = excluded.rollup,
    numerator = excluded.numerator, denominator = excluded.denominator, factor = excluded.factor,
    description = excluded.description,
    definition_zh = excluded.definition_zh, definition_en = excluded.definition_en
"""
UPSERT_SECTORS = """
INSERT INTO sectors BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en
"""
UPSERT_GRADES = """
INSERT INTO grades BY NAME SELECT * FROM incoming
ON CONFLICT (grade) DO UPDATE SET min_score = excluded.min_score, name_zh = excluded.name_zh,
    name_en = excluded.name_en
"""
UPSERT_UNITS = """
INSERT INTO subsidiaries BY NAME SELECT * FROM incoming
ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
    sector = excluded.sector
"""
SELECT_INDICATORS = "SELECT * FROM indicators ORDER BY position"
SELECT_INDICATOR_CODES = "SELECT code FROM indicators ORDER BY position"
SELECT_UNITS = """
SELECT u.code, u.name_zh, u.name_en, u.sector, s.name_zh AS sector_zh, s.name_en AS sector_en
FROM subsidiaries u LEFT JOIN sectors s ON s.code = u.sector
ORDER BY u.code
"""
SELECT_SECTORS = "SELECT * FROM sectors ORDER BY code"
SELECT_GRADES = "SELECT * FROM grades ORDER BY min_score DESC"
COUNT_UNITS = "SELECT count(*) FROM subsidiaries"
COUNT_SECTORS = "SELECT count(*) FROM sectors"
COUNT_OBSERVATIONS = "SELECT count(*) FROM observations"
MONTHS = "SELECT DISTINCT month FROM observations ORDER BY month"
HAS_MONTH = "SELECT count(*) > 0 FROM observations WHERE month = CAST($month AS DATE)"
SUBMITTED_UNITS = "SELECT DISTINCT subsidiary FROM observations WHERE month = CAST($month AS DATE)"
# Every unit's submission of one month: whether it holds values for the month now, and when it first submitted
# any (the earliest batch that wrote a value for it, as LATE_SUBMISSIONS). Parameter: $month.
MONTH_SUBMISSIONS = """
SELECT u.code AS subsidiary, u.name_zh, u.name_en,
       EXISTS (SELECT 1 FROM observations o
               WHERE o.subsidiary = u.code AND o.month = CAST($month AS DATE)) AS reported,
       (SELECT min(b.created_at) FROM observation_history h JOIN batches b ON b.id = h.batch_id
        WHERE h.subsidiary = u.code AND h.month = CAST($month AS DATE) AND h.value IS NOT NULL) AS first_submitted
FROM subsidiaries u
ORDER BY u.code
"""

# ---------------------------------------------------------------------------------------------------------
# Users and the audit trail. audit_log is append-only: no statement here updates or deletes its rows.
# ---------------------------------------------------------------------------------------------------------

SELECT_USER = "SELECT * FROM users WHERE name = $name"
SELECT_USERS = "SELECT * FROM users ORDER BY name"
COUNT_ADMINS = "SELECT count(*) FROM users WHERE role = 'admin' AND active"
COUNT_USERS = "SELECT count(*) FROM users"
INSERT_USER = """
INSERT INTO users (name, display_name, role, units, password_hash, active, created_at)
VALUES ($name, $display_name, $role, CAST($units AS VARCHAR[]), $password_hash, TRUE, current_localtimestamp())
"""
UPDATE_USER_ROLE = """
UPDATE users SET role = $role, units = CAST($units AS VARCHAR[]), display_name = $display_name
WHERE name = $name
"""
UPDATE_USER_PASSWORD = """
UPDATE users SET password_hash = $password_hash, failed_attempts = 0, locked_until = NULL WHERE name = $name
"""
UPDATE_USER_ACTIVE = "UPDATE users SET active = $active WHERE name = $name"
RECORD_SIGN_IN_FAILURE = """
UPDATE users SET failed_attempts = $failed_attempts, locked_until = CAST($locked_until AS TIMESTAMP)
WHERE name = $name
"""
RECORD_SIGN_IN_SUCCESS = "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE name = $name"

NEXT_AUDIT_ID = "SELECT nextval('audit_ids')"
LAST_AUDIT_HASH = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
INSERT_AUDIT = """
INSERT INTO audit_log (id, happened_at, actor, action, outcome, target, detail, previous_hash, hash)
VALUES ($id, CAST($at AS TIMESTAMP), $actor, $action, $outcome, $target, $detail, $previous_hash, $hash)
"""
SELECT_AUDIT = """
SELECT id, happened_at, actor, action, outcome, target, detail FROM audit_log
WHERE ($actor IS NULL OR actor = $actor)
  AND ($action IS NULL OR action = $action)
  AND ($first IS NULL OR happened_at >= CAST($first AS TIMESTAMP))
  AND ($last IS NULL OR happened_at < CAST($last AS TIMESTAMP))
  AND ($text IS NULL OR contains(lower(target || ' ' || detail), lower($text)))
ORDER BY id DESC
LIMIT $limit
"""
SELECT_AUDIT_CHAIN = "SELECT * FROM audit_log ORDER BY id"
# The same transaction id twice in a row: the connection is inside a transaction (autocommit gives each
# statement its own).
CURRENT_TRANSACTION = "SELECT txid_current()"
# A restore keeps the rows the store's trail held beyond the backup's (`incoming`: audit_log's columns).
INSERT_AUDIT_ROWS = """
INSERT INTO audit_log (id, happened_at, actor, action, outcome, target, detail, previous_hash, hash)
SELECT id, happened_at, actor, action, outcome, target, detail, previous_hash, hash FROM incoming
"""
AUDIT_ACTORS = "SELECT DISTINCT actor FROM audit_log ORDER BY actor"

# ---------------------------------------------------------------------------------------------------------
# Targets (目标责任书).
# ---------------------------------------------------------------------------------------------------------

DELETE_TARGETS_OF_YEAR = "DELETE FROM targets WHERE year = $year"
INSERT_TARGETS = "INSERT INTO targets BY NAME SELECT * FROM incoming"
SELECT_TARGETS_OF_YEAR = """
SELECT t.year, t.subsidiary, t.indicator, t.target, t.limit_value AS "limit", t.weight, t.veto
FROM targets t JOIN indicators i ON i.code = t.indicator
WHERE t.year = $year
ORDER BY t.subsidiary <> '*', t.subsidiary, i.position
"""
TARGET_YEARS = "SELECT DISTINCT year FROM targets ORDER BY year"

# ---------------------------------------------------------------------------------------------------------
# Batches and observations (writes).
# ---------------------------------------------------------------------------------------------------------

NEXT_BATCH_ID = "SELECT nextval('batch_ids')"
INSERT_BATCH = """
INSERT INTO batches (id, created_at, actor, source, note, file_name, sha256, rows, replaced, status)
VALUES ($id, coalesce(CAST($created_at AS TIMESTAMP), current_localtimestamp()), $actor, $source, $note,
        $file_name, $sha256, $rows, $replaced, 'committed')
"""
# `incoming` carries the batch_id of each row (one statement writes several batches).
INSERT_OBSERVATIONS_NEW = """
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, batch_id FROM incoming
"""
INSERT_HISTORY_NEW = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT batch_id, month, subsidiary, indicator, value, NULL, NULL FROM incoming
"""

# Uploads: what an incoming file would change, and writing it. `incoming` is the validated file
# (month, subsidiary, indicator, value); `changes` is the result of CHANGES.
CHANGES = """
SELECT i.month, i.subsidiary, i.indicator, i.value, o.value AS previous_value, o.batch_id AS previous_batch_id
FROM incoming i
LEFT JOIN observations o ON o.month = i.month AND o.subsidiary = i.subsidiary AND o.indicator = i.indicator
WHERE o.value IS NULL OR o.value <> i.value
"""
INSERT_HISTORY_CHANGES = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT $batch_id, month, subsidiary, indicator, value, previous_value, previous_batch_id FROM changes
"""
UPSERT_OBSERVATIONS = """
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, $batch_id FROM changes
ON CONFLICT (month, subsidiary, indicator) DO UPDATE SET value = excluded.value, batch_id = excluded.batch_id
"""
CONTEXT_VALUES = """
SELECT month, subsidiary, indicator, value FROM observations
WHERE indicator IN ('hours_worked', 'avg_employees', 'staff_requiring_cert', 'staff_certified')
  AND month BETWEEN CAST($first_month AS DATE) AND CAST($last_month AS DATE)
  AND (CAST($units AS VARCHAR[]) IS NULL OR list_contains(CAST($units AS VARCHAR[]), subsidiary))
"""
SELECT_BATCHES = """
SELECT id, created_at, actor, source, file_name, sha256, rows, replaced, status, rolled_back_by, note
FROM batches ORDER BY id DESC
"""
SELECT_BATCH = "SELECT * FROM batches WHERE id = $batch_id"
# The sha256 of every file committed as a batch: the batches' own, and those the trail's upload and replace rows
# name (a restore to an earlier backup drops the later batches, not the rows that record them).
DATA_VERSION = """
SELECT (SELECT coalesce(max(id), 0) FROM audit_log
        WHERE list_contains(CAST($actions AS VARCHAR[]), action) AND outcome = 'ok'),
       (SELECT coalesce(max(id), 0) FROM batches)
"""
COMMITTED_FILES = """
SELECT sha256 FROM batches WHERE sha256 IS NOT NULL
UNION
SELECT json_extract_string(detail, '$.sha256') FROM audit_log
WHERE list_contains(CAST($actions AS VARCHAR[]), action) AND json_extract_string(detail, '$.sha256') IS NOT NULL
"""
# Every version of one number: which batch wrote it, who and when (newest first).
VALUE_HISTORY = """
SELECT h.batch_id, b.created_at, b.actor, b.source, b.file_name, h.value, h.previous_value, b.status
FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.subsidiary = $unit AND h.month = CAST($month AS DATE) AND h.indicator = $indicator
ORDER BY h.batch_id DESC
"""
BATCH_UNITS = "SELECT DISTINCT subsidiary FROM observation_history WHERE batch_id = $batch_id ORDER BY 1"
# The batches that wrote only values of `units` (what a unit user's upload page lists).
SELECT_BATCHES_OF_UNITS = """
SELECT id, created_at, actor, source, file_name, sha256, rows, replaced, status, rolled_back_by, note
FROM batches
WHERE id IN (SELECT batch_id FROM observation_history GROUP BY batch_id
             HAVING bool_and(list_contains(CAST($units AS VARCHAR[]), subsidiary)))
ORDER BY id DESC
"""
SELECT_BATCH_CHANGES = """
SELECT h.month, h.subsidiary, u.name_zh, u.name_en, h.indicator, h.value, h.previous_value, h.previous_batch_id
FROM observation_history h
LEFT JOIN subsidiaries u ON u.code = h.subsidiary
LEFT JOIN indicators i ON i.code = h.indicator
WHERE h.batch_id = $batch_id
ORDER BY h.month, h.subsidiary, i.position
"""
# Values of the batch that a later batch has since overwritten (or removed): rolling back would lose them.
ROLLBACK_CONFLICTS = """
SELECT h.month, h.subsidiary, h.indicator, o.batch_id AS current_batch_id
FROM observation_history h
LEFT JOIN observations o ON o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
WHERE h.batch_id = $batch_id AND o.batch_id IS DISTINCT FROM $batch_id
"""
INSERT_HISTORY_ROLLBACK = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT $rollback_id, month, subsidiary, indicator, previous_value, value, batch_id
FROM observation_history WHERE batch_id = $batch_id
"""
DELETE_ROLLED_BACK_NEW = """
DELETE FROM observations o USING observation_history h
WHERE h.batch_id = $batch_id AND h.previous_value IS NULL
  AND o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
"""
RESTORE_ROLLED_BACK = """
UPDATE observations o SET value = h.previous_value, batch_id = h.previous_batch_id
FROM observation_history h
WHERE h.batch_id = $batch_id AND h.previous_value IS NOT NULL
  AND o.month = h.month AND o.subsidiary = h.subsidiary AND o.indicator = h.indicator
"""
MARK_ROLLED_BACK = "UPDATE batches SET status = 'rolled_back', rolled_back_by = $rollback_id WHERE id = $batch_id"

# ---------------------------------------------------------------------------------------------------------
# Backup, restore and rebuild (metrics/backup.py, metrics/rebuild.py).
# DuckDB binds values, not names: a {placeholder} below takes an identifier quoted by `identifier()`, and
# only names read from DuckDB's own catalog (the store's tables, sequences and database name) fill them.
# ---------------------------------------------------------------------------------------------------------


def identifier(name: str) -> str:
    """`name` as a quoted SQL identifier (for the {placeholders} of this section)."""
    return '"' + name.replace('"', '""') + '"'


CURRENT_DATABASE = "SELECT current_database()"
# The backup's new store file, attached read-write to the (read-only) connection to the live store.
ATTACH_BACKUP_TARGET = "ATTACH $path AS backup_target (READ_WRITE)"
CHECKPOINT_BACKUP_TARGET = "CHECKPOINT backup_target"
DETACH_BACKUP_TARGET = "DETACH backup_target"
# A backup's store file, attached read-only to the connection that restores it into the live store.
ATTACH_BACKUP_SOURCE = "ATTACH $path AS backup_source (READ_ONLY)"
DETACH_BACKUP_SOURCE = "DETACH backup_source"
# Every table, sequence, constraint and row of one database into another (sequences keep their position).
COPY_DATABASE = "COPY FROM DATABASE {source} TO {target}"
LIST_TABLES = """
SELECT table_name FROM duckdb_tables() WHERE database_name = $database AND schema_name = 'main'
ORDER BY table_name
"""
LIST_SEQUENCES = """
SELECT sequence_name FROM duckdb_sequences() WHERE database_name = $database AND schema_name = 'main'
ORDER BY sequence_name
"""
COUNT_TABLE_ROWS = "SELECT count(*) FROM {database}.main.{table}"
DROP_TABLE = "DROP TABLE {table}"
DROP_SEQUENCE = "DROP SEQUENCE {sequence}"
LAST_AUDIT_ROW = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
# How far each sequence went (the last value drawn), and drawing $n more: a restore moves the backup's
# sequences past where the store's were, so no batch or audit id is used twice.
SEQUENCES_DRAWN = """
SELECT sequence_name, coalesce(last_value, start_value - 1) FROM duckdb_sequences()
WHERE database_name = current_database() AND schema_name = 'main'
"""
ADVANCE_SEQUENCE = "SELECT max(nextval($sequence)) FROM range($n)"

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

# ---------------------------------------------------------------------------------------------------------
# Scoring. One statement judges every (unit, indicator) of one or more periods set-wise.
# Parameters: $months (the periods' last months, first days, DATE[]), $basis ('ytd': year to date through
# the month; 'month': that month alone; 'rolling12': the twelve months ending with it).
# The fragments below are shared by scoring, the roll-ups and the series; each statement defines `obs`
# (the observations it needs), `scope` (the indicators it judges) and `judged_units` (the units it judges;
# roll-ups over sectors and the group always take every unit).
# ---------------------------------------------------------------------------------------------------------

_PERIODS = """
periods AS (
    SELECT m, year(m) AS y, month(m) AS mi, basis,
           CASE basis
               WHEN 'ytd' THEN make_date(year(m), 1, 1)
               WHEN 'month' THEN m
               WHEN 'rolling12' THEN CAST(m - INTERVAL 11 MONTH AS DATE)
               ELSE error('unknown basis ' || basis)
           END AS first_month
    FROM (SELECT DISTINCT unnest(CAST($months AS DATE[])) AS m, CAST($basis AS VARCHAR) AS basis)
)"""

_ALL_OBSERVATIONS = """
obs AS (SELECT month, subsidiary, indicator, value FROM observations),
scope AS (SELECT * FROM indicators),
judged_units AS (SELECT * FROM subsidiaries)"""

# The units a statement judges: $units (VARCHAR[]), NULL for every unit.
_SOME_UNITS = """
judged_units AS (
    SELECT * FROM subsidiaries
    WHERE CAST($units AS VARCHAR[]) IS NULL OR list_contains(CAST($units AS VARCHAR[]), code)
)"""

# Only the observations one indicator needs (itself, or a derived indicator's two inputs).
_ONE_INDICATOR = """
scope AS (SELECT * FROM indicators WHERE code = $indicator),
obs AS (
    SELECT o.month, o.subsidiary, o.indicator, o.value
    FROM observations o JOIN scope s ON o.indicator IN (coalesce(s.numerator, s.code), s.denominator)
)"""

# Base indicators rolled up over each period's months (`rolled`: everything reported in the period, which the
# sector and group totals take); a unit's own value needs the period's last month (`unit_base`), and a unit
# that reported nothing in that month is not scored (`unit_reported`). Rules: docs/rules.md, "Missing data".
_UNIT_BASE = """
rolled AS (
    SELECT p.m, o.subsidiary, o.indicator,
           CASE i.rollup
               WHEN 'sum' THEN sum(o.value)
               WHEN 'mean' THEN avg(o.value)
               WHEN 'last' THEN max(o.value) FILTER (WHERE o.month = p.m)
               ELSE error('unknown roll-up ' || i.rollup || ' of ' || i.code)
           END AS value,
           bool_or(o.month = p.m) AS reported_last_month
    FROM obs o
    JOIN indicators i ON i.code = o.indicator
    JOIN periods p ON o.month BETWEEN p.first_month AND p.m
    GROUP BY p.m, o.subsidiary, o.indicator, i.rollup, i.code
),
unit_base AS (
    SELECT m, subsidiary, indicator, value FROM rolled WHERE reported_last_month
),
unit_reported AS (
    SELECT m, subsidiary FROM rolled GROUP BY m, subsidiary HAVING bool_or(reported_last_month)
)"""

# Every unit × every indicator in scope: base values as rolled up (with whether the period's last month is
# missing from them), derived ones as the unit's ratio of sums over periods whose last month is reported.
_UNIT_VALUES = """
unit_values AS (
    SELECT p.m, u.code AS subsidiary, i.code AS indicator, b.value AS rolled_value, false AS undefined,
           coalesce(NOT b.reported_last_month, false) AS last_month_missing
    FROM periods p
    CROSS JOIN judged_units u
    CROSS JOIN scope i
    LEFT JOIN rolled b ON b.m = p.m AND b.subsidiary = u.code AND b.indicator = i.code
    WHERE i.numerator IS NULL
    UNION ALL
    SELECT p.m, u.code, d.code,
           CASE WHEN dn.value <> 0 THEN n.value * d.factor / dn.value END,
           n.value IS NOT NULL AND dn.value = 0, false
    FROM periods p
    CROSS JOIN judged_units u
    CROSS JOIN scope d
    LEFT JOIN unit_base n ON n.m = p.m AND n.subsidiary = u.code AND n.indicator = d.numerator
    LEFT JOIN unit_base dn ON dn.m = p.m AND dn.subsidiary = u.code AND dn.indicator = d.denominator
    WHERE d.numerator IS NOT NULL
)"""

# A per-unit override replaces the whole group-default row; the year of each period's month picks the targets.
_EFFECTIVE_TARGETS = """
effective_targets AS (
    SELECT p.m, u.code AS subsidiary, t.indicator, t.target, coalesce(t.limit_value, t.target) AS lim,
           t.weight, t.veto
    FROM periods p
    CROSS JOIN judged_units u
    JOIN targets t ON t.year = p.y AND t.subsidiary IN (u.code, '*') AND t.indicator IN (SELECT code FROM scope)
    QUALIFY row_number() OVER (PARTITION BY p.m, u.code, t.indicator ORDER BY t.subsidiary = '*') = 1
)"""

# How annual targets and limits apply to a period: annual sums are judged per month (÷ 12) on the month
# basis, in full over twelve rolling months and, year to date, in full when lower is better and prorated
# by months elapsed when higher is better; everything else as it is.
_SCALES = """
scales AS (
    SELECT p.m, i.code AS indicator,
           CASE
               WHEN i.rollup IS DISTINCT FROM 'sum' THEN 1.0
               WHEN p.basis = 'month' THEN 1.0 / 12
               WHEN p.basis = 'rolling12' THEN 1.0
               WHEN p.basis = 'ytd' AND i.direction = 'higher_better' THEN p.mi / 12.0
               WHEN p.basis = 'ytd' THEN 1.0
               ELSE error('unknown basis ' || p.basis)
           END AS scale
    FROM periods p CROSS JOIN scope i
)"""

_JUDGED = """
thresholds AS (
    SELECT v.m, v.subsidiary, v.indicator, v.rolled_value, v.last_month_missing, v.undefined, i.direction,
           i.rollup, i.position, t.target IS NOT NULL AS due, t.weight, coalesce(t.veto, false) AS veto,
           t.target AS annual_target, t.lim AS annual_limit, s.scale
    FROM unit_values v
    JOIN indicators i ON i.code = v.indicator
    JOIN scales s ON s.m = v.m AND s.indicator = v.indicator
    LEFT JOIN effective_targets t ON t.m = v.m AND t.subsidiary = v.subsidiary AND t.indicator = v.indicator
),
-- Without the period's last month a value is missing, except a lower-better sum that the months reported
-- already take beyond its limit: values are never negative, so it can only grow (it is red, and vetoes).
valued AS (
    SELECT *,
           CASE WHEN NOT last_month_missing THEN rolled_value
                WHEN direction = 'lower_better' AND rollup = 'sum'
                     AND round(rolled_value, 9) > round(annual_limit * scale, 9) THEN rolled_value
           END AS value
    FROM thresholds
),
compared AS (
    SELECT *, annual_target * scale AS target, annual_limit * scale AS lim,
           last_month_missing AND value IS NOT NULL AS partial,
           round(value, 9) AS v9, round(annual_target * scale, 9) AS t9, round(annual_limit * scale, 9) AS l9
    FROM valued
),
statused AS (
    SELECT *,
           CASE
               WHEN NOT due OR undefined THEN 'none'
               WHEN value IS NULL THEN 'missing'
               WHEN direction = 'lower_better' THEN
                   CASE WHEN v9 <= t9 THEN 'green' WHEN v9 <= l9 THEN 'yellow' ELSE 'red' END
               WHEN direction = 'higher_better' THEN
                   CASE WHEN v9 >= t9 THEN 'green' WHEN v9 >= l9 THEN 'yellow' ELSE 'red' END
               ELSE error('indicator ' || indicator || ' has a target but direction ' || direction)
           END AS status
    FROM compared
),
scored AS (
    SELECT *,
           CASE status
               WHEN 'green' THEN 100.0
               WHEN 'yellow' THEN 100.0 * abs(lim - value) / abs(lim - target)
               WHEN 'red' THEN 0.0
               WHEN 'missing' THEN 0.0
               WHEN 'none' THEN NULL
           END AS score
    FROM statused
),
unit_summary AS (
    SELECT m, subsidiary,
           sum(CASE WHEN status <> 'none' THEN weight * score END)
               / nullif(sum(CASE WHEN status <> 'none' THEN weight END), 0) AS weighted_score,
           bool_or(veto AND status = 'red') AS vetoed,
           count(*) FILTER (WHERE status = 'red') AS red,
           count(*) FILTER (WHERE status = 'yellow') AS yellow,
           count(*) FILTER (WHERE status = 'missing') AS missing,
           count(*) FILTER (WHERE due) AS due
    FROM scored
    GROUP BY m, subsidiary
),
grade_bands AS (
    SELECT grade, min_score, lead(min_score) OVER (ORDER BY min_score) AS next_min FROM grades
),
-- A veto stands whatever else; a unit that reported nothing for the month has no score and no grade.
unit_scores AS (
    SELECT s.m, s.subsidiary, s.vetoed, s.red, s.yellow, s.missing, s.due, r.subsidiary IS NOT NULL AS reported,
           CASE WHEN s.vetoed THEN 0.0 WHEN r.subsidiary IS NOT NULL THEN s.weighted_score END AS score,
           CASE WHEN s.vetoed THEN 'veto' WHEN r.subsidiary IS NOT NULL THEN g.grade END AS grade,
           CASE WHEN s.vetoed THEN NULL
                WHEN s.due = 0 THEN 'no_targets'
                WHEN r.subsidiary IS NULL THEN 'not_reported'
           END AS reason
    FROM unit_summary s
    LEFT JOIN unit_reported r ON r.m = s.m AND r.subsidiary = s.subsidiary
    LEFT JOIN grade_bands g
        ON round(s.weighted_score, 9) >= g.min_score
       AND (g.next_min IS NULL OR round(s.weighted_score, 9) < g.next_min)
)"""

# Sector and group roll-ups hold every value reported in the period, the earlier months of a unit whose
# latest month is missing included: base indicators add up over the units that reported them; a derived
# indicator is its formula on the summed inputs of the units that reported both inputs (a ratio of sums).
_AGGREGATES = """
base_sums AS (
    SELECT b.m, CASE WHEN grouping(u.sector) = 1 THEN 'group' ELSE 'sector' END AS level,
           coalesce(u.sector, '*') AS sector, b.indicator,
           sum(b.value) AS value, false AS undefined, count(*) AS units
    FROM rolled b JOIN subsidiaries u ON u.code = b.subsidiary
    WHERE b.value IS NOT NULL
    GROUP BY GROUPING SETS ((b.m, u.sector, b.indicator), (b.m, b.indicator))
),
pairs AS (
    SELECT n.m, u.sector, d.code AS indicator, d.factor, n.value AS num, dn.value AS den
    FROM subsidiaries u
    CROSS JOIN scope d
    JOIN rolled n ON n.subsidiary = u.code AND n.indicator = d.numerator
    JOIN rolled dn ON dn.m = n.m AND dn.subsidiary = u.code AND dn.indicator = d.denominator
    WHERE d.numerator IS NOT NULL AND n.value IS NOT NULL AND dn.value IS NOT NULL
),
derived_sums AS (
    SELECT m, CASE WHEN grouping(sector) = 1 THEN 'group' ELSE 'sector' END AS level,
           coalesce(sector, '*') AS sector, indicator,
           CASE WHEN sum(den) <> 0 THEN sum(num) * any_value(factor) / sum(den) END AS value,
           sum(den) = 0 AS undefined, count(*) AS units
    FROM pairs
    GROUP BY GROUPING SETS ((m, sector, indicator), (m, indicator))
),
aggregates AS (
    SELECT * FROM base_sums UNION ALL SELECT * FROM derived_sums
)"""

SCORE_UNITS = f"""
WITH {_PERIODS}, {_ALL_OBSERVATIONS}, {_UNIT_BASE}, {_UNIT_VALUES}, {_EFFECTIVE_TARGETS}, {_SCALES}, {_JUDGED}
SELECT s.m AS month, u.code AS subsidiary, u.name_zh, u.name_en, u.sector,
       us.score AS unit_score, us.grade, us.vetoed, us.red, us.yellow, us.missing, us.due, us.reported, us.reason,
       s.indicator, s.value, s.status, s.score, s.target, s.lim AS "limit", s.weight, s.veto, s.partial
FROM scored s
JOIN unit_scores us ON us.m = s.m AND us.subsidiary = s.subsidiary
JOIN subsidiaries u ON u.code = s.subsidiary
ORDER BY s.m, u.code, s.position
"""

# Unit scores only, for histories (sparklines, rank changes): one row per (month, unit) of $units (NULL: all).
SCORE_HISTORY = f"""
WITH {_PERIODS}, obs AS (SELECT month, subsidiary, indicator, value FROM observations
                         WHERE CAST($units AS VARCHAR[]) IS NULL
                            OR list_contains(CAST($units AS VARCHAR[]), subsidiary)),
scope AS (SELECT * FROM indicators), {_SOME_UNITS}, {_UNIT_BASE}, {_UNIT_VALUES}, {_EFFECTIVE_TARGETS}, {_SCALES},
{_JUDGED}
SELECT m AS month, subsidiary, score AS unit_score, grade, vetoed, red, yellow, missing, due, reported, reason
FROM unit_scores
ORDER BY m, subsidiary
"""

AGGREGATE_VALUES = f"""
WITH {_PERIODS}, {_ALL_OBSERVATIONS}, {_UNIT_BASE}, {_AGGREGATES}
SELECT a.m AS month, a.level, a.sector, a.indicator, a.value, a.undefined, a.units
FROM aggregates a
JOIN indicators i ON i.code = a.indicator
ORDER BY a.m, a.level, a.sector, i.position
"""

# One indicator over periods: the units in $units (with the status, target and limit of their period; an
# empty list for none, NULL for all), every sector and the group (with the group-default target and limit).
# Parameters: $indicator, $months, $basis, $units.
SERIES = f"""
WITH {_PERIODS}, {_ONE_INDICATOR}, {_SOME_UNITS}, {_UNIT_BASE}, {_UNIT_VALUES}, {_EFFECTIVE_TARGETS}, {_SCALES},
{_JUDGED}, {_AGGREGATES},
defaults AS (
    SELECT s.m, t.target * s.scale AS target, coalesce(t.limit_value, t.target) * s.scale AS lim
    FROM scales s
    JOIN periods p ON p.m = s.m
    JOIN targets t ON t.year = p.y AND t.subsidiary = '*' AND t.indicator = s.indicator
)
SELECT m AS month, 'unit' AS level, subsidiary AS entity, value, status, target, lim AS "limit"
FROM scored
UNION ALL
SELECT a.m, a.level, a.sector, a.value, NULL, d.target, d.lim
FROM aggregates a
JOIN scope s ON s.code = a.indicator
LEFT JOIN defaults d ON d.m = a.m
ORDER BY 2, 3, 1
"""

# One unit's monthly values of every indicator (derived ones as that month's ratio), for its scorecard.
# Parameters: $unit, $months, $basis.
UNIT_HISTORY = f"""
WITH {_PERIODS},
obs AS (SELECT month, subsidiary, indicator, value FROM observations WHERE subsidiary = $unit),
scope AS (SELECT * FROM indicators),
judged_units AS (SELECT * FROM subsidiaries WHERE code = $unit),
{_UNIT_BASE}, {_UNIT_VALUES}
SELECT m AS month, indicator, CASE WHEN NOT last_month_missing THEN rolled_value END AS value
FROM unit_values ORDER BY indicator, m
"""

# The batches that wrote values of one unit, per month they touched. Parameter: $unit.
UNIT_SUBMISSIONS = """
SELECT b.id AS batch_id, b.created_at, b.actor, b.source, b.file_name, b.status, h.month,
       count(*) AS "values"
FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.subsidiary = $unit
GROUP BY ALL
ORDER BY b.created_at DESC, h.month
"""

# Days since the last month with at least one event of an indicator, per unit, as of a month's end.
LAST_EVENT_MONTH = """
SELECT subsidiary, max(month) AS last_month
FROM observations
WHERE indicator = $indicator AND value > 0 AND month <= CAST($month AS DATE)
GROUP BY subsidiary
"""
FIRST_MONTH = "SELECT min(month) FROM observations"

# ---------------------------------------------------------------------------------------------------------
# Breach rules that look at the history (the status rules read the scoring result).
# ---------------------------------------------------------------------------------------------------------

# Directed indicators (derived ones as monthly ratios) that got worse in each of the last three months.
# Parameters: $first_month (three months before $month), $month.
DETERIORATING = """
WITH window_obs AS (
    SELECT o.month, o.subsidiary, o.indicator, o.value
    FROM observations o JOIN subsidiaries u ON u.code = o.subsidiary
    WHERE o.month BETWEEN CAST($first_month AS DATE) AND CAST($month AS DATE)
),
monthly AS (
    SELECT w.month, w.subsidiary, w.indicator, w.value
    FROM window_obs w JOIN indicators i ON i.code = w.indicator
    WHERE i.direction <> 'none' AND i.numerator IS NULL
    UNION ALL
    SELECT n.month, n.subsidiary, d.code, n.value * d.factor / dn.value
    FROM indicators d
    JOIN window_obs n ON n.indicator = d.numerator
    JOIN window_obs dn ON dn.indicator = d.denominator AND dn.subsidiary = n.subsidiary AND dn.month = n.month
    WHERE d.numerator IS NOT NULL AND d.direction <> 'none' AND dn.value <> 0
),
series AS (
    SELECT subsidiary, indicator, list(value ORDER BY month) AS vals, count(*) AS n
    FROM monthly GROUP BY subsidiary, indicator
)
SELECT s.subsidiary, s.indicator, s.vals[1] AS v0, s.vals[2] AS v1, s.vals[3] AS v2, s.vals[4] AS v3
FROM series s JOIN indicators i ON i.code = s.indicator
WHERE s.n = 4 AND CASE i.direction
    WHEN 'lower_better' THEN s.vals[1] < s.vals[2] AND s.vals[2] < s.vals[3] AND s.vals[3] < s.vals[4]
    WHEN 'higher_better' THEN s.vals[1] > s.vals[2] AND s.vals[2] > s.vals[3] AND s.vals[3] > s.vals[4]
    ELSE error('unknown direction ' || i.direction)
END
ORDER BY s.subsidiary, i.position
"""

# u-chart per month for every unit and the group ('*'): a month's event count against the entity's own rate
# over the preceding $baseline_months months (Poisson limits on exposure): expected ± 3·sqrt(expected),
# out of control above the upper limit. Without $min_months of baseline, or without any event in it (a
# u-chart needs a positive centre line), a month has no limits.
# Parameters: $events, $exposure (indicator codes), $first_month, $last_month, $baseline_months, $min_months.
U_CHART_SERIES = """
WITH pairs AS (
    SELECT e.month, e.subsidiary, e.value AS events, x.value AS exposure
    FROM observations e
    JOIN observations x ON x.month = e.month AND x.subsidiary = e.subsidiary AND x.indicator = $exposure
    JOIN subsidiaries u ON u.code = e.subsidiary
    WHERE e.indicator = $events AND x.value > 0
      AND e.month BETWEEN CAST($first_month AS DATE) - to_months(CAST($baseline_months AS INTEGER))
                      AND CAST($last_month AS DATE)
),
entities AS (
    SELECT month, subsidiary, events, exposure FROM pairs
    UNION ALL
    SELECT month, '*', sum(events), sum(exposure) FROM pairs GROUP BY month
),
baselines AS (
    SELECT c.month, c.subsidiary, c.events, c.exposure,
           sum(b.events) AS base_events, sum(b.exposure) AS base_exposure, count(b.month) AS baseline_months
    FROM entities c
    LEFT JOIN entities b ON b.subsidiary = c.subsidiary AND b.month < c.month
          AND b.month >= c.month - to_months(CAST($baseline_months AS INTEGER))
    WHERE c.month BETWEEN CAST($first_month AS DATE) AND CAST($last_month AS DATE)
    GROUP BY c.month, c.subsidiary, c.events, c.exposure
),
limits AS (
    SELECT *,
           CASE WHEN baseline_months >= $min_months AND base_events > 0 THEN base_events / base_exposure END
               AS centre
    FROM baselines
)
SELECT month, subsidiary, events, exposure, baseline_months, centre,
       centre * exposure AS expected,
       centre * exposure + 3 * sqrt(centre * exposure) AS upper_limit,
       greatest(centre * exposure - 3 * sqrt(centre * exposure), 0) AS lower_limit,
       coalesce(events > centre * exposure + 3 * sqrt(centre * exposure), false) AS out_of_control
FROM limits
ORDER BY subsidiary, month
"""

# A unit's first submission of a month (the earliest batch that wrote a value for it) after the deadline.
# Parameters: $month, $deadline (the last moment a submission is on time).
LATE_SUBMISSIONS = """
SELECT h.subsidiary, min(b.created_at) AS submitted_at
FROM observation_history h
JOIN batches b ON b.id = h.batch_id
JOIN subsidiaries u ON u.code = h.subsidiary
WHERE h.month = CAST($month AS DATE) AND h.value IS NOT NULL
GROUP BY h.subsidiary
HAVING min(b.created_at) > CAST($deadline AS TIMESTAMP)
ORDER BY h.subsidiary
"""

# Hours worked reported but no hazards found (zero or not reported) in each of the last three months.
# Parameters: $exposure, $found (indicator codes), $first_month, $month.
SILENCE = """
SELECT h.subsidiary, count(*) AS months, sum(h.value) AS exposure
FROM observations h
JOIN subsidiaries u ON u.code = h.subsidiary
LEFT JOIN observations f ON f.month = h.month AND f.subsidiary = h.subsidiary AND f.indicator = $found
WHERE h.indicator = $exposure AND h.value > 0 AND coalesce(f.value, 0) = 0
  AND h.month BETWEEN CAST($first_month AS DATE) AND CAST($month AS DATE)
GROUP BY h.subsidiary
HAVING count(*) = 3
ORDER BY h.subsidiary
"""
