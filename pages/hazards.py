"""Hazard ledger (隐患台账): every hazard the user may see, filtered, with the overdue ones by days over; one hazard
with its fields, 五定, deadlines, events and evidence; and the forms of the loop: register, then the steps the
hazard's state allows and the user's role permits. Each form is one column, so it fits a phone held on site.

The view is in the URL (ui/state.py: HAZARD_PARAMS): `?units=CM01&overdue=1` filters the list,
`?units=CM01&month=2026-09&figure=hazards_overdue` holds the hazards behind that figure of that unit in that month
(metrics.access.hazards_behind; days over at the month's end), `?hazard=CM01-2026-0007` opens that hazard. The
list is filtered, ordered and counted in SQL (metrics.ledger.hazards.ledger_list): the page draws only its first
rows. The reminders are ui/hazard_reminders.py's. Rules: docs/rules.md, "9. The hazard ledger"."""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from metrics.auth.roles import Forbidden, Permission, can
from metrics.core import clock
from metrics.core.months import iso_month, label as month_label, month_end, months_ending, parse_month
from metrics.ledger.hazards import (
    MAJOR,
    STATE_NAMES,
    STEPS,
    Change,
    Hazard,
    HazardRefused,
    LedgerFilter,
    NewHazard,
    State,
    days_over,
)
from metrics.ledger.vocabulary import load_vocabulary
from metrics.store.audit import actor_text
from ui import data, hazard_import, hazard_reminders
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.markdown import plain
from ui.state import BASES, HAZARD_PARAMS
from ui.widgets import WRAPPING_ROW, file_uploader

DESCRIPTION_CHARS = 24
"""How much of a description the lists show (the hazard itself shows it whole)."""
TABLE_ROWS = 12
PICKER_OPTIONS = 1000
"""The picker offers the first hazards of the list (every option goes to the browser); the filters narrow it."""
DRILL_UNITS_NAMED = 3
"""The drill-through's sentence names up to this many units (more: the first and how many)."""
LIST_WIDTHS = {"zh": {"hazard_col_number": 110, "unit": 112, "hazard_col_place": 90, "hazard_col_description": 124,
                      "hazard_col_level": 40, "col_status": 64, "hazard_col_owner": 56, "hazard_col_deadline": 82,
                      "hazard_col_days_over": 64, "hazard_col_evidence": 40},
               "en": {"hazard_col_number": 110, "unit": 120, "hazard_col_place": 90, "hazard_col_description": 110,
                      "hazard_col_level": 58, "col_status": 100, "hazard_col_owner": 56, "hazard_col_deadline": 82,
                      "hazard_col_days_over": 72, "hazard_col_evidence": 64}}
"""The lists' column widths (px): in Chinese every column shows on a 1280 px screen beside the sidebar; the
longer English words push the last one or two out of view there (the grid scrolls)."""
EVENT_WIDTHS = {"col_time": 96, "hazard_event_actor": 80, "hazard_event_step": 150, "hazard_event_states": 170,
                "hazard_comment": 260}
EVIDENCE_TYPES = ["jpg", "jpeg", "png", "heic", "pdf", "docx", "xlsx"]
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "issue": ("owner", "measures", "funds", "deadline", "contingency", "verifier"),
    "submit": ("rectified_on", "comment"),
    "accept": ("verified_on", "comment"),
    "send_back": ("comment",),
    "extend": ("deadline", "approver", "comment"),
    "request_extension": ("deadline", "comment"),
    "approve_extension": ("comment",),
    "reject_extension": ("comment",),
    "void": ("approver", "comment"),
    "update": ("owner", "measures", "funds", "contingency", "verifier", "comment"),
}
"""What each step's form asks for (the values of its Change; `comment` is the Change's comment)."""
FIELD_LABELS = {"owner": "hazard_owner", "verifier": "hazard_verifier", "approver": "hazard_approver",
                "measures": "hazard_measures", "contingency": "hazard_contingency",
                "rectified_on": "hazard_rectified_on", "verified_on": "hazard_verified_on"}
