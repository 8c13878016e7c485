"""Upload (上传数据): what is due, template, file check with marked problems, one-click commit, batch history and
rollback. A commit or a rollback reruns the page, so history, batch picker and confirm box show the new state."""
import pandas as pd
import streamlit as st

from metrics.auth.roles import Forbidden, Permission
from metrics.core import exports
from metrics.core.formatting import display_number
from metrics.core.months import add_months, day_label, label
from metrics.ingest.preview import ROW, build_preview
from metrics.ingest.template import file_name as template_name
from metrics.ingest.upload import RollbackRefused
from metrics.scoring.due_states import Due
from metrics.store.audit import actor_text, source_text
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.widgets import WRAPPING_ROW, file_uploader, problem_table

MARKS = {"error": "background-color: #fdecea; color: #b71c1c; font-weight: 600",
         "warning": "background-color: #fff8e1; color: #7a5b00", "": ""}
"""How the preview marks a cell with an error or a warning (the colours of the problem lists' banners)."""
DUE_ORDER = [Due.OVERDUE, Due.PENDING, Due.LATE, Due.REPORTED]
DUE_BOX = {Due.OVERDUE: st.warning, Due.PENDING: st.info, Due.LATE: st.warning, Due.REPORTED: st.success}

path = setup_page(needs=Permission.UPLOAD)
user, lang = acting_user(), current_lang()
st.title(t("nav_upload"))
version = data.version(path)
due = data.due(str(path), user, version)


def when(submitted) -> str:
    return "" if pd.isna(submitted) else day_label(pd.Timestamp(submitted).date(), lang)


def show_due() -> None:
    """The month due now: one line per unit for a unit user, the list of every unit for an administrator."""
    month, deadline = label(due.month, lang), day_label(due.deadline.date(), lang)
    units = due.units
    if not user.sees_every_unit:
        for unit in units.itertuples(index=False):
            who = t("due_self") if len(units) == 1 else (unit.name_zh if lang == "zh" else unit.name_en)
            day = when(unit.first_submitted)
            DUE_BOX[Due(unit.state)](t("due_line", month=month, deadline=deadline, who=who,
                                       state=t(f"due_{unit.state}"),
                                       when=t("due_when", day=day) if day else ""))
        return
    reported = int(units["state"].isin([Due.REPORTED.value, Due.LATE.value]).sum())
    st.markdown(f"**{t('due_title', month=month, deadline=deadline)}** · "
                f"{t('due_count', reported=reported, total=len(units))}")
    ordered = units.assign(order=[DUE_ORDER.index(Due(s)) for s in units["state"]]).sort_values(["order", "subsidiary"])
    st.dataframe(pd.DataFrame({
        t("unit"): ordered["subsidiary"] + " " + ordered["name_zh" if lang == "zh" else "name_en"],
        t("due_col_state"): [t(f"due_{state}") for state in ordered["state"]],
        t("due_col_first"): [when(s) for s in ordered["first_submitted"]],
    }), hide_index=True, width="stretch", height=min(35 * len(ordered) + 38, 280))


show_due()

