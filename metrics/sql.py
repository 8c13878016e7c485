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
)

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
    veto_default = excluded.veto_default, description = excluded.description
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
COUNT_OBSERVATIONS = "SELECT count(*) FROM observations"
MONTHS = "SELECT DISTINCT month FROM observations ORDER BY month"
HAS_MONTH = "SELECT count(*) > 0 FROM observations WHERE month = CAST($month AS DATE)"

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
VALUES ($id, current_localtimestamp(), $actor, $source, $note, $file_name, $sha256, $rows, $replaced,
        'committed')
"""
INSERT_OBSERVATIONS_NEW = """
INSERT INTO observations (month, subsidiary, indicator, value, batch_id)
SELECT month, subsidiary, indicator, value, $batch_id FROM incoming
"""
INSERT_HISTORY_NEW = """
INSERT INTO observation_history (batch_id, month, subsidiary, indicator, value, previous_value,
                                 previous_batch_id)
SELECT $batch_id, month, subsidiary, indicator, value, NULL, NULL FROM incoming
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
"""
SELECT_BATCHES = """
SELECT id, created_at, actor, source, file_name, sha256, rows, replaced, status, rolled_back_by, note
FROM batches ORDER BY id DESC
"""
SELECT_BATCH = "SELECT * FROM batches WHERE id = $batch_id"
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
# Scoring. One statement judges every (unit, indicator) of a period set-wise.
# Parameters: $month (first day of the month), $ytd (true: year to date through $month; false: that month).
# ---------------------------------------------------------------------------------------------------------

_PERIOD = """
period AS (
    SELECT CAST($month AS DATE) AS m,
           year(CAST($month AS DATE)) AS y,
           month(CAST($month AS DATE)) AS mi,
           CAST($ytd AS BOOLEAN) AS ytd,
           CASE WHEN CAST($ytd AS BOOLEAN) THEN make_date(year(CAST($month AS DATE)), 1, 1)
                ELSE CAST($month AS DATE) END AS first_month
)"""

# Base indicators rolled up over the period's months; missing when the period's last month is not reported.
_UNIT_BASE = """
rolled AS (
    SELECT o.subsidiary, o.indicator,
           CASE i.rollup
               WHEN 'sum' THEN sum(o.value)
               WHEN 'mean' THEN avg(o.value)
               WHEN 'last' THEN max(o.value) FILTER (WHERE o.month = p.m)
               ELSE error('unknown roll-up ' || i.rollup || ' of ' || i.code)
           END AS value,
           bool_or(o.month = p.m) AS reported_last_month
    FROM observations o
    JOIN indicators i ON i.code = o.indicator
    CROSS JOIN period p
    WHERE o.month BETWEEN p.first_month AND p.m
    GROUP BY o.subsidiary, o.indicator, i.rollup, i.code, p.m
),
unit_base AS (
    SELECT subsidiary, indicator, value FROM rolled WHERE reported_last_month
)"""

# Every unit × every indicator: base values as rolled up, derived ones as the unit's ratio of sums.
_UNIT_VALUES = """
unit_values AS (
    SELECT u.code AS subsidiary, i.code AS indicator, b.value, false AS undefined
    FROM subsidiaries u
    CROSS JOIN indicators i
    LEFT JOIN unit_base b ON b.subsidiary = u.code AND b.indicator = i.code
    WHERE i.numerator IS NULL
    UNION ALL
    SELECT u.code, d.code,
           CASE WHEN dn.value <> 0 THEN n.value * d.factor / dn.value END,
           n.value IS NOT NULL AND dn.value = 0
    FROM subsidiaries u
    CROSS JOIN indicators d
    LEFT JOIN unit_base n ON n.subsidiary = u.code AND n.indicator = d.numerator
    LEFT JOIN unit_base dn ON dn.subsidiary = u.code AND dn.indicator = d.denominator
    WHERE d.numerator IS NOT NULL
)"""

# A per-unit override replaces the whole group-default row; the year of the month picks the targets.
_EFFECTIVE_TARGETS = """
effective_targets AS (
    SELECT u.code AS subsidiary, t.indicator, t.target, coalesce(t.limit_value, t.target) AS lim,
           t.weight, t.veto
    FROM subsidiaries u
    JOIN targets t ON t.year = (SELECT y FROM period) AND t.subsidiary IN (u.code, '*')
    QUALIFY row_number() OVER (PARTITION BY u.code, t.indicator ORDER BY t.subsidiary = '*') = 1
)"""

# Thresholds of the period: annual sums are judged per month (÷ 12), year to date in full when lower is
# better, prorated by months elapsed when higher is better; everything else as it is.
_JUDGED = """
thresholds AS (
    SELECT v.subsidiary, v.indicator, v.value, v.undefined, i.direction, i.position,
           t.target IS NOT NULL AS due, t.weight, coalesce(t.veto, false) AS veto,
           t.target AS annual_target, t.lim AS annual_limit,
           CASE
               WHEN i.rollup IS DISTINCT FROM 'sum' THEN 1.0
               WHEN NOT p.ytd THEN 1.0 / 12
               WHEN i.direction = 'higher_better' THEN p.mi / 12.0
               ELSE 1.0
           END AS scale
    FROM unit_values v
    JOIN indicators i ON i.code = v.indicator
    LEFT JOIN effective_targets t ON t.subsidiary = v.subsidiary AND t.indicator = v.indicator
    CROSS JOIN period p
),
compared AS (
    SELECT *, annual_target * scale AS target, annual_limit * scale AS lim,
           round(value, 9) AS v9, round(annual_target * scale, 9) AS t9, round(annual_limit * scale, 9) AS l9
    FROM thresholds
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
    SELECT subsidiary,
           sum(CASE WHEN status <> 'none' THEN weight * score END)
               / nullif(sum(CASE WHEN status <> 'none' THEN weight END), 0) AS weighted_score,
           bool_or(veto AND status = 'red') AS vetoed,
           count(*) FILTER (WHERE status = 'red') AS red,
           count(*) FILTER (WHERE status = 'yellow') AS yellow,
           count(*) FILTER (WHERE status = 'missing') AS missing,
           count(*) FILTER (WHERE due) AS due
    FROM scored
    GROUP BY subsidiary
),
grade_bands AS (
    SELECT grade, min_score, lead(min_score) OVER (ORDER BY min_score) AS next_min FROM grades
),
unit_scores AS (
    SELECT s.subsidiary, s.vetoed, s.red, s.yellow, s.missing, s.due,
           CASE WHEN s.vetoed THEN 0.0 ELSE s.weighted_score END AS score,
           CASE WHEN s.vetoed THEN 'veto' ELSE g.grade END AS grade
    FROM unit_summary s
    LEFT JOIN grade_bands g
        ON round(s.weighted_score, 9) >= g.min_score
       AND (g.next_min IS NULL OR round(s.weighted_score, 9) < g.next_min)
)"""

SCORE_UNITS = f"""
WITH {_PERIOD}, {_UNIT_BASE}, {_UNIT_VALUES}, {_EFFECTIVE_TARGETS}, {_JUDGED}
SELECT u.code AS subsidiary, u.name_zh, u.name_en, u.sector,
       us.score AS unit_score, us.grade, us.vetoed, us.red, us.yellow, us.missing, us.due,
       s.indicator, s.value, s.status, s.score, s.target, s.lim AS "limit", s.weight, s.veto
