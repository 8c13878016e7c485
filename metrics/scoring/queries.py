"""How a period's values are judged: the scoring statements that the scores, the overview's series and a
unit's scorecard run, built from the common table expressions below so that every number is judged one way.
"""
from __future__ import annotations

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
    SELECT p.m, u.code AS subsidiary, t.indicator, t.target, coalesce(t.limit_value, t.target) AS limit_value,
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
# An indicator only the hazard ledger counts (catalog `ledger = "only"`, or a ratio of one) does not apply to a
# unit that does not keep its ledger here in the period's month (subsidiaries.ledger_from): nobody reports it for
# that unit, so it is not missing either (`not_kept`: status none, like a zero denominator).
_JUDGED = """
thresholds AS (
    SELECT v.m, v.subsidiary, v.indicator, v.rolled_value, v.last_month_missing, v.undefined, i.direction,
           i.rollup, i.position, t.target IS NOT NULL AS due, t.weight, coalesce(t.veto, false) AS veto,
           t.target AS annual_target, t.limit_value AS annual_limit, s.scale,
           coalesce(i.ledger = 'only' OR ni.ledger = 'only' OR di.ledger = 'only', false)
               AND NOT coalesce(u.ledger_from <= v.m, false) AS not_kept
    FROM unit_values v
    JOIN indicators i ON i.code = v.indicator
    LEFT JOIN indicators ni ON ni.code = i.numerator
    LEFT JOIN indicators di ON di.code = i.denominator
    LEFT JOIN subsidiaries u ON u.code = v.subsidiary
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
    SELECT *, annual_target * scale AS target, annual_limit * scale AS limit_value,
           last_month_missing AND value IS NOT NULL AS partial,
           round(value, 9) AS v9, round(annual_target * scale, 9) AS t9, round(annual_limit * scale, 9) AS l9
    FROM valued
),
statused AS (
    SELECT *,
           CASE
               WHEN NOT due OR undefined OR not_kept THEN 'none'
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
               WHEN 'yellow' THEN 100.0 * abs(limit_value - value) / abs(limit_value - target)
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
       s.indicator, s.value, s.status, s.score, s.target, s.limit_value AS "limit", s.weight, s.veto, s.partial
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
    SELECT s.m, t.target * s.scale AS target, coalesce(t.limit_value, t.target) * s.scale AS limit_value
    FROM scales s
    JOIN periods p ON p.m = s.m
    JOIN targets t ON t.year = p.y AND t.subsidiary = '*' AND t.indicator = s.indicator
)
SELECT m AS month, 'unit' AS level, subsidiary AS entity, value, status, target, limit_value AS "limit"
FROM scored
UNION ALL
SELECT a.m, a.level, a.sector, a.value, NULL, d.target, d.limit_value
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
