"""Meeting mode (会议模式): the monthly bulletin on a projector, one slide at a time in type readable from the
back of the room, the sidebar out of the way, the PPTX, PDF and Excel files to download.

The slides are `sections.sections`, the very content the PPTX and PDF are made from (headlines, flags,
ranking, movers, trends, rectification, scorecards on request; long tables continued or cut to their worst rows
there), so the projector and the files cannot disagree. This page only lays them out: tiles as metrics, notes
as banners by tone, tables with their cells' fills and inks, charts as the shared Plotly figures
(`sections.figure`).

Every slide fits the screen without scrolling, 1280×720 as 1920×1080 (a browser test checks): the slide's type
is sized in viewport heights, the page is one screen tall and the slide's body takes what the title and the
toolbar leave, its charts stretching to fill it. The slide shown is in the URL (?slide=3), so a link or a
refresh opens the same slide."""
from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from metrics.auth.roles import Permission
from metrics.core.months import label
from metrics.reports.bulletin import DOCUMENT_TITLE, Bulletin, SlideKind, file_name
from metrics.reports.sections import (
    CHANGE_COLOURS,
    Cell,
    Change,
    Note,
    Section,
    Table,
    Tile,
    Tone,
    chart_title,
    figure,
    sections,
)
from metrics.reports.workbook import bulletin_xlsx
from ui import data
from ui.auth import acting_user
from ui.i18n import current_lang, t
from ui.layout import finish_page, setup_page
from ui.markdown import plain

# Constant CSS only (never data). The page is one screen tall (a flex column); the slide's body container
# (st-key-slide_body) takes the height the toolbar and the title leave, a `fill` container in it the height
# its other elements leave, and a chart with height="stretch" fills its column. Type is in vh, so a slide
# looks the same at 1280×720 and at 1920×1080; the toolbar keeps its normal size.
LAYOUT = """<style>
[data-testid="stMainBlockContainer"] { height: 100vh; box-sizing: border-box; display: flex; flex-direction: column;
  padding: 3.75rem 2.5rem 0.75rem 2.5rem; }
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] { flex: 1 1 0; min-height: 0; }
[data-testid="stLayoutWrapper"]:has(> .st-key-slide_body),
[data-testid="stLayoutWrapper"]:has(> .st-key-fill) { flex: 1 1 0 !important; min-height: 0; height: auto !important; }
.st-key-slide_body { height: 100% !important; max-height: none !important; gap: 1.3vh; }
.st-key-fill, .st-key-fill > [data-testid="stLayoutWrapper"], .st-key-fill [data-testid="stVerticalBlock"] {
  height: 100%; }
.st-key-fill [data-testid="stElementContainer"]:has(.stPlotlyChart) { flex: 1 1 0; min-height: 0; }
.st-key-fill > [data-testid="stLayoutWrapper"]:has(> .st-key-ranking_table) { flex: 3 1 0; }
.st-key-fill > [data-testid="stLayoutWrapper"]:has(> .st-key-ranking_chart) { flex: 2 1 0; }
[data-testid="stMain"] h1 { font-size: 5vh; line-height: 1.2; padding: 0.2vh 0; }
.st-key-slide_body h3 { font-size: 2.9vh; line-height: 1.25; padding: 0; }
.st-key-slide_body [data-testid="stMetricLabel"] p { font-size: 2.3vh; }
.st-key-slide_body [data-testid="stMetricValue"] { font-size: 5.2vh; line-height: 1.15; }
.st-key-slide_body [data-testid="stCaptionContainer"] p { font-size: 1.9vh; line-height: 1.35; }
.st-key-slide_body [data-testid="stAlert"] p { font-size: 2.3vh; line-height: 1.35; }
.st-key-slide_body [data-testid="stAlertContainer"] { padding: 1.1vh 1.2vw; }
.st-key-slide_body [data-testid="stTable"] th,
.st-key-slide_body [data-testid="stTable"] td { font-size: 2.3vh; line-height: 1.3; padding: 0.55vh 0.7vw; }
.st-key-slide_body [data-testid="stTable"] th { white-space: nowrap; }
.st-key-slide_body [data-testid="stTable"] [data-testid="stMarkdownContainer"] { max-width: none; }
.st-key-slide_body [data-testid="stVerticalBlockBorderWrapper"] { padding: 1.2vh 1vw; }
</style>"""
TILE_COLUMNS = 4
CHART_FONT_SIZE = 15
CHART_CONFIG = {"displayModeBar": False}
NOTE_BANNERS = {Tone.VETO: (st.error, "⛔"), Tone.WARNING: (st.warning, "⚠️"), Tone.INFO: (st.info, "ℹ️")}
INK_NAMES = {CHANGE_COLOURS["better"]: "green", CHANGE_COLOURS["worse"]: "red"}
"""The change colours of a tile as Streamlit's markdown colours."""
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def jump(key: str) -> None:
    st.session_state["slide"] = st.session_state[key]


