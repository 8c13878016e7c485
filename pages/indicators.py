"""Indicators and targets (指标与目标): the catalog with definitions and formulas, and the targets of a year
(group default and per-unit overrides), editable with the same validation as the CSV import, and CSV import
and export."""
import pandas as pd
import streamlit as st

from metrics.auth.roles import Permission, can
from metrics.core import exports
from metrics.core.formatting import display_number
from metrics.core.problems import Rejected
from metrics.ingest.targets import COLUMNS, frame_rows
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.markdown import plain
from ui.widgets import file_uploader, problem_table

ARROWS = {"lower_better": "↓", "higher_better": "↑", "none": "·"}

path = setup_page()
user, lang = acting_user(), current_lang()
may_edit = can(user, Permission.EDIT_TARGETS)
st.title(t("nav_indicators"))
version = data.version(path)
ref = data.reference(str(path), user, version)
names = dict(zip(ref.indicators["code"], ref.indicators["name_zh" if lang == "zh" else "name_en"]))
catalog_tab, targets_tab = st.tabs([t("catalog_tab"), t("targets_tab")])


def formula(row) -> str:
    if row["numerator"] is None or row["numerator"] != row["numerator"]:
        return ""
    factor = "" if row["factor"] == 1 else f" × {display_number(row['factor'])}"
    return f"{names[row['numerator']]}{factor} ÷ {names[row['denominator']]}"


with catalog_tab:
    cat = ref.indicators
    st.caption(t("catalog_note", n=len(cat)))
    st.dataframe(pd.DataFrame({
        t("col_code"): cat["code"],
        t("col_indicator"): cat["name_zh" if lang == "zh" else "name_en"],
        t("col_definition"): cat["definition_zh" if lang == "zh" else "definition_en"],
        t("col_unit_of"): cat["unit_zh" if lang == "zh" else "unit_en"],
        t("col_direction"): [f"{ARROWS[d]} {t('direction_' + d)}" for d in cat["direction"]],
        t("col_category"): [t("category_" + c) for c in cat["category"]],
        t("col_kind"): [t("kind_of_" + k) for k in cat["kind"]],
        t("col_rollup"): [t("rollup_" + r) if r == r and r else t("rollup_ratio") for r in cat["rollup"]],
        t("col_formula"): [formula(r) for _, r in cat.iterrows()],
    }), hide_index=True, width="stretch", height=35 * len(cat) + 38,
        column_config={t("col_definition"): st.column_config.TextColumn(t("col_definition"), width="large")})

    st.subheader(t("indicator_detail"))
    code = st.selectbox(t("col_indicator"), list(cat["code"]), key="catalog_indicator",
                        format_func=lambda c: f"{names[c]} ({c})")
    row = cat.set_index("code").loc[code]
    with st.container(border=True):
        st.markdown(f"**{plain(names[code])}** · `{code}` · {plain(row['unit_zh' if lang == 'zh' else 'unit_en'])} · "
                    f"{ARROWS[row['direction']]} {t('direction_' + row['direction'])}")
        text = formula(row)
        if text:
            st.markdown(f"{t('col_formula')}：{plain(text)}")
        st.markdown(plain(row["definition_zh" if lang == "zh" else "definition_en"]))
        years = data.target_years(str(path), user, version)
        if years:
            year = max(years)
            default = data.targets_of_year(str(path), user, year, version)
            default = default[(default["subsidiary"] == "*") & (default["indicator"] == code)]
            if len(default):
                d = default.iloc[0]
                st.caption(t("default_target", year=year, target=display_number(d["target"]),
                             limit=display_number(d["limit"] if d["limit"] == d["limit"] else d["target"]),
                             weight=display_number(d["weight"]), veto=t("veto_suffix") if d["veto"] else ""))
            else:
                st.caption(t("no_default_target", year=year))

with targets_tab:
    years = data.target_years(str(path), user, version)
    if not years:
        st.info(t("no_targets_yet"))
    else:
        year = st.selectbox(t("target_year"), list(reversed(years)), key="target_year")
        current = data.targets_of_year(str(path), user, year, version)
        unit_names = dict(zip(ref.units["code"], ref.units["name_zh" if lang == "zh" else "name_en"]))
        overrides = int((current["subsidiary"] != "*").sum())
        st.caption(t("targets_note", year=year, defaults=len(current) - overrides, overrides=overrides))
        editing = may_edit and st.toggle(t("edit_targets"), key="edit_targets", help=t("edit_targets_help"))
        shown = current[COLUMNS].copy()
        if not editing:
            view = shown.assign(
                subsidiary=[t("group_default") if s == "*" else f"{unit_names.get(s, s)} ({s})"
                            for s in shown["subsidiary"]],
                indicator=shown["indicator"].map(names))
            st.dataframe(view.drop(columns="year"), hide_index=True, width="stretch",
                         height=min(35 * len(view) + 38, 640), column_config={
                             "subsidiary": t("unit"), "indicator": t("col_indicator"), "target": t("col_target"),
                             "limit": t("col_limit"), "weight": t("col_weight"), "veto": t("col_veto")})
        else:
            edited = st.data_editor(
                shown, num_rows="dynamic", hide_index=True, width="stretch", key="targets_editor",
                disabled=["year"], column_config={
                    "year": st.column_config.NumberColumn(t("target_year"), default=year, format="%d"),
                    "subsidiary": st.column_config.SelectboxColumn(
                        t("unit"), options=["*"] + list(ref.units["code"]), required=True),
                    "indicator": st.column_config.SelectboxColumn(
                        t("col_indicator"), options=list(ref.indicators["code"]), required=True),
                    "target": st.column_config.NumberColumn(t("col_target")),
                    "limit": st.column_config.NumberColumn(t("col_limit")),
                    "weight": st.column_config.NumberColumn(t("col_weight"), min_value=0),
                    "veto": st.column_config.CheckboxColumn(t("col_veto"), default=False)})
            if st.button(t("save_targets"), type="primary", key="save_targets"):
                try:
                    saved = data.apply_targets(path, user, frame_rows(edited.assign(year=year)))
                except Rejected as rejected:
                    st.error(t("targets_rejected", n=len(rejected.problems)), icon="🚫")
                    st.dataframe(problem_table(rejected.problems, lang), hide_index=True)
                else:
                    st.success(t("targets_saved", n=len(saved), year=year), icon="✔")
        st.download_button(t("export_targets"), data.exported(
            path, user, "targets", f"targets-{year}.csv", lambda: exports.csv_bytes(current[COLUMNS]), len(current)),
            file_name=f"targets-{year}.csv", mime="text/csv")
    if not may_edit:
        st.caption(t("targets_read_only"))
        finish_page()
        st.stop()

    st.markdown(f"**{t('import_targets')}**")
    st.caption(t("import_targets_help"))
    uploaded = file_uploader("import_targets", ["csv", "txt"], key="targets_file", label_visibility="collapsed")
    if uploaded is not None and st.button(t("import_targets_go"), key="import_targets_go"):
        try:
            frame = data.import_targets(path, user, uploaded.getvalue())
        except Rejected as rejected:
            st.error(t("targets_rejected", n=len(rejected.problems)), icon="🚫")
            st.dataframe(problem_table(rejected.problems, lang), hide_index=True)
        else:
            st.success(t("targets_imported", n=len(frame), years=", ".join(map(str, sorted(frame["year"].unique())))),
                       icon="✔")
finish_page()
