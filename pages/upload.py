"""Upload (上传数据): template, file check with marked problems, one-click commit, batch history and rollback."""
import pandas as pd
import streamlit as st

from metrics import exports
from metrics.formatting import display_number
from metrics.months import add_months, iso_month, label, last_complete_month
from metrics.problems import Level
from metrics.roles import Forbidden, Permission
from metrics.upload import RollbackRefused
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.widgets import file_uploader, problem_table

path = setup_page(needs=Permission.UPLOAD)
user, lang = acting_user(), current_lang()
st.title(t("nav_upload"))
version = data.version(path)

with st.expander(t("template_title"), expanded=False):
    st.caption(t("template_help"))
    latest = last_complete_month(pd.Timestamp.today().date())
    choices = [add_months(latest, -i) for i in range(12)]
    month = st.selectbox(t("template_month"), choices, format_func=lambda m: label(m, lang), key="template_month")
    csv_bytes, xlsx_bytes = data.template_files(str(path), user, month, version)  # made when pressed
    left, right = st.columns(2)
    left.download_button(t("template_csv"), csv_bytes, file_name=f"安全生产月报模板-{iso_month(month)}.csv",
                         mime="text/csv")
    right.download_button(t("template_xlsx"), xlsx_bytes, file_name=f"安全生产月报模板-{iso_month(month)}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader(t("upload_title"))
if not user.sees_every_unit:
    st.caption(t("upload_own_units", units="、".join(user.units)))
uploaded = file_uploader("upload_help", ["csv", "txt", "tsv", "xlsx"], key="upload_file")


def preview(result) -> None:
    result_headers = result.headers
    cells = result.cells
    if cells is None or cells.empty:
        return
    problem_rows = {p.row for p in result.problems if p.row is not None}
    marked: dict[tuple[int, str], str] = {}
    for p in result.problems:
        colour = "background-color: #fdecea" if p.level is Level.ERROR else "background-color: #fff8e1"
        target = {result_headers.get("month"): "month", result_headers.get("subsidiary"): "subsidiary",
                  result_headers.get("indicator"): "indicator"}.get(p.column, "value")
        marked.setdefault((p.row, target), colour)
    shown = cells[cells["row"].isin(problem_rows)] if problem_rows else cells
    shown = pd.concat([shown, cells.head(200)]).drop_duplicates().sort_values("row").head(500)
    shown = shown[["row", "month", "subsidiary", "indicator", "value_column", "value"]].reset_index(drop=True)

    def paint(frame: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for index, row in frame.iterrows():
            for column in ("month", "subsidiary", "indicator", "value"):
                style = marked.get((row["row"], column))
                if style:
                    styles.loc[index, column] = style
        return styles

    st.markdown(f"**{t('preview_title')}**")
    st.dataframe(shown.style.apply(paint, axis=None), hide_index=True, width="stretch",
                 height=min(35 * len(shown) + 38, 420),
                 column_config={"row": t("col_row"), "month": t("col_month"), "subsidiary": t("unit"),
                                "indicator": t("indicator"), "value_column": t("col_column"),
                                "value": t("col_written")})


if uploaded is not None:
    content = uploaded.getvalue()
    # One check per file (and so one audit row for a rejection), not one per rerun of the page.
    checked = st.session_state.get("upload_checked")
    key = (uploaded.file_id, user.name)
    if checked is None or checked[0] != key:
        checked = (key, data.check_upload(path, user, content, uploaded.name))
        st.session_state["upload_checked"] = checked
    result = checked[1]
    errors, warnings = result.errors, result.warnings
    if result.status == "rejected":
        st.error(t("check_rejected", n=len(errors)), icon="🚫")
        st.markdown(f"**{t('errors_title')}**")
        table = problem_table(errors, lang)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(t("download_errors"), exports.csv_bytes(table),
                           file_name=f"errors-{uploaded.name}.csv", mime="text/csv")
    elif result.status == "unchanged":
        st.info(t("check_unchanged"), icon="✅")
    else:
        st.success(t("check_ok", rows=result.rows, replaced=result.replaced), icon="✅")
    if warnings:
        with st.expander(f"{t('warnings_title')} · {len(warnings)}", expanded=result.status != "rejected"):
            st.dataframe(problem_table(warnings, lang), hide_index=True, width="stretch")
    preview(result)
    if result.status == "committed" and st.button(t("commit"), type="primary", key="commit"):
        done = data.commit_upload(path, user, content, uploaded.name)
        if done.status == "committed":
            st.success(t("committed", batch=done.batch_id, rows=done.rows, replaced=done.replaced), icon="💾")
            st.cache_data.clear()
        elif done.status == "unchanged":
            st.info(t("check_unchanged"))
        else:
            st.error(t("check_rejected", n=len(done.errors)))

st.subheader(t("history_title"))
history = data.batches(str(path), user, data.version(path))
if not history.empty:
    table = pd.DataFrame({
        t("batch"): history["id"], t("col_time"): history["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
        t("actor"): history["actor"], t("col_file"): history["file_name"].fillna(history["note"]),
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
                st.success(t("rolled_back", batch=done.batch_id, new=done.rollback_batch_id,
                             restored=done.restored, removed=done.removed))
                st.cache_data.clear()
finish_page()