COMMENT_LABELS = {"accept": "hazard_result", "send_back": "hazard_reason", "extend": "hazard_reason",
                  "request_extension": "hazard_reason", "reject_extension": "hazard_reason", "void": "hazard_reason"}
EVIDENCE = "evidence"
"""The form that attaches evidence (not a step: the hazard keeps its state)."""
EVIDENCE_STATES = (State.REGISTERED, State.RECTIFYING)
PICKED, FLASH, DRILL = "hazard", "hazard_flash", "hazard_drill"
NEXT = "hazard_next"
"""A hazard to open on the next run (set where the picker is already drawn, e.g. after registering)."""

path = setup_page(needs=Permission.VIEW_UNIT)
user, lang = acting_user(), current_lang()
today = clock.today()
vocabulary = load_vocabulary()
st.title(t("nav_hazards"))
version = data.version(path)
ref = data.reference(str(path), user, version)
units = ref.units
unit_names = dict(zip(units["code"], units["name_zh" if lang == "zh" else "name_en"]))
visible_units = data.unit_codes(str(path), user, version)
keeps = [u for u in visible_units if can(user, Permission.KEEP_LEDGER, u)]
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon="✅")


NAMES = {kind: {entry.code: entry.name.in_(lang) for entry in terms} for kind, terms in vocabulary.terms.items()}
STATE_WORDS = {state.value: name.in_(lang) for state, name in STATE_NAMES.items()}


def term(kind: str):
    """A vocabulary code by its name in the page's language (a dict lookup: the lists map every row)."""
    return NAMES[kind].__getitem__


def state_name(value: str) -> str:
    return STATE_WORDS[value]


def iso(day) -> str:
    return "" if day is None or pd.isna(day) else pd.Timestamp(day).strftime("%Y-%m-%d")


def shown_or_dash(value) -> str:
    return "—" if value is None or (isinstance(value, str) and not value.strip()) else plain(value)


def refused(exc: HazardRefused | Forbidden) -> None:
    st.error(exc.message(lang), icon="🔒" if isinstance(exc, Forbidden) else "🚫")


# --- registering ----------------------------------------------------------------------------------------------

def text(value: str) -> str | None:
    return value.strip() or None


def register_form() -> None:
    """登记: what registering takes; the 五定 come with the next step, 下达整改."""
    with st.form("hazard_register"):
        unit = st.selectbox(t("unit"), keeps, format_func=lambda c: f"{unit_names.get(c, c)} ({c})")
        source = st.selectbox(t("hazard_source"), vocabulary.codes("source"), format_func=term("source"))
        place = st.text_input(t("hazard_place"))
        description = st.text_area(t("hazard_description"), height=96)
        level = st.radio(t("hazard_level"), vocabulary.codes("level"), format_func=term("level"), horizontal=True)
        criterion = st.selectbox(t("hazard_criterion"), vocabulary.codes("criterion"), index=None,
                                 format_func=term("criterion"), placeholder=t("hazard_major_only"))
        clause = st.text_input(t("hazard_clause"), placeholder=t("hazard_major_only"))
        factor = st.selectbox(t("hazard_factor"), vocabulary.codes("factor"), index=None, format_func=term("factor"),
                              placeholder=t("hazard_choose_placeholder"))
        accident = st.selectbox(t("hazard_accident_type"), vocabulary.codes("accident_type"), index=None,
                                format_func=term("accident_type"), placeholder=t("hazard_choose_placeholder"))
        found_on = st.date_input(t("hazard_found_on"), value=today, max_value=today)
        found_by = st.text_input(t("hazard_found_by"))
        if not st.form_submit_button(t("hazard_register_submit"), type="primary", width="stretch"):
            return
    unchosen = [label for label, value in ((t("hazard_factor"), factor), (t("hazard_accident_type"), accident))
                if value is None]
    if unchosen:  # no default stands in for a choice nobody made
        st.error(t("hazard_choose", fields=("、" if lang == "zh" else ", ").join(unchosen)), icon="🚫")
        return
    major = level == MAJOR
    new = NewHazard(unit, source, place.strip(), description.strip(), level, str(factor), str(accident), found_on,
                    found_by.strip(), criterion=criterion if major else None,
                    clause=text(clause) if major else None)
    try:
        number = data.register_hazard(path, user, new)
    except (HazardRefused, Forbidden) as exc:
        refused(exc)
        return
    st.session_state[FLASH] = t("hazard_registered", number=number)
    st.session_state[NEXT] = number
    st.rerun()


