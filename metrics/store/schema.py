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
    # v5: the audit trail's anchor and its unambiguous encoding (metrics/store/audit.py). store_meta keeps the id and
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
    # v7: the hazard ledger (metrics/ledger/hazards.py): inspections, hazards with their 五定 and state, every
    # change as an append-only event, and the evidence of rectification kept by sha256. Nothing is deleted: a
    # hazard entered in error is void (作废), with its reason and approver.
    """
    CREATE SEQUENCE inspection_ids START 1;
    CREATE TABLE inspections (
        id BIGINT PRIMARY KEY,
        subsidiary VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        held_on DATE NOT NULL,
        leader VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL
    );
    CREATE TABLE hazards (
        number VARCHAR PRIMARY KEY,
        subsidiary VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        inspection_id BIGINT,
        source VARCHAR NOT NULL,
        place VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        level VARCHAR NOT NULL CHECK (level IN ('general', 'major')),
        criterion VARCHAR,
        clause VARCHAR,
        factor VARCHAR NOT NULL,
        accident_type VARCHAR NOT NULL,
        found_on DATE NOT NULL,
        found_by VARCHAR NOT NULL,
        owner VARCHAR,
        measures VARCHAR,
        funds DOUBLE CHECK (funds >= 0),
        deadline DATE,
        deadline_since DATE,
        original_deadline DATE,
        contingency VARCHAR,
        verifier VARCHAR,
        state VARCHAR NOT NULL,
        requested_deadline DATE,
        rectified_on DATE,
        verified_on DATE,
        verified_by VARCHAR,
        closed_on DATE,
        result VARCHAR,
        sent_back INTEGER NOT NULL DEFAULT 0,
        extensions INTEGER NOT NULL DEFAULT 0,
        void_reason VARCHAR,
        void_approver VARCHAR,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        UNIQUE (subsidiary, year, sequence)
    );
    CREATE SEQUENCE hazard_event_ids START 1;
    CREATE TABLE hazard_events (
        id BIGINT PRIMARY KEY,
        number VARCHAR NOT NULL,
        happened_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        from_state VARCHAR,
        to_state VARCHAR,
        comment VARCHAR NOT NULL,
        detail JSON NOT NULL
    );
    -- The deadline in force from a day on: set when issued, moved by an extension (the month-end figures read
    -- the deadline that was in force at the month's end).
    CREATE TABLE hazard_deadlines (
        number VARCHAR NOT NULL,
        effective_from DATE NOT NULL,
        deadline DATE NOT NULL,
        event_id BIGINT NOT NULL
    );
    CREATE TABLE hazard_evidence (
        number VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        bytes BIGINT NOT NULL,
        added_at TIMESTAMP NOT NULL,
        added_by VARCHAR NOT NULL,
        PRIMARY KEY (number, sha256)
    );
    """,
    # v8: the hazard reminders sent (metrics/ledger/notify.py): one row for each attempt to send a hazard's
    # reminder of one rule, for the deadline then in force, through one channel (an e-mail address, a group
    # robot). A reminder is sent once a row of it says ok; a failed attempt stays on record with its error and
    # the next run tries again. Nothing here is updated or deleted.
    """
    CREATE TABLE hazard_notifications (
        number VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        deadline DATE NOT NULL,
        channel VARCHAR NOT NULL,
        sent_at TIMESTAMP NOT NULL,
        ok BOOLEAN NOT NULL,
        error VARCHAR
    );
    """,
    # v9: the ledger's figures (docs/rules.md, "9. The hazard ledger"): which catalog indicators the hazard ledger
    # counts (kept | only, from data/catalog.toml) and, for a unit that keeps its ledger here, the first month
    # its figures come from the ledger (NULL: the unit types them).
    """
    ALTER TABLE indicators ADD COLUMN ledger VARCHAR;
    ALTER TABLE subsidiaries ADD COLUMN ledger_from DATE;
    """,
)
"""The schema version from which a store keeps its audit trail's anchor (the v5 script above)."""

