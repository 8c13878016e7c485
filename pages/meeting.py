"""Meeting mode (会议模式): the monthly bulletin on a projector, one slide at a time in type readable from the
back of the room, the sidebar out of the way. The slides are `Bulletin.slides` with the charts and tables of
the exported PPTX, PDF and Excel files, which are downloaded here too. The slide shown is in the URL
(?slide=3), so a link or a refresh opens the same slide."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import charts
from metrics.bulletin import DOCUMENT_TITLE, KEY_TRENDS, Bulletin, Slide, SlideKind, file_name
from metrics.formatting import display_number
from metrics.months import label
from metrics.report_xlsx import bulletin_xlsx
from metrics.roles import Permission
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.style import grade_label, status_label, status_text_style
from ui.widgets import change_text, group_banners, group_headlines

# Constant CSS only (never data): large type for the slide; the toolbar above it keeps its normal size.
LARGE_TYPE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-left: 3rem; padding-right: 3rem; }
[data-testid="stMain"] h1 { font-size: 3.2rem; line-height: 1.25; padding-top: 0.6rem; }
[data-testid="stMain"] h3 { font-size: 1.9rem; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.7rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 3.8rem; line-height: 1.2; }
[data-testid="stMain"] [data-testid="stMetricDelta"] { font-size: 1.6rem; }
[data-testid="stMain"] [data-testid="stMetricDelta"] svg { width: 1.6rem; height: 1.6rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stAlert"] p { font-size: 1.75rem; }
[data-testid="stMain"] [data-testid="stTable"] th,
[data-testid="stMain"] [data-testid="stTable"] td { font-size: 1.5rem; padding: 0.35rem 0.8rem; }
[data-testid="stMain"] [data-testid="stTable"] th { white-space: nowrap; }
[data-testid="stMain"] [data-testid="stTable"] [data-testid="stMarkdownContainer"] { max-width: none; }
</style>"""
CHART_FONT_SIZE = 20
CHART_CONFIG = {"displayModeBar": False}
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEPARATOR = {"zh": "、", "en": ", "}


def current_slide(count: int) -> int:
    """The slide shown (1 to count): the session's, else the URL's (?slide=3), else the first."""
    if "slide" not in st.session_state:
        try:
            st.session_state["slide"] = int(st.query_params.get("slide", 1))
        except ValueError:
            st.session_state["slide"] = 1
    st.session_state["slide"] = min(max(st.session_state["slide"], 1), count)
    return st.session_state["slide"]


def step(by: int, count: int) -> None:
    st.session_state["slide"] = min(max(st.session_state["slide"] + by, 1), count)


def document(kind: str, bulletin: Bulletin, lang: str, scorecards: list[str]) -> bytes:
    """The PPTX deck or the PDF with the charts as images, made only when its button is pressed (these modules
    start Chromium for the charts and load python-pptx and WeasyPrint)."""
    from metrics import chart_images, report_pdf, report_pptx

    build = {"pptx": report_pptx.bulletin_pptx, "pdf": report_pdf.bulletin_pdf}[kind]
    return build(bulletin, lang, chart_images.bulletin_charts(bulletin, lang), scorecards)


def large(figure: go.Figure, height: int | None = None) -> go.Figure:
    """A shared chart with type for the projector (axes and legend too: Streamlit's chart theme sets their
    fonts, so the figure's own font size alone would not reach them)."""
    figure.update_layout(font_size=CHART_FONT_SIZE, legend_font_size=CHART_FONT_SIZE)
    figure.update_xaxes(tickfont_size=CHART_FONT_SIZE, title_font_size=CHART_FONT_SIZE)
    figure.update_yaxes(tickfont_size=CHART_FONT_SIZE, title_font_size=CHART_FONT_SIZE)
    if height is not None:
        figure.update_layout(height=height)
    return figure


def number(value, digits: int = 1) -> str:
    return display_number(None if value is None or value != value else round(value, digits))


def table(frame: pd.DataFrame, statuses: list | None = None) -> None:
    """A table in large type; with `statuses`, the status column in its colour."""
    if statuses is None:
        st.table(frame, hide_index=True)
        return
    column = t("col_status")
    styles = [status_text_style(s) if isinstance(s, str) else "" for s in statuses]
    st.table(frame.style.apply(lambda _: styles, subset=[column]), hide_index=True)


def show_headline(bulletin: Bulletin, lang: str) -> None:
    """The group's figures with their changes (as on the overview), then the year's vetoes and who has not
    reported."""
    ov = bulletin.overview
    first, second, third = st.columns(3), st.columns(3), st.columns(3)
    group_headlines(ov, [*first, *second, *third])
    group_banners(ov, bulletin.names(lang), bulletin.indicator_names(lang), lang)
    st.caption(t("headline_note_ytd"))