span = data.hazard_span(str(path), user, version)
if keeps:
    with st.expander(f"➕ {t('hazard_register_title')}", expanded=not span.total):
        register_form()
    with st.expander(f"📥 {t('hazard_import_title')}", expanded=False):
        hazard_import.draw(path, user, lang)
else:
    st.caption(t("hazards_read_only"))

if not span.total or span.first_found is None:
    st.info(t("hazards_empty"), icon="📋")
    finish_page()
    st.stop()


# --- the drill-through: the hazards behind one figure (from the URL when the page opens) ------------------------

@dataclass(frozen=True)
class Drill:
    """The figure whose hazards the list holds (`?figure=hazards_overdue&month=2026-09&basis=ytd`): of the month,
    or of January to the month (`basis` ytd) for a figure summed over the months."""
    figure: str
    month: date
    basis: str

    @property
    def stock(self) -> bool:
        """A figure of the month's end (hazards_overdue): the same on either basis."""
        return self.figure in stocks

    @property
    def months(self) -> tuple[date, ...]:
        """The months whose figures the number adds up: the month, or January to it for a summed figure ytd."""
        if self.stock or self.basis != "ytd":
            return (self.month,)
        return tuple(months_ending(self.month, self.month.month))

    def period(self) -> str:
        """2026年9月, or 2026年1—9月 for a summed figure year to date."""
        if self.stock or self.basis != "ytd" or self.month.month == 1:
            return month_label(self.month, lang)
        return t("hazards_drill_ytd", year=self.month.year,
                 month=self.month.month if lang == "zh" else f"{self.month:%b}")


indicator_names = dict(zip(ref.indicators["code"], ref.indicators["name_zh" if lang == "zh" else "name_en"]))
counted = set(ref.indicators.loc[ref.indicators["ledger"].notna(), "code"])
"""The figures the ledger counts, whose hazards a link may open to."""
stocks = set(ref.indicators.loc[ref.indicators["rollup"] == "last", "code"])


def adopt_drill() -> None:
    """The figure and month of the URL, taken when the page opens (its filters not yet drawn); the sidebar's
    month follows the figure's. A link naming no such indicator or no month is said so and lists every hazard."""
    st.session_state.pop(DRILL, None)
    figure = st.query_params.get("figure")
    if not figure:
        return
    try:
        month = parse_month(st.query_params.get("month", ""))
    except ValueError:
        st.warning(t("hazards_drill_no_month", month=plain(st.query_params.get("month", ""))), icon="⚠️")
        return
    if figure not in counted:
        st.warning(t("hazards_drill_unknown", figure=plain(indicator_names.get(figure, figure))), icon="⚠️")
        return
    basis = st.query_params.get("basis")
    st.session_state[DRILL] = Drill(figure, month, basis if basis in BASES else "ytd")
    if month in data.months(str(path), user, version):
        st.session_state["month"] = month
    if basis in BASES:
        st.session_state["basis"] = basis


def clear_drill() -> None:
    """Back to the whole ledger as of today (the age range, counted to the month's end, is the default again)."""
    st.session_state.pop(DRILL, None)
    st.session_state.pop("hazard_age", None)


def unit_label(code: str) -> str:
    return f"{code} {unit_names.get(code, code)}"