FROM scored s
JOIN unit_scores us ON us.subsidiary = s.subsidiary
JOIN subsidiaries u ON u.code = s.subsidiary
ORDER BY u.code, s.position
"""

# Sector and group roll-ups: base indicators add up over the units that reported them; a derived indicator
# is its formula on the summed inputs of the units that reported both inputs (a ratio of sums).
AGGREGATE_VALUES = f"""
WITH {_PERIOD}, {_UNIT_BASE},
base_sums AS (
    SELECT CASE WHEN grouping(u.sector) = 1 THEN 'group' ELSE 'sector' END AS level,
           coalesce(u.sector, '*') AS sector, b.indicator,
           sum(b.value) AS value, false AS undefined, count(*) AS units
    FROM unit_base b JOIN subsidiaries u ON u.code = b.subsidiary
    GROUP BY GROUPING SETS ((u.sector, b.indicator), (b.indicator))
),
pairs AS (
    SELECT u.sector, d.code AS indicator, d.factor, n.value AS num, dn.value AS den
    FROM subsidiaries u
    CROSS JOIN indicators d
    JOIN unit_base n ON n.subsidiary = u.code AND n.indicator = d.numerator
    JOIN unit_base dn ON dn.subsidiary = u.code AND dn.indicator = d.denominator
    WHERE d.numerator IS NOT NULL
),
derived_sums AS (
    SELECT CASE WHEN grouping(sector) = 1 THEN 'group' ELSE 'sector' END AS level,
           coalesce(sector, '*') AS sector, indicator,
           CASE WHEN sum(den) <> 0 THEN sum(num) * any_value(factor) / sum(den) END AS value,
           sum(den) = 0 AS undefined, count(*) AS units
    FROM pairs
    GROUP BY GROUPING SETS ((sector, indicator), (indicator))
)
SELECT a.level, a.sector, a.indicator, a.value, a.undefined, a.units
FROM (SELECT * FROM base_sums UNION ALL SELECT * FROM derived_sums) a
JOIN indicators i ON i.code = a.indicator
ORDER BY a.level, a.sector, i.position
"""

# Monthly series of one indicator for every unit (rows with subsidiary '*' are the group), derived
# indicators as ratios of sums. Parameters: $indicator, $first_month, $last_month.
TREND = """
WITH ind AS (
    SELECT code, coalesce(numerator, code) AS num_code, denominator AS den_code, factor
    FROM indicators WHERE code = $indicator
),
per_unit AS (
    SELECT o.month, o.subsidiary,
           max(o.value) FILTER (WHERE o.indicator = ind.num_code) AS num,
           max(o.value) FILTER (WHERE o.indicator = ind.den_code) AS den
    FROM observations o CROSS JOIN ind
    WHERE o.month BETWEEN CAST($first_month AS DATE) AND CAST($last_month AS DATE)
      AND (o.indicator = ind.num_code OR o.indicator = ind.den_code)
    GROUP BY o.month, o.subsidiary
),
with_group AS (
    SELECT month, subsidiary, num, den FROM per_unit
    UNION ALL
    SELECT month, '*',
           sum(num) FILTER (WHERE (SELECT den_code FROM ind) IS NULL OR den IS NOT NULL),
           sum(den) FILTER (WHERE num IS NOT NULL)
    FROM per_unit GROUP BY month
)
SELECT w.month, w.subsidiary,
       CASE WHEN ind.den_code IS NULL THEN w.num WHEN w.den <> 0 THEN w.num * ind.factor / w.den END AS value
