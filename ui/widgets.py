"""Controls and presentation pieces shared by the pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics.auth.roles import User
from metrics.core.codes import FATALITIES, LTIFR, RECTIFICATION_RATE
from metrics.core.formatting import display_number
from metrics.core.months import day_label, label
from metrics.scoring.overview import Headline, Overview, Reference
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.markdown import plain


def month_and_basis(path, user: User, with_basis: bool = True) -> tuple[date, str] | None:
    """Month (latest by default) and basis pickers; None when the store has no data. A page with a basis
    choice of its own (trends) leaves the sidebar's out and keeps its value for the other pages."""
    months = data.months(str(path), user, data.version(path))
    if not months:
        st.info(t("no_data"), icon="📭")
        st.page_link("pages/upload.py", label=t("go_upload"), icon="📤")
        return None
    lang = current_lang()
    month = st.sidebar.selectbox(t("month"), list(reversed(months)), format_func=lambda m: label(m, lang),
                                 key="month")
    if not with_basis:
        return month, st.session_state.get("basis", "ytd")
    basis = st.sidebar.radio(t("basis"), ["ytd", "month"],
                             format_func={"ytd": t("basis_ytd"), "month": t("basis_month")}.get,
                             key="basis", horizontal=True)
    return month, basis


@dataclass(frozen=True)
class PageContext:
    """What every month page starts from: the store, the language, the chosen period and its data."""
    path: Path
    user: User
    lang: str
    month: date
    basis: str
    version: tuple
    reference: Reference

    def overview(self) -> Overview:
        return data.month_overview(str(self.path), self.user, self.month, self.basis, self.version)

    def names(self, frame: pd.DataFrame, code_column: str = "code") -> dict[str, str]:
        return dict(zip(frame[code_column], frame["name_zh" if self.lang == "zh" else "name_en"]))

    @property
    def unit_names(self) -> dict[str, str]:
        return self.names(self.reference.units)

    @property
    def indicator_names(self) -> dict[str, str]:
        return self.names(self.reference.indicators)

    @property
    def sector_names(self) -> dict[str, str]:
        return self.names(self.reference.sectors)


def month_page(title_key: str, with_basis: bool = True) -> PageContext:
    """Title, sidebar month and basis pickers; stops the page with a helpful message when the store holds no
    data or no units yet."""
    path, user = data.store_path(), acting_user()
    st.title(t(title_key))
    picked = month_and_basis(path, user, with_basis)
    if picked is None:
        st.stop()
    version = data.version(path)
    page = PageContext(path=path, user=user, lang=current_lang(), month=picked[0], basis=picked[1],
                       version=version, reference=data.reference(str(path), user, version))
    if page.reference.units.empty:
        st.info(t("no_units"), icon="🏭")
        st.stop()
    return page


def change_text(value: float | None, digits: int = 2) -> str | None:
    """A change as '+1.5', '-20' or '0' (no arrow for no change); None where there is nothing to compare."""
    if value is None or value != value:
        return None
    if not round(value, digits):
        return "0"
    text = f"{value:+,.{digits}f}"
    return text.rstrip("0").rstrip(".") if digits else text


CARDS_CSS = """<style>
[data-testid="stMetric"] .stMarkdownEllipsis, [data-testid="stMetric"] .stMarkdownEllipsis p {
  white-space: normal; overflow: visible; text-overflow: clip; }
[data-testid="stMetricValue"] { font-size: clamp(1.5rem, 2.2vw, 2.25rem); line-height: 1.25; }
</style>"""
"""Constant CSS (never data): a headline card's figure and label wrap at their spaces instead of ending in "…",
in type that shrinks with the window, so a narrow projector column shows the whole number."""


WRAPPING_ROW = 66
"""Row height (px) of a table whose text cells wrap: Streamlit wraps them only above 4rem, and 66 holds three lines."""


def whole_cards() -> None:
    """Headline cards on this page never cut their numbers (CARDS_CSS; sent once per run, takes no room)."""
    st.html(CARDS_CSS)


def headline(col, title: str, figure: Headline, digits: int = 2, suffix: str = "") -> None:
    """A headline card: the figure, its change from last month (coloured by what is better) and from the same
    month last year underneath."""
    shown = "—" if figure.value is None else f"{display_number(round(figure.value, digits))}{suffix}"
    col.metric(title, shown, change_text(figure.change(figure.previous), digits),
               delta_color="inverse" if figure.lower_is_better else "normal", help=t("delta_help"))
    year_change = change_text(figure.change(figure.last_year), digits)
    col.caption(t("vs_last_year", change=year_change if year_change is not None else "—"))