def drill_line(drill: Drill, chosen: list[str], count: int, as_of: date) -> None:
    """What the list shows, in a sentence (CM01 北川煤矿 2026年9月 超期未整改隐患数（月末）：5 项), and the way back
    to the whole ledger."""
    named = chosen or ([] if user.sees_every_unit else visible_units)
    if len(named) > DRILL_UNITS_NAMED:
        who = t("hazards_drill_units", first=unit_label(named[0]), n=len(named))
    else:
        who = ("、" if lang == "zh" else ", ").join(map(unit_label, named)) or t("group")
    figure = indicator_names[drill.figure] + (t("hazards_drill_month_end") if drill.stock else "")
    line, button = st.columns([3, 1], vertical_alignment="center")
    line.info(t("hazards_drill", units=who, period=drill.period(), figure=figure, n=count, day=as_of.isoformat()),
              icon="🔎")
    button.button(t("hazards_drill_clear"), key="hazard_drill_clear", on_click=clear_drill, icon="✖️",
                  width="stretch")
    if as_of < today:  # the records are today's: a hazard closed or extended since shows as it is now
        st.caption(t("hazards_drill_now", day=today.isoformat()))


# --- the list and its filters (from the URL when the page opens) ----------------------------------------------

def adopt_list(key: str, param: str, options: list[str]) -> None:
    if key not in st.session_state and param in st.query_params:
        wanted = st.query_params[param].split(",")
        st.session_state[key] = [o for o in options if o in wanted]


if "hazard_units" not in st.session_state:  # the page's first run since it was opened
    adopt_drill()
drill: Drill | None = st.session_state.get(DRILL)
as_of = min(month_end(drill.month), today) if drill else today
oldest = max((as_of - span.first_found).days, 1)
level_codes, state_codes, source_codes = (list(vocabulary.codes("level")), [s.value for s in State],
                                          list(vocabulary.codes("source")))
FILTERS = {"hazard_units": ("units", visible_units), "hazard_levels": ("level", level_codes),
           "hazard_states": ("state", state_codes), "hazard_sources": ("source", source_codes)}
for filter_key, (param, options) in FILTERS.items():
    adopt_list(filter_key, param, options)
if "hazard_overdue" not in st.session_state:
    st.session_state["hazard_overdue"] = st.query_params.get("overdue") == "1"
if "hazard_age" not in st.session_state:
    low, _, high = st.query_params.get("age", "").partition("-")
    try:
        st.session_state["hazard_age"] = (max(int(low), 0), min(int(high), oldest)) if high else (0, oldest)
    except ValueError:
        st.session_state["hazard_age"] = (0, oldest)
if not 0 <= st.session_state["hazard_age"][0] <= st.session_state["hazard_age"][1] <= oldest:
    st.session_state["hazard_age"] = (0, oldest)  # a range the ledger no longer spans

behind: tuple[str, ...] | None = None  # the hazards behind the figure (None: no figure, every hazard)
if drill:  # above the filters, which narrow it further; of the units chosen (their widget's value, drawn below)
    chosen_units = list(st.session_state.get("hazard_units") or [])
    behind = data.hazards_behind(str(path), user, drill.figure, drill.months, tuple(chosen_units) or None, version)
    drill_line(drill, chosen_units, len(behind), as_of)
top, bottom = st.columns(3), st.columns(3)
picked_units = top[0].multiselect(t("unit"), visible_units, format_func=lambda c: unit_names.get(c, c),
                                  key="hazard_units", placeholder=t("all"))
levels = top[1].multiselect(t("hazard_level"), level_codes, format_func=term("level"), key="hazard_levels",
                            placeholder=t("all"))
states = top[2].multiselect(t("col_status"), state_codes, format_func=state_name, key="hazard_states",
                            placeholder=t("all"))
sources = bottom[0].multiselect(t("hazard_source"), source_codes, format_func=term("source"), key="hazard_sources",
                                placeholder=t("all"))
bottom[1].slider(t("hazard_filter_age"), 0, oldest, key="hazard_age")
age: tuple[int, int] = tuple(st.session_state["hazard_age"])  # (from, to) days since found
overdue_only = bottom[2].toggle(t("hazard_filter_overdue"), key="hazard_overdue")

keep = LedgerFilter(units=tuple(picked_units), levels=tuple(levels), states=tuple(states), sources=tuple(sources),
                    overdue=overdue_only, age=None if age == (0, oldest) else age,
                    numbers=None if behind is None else tuple(behind))