def dashboard_address() -> str | None:
    """The dashboard's address as this browser reaches it (this page's, without /meeting; a proxy's path prefix
    kept), where the files' hazard numbers link to the hazards behind them; None where the page cannot tell."""
    parts = urlsplit(st.context.url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}"


def document(kind: str, bulletin: Bulletin, lang: str, scorecards: list[str], dashboard: str | None) -> bytes:
    """The PPTX deck or the PDF with the charts as images, made only when its button is pressed (these modules
    start Chromium for the charts and load python-pptx and WeasyPrint)."""
    from metrics.reports import chart_images, pdf, slides

    build = {"pptx": slides.bulletin_pptx, "pdf": pdf.bulletin_pdf}[kind]
    return build(bulletin, lang, chart_images.bulletin_charts(bulletin, lang), scorecards, dashboard)


def change_line(change: Change) -> str:
    colour = INK_NAMES.get(change.colour or "")
    return f":{colour}[{plain(change.text)}]" if colour else plain(change.text)


def show_tiles(tiles: tuple[Tile, ...]) -> None:
    """The headline figures four to a row, each with its changes coloured better / worse as in the files (a
    tile without changes keeps their lines blank, so the tiles of a row are as tall as each other)."""
    lines = max(len(tile.changes) for tile in tiles)
    for first in range(0, len(tiles), TILE_COLUMNS):
        for column, tile in zip(st.columns(TILE_COLUMNS), tiles[first:first + TILE_COLUMNS]):
            box = column.container(border=True)
            box.metric(plain(tile.label), tile.value)
            changes = [change_line(c) for c in tile.changes]
            box.caption("  \n".join(changes + ["&nbsp;"] * (lines - len(changes))))


def show_notes(notes: tuple[Note, ...]) -> None:
    for note in notes:
        banner, icon = NOTE_BANNERS[note.tone]
        banner(plain(note.text), icon=icon)


def cell_style(cell: Cell) -> str:
    return "; ".join(f"{name}: {value}" for name, value in (
        ("background-color", cell.fill), ("color", cell.ink), ("font-weight", "700" if cell.bold else None),
        ("text-align", "right !important" if cell.numeric else None)) if value)


def show_table(table: Table) -> None:
    """A real table with each cell's fill, ink, weight and alignment (Streamlit writes its own alignment into
    each cell; the table's style overrides it)."""
    if table.caption:
        st.subheader(plain(table.caption), anchor=False)
    columns = list(table.columns)
    frame = pd.DataFrame([[plain(c.text) for c in row] for row in table.rows], columns=columns)
    styles = pd.DataFrame([[cell_style(c) for c in row] for row in table.rows], columns=columns)
    st.table(frame.style.apply(lambda _: styles, axis=None), hide_index=True)


def show_chart(bulletin: Bulletin, key: str, lang: str) -> None:
    """The shared figure under its title as drawn for the files (Plotly's own template), as tall as its
    column."""
    st.subheader(plain(chart_title(bulletin, key, lang)), anchor=False)
    shown = figure(bulletin, key, lang).update_layout(template="plotly", height=None, font_size=CHART_FONT_SIZE)
    st.plotly_chart(shown, height="stretch", theme=None, config=CHART_CONFIG, key=f"chart_{key}")