def show_flags(bulletin: Bulletin, lang: str) -> None:
    """Vetoes as banners, red flags in a table; the red flag of a vetoed indicator is the veto itself, so it is
    not listed twice (as in the exported bulletin)."""
    flagged = bulletin.flagged()
    if not flagged:
        st.success(t("meeting_no_flags"), icon="✔")
        return
    both = {r.code: (r.name_zh, r.name_en) for r in bulletin.reference.indicators.itertuples(index=False)}
    vetoes = [b for b in flagged if b.kind == "veto"]
    for b in vetoes:
        st.error(t("meeting_flag_line", unit=b.unit_name(lang), message=b.message(lang, both)), icon="⛔")
    reds = [b for b in flagged if b.kind == "red"]
    if reds:
        table(pd.DataFrame({t("unit"): [b.unit_name(lang) for b in reds],
                            t("message"): [b.message(lang, both) for b in reds]}))


def show_ranking(bulletin: Bulletin, lang: str) -> None:
    units = bulletin.overview.units
    shown = min(len(units), charts.RANKING_BARS)
    st.plotly_chart(large(charts.score_bars(units, bulletin.names(lang), lang, most=charts.RANKING_BARS),
                          46 * shown + 90),
                    width="stretch", config=CHART_CONFIG)


def show_movers(bulletin: Bulletin, lang: str) -> None:
    names = bulletin.names(lang)
    units = bulletin.overview.units.set_index("subsidiary")
    not_reported = f" · {t('kind_missing')}"
    for key, moved in zip(("meeting_improved", "meeting_declined"), bulletin.movers()):
        st.subheader(t(key))
        if moved.empty:
            st.info(t("meeting_no_movers"))
            continue
        grades = [grade_label(g, bulletin.reference.grades, lang)
                  + (not_reported if units.at[c, "missing"] and not units.at[c, "vetoed"] else "")
                  for c, g in zip(moved["subsidiary"], moved["grade"])]
        table(pd.DataFrame({t("unit"): moved["subsidiary"].map(names),
                            t("col_previous_score"): [number(v) for v in moved["previous_score"]],
                            t("col_score"): [number(v) for v in moved["unit_score"]],
                            t("col_change"): [change_text(v, 1) for v in moved["change"]],
                            t("col_grade"): grades}))


def show_trends(bulletin: Bulletin, lang: str) -> None:
    names = bulletin.indicator_names(lang)
    ind = bulletin.reference.indicators.set_index("code")
    for col, code in zip(st.columns(len(KEY_TRENDS)), KEY_TRENDS):
        col.subheader(names[code])
        measure = ind.at[code, "unit_zh" if lang == "zh" else "unit_en"]
        col.plotly_chart(large(charts.indicator_trend(bulletin.trends[code], measure, lang, height=480)),
                         width="stretch", config=CHART_CONFIG)
    st.caption(t("view_note_month"))


def show_rectification(bulletin: Bulletin, lang: str) -> None:
    rows = bulletin.rectification()
    names = bulletin.names(lang) | {"*": t("group")}
    table(pd.DataFrame({
        t("unit"): rows["subsidiary"].map(names),
        t("col_found"): [number(v, 0) for v in rows["found"]],
        t("col_rectified"): [number(v, 0) for v in rows["rectified"]],
        t("col_rectification_rate"): [number(v) for v in rows["rate"]],
        t("col_overdue"): [number(v, 0) for v in rows["overdue"]],
        t("col_major_hazards"): [number(v, 0) for v in rows["major"]],
        t("col_status"): [status_label(s, lang) if isinstance(s, str) else "" for s in rows["status"]],
    }), list(rows["status"]))


def show_scorecard(bulletin: Bulletin, code: str, lang: str) -> None:
    ov = bulletin.overview
    unit = ov.units.set_index("subsidiary").loc[code]
    ind_names = bulletin.indicator_names(lang)
    if unit["vetoed"]:
        st.error(t("unit_vetoed", reason=SEPARATOR[lang].join(ind_names[c] for c in unit["veto_reason"])), icon="⛔")
    if code in ov.missing_units:
        st.warning(t("unit_not_reported", month=label(bulletin.month, lang)), icon="📭")
    cols = st.columns(5)
    cols[0].metric(t("unit_score"), number(unit["unit_score"], 2), change_text(unit["change"]))
    cols[1].metric(t("unit_grade"), grade_label(unit["grade"], bulletin.reference.grades, lang))
    cols[2].metric(t("unit_rank"), f"{unit['rank']} / {len(ov.units)}",
                   None if pd.isna(unit["rank_change"]) else int(unit["rank_change"]))
    cols[3].metric(t("unit_flags"), f"✖{unit['red']} ▲{unit['yellow']} ○{unit['missing']}")
    days = ov.safe_days_fatality[code]
    cols[4].metric(t("safe_days_unit"), f"{'≥' if days.since_records else ''}{days.days:,} {t('days')}")
    rows = bulletin.scorecard(code)
    table(pd.DataFrame({
        t("col_indicator"): rows["indicator"].map(ind_names),
        t("col_value"): [display_number(v) for v in rows["value"]],
        t("col_target"): [display_number(v, "") for v in rows["target"]],
        t("col_limit"): [display_number(v, "") for v in rows["limit"]],
        t("col_status"): [status_label(s, lang) for s in rows["status"]],
        t("col_ind_score"): [number(v) for v in rows["score"]],
        t("col_weight"): [display_number(v, "") for v in rows["weight"]],
        t("col_veto"): ["⛔" if v else "" for v in rows["veto"]],
    }), list(rows["status"]))


