"""One unit's scorecard beyond the month's scores: the history of its indicators and its submissions."""
from __future__ import annotations

import math
from datetime import date

import pandas as pd

from metrics import store
from metrics.core.months import months_ending
from metrics.scoring import due_states, queries, scores
from metrics.store import Connection

# The batches that wrote values of one unit, per month they touched. Parameter: $unit.
UNIT_SUBMISSIONS = """
SELECT b.id AS batch_id, b.created_at, b.actor, b.source, b.file_name, b.status, h.month,
       count(*) AS "values"
FROM observation_history h JOIN batches b ON b.id = h.batch_id
WHERE h.subsidiary = $unit
GROUP BY ALL
ORDER BY b.created_at DESC, h.month
"""

BREACH_ORDER = ("red", "yellow", "missing")
"""The scorecard reads worst first: a red veto indicator, the other red ones, yellow, not reported, then the rest."""


def breached_first(rows: pd.DataFrame) -> pd.DataFrame:
    """A unit's indicator rows (status, veto) in BREACH_ORDER, a red veto indicator before every other; within each
    group the rows keep their order (the catalog's). The index is renumbered."""
    rank = rows["status"].map({s: i + 1 for i, s in enumerate(BREACH_ORDER)}).fillna(len(BREACH_ORDER) + 1)
    rank = rank.where(~((rows["status"] == "red") & rows["veto"].fillna(False).astype(bool)), 0)
    return rows.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def whole_threshold(value: float | None, kind: str, direction: str) -> float | None:
    """A count's prorated target or limit (drills × 10/12 = 8.33) as the whole number of events it amounts to: a
    whole count meets a higher-better 8.33 from 9 on (up) and stays within a lower-better 0.25 only at 0 (down), so
    every status reads true against the number shown. Other kinds, and whole numbers, as they are."""
    if value is None or value != value or kind != "count":
        return value
    if abs(value - round(value)) < 1e-9:
        return float(round(value))
    return float(math.ceil(value) if direction == "higher_better" else math.floor(value))


def indicator_history(con: Connection, unit: str, month: date, months: int = 12) -> pd.DataFrame:
    """The unit's monthly value of every indicator over the `months` months ending with `month`:
    month, indicator, value (derived indicators as that month's ratio)."""
    periods = months_ending(month, months)
    frame = store.query(con, queries.UNIT_HISTORY, {"unit": unit, "months": periods,
                                                "basis": scores.Basis.MONTH.value})
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def submissions(con: Connection, unit: str) -> pd.DataFrame:
    """The batches that wrote the unit's values, newest first: batch_id, created_at, actor, source, file_name,
    status, months (the months it touched), values, late (the months it first submitted, late:
    due_states.first_submissions)."""
    rows = store.query(con, UNIT_SUBMISSIONS, {"unit": unit})
    columns = ["batch_id", "created_at", "actor", "source", "file_name", "status", "months", "values", "late"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["month"] = [pd.Timestamp(m).date() for m in rows["month"]]
    first = due_states.first_submissions(con, unit=unit)
    late_by_batch = first[first["late"]].groupby("batch_id")["month"].agg(list)
    grouped = rows.groupby(["batch_id", "created_at", "actor", "source", "file_name", "status"], dropna=False,
                           sort=False).agg(months=("month", list), values=("values", "sum")).reset_index()
    grouped["late"] = grouped["batch_id"].map(late_by_batch)
    grouped["late"] = [v if isinstance(v, list) else [] for v in grouped["late"]]
    return grouped.sort_values("created_at", ascending=False).reset_index(drop=True)[columns]
