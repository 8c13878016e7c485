"""UI text in Chinese (default) and English, and the sidebar switch between them."""
from __future__ import annotations

import streamlit as st

LANGS = {"zh": "中文", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "集团安全生产指标看板", "en": "Group Safety Production Dashboard"},
    "nav_overview": {"zh": "总览", "en": "Overview"},
    "nav_unit": {"zh": "单位详情", "en": "Unit detail"},
    "nav_breaches": {"zh": "预警与问责", "en": "Breaches"},
    "unit": {"zh": "单位", "en": "Unit"},
    "unit_score": {"zh": "综合得分", "en": "Score"},
    "unit_rank": {"zh": "排名", "en": "Rank"},
    "unit_grade": {"zh": "等级", "en": "Grade"},
    "safe_days_unit": {"zh": "安全生产天数", "en": "Days without fatality"},
    "lti_days_unit": {"zh": "无损失工时伤害天数", "en": "Days without lost-time injury"},
    "col_indicator": {"zh": "指标", "en": "Indicator"},
    "col_value": {"zh": "本期值", "en": "Value"},
    "col_unit_of": {"zh": "单位", "en": "Unit of measure"},
    "col_target": {"zh": "目标值", "en": "Target"},
    "col_limit": {"zh": "控制值", "en": "Limit"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_ind_score": {"zh": "指标得分", "en": "Score"},
    "col_weight": {"zh": "权重", "en": "Weight"},
    "col_veto": {"zh": "否决项", "en": "Veto"},
    "thresholds_note": {"zh": "目标值与控制值为本期口径：累计口径下越高越好的累计指标按已过月份折算，当月口径下累计指标按全年 ÷ 12。",
                        "en": "Targets and limits are those of the period: year to date, higher-better sums are prorated by months elapsed; month only, annual sums are divided by 12."},
    "breach_kind": {"zh": "类型", "en": "Kind"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    "message": {"zh": "说明", "en": "What happened"},
    "rule": {"zh": "判定规则", "en": "Rule"},
    "download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "no_breaches": {"zh": "本月没有预警。", "en": "No breaches this month."},
    "kind_veto": {"zh": "一票否决", "en": "Veto"},
    "kind_red": {"zh": "超标", "en": "Red"},
    "kind_yellow": {"zh": "预警", "en": "Yellow"},
    "kind_missing": {"zh": "未报", "en": "Not reported"},
    "kind_deteriorating": {"zh": "连续恶化", "en": "Deteriorating"},
    "kind_out_of_control": {"zh": "统计失控", "en": "Out of control"},
    "kind_silence": {"zh": "疑似瞒报", "en": "Suspicious silence"},
    "sev_high": {"zh": "高", "en": "High"},
    "sev_medium": {"zh": "中", "en": "Medium"},
    "sev_low": {"zh": "低", "en": "Low"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "month": {"zh": "统计月份", "en": "Month"},
    "basis": {"zh": "口径", "en": "Basis"},
    "basis_ytd": {"zh": "本年累计", "en": "Year to date"},
    "basis_month": {"zh": "当月", "en": "Month only"},
    "no_data": {"zh": "库中还没有指标数据。", "en": "The store holds no indicator data yet."},
    "units_scored": {"zh": "参评单位", "en": "Units scored"},
    "red_flags": {"zh": "超标（红）", "en": "Red flags"},
    "yellow_flags": {"zh": "预警（黄）", "en": "Yellow flags"},
    "vetoed_units": {"zh": "一票否决", "en": "Vetoed units"},
    "not_reported": {"zh": "未报单位", "en": "Units not reported"},
    "safe_days": {"zh": "集团安全生产天数", "en": "Days w/o fatality"},
    "safe_days_help": {"zh": "自最近一次死亡事故所在月份月末起算（月度数据）",
                       "en": "Counted from the end of the month of the last fatality (monthly data)"},
    "at_least": {"zh": "≥", "en": "≥"},
    "days": {"zh": "天", "en": "days"},
    "vs_last_month": {"zh": "较上月", "en": "vs last month"},
    "veto_banner": {"zh": "一票否决：{unit}（{reason}），本期得分归零",
                    "en": "Veto: {unit} ({reason}); its score for the period is 0"},
    "missing_banner": {"zh": "未报送：{units}", "en": "Not reported: {units}"},
    "scores_title": {"zh": "单位得分与等级", "en": "Unit scores and grades"},
    "col_rank": {"zh": "排名", "en": "Rank"},
    "col_unit": {"zh": "单位", "en": "Unit"},
    "col_sector": {"zh": "板块", "en": "Sector"},
    "col_score": {"zh": "得分", "en": "Score"},
    "col_grade": {"zh": "等级", "en": "Grade"},
    "col_red": {"zh": "红", "en": "Red"},
    "col_yellow": {"zh": "黄", "en": "Yellow"},
    "col_missing": {"zh": "未报", "en": "Missing"},
    "col_change": {"zh": "较上月", "en": "Change"},
    "col_safe_days": {"zh": "安全天数", "en": "Safe days"},
    "trend_title": {"zh": "指标趋势", "en": "Indicator trend"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "group": {"zh": "集团", "en": "Group"},
    "target": {"zh": "目标值", "en": "Target"},
    "limit": {"zh": "控制值", "en": "Limit"},
    "watch_title": {"zh": "本月需关注", "en": "Needs attention this month"},
    "no_grade": {"zh": "无", "en": "n/a"},
    "veto": {"zh": "否决", "en": "Veto"},
}


def current_lang() -> str:
    if "lang" not in st.session_state:
        requested = st.query_params.get("lang", "zh")
        st.session_state["lang"] = requested if requested in LANGS else "zh"
    return st.session_state["lang"]


def t(key: str, **values) -> str:
    text = STRINGS[key][current_lang()]
    return text.format(**values) if values else text


def language_switch() -> str:
    """The sidebar switch; returns the chosen language code."""
    current_lang()
    st.sidebar.radio(t("language"), list(LANGS), format_func=LANGS.get, key="lang", horizontal=True)
    return st.session_state["lang"]