def group_headlines(ov: Overview, slots: list) -> None:
    """The group's headline figures into nine slots (columns), in this order: fatalities, LTIFR, rectification
    rate, red and yellow flags, units reported, days since the last fatality and lost-time injury, vetoes."""
    whole_cards()
    h = ov.headlines
    basis, year, month = t("tag_" + ov.basis.value), t("tag_ytd"), t("tag_month")
    headline(slots[0], f"{t('h_fatalities')} · {basis}", h[FATALITIES], 0)
    headline(slots[1], f"{t('h_ltifr')} · {basis}", h[LTIFR], 2)
    headline(slots[2], f"{t('h_rectification')} · {basis}", h[RECTIFICATION_RATE], 1, "%")
    headline(slots[3], f"{t('red_flags')} · {year}", h["red"], 0)
    headline(slots[4], f"{t('yellow_flags')} · {year}", h["yellow"], 0)
    reported = h["reported"]
    slots[5].metric(f"{t('h_reported')} · {month}", f"{int(reported.value or 0)} / {ov.expected}",
                    help=t("h_reported_help"))
    slots[5].caption(t("vs_last_month_plain", value="—" if reported.previous is None else int(reported.previous)))
    for col, key, days in ((slots[6], "safe_days", ov.safe_days_fatality["*"]),
                           (slots[7], "lti_days", ov.safe_days_lost_time["*"])):
        col.metric(t(key), f"{'≥' if days.since_records else ''}{days.days:,} {t('days')}", help=t("safe_days_help"))
    slots[8].metric(t("vetoed_units"), len(ov.vetoed_units))


def group_banners(ov: Overview, unit_names: dict[str, str], indicator_names: dict[str, str],
                  lang: str) -> None:
    """A red banner for every unit vetoed this year with the numbers, a yellow one naming who has not reported."""
    separator = "、" if lang == "zh" else ", "
    values = ov.ytd.indicators.set_index(["subsidiary", "indicator"])["value"]
    for u in ov.vetoed_units.itertuples(index=False):
        if u.veto_reason is None:  # another unit's, for a unit user: the grade, not the indicators
            st.error(t("veto_banner_plain", unit=plain(unit_names[u.subsidiary])), icon="⛔")
            continue
        reason = separator.join(f"{plain(indicator_names[c])} {display_number(values[(u.subsidiary, c)])}"
                                for c in u.veto_reason)
        st.error(t("veto_banner", unit=plain(unit_names[u.subsidiary]), reason=reason), icon="⛔")
    if ov.missing_units:
        units, deadline = separator.join(plain(unit_names[c]) for c in ov.missing_units), day_label(ov.deadline, lang)
        if ov.deadline_passed:
            st.warning(t("missing_banner", units=units, deadline=deadline), icon="📭")
        else:
            st.info(t("pending_banner", units=units, deadline=deadline), icon="🕒")


def problem_table(problems, lang: str) -> pd.DataFrame:
    """Every problem of a rejected file or table: row, column, what was written and what to do. An empty cell is
    empty, not "None"; a list of problems of the whole file (a file refused for its size) leaves out the columns
    none of them has."""
    table = pd.DataFrame({t("col_row"): pd.array([p.row for p in problems], dtype="Int64"),
                          t("col_column"): [p.column or "" for p in problems],
                          t("col_written"): ["" if p.value is None else p.value for p in problems],
                          t("col_problem"): [p.text(lang) for p in problems]})
    if not table[t("col_row")].isna().all():
        return table
    return table.drop(columns=[t("col_row")] + [name for name in (t("col_column"), t("col_written"))
                                                if not table[name].astype(bool).any()])


UPLOADER_CSS = """<style>
.st-key-%(box)s [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p,
.st-key-%(box)s [data-testid="stFileUploaderDropzoneInstructions"] span {
  font-size: 0; visibility: hidden; }
.st-key-%(box)s [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "%(button)s"; font-size: 0.875rem; visibility: visible; }
.st-key-%(box)s [data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "%(limit)s"; font-size: 0.875rem; visibility: visible; }
</style>"""


def _css_text(text: str) -> str:
    """A constant string as the content of a CSS string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def file_uploader(label_key: str, types: list[str], key: str, **options):
    """st.file_uploader in the page's language. Streamlit has no locale for its dropzone (the "Upload" button,
    "64MB per file • CSV, XLSX"): constant CSS scoped to this uploader hides those words and draws ours
    instead, from ui/i18n.py, the accepted types of the call and the configured size limit, never data."""
    box = f"uploader_{key}"
    limit = t("uploader_limit", size=st.get_option("server.maxUploadSize"),
              types="、".join(ext.upper() for ext in types) if current_lang() == "zh"
              else ", ".join(ext.upper() for ext in types))
    with st.container(key=box):
        st.html(UPLOADER_CSS % {"box": box, "button": _css_text(t("uploader_button")), "limit": _css_text(limit)})
        return st.file_uploader(t(label_key), type=types, key=key, **options)