FROM with_group w CROSS JOIN ind
ORDER BY w.subsidiary, w.month
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

# u-chart: this month's event count against the unit's own rate over the baseline months (Poisson
# limits on exposure): flagged above expected + 3·sqrt(expected). A baseline without any event gives no
# limit (a u-chart needs a positive centre line).
# Parameters: $events, $exposure (indicator codes), $baseline_first, $month, $min_months.
U_CHART = """
WITH pairs AS (
    SELECT e.month, e.subsidiary, e.value AS events, x.value AS exposure
    FROM observations e
    JOIN observations x ON x.month = e.month AND x.subsidiary = e.subsidiary AND x.indicator = $exposure
    JOIN subsidiaries u ON u.code = e.subsidiary
    WHERE e.indicator = $events AND x.value > 0
      AND e.month BETWEEN CAST($baseline_first AS DATE) AND CAST($month AS DATE)
),
baseline AS (
    SELECT subsidiary, sum(events) AS events, sum(exposure) AS exposure, count(*) AS months
    FROM pairs WHERE month < CAST($month AS DATE) GROUP BY subsidiary
),
judged AS (
    SELECT c.subsidiary, c.events, c.exposure, b.months AS baseline_months,
           b.events / b.exposure AS centre, b.events / b.exposure * c.exposure AS expected
    FROM pairs c JOIN baseline b ON b.subsidiary = c.subsidiary
    WHERE c.month = CAST($month AS DATE) AND b.months >= $min_months AND b.events > 0
)
SELECT subsidiary, events, exposure, baseline_months, centre, expected,
       expected + 3 * sqrt(expected) AS upper_limit
FROM judged
WHERE events > expected + 3 * sqrt(expected)
ORDER BY subsidiary
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
