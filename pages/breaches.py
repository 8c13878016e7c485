"""Breaches (预警与问责): every flag of the month with the numbers that raised it and the rule behind it;
filterable, sortable, downloadable as Excel and CSV through the sanitising export."""
import pandas as pd
import streamlit as st

from metrics.core import exports
from metrics.core.formatting import display_number
from metrics.core.months import iso_month, label
from metrics.scoring.breaches import BY_KIND, RULES, SEVERITY_NAMES, Breach, Severity, severity_label
from ui import data, ledger_checks
from ui.i18n import t
from ui.layout import finish_page, setup_page
from ui.links import hazard_figures, hazard_label, hazard_link, keeping_units
from ui.markdown import plain
from ui.widgets import WRAPPING_ROW, month_page

setup_page()
page = month_page("nav_breaches")
lang, month, ref = page.lang, page.month, page.reference
found = data.breaches_of_month(str(page.path), page.user, month, page.version)
names = {r.code: (r.name_zh, r.name_en) for r in ref.indicators.itertuples(index=False)}
unit_names, sector_names, ind_names = page.unit_names, page.sector_names, page.indicator_names
sector_of = dict(zip(ref.units["code"], ref.units["sector"]))
st.caption(f"{label(month, lang)} · {t('breaches_note')}")
if not found:
    st.success(t("no_breaches"), icon="✔")
    ledger_checks.draw(page)
    finish_page()
    st.stop()


def number(evidence: dict, key: str):
    value = evidence.get(key)
    return value if isinstance(value, (int, float)) else None


table = pd.DataFrame({
    "severity": [b.rule.severity.value for b in found],
    "kind": [b.kind for b in found],
    "subsidiary": [b.subsidiary for b in found],
    "sector": [sector_of.get(b.subsidiary) for b in found],
    t("severity"): [severity_label(b.rule.severity, lang) for b in found],
    t("breach_kind"): [b.rule.name.in_(lang) for b in found],
    t("unit"): [unit_names.get(b.subsidiary, b.subsidiary) for b in found],
    t("col_sector"): [sector_names.get(sector_of.get(b.subsidiary, ""), "") for b in found],
    t("indicator"): [ind_names.get(b.indicator, "") if b.indicator else "" for b in found],
    t("col_value"): pd.Series([number(b.evidence, "value") for b in found], dtype="float64"),
    t("col_target"): pd.Series([number(b.evidence, "target") for b in found], dtype="float64"),
    t("col_limit"): pd.Series([number(b.evidence, "limit") for b in found], dtype="float64"),
    t("message"): [b.message(lang, names) for b in found],
    t("rule"): [b.rule.logic.in_(lang) for b in found],
})

levels = [s.value for s in Severity if any(r.severity is s for r in RULES)]
cols = st.columns(4)
severities = cols[0].multiselect(t("severity"), levels, format_func=lambda s: SEVERITY_NAMES[Severity(s)].in_(lang),
                                 key="breach_severities", placeholder=t("all"))
kinds = cols[1].multiselect(t("breach_kind"), [r.kind for r in RULES if r.kind in set(table["kind"])],
                            format_func=lambda k: BY_KIND[k].name.in_(lang), key="breach_kinds", placeholder=t("all"))
sectors = cols[2].multiselect(t("col_sector"), [s for s in ref.sectors["code"] if s in set(table["sector"])],
                              format_func=sector_names.__getitem__, key="breach_sectors", placeholder=t("all"))
units = cols[3].multiselect(t("unit"), sorted(set(table["subsidiary"])), format_func=lambda c: unit_names.get(c, c),
                            key="breach_units", placeholder=t("all"))
shown = table
for column, picked in (("severity", severities), ("kind", kinds), ("sector", sectors), ("subsidiary", units)):
    if picked:
        shown = shown[shown[column].isin(picked)]

counts = shown["severity"].value_counts()
summary = st.columns(1 + len(levels))
summary[0].metric(t("breaches_shown"), f"{len(shown)} / {len(table)}")
for col, severity in zip(summary[1:], levels):
    col.metric(severity_label(Severity(severity), lang), int(counts.get(severity, 0)))

everything = shown.drop(columns=["severity", "kind", "subsidiary", "sector"]).reset_index(drop=True)
visible = everything.drop(columns=[t("col_sector"), t("rule")])
numeric = (t("col_value"), t("col_target"), t("col_limit"))
# A plain table (a pandas Styler costs about a second per 3,000 rows); the severity reads by its symbol. The
# numbers are shown as everywhere else (blank where a flag has none); the downloads keep them numeric, with the
# sector and the rule. On screen the sentence has the room: fixed narrow columns, rows of three lines that wrap
# (a projector at 1280 px shows the sentence, the target and the limit whole); the rules are listed below.
st.dataframe(visible.assign(**{c: visible[c].map(lambda v: display_number(v, "")) for c in numeric}),
             hide_index=True, width="stretch", row_height=WRAPPING_ROW,
             height=min(WRAPPING_ROW * len(visible) + 38, 9 * WRAPPING_ROW + 38),
             column_config={t("severity"): st.column_config.TextColumn(t("severity"), width=64),
                            t("breach_kind"): st.column_config.TextColumn(t("breach_kind"), width=84),
                            t("unit"): st.column_config.TextColumn(t("unit"), width=104),
                            t("indicator"): st.column_config.TextColumn(t("indicator"), width=120),
                            t("message"): st.column_config.TextColumn(t("message"), width=250)}
             | {c: st.column_config.TextColumn(c, width=60) for c in numeric})
# A flag's hazard number opens the hazards behind it, where the unit's ledger holds all of them.
behind = hazard_figures(page)
measure = ref.indicators.set_index("code")["unit_zh" if lang == "zh" else "unit_en"]
drills: dict[tuple[str, str, str], Breach] = {}
for b in (found[i] for i in shown.index):
    key, basis = b.rule.figure, b.rule.basis.value
    if key is not None and b.indicator in behind and number(b.evidence, key) is not None \
            and keeping_units(page, behind[b.indicator], month, basis, (b.subsidiary,)):
        drills.setdefault((b.subsidiary, b.indicator, basis), b)
if drills:
    with st.container(horizontal=True, wrap=True, key="hazard_links"):
        for (unit, indicator, basis), b in drills.items():
            hazard_link(behind[indicator], month, (unit,), basis, hazard_label(
                f"{unit_names.get(unit, unit)} · {ind_names[indicator]}", display_number(b.evidence[b.rule.figure]),
                measure.get(indicator), "red" if b.kind == "veto" else b.kind))
with st.expander(t("rules_title")):
    for kind in dict.fromkeys(shown["kind"]):
        rule = BY_KIND[kind]
        st.markdown(t("rule_line", name=plain(rule.name.in_(lang)), logic=plain(rule.logic.in_(lang))))
name = f"{'预警清单' if lang == 'zh' else 'breaches'}_{iso_month(month)}"
sheet = label(month, lang)
left, right = st.columns(2)
# Files are made when the button is pressed, not on every rerun.
left.download_button(t("download_xlsx"), data.exported(page.path, page.user, "breaches", f"{name}.xlsx",
                                                     lambda: exports.xlsx_bytes({sheet: everything}, title=name),
                                                     len(everything)),
                     file_name=f"{name}.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
right.download_button(t("download_csv"), data.exported(page.path, page.user, "breaches", f"{name}.csv",
                                                      lambda: exports.csv_bytes(everything), len(everything)),
                      file_name=f"{name}.csv",
                      mime="text/csv")
ledger_checks.draw(page)
finish_page()