def show(bulletin: Bulletin, slide: Slide, lang: str) -> None:
    """The slide's body (its title is above it); every kind of slide has a way to be shown."""
    match slide.kind:
        case SlideKind.HEADLINE:
            show_headline(bulletin, lang)
        case SlideKind.VETO_AND_RED:
            show_flags(bulletin, lang)
        case SlideKind.RANKING:
            show_ranking(bulletin, lang)
        case SlideKind.MOVERS:
            show_movers(bulletin, lang)
        case SlideKind.TRENDS:
            show_trends(bulletin, lang)
        case SlideKind.RECTIFICATION:
            show_rectification(bulletin, lang)
        case SlideKind.SCORECARD:
            show_scorecard(bulletin, slide.unit, lang)
        case _:
            raise ValueError(f"no way to show a slide of kind {slide.kind!r}")


setup_page(sidebar="collapsed", needs=Permission.PRESENT)
st.markdown(LARGE_TYPE, unsafe_allow_html=True)
lang = current_lang()
path, user = data.store_path(), acting_user()
version = data.version(path)
months = data.months(str(path), user, version)
reference = data.reference(str(path), user, version)
if not months or reference.units.empty:
    st.title(t("nav_meeting"))
    st.info(t("no_data") if not months else t("no_units"), icon="📭")
    st.page_link("pages/upload.py", label=t("go_upload"), icon="📤")
    finish_page()
    st.stop()

bar = st.columns([5, 5, 2, 1.2, 2, 2.6], vertical_alignment="center")
settings = bar[5].popover(t("meeting_settings"), width="stretch")
month = settings.selectbox(t("month"), list(reversed(months)), format_func=lambda m: label(m, lang), key="month")
unit_names = dict(zip(reference.units["code"], reference.units["name_zh" if lang == "zh" else "name_en"]))
scorecards = settings.multiselect(t("meeting_scorecards"), list(reference.units["code"]), format_func=unit_names.get,
                                  key="meeting_scorecards", placeholder=t("meeting_scorecards_pick"))
bulletin = data.bulletin(str(path), user, month, version)
slides = bulletin.slides(lang, scorecards)
count = len(slides)
index = current_slide(count)

bar[0].markdown(f"**{t('meeting_caption', document=DOCUMENT_TITLE[lang], month=label(month, lang))}**")
titles = [s.title for s in slides]
bar[1].selectbox(t("meeting_jump"), list(range(1, count + 1)), format_func=lambda i: f"{i}. {titles[i - 1]}",
                 key="slide", label_visibility="collapsed")
bar[2].button(t("meeting_previous"), key="slide_previous", on_click=step, args=(-1, count), disabled=index == 1,
              shortcut="Left", help=t("meeting_previous_help"), width="stretch")
bar[3].markdown(f"**{index} / {count}**")
bar[4].button(t("meeting_next"), key="slide_next", on_click=step, args=(1, count), disabled=index == count,
              shortcut="Right", help=t("meeting_next_help"), width="stretch", type="primary")

settings.markdown(f"**{t('meeting_files')}**")
settings.download_button(t("meeting_pptx"), data.exported(path, user, "bulletin", file_name(month, "pptx", lang),
                                                         lambda: document("pptx", bulletin, lang, scorecards)),
                         file_name=file_name(month, "pptx", lang), mime=PPTX_MIME, width="stretch")
settings.download_button(t("meeting_pdf"), data.exported(path, user, "bulletin", file_name(month, "pdf", lang),
                                                        lambda: document("pdf", bulletin, lang, scorecards)),
                         file_name=file_name(month, "pdf", lang), mime="application/pdf", width="stretch")
settings.download_button(t("meeting_xlsx"), data.exported(path, user, "bulletin", file_name(month, "xlsx", lang),
                                                         lambda: bulletin_xlsx(bulletin, lang)),
                         file_name=file_name(month, "xlsx", lang), mime=XLSX_MIME, width="stretch")
settings.caption(t("meeting_files_note"))

slide = slides[index - 1]
st.title(slide.title)
show(bulletin, slide, lang)
finish_page()
if st.query_params.get("slide") != str(index):
    st.query_params["slide"] = str(index)
