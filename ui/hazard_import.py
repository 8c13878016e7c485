"""The ledger page's import of a findings workbook (a consultancy's spreadsheet, a unit's monthly ledger): the
template, the file checked whole with every problem listed (row, column, value, what to do), and one click to
commit what the check found (metrics/ledger/imports.py; docs/rules.md, "9. The hazard ledger", rule 10)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

from metrics.auth.roles import User
from metrics.core import exports
from metrics.ledger.imports import FORMATS, HazardImport, template_file, template_name
from ui import data
from ui.i18n import t
from ui.widgets import file_uploader, problem_table

CHECKED = "hazard_import_checked"
TEMPLATES = {"csv": ("hazard_template_csv", "text/csv"),
             "xlsx": ("hazard_template_xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
"""Each of imports.FORMATS: its button's words and its type."""


@cache
def _template(fmt: str) -> bytes:
    """The template as data/hazards.toml has it when the server started (made once, not on every run)."""
    return template_file(fmt)


def draw(path: Path, user: User, lang: str) -> None:
    st.caption(t("hazard_import_help"))
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS):
        label, mime = TEMPLATES[fmt]
        column.download_button(t(label), _template(fmt), file_name=template_name(fmt), mime=mime, key=label)
    if not user.sees_every_unit:
        st.caption(t("upload_own_units", units="、".join(user.units)))
    uploaded = file_uploader("hazard_import_file", ["csv", "xlsx"], key="hazard_import_file")
    if uploaded is None:
        return
    content, key = uploaded.getvalue(), (uploaded.file_id, user.name)
    checked = st.session_state.get(CHECKED)
    if checked is None or checked[0] != key:  # one check per file (a rejection is one audit row), not per rerun
        with st.spinner(t("upload_checking", name=uploaded.name), show_time=True):
            checked = (key, data.import_hazards(path, user, content, uploaded.name, dry_run=True), False)
        st.session_state[CHECKED] = checked
    _, result, committed = checked
    _outcome(result, committed, uploaded.name, lang)
    if result.status == "committed" and not committed and \
            st.button(t("hazard_import_commit"), type="primary", key="hazard_import_commit"):
        with st.spinner(t("upload_committing", name=uploaded.name), show_time=True):
            done = data.import_hazards(path, user, content, uploaded.name, dry_run=False)
        st.session_state[CHECKED] = (key, done, done.status == "committed")
        st.rerun()


def _outcome(result: HazardImport, committed: bool, name: str, lang: str) -> None:
    counts = {"registered": len(result.registered), "issued": len(result.issued), "updated": len(result.updated)}
    if committed:
        st.success(t("hazard_import_done", **counts), icon="💾")
    elif result.status == "rejected":
        st.error(t("check_rejected", n=f"{result.error_count:,}"), icon="🚫")
        table = problem_table(result.errors, lang)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(t("download_errors"), exports.csv_bytes(table), file_name=f"errors-{name}.csv",
                           mime="text/csv", key="hazard_import_errors")
    elif result.status == "unchanged":
        st.info(t("hazard_import_unchanged"), icon="✅")
    else:
        st.success(t("hazard_import_ok", **counts), icon="✅")
    if result.warnings:
        with st.expander(f"{t('warnings_title')} · {result.warning_count:,}", expanded=result.status != "rejected"):
            st.dataframe(problem_table(result.warnings, lang), hide_index=True, width="stretch")