listing = data.hazard_ledger(str(path), user, as_of, keep, version)
count = t("hazards_count", shown=f"{listing.shown:,}", total=f"{span.total:,}", overdue=f"{listing.overdue_count:,}",
          major=f"{listing.major:,}")
st.caption(f"{t('hazards_as_of', day=as_of.isoformat())} · {count}")


def shortened(value: str) -> str:
    return value if len(value) <= DESCRIPTION_CHARS else value[:DESCRIPTION_CHARS] + "…"


def hazard_table(frame: pd.DataFrame, days_first: bool) -> pd.DataFrame:
    """The columns a safety director reads, in the page's language (names, never codes); the overdue list has its
    days over beside the number, where a narrow screen still shows them."""
    table = pd.DataFrame({
        t("hazard_col_number"): frame["number"],
        t("unit"): frame["name_zh" if lang == "zh" else "name_en"],
        t("hazard_col_place"): frame["place"],
        t("hazard_col_description"): frame["description"].map(shortened),
        t("hazard_col_level"): frame["level"].map(term("level")),
        t("col_status"): frame["state"].map(state_name),
        t("hazard_col_owner"): frame["owner"].fillna(""),
        t("hazard_col_deadline"): pd.to_datetime(frame["deadline"]).dt.strftime("%Y-%m-%d").fillna(""),
        t("hazard_col_days_over"): [str(d) if d else "" for d in frame["days_over"]],
        t("hazard_col_evidence"): frame["evidence"].astype(int),
    })
    if days_first:
        table.insert(1, t("hazard_col_days_over"), table.pop(t("hazard_col_days_over")))
    return table


def open_row(key: str, numbers: list[str]):
    """Selecting a row of a list opens its hazard (the picker below follows)."""
    def opened() -> None:
        rows = st.session_state[key].selection.rows
        if rows:
            st.session_state[PICKED] = numbers[rows[0]]
    return opened


def hazard_list(frame: pd.DataFrame, key: str, count: int, days_first: bool = False) -> None:
    """A list of hazards whose every column shows on a 1280 px screen beside the sidebar (fixed narrow widths): the
    first LIST_ROWS of the `count` the filters keep, with a line saying so where there are more."""
    st.dataframe(hazard_table(frame, days_first), hide_index=True, width="stretch", key=key,
                 height=min(35 * len(frame), 35 * TABLE_ROWS) + 38, on_select=open_row(key, list(frame["number"])),
                 selection_mode="single-row", column_config={t(name): st.column_config.Column(width=width)
                                                             for name, width in LIST_WIDTHS[lang].items()})
    if count > len(frame):
        st.caption(t("hazards_list_cut", rows=f"{len(frame):,}"))


list_tab, reminders_tab = st.tabs([t("hazards_list_tab"), t("hazard_reminders_tab")], key="hazard_view",
                                  on_change="rerun")
if list_tab.open:
    with list_tab:
        st.subheader(t("hazards_overdue_title"))
        if listing.overdue.empty:
            st.success(t("hazards_no_overdue"), icon="✔")
        else:
            hazard_list(listing.overdue, "hazard_overdue_table", listing.overdue_count, days_first=True)
        st.subheader(t("hazards_list_title"))
        if listing.rows.empty:
            st.info(t("hazards_none_match"), icon="🔎")
        else:
            hazard_list(listing.rows, "hazard_table", listing.shown)
        st.caption(t("hazards_select_hint"))
if reminders_tab.open:
    with reminders_tab:
        hazard_reminders.draw(data.hazard_reminders(str(path), user, today, version), today, lang, picked_units,
                              vocabulary, open_row)


# --- one hazard -------------------------------------------------------------------------------------------------

if NEXT in st.session_state:
    st.session_state[PICKED] = st.session_state.pop(NEXT)
if PICKED not in st.session_state and st.query_params.get("hazard"):
    st.session_state[PICKED] = st.query_params["hazard"]
