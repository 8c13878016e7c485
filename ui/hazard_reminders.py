"""The hazard ledger page's reminders (隐患到期提醒, issue 14 item 6): the open hazards due soon, due today,
overdue and escalated on a day, per unit and owner, as metrics/ledger/escalation.py lists them (the reminders
`python -m metrics hazards remind` sends); a row selected opens its hazard on the page."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import date

import pandas as pd
import streamlit as st

from metrics.ledger.escalation import RULES, Reminder
from metrics.ledger.vocabulary import Vocabulary
from ui.i18n import t

KEY = "hazard_reminders_table"
WIDTHS = {"unit": 170, "hazard_owner": 80, "hazard_reminder_rule": 80, "hazard_col_number": 110,
          "hazard_col_place": 110, "hazard_deadline": 90, "hazard_reminder_when": 100}
"""The table's column widths (px): every column shows on a 1280 px screen beside the sidebar."""
Opener = Callable[[str, list[str]], Callable[[], None]]
"""What makes a table's row selection open its hazard: (table key, the numbers of its rows) -> on_select."""


def days_text(n: int) -> str:
    return t("hazard_one_day") if n == 1 else t("hazard_days", n=n)


def when(reminder: Reminder) -> str:
    """还有 2 天 / 今天到期 / 已超期 9 天: the dates' distance only."""
    if reminder.days_over:
        return t("hazard_reminder_over", days=days_text(reminder.days_over))
    if reminder.days_left:
        return t("hazard_reminder_in", days=days_text(reminder.days_left))
    return t("hazard_reminder_today")


def table(reminders: list[Reminder], lang: str) -> pd.DataFrame:
    """One row per reminder, in the order given (by unit, owner, the most urgent first)."""
    return pd.DataFrame({
        t("unit"): [f"{r.unit} {r.unit_name.in_(lang)}" for r in reminders],
        t("hazard_owner"): [r.owner or "—" for r in reminders],
        t("hazard_reminder_rule"): [r.rule.name.in_(lang) for r in reminders],
        t("hazard_col_number"): [r.number for r in reminders],
        t("hazard_col_place"): [r.place for r in reminders],
        t("hazard_deadline"): [r.deadline.isoformat() for r in reminders],
        t("hazard_reminder_when"): [when(r) for r in reminders],
    })


def summary(reminders: list[Reminder], as_of: date, lang: str) -> str:
    """2026-12-03 共 9 条提醒（按单位、责任人排列）：即将到期 3 条、今日到期 1 条、…, the rules in their order."""
    counts = Counter(r.rule.id for r in reminders)
    parts = [t("hazard_reminders_part", rule=rule.name.in_(lang), n=counts[rule.id]) for rule in RULES
             if counts[rule.id]]
    return t("hazard_reminders_count", day=as_of.isoformat(), n=len(reminders),
             parts=("、" if lang == "zh" else ", ").join(parts))


def draw(reminders: list[Reminder], as_of: date, lang: str, units: Collection[str], settings: Vocabulary,
         opener: Opener) -> None:
    """The reminders of `as_of` of `units` (empty: every unit the list holds), with a line counting them by rule
    and one saying the rules' days (`settings`: data/hazards.toml's)."""
    chosen = [r for r in reminders if not units or r.unit in units]
    st.caption(t("hazard_reminders_rules", soon=settings.due_soon_days, escalate=settings.escalate_after_days))
    if not chosen:
        st.success(t("hazard_reminders_none", day=as_of.isoformat()), icon="✔")
        return
    st.markdown(summary(chosen, as_of, lang))
    st.dataframe(table(chosen, lang), hide_index=True, width="stretch", key=KEY,
                 height=min(35 * len(chosen), 35 * 12) + 38, selection_mode="single-row",
                 on_select=opener(KEY, [r.number for r in chosen]),
                 column_config={t(name): st.column_config.Column(width=width) for name, width in WIDTHS.items()})
