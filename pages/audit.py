"""Audit trail (审计日志, administrators): every sign-in, upload, replacement, rollback, target, catalog, user
and export on record, filtered and exported; whether the hash chain is whole; and who changed one number."""
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from metrics.auth.roles import Permission
from metrics.core import exports
from metrics.core.formatting import display_number
from metrics.core.months import iso_month, label
from metrics.store.audit import ACTION_NAMES, Action, actor_text, describe, source_text, target_text
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.markdown import plain
from ui.widgets import WRAPPING_ROW

path = setup_page(needs=Permission.VIEW_AUDIT)
user, lang = acting_user(), current_lang()
st.title(t("nav_audit"))
action_names = {a.value: name.in_(lang) for a, name in ACTION_NAMES.items()}

broken = data.verify_audit(path, user, lang)
if broken:
    st.error(t("audit_chain_broken", n=len(broken)), icon="⚠️")
    st.dataframe(pd.DataFrame({t("col_problem"): broken}), hide_index=True, width="stretch")
else:
    st.success(t("audit_chain_ok"), icon="🔗")

top = st.columns([2, 2, 3, 3])
everyone = t("audit_all")
actor = top[0].selectbox(t("audit_actor"), [everyone] + data.audit_actors(path, user), key="audit_actor",
                         format_func=lambda a: a if a == everyone else actor_text(a, lang))
action = top[1].selectbox(t("audit_action"), [everyone] + [a.value for a in Action], key="audit_action",
                          format_func=lambda a: action_names.get(a, a))
today = datetime.now().date()
days = top[2].date_input(t("audit_dates"), (today - timedelta(days=30), today), key="audit_dates")
text = top[3].text_input(t("audit_text"), key="audit_text", placeholder=t("audit_text_hint"))
first = datetime.combine(days[0], datetime.min.time()) if len(days) > 0 else None
last = datetime.combine(days[-1], datetime.min.time()) + timedelta(days=1) if len(days) > 0 else None
version = data.version(path)
ref = data.reference(str(path), user, version)
indicator_codes = dict(zip(ref.indicators["code"], ref.indicators["name_zh" if lang == "zh" else "name_en"]))
entries = data.audit_entries(path, user, actor=None if actor == everyone else actor,
                             action=None if action == everyone else action, first=first, last=last, text=text)
table = pd.DataFrame({
    t("audit_id"): entries["id"], t("col_time"): entries["happened_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
    t("audit_actor"): entries["actor"].map(lambda a: actor_text(a, lang)),
    t("audit_action"): entries["action"].map(lambda a: action_names.get(a, a)),
    t("audit_outcome"): entries["outcome"].map(lambda o: t(f"audit_outcome_{o}")),
    t("audit_target"): entries["target"].map(lambda o: target_text(o, lang)),
    t("audit_detail"): entries["detail"].map(lambda d: describe(d, lang, indicator_codes))})
st.caption(t("audit_count", n=len(table)))
# Fixed widths that fit 1280 px with the detail widest, rows of three lines so a long detail wraps, not cut.
WIDTHS = {"col_time": 140, "audit_actor": 110, "audit_action": 100, "audit_outcome": 64,
          "audit_target": 110, "audit_detail": 250}
st.dataframe(table, hide_index=True, width="stretch", row_height=WRAPPING_ROW,
             height=min(WRAPPING_ROW * len(table), 8 * WRAPPING_ROW) + 38,
             column_config={t("audit_id"): st.column_config.NumberColumn(t("audit_id"), width=44)}
             | {t(key): st.column_config.TextColumn(t(key), width=width) for key, width in WIDTHS.items()})
exported_table = table.assign(**{t("audit_detail_json"): entries["detail"]})
name = f"{'审计日志' if lang == 'zh' else 'audit'}_{today:%Y%m%d}"
left, right = st.columns(2)
left.download_button(t("download_xlsx"), data.exported(path, user, "audit", f"{name}.xlsx",
                                                     lambda: exports.xlsx_bytes({"audit": exported_table}, title=name),
                                                     len(table)),
                     file_name=f"{name}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
right.download_button(t("download_csv"), data.exported(path, user, "audit", f"{name}.csv",
                                                      lambda: exports.csv_bytes(exported_table), len(table)),
                      file_name=f"{name}.csv", mime="text/csv")

st.subheader(t("who_changed_title"))
st.caption(t("who_changed_help"))
months = list(reversed(data.months(str(path), user, version)))
unit_names = dict(zip(ref.units["code"], ref.units["name_zh" if lang == "zh" else "name_en"]))
base = ref.indicators[ref.indicators["numerator"].isna()]
indicator_names = dict(zip(base["code"], base["name_zh" if lang == "zh" else "name_en"]))
pick = st.columns(3)
unit = pick[0].selectbox(t("unit"), list(unit_names), format_func=lambda c: f"{unit_names[c]} ({c})", key="who_unit")
month = pick[1].selectbox(t("month"), months, format_func=lambda m: label(m, lang), key="who_month") if months else None
indicator = pick[2].selectbox(t("indicator"), list(indicator_names), format_func=indicator_names.__getitem__,
                              key="who_indicator")
if month is not None:
    versions = data.value_history(path, user, unit, month, indicator)
    if versions.empty:
        st.info(t("who_changed_none", unit=plain(unit_names[unit]), month=iso_month(month),
                  indicator=plain(indicator_names[indicator])))
    else:
        st.dataframe(pd.DataFrame({
            t("batch"): versions["batch_id"], t("col_time"): versions["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
            t("actor"): versions["actor"].map(lambda a: actor_text(a, lang)),
            t("col_file"): [source_text(f, s, lang) for f, s in zip(versions["file_name"], versions["source"])],
            t("col_previous"): [display_number(v, "") for v in versions["previous_value"]],
            t("col_new"): [display_number(v, "") for v in versions["value"]],
            t("col_batch_status"): versions["status"].map(lambda s: t(f"batch_{s}"))}),
            hide_index=True, width="stretch")
finish_page()