wanted = st.session_state.get(PICKED)
places = dict(zip(listing.rows["number"], listing.rows["place"]))
if wanted is not None and wanted not in places:
    try:
        places[wanted] = data.hazard_record(str(path), user, wanted, version)[0].place
    except (HazardRefused, Forbidden):
        st.info(t("hazard_not_found", number=plain(wanted)), icon="🔎")
        st.session_state.pop(PICKED)
choices = list(listing.rows["number"].head(PICKER_OPTIONS))
if st.session_state.get(PICKED) and st.session_state[PICKED] not in choices:
    choices.insert(0, st.session_state[PICKED])
# The browser keeps the label of the option chosen, so a label must not change with a step (a state in it would
# leave the picker holding a label no option has after the hazard moves on): number and place only.
number = st.selectbox(t("hazard_pick"), choices, index=None, key=PICKED, placeholder=t("hazard_pick_placeholder"),
                      format_func=lambda n: f"{n} · {places[n]}")


def lines(col, pairs: Sequence[tuple[str, object]]) -> None:
    col.markdown("  \n".join(f"**{label}**：{shown_or_dash(value)}" if lang == "zh"
                             else f"**{label}**: {shown_or_dash(value)}" for label, value in pairs))


def show_fields(hazard: Hazard) -> None:
    left, right = st.columns(2)
    left.markdown(f"**{t('hazard_registration')}**")
    registration = [(t("unit"), f"{unit_names.get(hazard.subsidiary, hazard.subsidiary)} ({hazard.subsidiary})"),
                    (t("hazard_source"), term("source")(hazard.source)), (t("hazard_place"), hazard.place),
                    (t("hazard_description"), hazard.description), (t("hazard_level"), term("level")(hazard.level))]
    if hazard.major:
        registration += [(t("hazard_criterion"), term("criterion")(hazard.criterion) if hazard.criterion else None),
                         (t("hazard_clause"), hazard.clause)]
    registration += [(t("hazard_factor"), term("factor")(hazard.factor)),
                     (t("hazard_accident_type"), term("accident_type")(hazard.accident_type)),
                     (t("hazard_found_on"), iso(hazard.found_on)), (t("hazard_found_by"), hazard.found_by)]
    lines(left, registration)
    right.markdown(f"**{t('hazard_five_fixes')}**")
    fixes = [(t("hazard_owner"), hazard.owner), (t("hazard_measures"), hazard.measures),
             (t("hazard_funds"), None if hazard.funds is None else f"{hazard.funds:g}"),
             (t("hazard_deadline"), iso(hazard.deadline)),
             (t("hazard_original_deadline"), iso(hazard.original_deadline)),
             (t("hazard_extensions"), hazard.extensions)]
    if hazard.requested_deadline:
        fixes.append((t("hazard_requested"), iso(hazard.requested_deadline)))
    if hazard.major:
        fixes.append((t("hazard_contingency"), hazard.contingency))
    fixes += [(t("hazard_verifier"), hazard.verifier), (t("hazard_rectified_on"), iso(hazard.rectified_on)),
              (t("hazard_sent_back"), hazard.sent_back)]
    if hazard.verified_on:
        fixes += [(t("hazard_verified_on"), iso(hazard.verified_on)), (t("hazard_verified_by"), hazard.verified_by),
                  (t("hazard_result"), hazard.result)]
    if hazard.state is State.VOID:
        fixes += [(t("hazard_void_reason"), hazard.void_reason), (t("hazard_approver"), hazard.void_approver)]
    lines(right, fixes)


def event_name(action: str) -> str:
    """A step by its declared name; registering and attaching evidence, which are not steps, by theirs."""
    if action in STEPS:
        return STEPS[action].name.in_(lang)
    return {"register": t("hazard_event_register"), EVIDENCE: t("hazard_event_evidence")}.get(action, action)