GET_META = "SELECT value FROM store_meta WHERE key = $key"
SET_META = """
INSERT INTO store_meta (key, value) VALUES ($key, $value)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""

# ---------------------------------------------------------------------------------------------------------
# Reference data: catalog, sectors, grades, units.
# ---------------------------------------------------------------------------------------------------------

SELECT_INDICATORS = "SELECT * FROM indicators ORDER BY position"
SELECT_UNITS = """
SELECT u.code, u.name_zh, u.name_en, u.sector, s.name_zh AS sector_zh, s.name_en AS sector_en, u.ledger_from
FROM subsidiaries u LEFT JOIN sectors s ON s.code = u.sector
ORDER BY u.code
"""
SELECT_SECTORS = "SELECT * FROM sectors ORDER BY code"
COUNT_UNITS = "SELECT count(*) FROM subsidiaries"

# ---------------------------------------------------------------------------------------------------------
# Users and the audit trail. audit_log is append-only: no statement here updates or deletes its rows.
# ---------------------------------------------------------------------------------------------------------

COUNT_USERS = "SELECT count(*) FROM users"


# ---------------------------------------------------------------------------------------------------------
# Targets (目标责任书).
# ---------------------------------------------------------------------------------------------------------

SELECT_TARGETS_OF_YEAR = """
SELECT t.year, t.subsidiary, t.indicator, t.target, t.limit_value AS "limit", t.weight, t.veto
FROM targets t JOIN indicators i ON i.code = t.indicator
WHERE t.year = $year
ORDER BY t.subsidiary <> '*', t.subsidiary, i.position
"""

# ---------------------------------------------------------------------------------------------------------
# Batches and observations (writes).
# ---------------------------------------------------------------------------------------------------------

NEXT_BATCH_ID = "SELECT nextval('batch_ids')"
INSERT_BATCH = """
INSERT INTO batches (id, created_at, actor, source, note, file_name, sha256, rows, replaced, status)
VALUES ($id, coalesce(CAST($created_at AS TIMESTAMP), current_localtimestamp()), $actor, $source, $note,
        $file_name, $sha256, $rows, $replaced, 'committed')
"""

MARK_ROLLED_BACK = "UPDATE batches SET status = 'rolled_back', rolled_back_by = $rollback_id WHERE id = $batch_id"

# ---------------------------------------------------------------------------------------------------------
# Backup, restore and rebuild (metrics/store/backup.py, metrics/ingest/rebuild.py).
# DuckDB binds values, not names: a {placeholder} below takes an identifier quoted by `identifier()`, and
# only names read from DuckDB's own catalog (the store's tables, sequences and database name) fill them.
# ---------------------------------------------------------------------------------------------------------


# How far each sequence went (the last value drawn), and drawing $n more: a restore moves the backup's
# sequences past where the store's were, so no batch or audit id is used twice.
SEQUENCES_DRAWN = """
SELECT sequence_name, coalesce(last_value, start_value - 1) FROM duckdb_sequences()
WHERE database_name = current_database() AND schema_name = 'main'
"""
ADVANCE_SEQUENCE = "SELECT max(nextval($sequence)) FROM range($n)"


# ---------------------------------------------------------------------------------------------------------
# Scoring. One statement judges every (unit, indicator) of one or more periods set-wise.
# Parameters: $months (the periods' last months, first days, DATE[]), $basis ('ytd': year to date through
# the month; 'month': that month alone; 'rolling12': the twelve months ending with it).
# The fragments below are shared by scoring, the roll-ups and the series; each statement defines `obs`
# (the observations it needs), `scope` (the indicators it judges) and `judged_units` (the units it judges;
# roll-ups over sectors and the group always take every unit).
# ---------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------
# Breach rules that look at the history (the status rules read the scoring result).
# ---------------------------------------------------------------------------------------------------------