def show(bulletin: Bulletin, section: Section, lang: str) -> None:
    """The slide's body (its title is above it), laid out per kind of slide as the deck lays it out."""
    match section.slide.kind:
        case SlideKind.HEADLINE:
            show_tiles(section.tiles)
            show_notes(section.notes)
        case SlideKind.VETO_AND_RED | SlideKind.RECTIFICATION | SlideKind.SCORECARD:
            show_notes(section.notes)
            for table in section.tables:
                show_table(table)
        case SlideKind.RANKING if section.charts:
            with st.container(key="fill", horizontal=True, gap="large"):
                with st.container(key="ranking_table"):
                    for table in section.tables:
                        show_table(table)
                with st.container(key="ranking_chart"):
                    for key in section.charts:
                        show_chart(bulletin, key, lang)
        case SlideKind.RANKING:
            for table in section.tables:
                show_table(table)
        case SlideKind.MOVERS:
            show_notes(section.notes)
            for column, table in zip(st.columns(len(section.tables), gap="large"), section.tables):
                with column:
                    show_table(table)
        case SlideKind.TRENDS:
            with st.container(key="fill", horizontal=True):
                for key in section.charts:
                    with st.container(key=f"trend_{key}"):
                        show_chart(bulletin, key, lang)
            for table in section.tables:
                show_table(table)
        case _:
            raise ValueError(f"no way to show a slide of kind {section.slide.kind!r}")


setup_page(sidebar="collapsed", needs=Permission.PRESENT)
st.markdown(LAYOUT, unsafe_allow_html=True)
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
scorecards = settings.multiselect(t("meeting_scorecards"), list(reference.units["code"]),
                                  format_func=unit_names.__getitem__,
                                  key="meeting_scorecards", placeholder=t("meeting_scorecards_pick"))
bulletin = data.bulletin(str(path), user, month, version)
slides = sections(bulletin, lang, scorecards)
count = len(slides)
index = current_slide(count)

bar[0].markdown(f"**{t('meeting_caption', document=DOCUMENT_TITLE[lang], month=label(month, lang))}**")
titles = [s.slide.title for s in slides]
# The list is a new widget on every slide (its key names the slide shown): after a jump the browser's focus leaves
# it, so ← and → turn the slides again (Streamlit ignores a button's shortcut while the focus is in an input).
jump_key = f"slide_jump_{index}"
bar[1].selectbox(t("meeting_jump"), list(range(1, count + 1)), index=index - 1,
                 format_func=lambda i: f"{i}. {titles[i - 1]}", key=jump_key, on_change=jump, args=(jump_key,),
                 label_visibility="collapsed")
bar[2].button(t("meeting_previous"), key="slide_previous", on_click=step, args=(-1, count), disabled=index == 1,
              shortcut="Left", help=t("meeting_previous_help"), width="stretch")
bar[3].markdown(f"**{index} / {count}**")
bar[4].button(t("meeting_next"), key="slide_next", on_click=step, args=(1, count), disabled=index == count,
              shortcut="Right", help=t("meeting_next_help"), width="stretch", type="primary")

settings.markdown(f"**{t('meeting_files')}**")
address = dashboard_address()
settings.download_button(t("meeting_pptx"), data.exported(path, user, "bulletin", file_name(month, "pptx", lang),
                                                         lambda: document("pptx", bulletin, lang, scorecards, address)),
                         file_name=file_name(month, "pptx", lang), mime=PPTX_MIME, width="stretch")
settings.download_button(t("meeting_pdf"), data.exported(path, user, "bulletin", file_name(month, "pdf", lang),
                                                        lambda: document("pdf", bulletin, lang, scorecards, address)),
                         file_name=file_name(month, "pdf", lang), mime="application/pdf", width="stretch")
settings.download_button(t("meeting_xlsx"), data.exported(path, user, "bulletin", file_name(month, "xlsx", lang),
                                                         lambda: bulletin_xlsx(bulletin, lang)),
                         file_name=file_name(month, "xlsx", lang), mime=XLSX_MIME, width="stretch")
settings.caption(t("meeting_files_note"))

shown = slides[index - 1]
st.title(plain(shown.slide.title), anchor=False)
with st.container(key="slide_body", height=600, border=False):
    show(bulletin, shown, lang)
finish_page()
if st.query_params.get("slide") != str(index):
    st.query_params["slide"] = str(index)