def show_events(events: pd.DataFrame) -> None:
    st.markdown(f"**{t('hazard_events')}**")

    def moved(before, after) -> str:
        if not isinstance(after, str):
            return ""
        return state_name(after) if not isinstance(before, str) or before == after \
            else f"{state_name(before)} → {state_name(after)}"

    st.dataframe(pd.DataFrame({
        t("col_time"): pd.to_datetime(events["happened_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        t("hazard_event_actor"): events["actor"].map(lambda a: actor_text(a, lang)),
        t("hazard_event_step"): events["action"].map(event_name),
        t("hazard_event_states"): [moved(b, a) for b, a in zip(events["from_state"], events["to_state"])],
        t("hazard_comment"): events["comment"].fillna(""),
    }), hide_index=True, width="stretch", row_height=WRAPPING_ROW,
        height=min(WRAPPING_ROW * len(events), WRAPPING_ROW * 8) + 38,
        column_config={t(name): st.column_config.Column(width=width) for name, width in EVENT_WIDTHS.items()})


def evidence_reader(number: str, sha256: str):
    """The file's bytes when its download button is pressed (not on every run)."""
    return lambda: data.evidence_file(path, user, number, sha256)


def show_evidence(hazard: Hazard, evidence: pd.DataFrame) -> None:
    st.markdown(f"**{t('hazard_evidence_title')}**")
    if evidence.empty:
        st.caption(t("hazard_no_evidence"))
        return
    st.dataframe(pd.DataFrame({
        t("hazard_file_name"): evidence["file_name"],
        t("hazard_file_size"): [t("hazard_bytes", n=f"{int(b):,}") for b in evidence["bytes"]],
        t("hazard_file_sha"): evidence["sha256"].str[:12],
        t("col_time"): pd.to_datetime(evidence["added_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        t("hazard_event_actor"): evidence["added_by"].map(lambda a: actor_text(a, lang)),
    }), hide_index=True, width="stretch", height=35 * len(evidence) + 38)
    for row in evidence.itertuples(index=False):
        st.download_button(t("hazard_download", name=plain(row.file_name)),
                           data.exported(path, user, "hazard_evidence", row.file_name,
                                         evidence_reader(hazard.number, row.sha256)),
                           file_name=row.file_name, key=f"evidence_{row.sha256}", icon="📎")


# --- the steps ----------------------------------------------------------------------------------------------------

def offered(hazard: Hazard) -> list[str]:
    """The steps the hazard's state allows and the user's role permits (a general hazard's extension is the unit's,
    a major one's is asked of the group), attaching evidence where it may be attached, and last correcting the 五定
    (its deadline moves only by an extension)."""
    steps = [action for action, step in STEPS.items() if action in STEP_FIELDS and hazard.state in step.sources
             and not (action == "extend" and hazard.major) and not (action == "request_extension" and not hazard.major)
             and action != "update"]
    if hazard.state in STEPS["update"].sources:  # correcting the 五定 is offered after the loop's own steps
        steps.append("update")
    if hazard.state in EVIDENCE_STATES:  # rectifying: the evidence comes first; registered: after issuing
        steps.insert(0 if hazard.state is State.RECTIFYING else 1, EVIDENCE)
    return [action for action in steps if data.may_take(user, hazard, action)]


def step_label(action: str) -> str:
    return t("hazard_attach") if action == EVIDENCE else STEPS[action].name.in_(lang)


def field(name: str, hazard: Hazard, action: str):
    """One input of a step's form, filled with what the hazard holds where it holds it."""
    match name:
        case "owner" | "verifier" | "approver":
            return st.text_input(t(FIELD_LABELS[name]), value=getattr(hazard, name, None) or "")
        case "measures" | "contingency":
            return st.text_area(t(FIELD_LABELS[name]), value=getattr(hazard, name) or "", height=80,
                                help=t("hazard_major_only") if name == "contingency" else None)
        case "funds":
            return st.number_input(t("hazard_funds"), min_value=0.0, value=hazard.funds, step=0.1, format="%.2f",
                                   help=t("hazard_funds_help"))
        case "deadline":
            issuing = action == "issue"
            return st.date_input(t("hazard_deadline" if issuing else "hazard_new_deadline"),
                                 value=hazard.deadline if issuing else None, min_value=hazard.found_on)
        case "rectified_on" | "verified_on":
            return st.date_input(t(FIELD_LABELS[name]), value=today, max_value=today)
        case "comment":
            return st.text_area(t(COMMENT_LABELS.get(action, "hazard_comment")), height=80)
    raise ValueError(f"no input for {name!r}")


def step_form(hazard: Hazard, action: str) -> None:
    names = [n for n in STEP_FIELDS[action] if n != "contingency" or hazard.major]
    with st.form(f"hazard_step_{action}"):
        given = {name: field(name, hazard, action) for name in names}
        if not st.form_submit_button(step_label(action), type="primary", width="stretch"):
            return
    comment = (given.pop("comment", None) or "").strip()
    values = {k: text(v) if isinstance(v, str) else v for k, v in given.items()}
    try:
        after = data.hazard_step(path, user, hazard.number, action, Change(user.name, today, comment, values))
    except (HazardRefused, Forbidden) as exc:
        refused(exc)
        return
    st.session_state[FLASH] = t("hazard_step_done", step=step_label(action), number=hazard.number,
                                state=STATE_NAMES[after.state].in_(lang))
    st.rerun()


def evidence_form(hazard: Hazard) -> None:
    with st.form("hazard_evidence", clear_on_submit=True):
        files = file_uploader("hazard_files", EVIDENCE_TYPES, key="hazard_evidence_files",
                              accept_multiple_files=True)
        if not st.form_submit_button(t("hazard_attach"), type="primary", width="stretch"):
            return
    if not files:
        st.warning(t("hazard_no_file"))
        return
    try:
        for uploaded in files:
            data.attach_evidence(path, user, hazard.number, uploaded.getvalue(), uploaded.name)
    except (HazardRefused, Forbidden) as exc:
        refused(exc)
        return
    st.session_state[FLASH] = t("hazard_attached", number=hazard.number, count=len(files))
    st.rerun()


def show_steps(hazard: Hazard) -> None:
    if not can(user, Permission.KEEP_LEDGER, hazard.subsidiary):
        return
    st.markdown(f"**{t('hazard_steps_title')}**")
    steps = offered(hazard)
    if not steps:
        st.caption(t("hazard_no_steps", state=STATE_NAMES[hazard.state].in_(lang)))
        return
    action = st.radio(t("hazard_step_pick"), steps, format_func=step_label, key=f"hazard_action_{hazard.number}")
    if action == EVIDENCE:
        evidence_form(hazard)
    else:
        step_form(hazard, action)


def show_hazard(number: str) -> None:
    hazard, events, evidence = data.hazard_record(str(path), user, number, version)
    st.subheader(f"{hazard.number} · {plain(hazard.place)}", anchor=False)
    st.caption(f"{STATE_NAMES[hazard.state].in_(lang)} · {term('level')(hazard.level)} · "
               f"{unit_names.get(hazard.subsidiary, hazard.subsidiary)}")
    days = days_over(hazard, today)
    if days:
        st.error(t("hazard_overdue_days", days=days, deadline=iso(hazard.deadline)), icon="⏰")
    show_fields(hazard)
    show_events(events)
    show_evidence(hazard, evidence)
    show_steps(hazard)


if number:
    show_hazard(number)


def publish(picked: str | None) -> None:
    """The filters and the hazard open into the address bar, so a link opens this view (defaults left out)."""
    wanted = {param: ",".join(st.session_state[key]) for key, (param, _) in FILTERS.items() if st.session_state[key]}
    if overdue_only:
        wanted["overdue"] = "1"
    if age != (0, oldest):
        wanted["age"] = f"{age[0]}-{age[1]}"
    if picked:
        wanted["hazard"] = picked
    if drill:
        wanted["figure"] = drill.figure
    current = st.query_params.to_dict()  # read once: each look into st.query_params costs a lock and a copy
    for param in HAZARD_PARAMS:
        if param in wanted and current.get(param) != wanted[param]:
            st.query_params[param] = wanted[param]
        elif param not in wanted and param in current:
            del st.query_params[param]
    if drill and current.get("month") != iso_month(drill.month):
        st.query_params["month"] = iso_month(drill.month)  # the figure's month, whatever the sidebar's


finish_page()
publish(number)  # after the shared view, whose month a drill-through's may differ from