with st.expander(t("template_title"), expanded=False):
    st.caption(t("template_help"))
    choices = [add_months(due.month, -i) for i in range(12)]
    month = st.selectbox(t("template_month"), choices, format_func=lambda m: label(m, lang), key="template_month")
    csv_bytes, xlsx_bytes = data.template_files(str(path), user, month, version)  # made when pressed
    left, right = st.columns(2)
    left.download_button(t("template_csv"), csv_bytes, file_name=template_name(month, "csv"), mime="text/csv")
    right.download_button(t("template_xlsx"), xlsx_bytes, file_name=template_name(month, "xlsx"),
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader(t("upload_title"))
if not user.sees_every_unit:
    st.caption(t("upload_own_units", units="、".join(user.units)))
uploaded = file_uploader("upload_help", ["csv", "txt", "tsv", "xlsx"], key="upload_file")


def after_write() -> None:
    """A commit or a rollback changed the store: show the new state at once (the history, the newest batch in
    the picker, the confirm box cleared), with the outcome kept in the session for the rerun. The write advanced
    the data version, so the rerun's cached reads are made anew."""
    for key in ("batch_choice", "rollback_confirm"):
        st.session_state.pop(key, None)
    st.rerun()


def show_problems(table: pd.DataFrame) -> None:
    """A problem list whose sentences wrap instead of being cut: rows of three lines, and every column a width
    (a column left to size itself grows to its longest sentence, past the page's edge); the table stretches the
    widths in proportion to fill the page."""
    st.dataframe(table, hide_index=True, width="stretch", row_height=WRAPPING_ROW,
                 height=min(WRAPPING_ROW * len(table), 6 * WRAPPING_ROW) + 38,
                 column_config={t("col_row"): st.column_config.NumberColumn(t("col_row"), width=56),
                                t("col_column"): st.column_config.TextColumn(t("col_column"), width=160),
                                t("col_written"): st.column_config.TextColumn(t("col_written"), width=130),
                                t("col_problem"): st.column_config.TextColumn(t("col_problem"), width=450)})


def preview(result) -> None:
    """The file's rows as the user filled them in, under their own headers; each problem's cells marked."""
    if result.cells is None or result.cells.frame.empty:
        return
    shown = build_preview(result.cells, result.problems)
    st.markdown(f"**{t('preview_title')}**")
    st.dataframe(shown.table.style.apply(lambda _: shown.marks.replace(MARKS), axis=None), hide_index=True,
                 width="stretch", height=min(35 * len(shown.table) + 38, 420),
                 column_config={ROW: st.column_config.NumberColumn(t("col_row"), format="%d", pinned=True)})


if uploaded is not None:
    content = uploaded.getvalue()
    # One check per file (and so one audit row for a rejection), not one per rerun of the page.
    checked = st.session_state.get("upload_checked")
    key = (uploaded.file_id, user.name)
    if checked is None or checked[0] != key:
        with st.spinner(t("upload_checking", name=uploaded.name), show_time=True):
            checked = (key, data.check_upload(path, user, content, uploaded.name).for_display())
        st.session_state["upload_checked"] = checked
    result = checked[1]
    errors, warnings = result.errors, result.warnings
    if result.batch_id is not None:
        st.success(t("committed", batch=result.batch_id, rows=result.rows, replaced=result.replaced), icon="💾")
    elif result.status == "rejected":
        st.error(t("check_rejected", n=f"{result.error_count:,}"), icon="🚫")
        st.markdown(f"**{t('errors_title')}**")
        table = problem_table(errors, lang)
        show_problems(table)
        st.download_button(t("download_errors"), exports.csv_bytes(table),
                           file_name=f"errors-{uploaded.name}.csv", mime="text/csv")
    elif result.status == "unchanged":
        st.info(t("check_unchanged"), icon="✅")
    else:
        st.success(t("check_ok", rows=result.rows, replaced=result.replaced), icon="✅")
    if warnings:
        with st.expander(f"{t('warnings_title')} · {result.warning_count:,}", expanded=result.status != "rejected"):
            show_problems(problem_table(warnings, lang))
    if result.batch_id is None:
        preview(result)
    if result.status == "committed" and result.batch_id is None and \
            st.button(t("commit"), type="primary", key="commit"):
        # The store may have changed since the check: the page shows what the commit found.
        with st.spinner(t("upload_committing", name=uploaded.name), show_time=True):
            st.session_state["upload_checked"] = (key, data.commit_upload(path, user, content,
                                                                          uploaded.name).for_display())
        after_write()

st.subheader(t("history_title"))
if "rolled_back" in st.session_state:
    st.success(st.session_state.pop("rolled_back"), icon="↩️")
history = data.batches(str(path), user, data.version(path))
if not history.empty:
    table = pd.DataFrame({
        t("batch"): history["id"], t("col_time"): history["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
        t("actor"): history["actor"].map(lambda a: actor_text(a, lang)),
        t("col_file"): [source_text(f, s, lang, n) for f, s, n in zip(history["file_name"], history["source"],
                                                                     history["note"])],
        t("col_rows"): history["rows"], t("col_replaced"): history["replaced"],
        t("col_batch_status"): history["status"].map(lambda status: t(f"batch_{status}")),
    })
    st.dataframe(table, hide_index=True, width="stretch", height=min(36 * len(table) + 40, 400))
    chosen = st.selectbox(t("batch"), list(history["id"]), key="batch_choice")
    changes = data.batch_changes(str(path), user, int(chosen), data.version(path))
    ref = data.reference(str(path), user, data.version(path))
    indicator_names = dict(zip(ref.indicators["code"], ref.indicators["name_zh" if lang == "zh" else "name_en"]))
    st.markdown(f"**{t('batch_changes')}**")
    st.dataframe(pd.DataFrame({
        t("col_month"): pd.to_datetime(changes["month"]).dt.strftime("%Y-%m"),
        t("unit"): changes["name_zh" if lang == "zh" else "name_en"].fillna(changes["subsidiary"]),
        t("indicator"): changes["indicator"].map(indicator_names),
        t("col_previous"): [display_number(v, "") for v in changes["previous_value"]],
        t("col_new"): [display_number(v, "") for v in changes["value"]],
    }).head(1000), hide_index=True, width="stretch", height=260)
    row = history[history["id"] == chosen].iloc[0]
    if row["status"] == "committed" and row["source"] != "rollback":
        confirm = st.checkbox(t("rollback_confirm"), key="rollback_confirm")
        if st.button(t("rollback"), disabled=not confirm, key="rollback"):
            try:
                done = data.rollback_batch(path, user, int(chosen))
            except Forbidden as exc:
                st.error(exc.message(lang), icon="🔒")
            except RollbackRefused as exc:  # the reason a user can act on
                st.error(str(exc))
            else:
                st.session_state["rolled_back"] = t("rolled_back", batch=done.batch_id, new=done.rollback_batch_id,
                                                    restored=done.restored, removed=done.removed)
                after_write()
finish_page()
