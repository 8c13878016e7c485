"""The monthly bulletin as a 16:9 PowerPoint deck for the meeting's projector: a title slide, then one slide per
section of `sections.sections()`, the slides the meeting page shows (a long ranking continued as
"…（2/4）", long lists cut to their worst rows there), with editable text, real tables and the charts as
pictures.

Type is large: titles 30 pt, tables 11–20 pt, as large as their rows and columns allow. Slide titles are
title placeholders, so they show in PowerPoint's outline and navigation. Every run carries an East Asian
typeface (`a:ea`, Microsoft YaHei with the GB2312 charset, so PowerPoint picks a Chinese font where YaHei is
missing; LibreOffice substitutes a Noto Sans CJK face) besides the Latin one, which PowerPoint needs to render
Chinese properly.
"""
from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from metrics.core.links import hazard_url
from metrics.core.months import label
from metrics.reports import sections
from metrics.reports.bulletin import DOCUMENT_TITLE, Bulletin, SlideKind
from metrics.reports.chart_images import BulletinCharts, ChartImage
from metrics.reports.charts import STATUS_SYMBOLS
from metrics.reports.sections import Cell, Note, Section, Table, Tile, Tone, word

FONT = "Microsoft YaHei"
GB2312_CHARSET = "-122"
SYMBOL_FONT = "Segoe UI Symbol"
"""For ✔ ▲ ✖ ○ ↑ ↓: left to fallback, some applications draw them from a colour emoji font, whose lines are
too tall for a table row."""
_SYMBOLS = frozenset(STATUS_SYMBOLS[s] for s in ("green", "yellow", "red", "missing")) | {"↑", "↓"}
_SYMBOL_SPLIT = re.compile(f"([{''.join(sorted(_SYMBOLS))}])")
SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)
"""PowerPoint's own 16:9 size, 13.333 × 7.5 in."""
MARGIN = Inches(0.5)
BODY_TOP, BODY_BOTTOM = Inches(1.3), Inches(6.95)
BODY_WIDTH = SLIDE_WIDTH - 2 * MARGIN
GAP = Inches(0.2)
CELL_MARGIN, CELL_PADDING = Inches(0.02), Inches(0.08)
"""Above and below, left and right of a table cell's text."""
SMALLEST_TYPE = 11
LINE_HEIGHT = 1.2
"""Table lines are set exactly this many points apart per point of type: left to the font, CJK fonts set them
1.3–1.8 em apart depending on the application, and a table sized for one would overflow in another."""
INK, MUTED, TITLE_INK = "#212121", "#616161", "#0d3c78"
HEADER_FILL, BAND_FILL, TILE_FILL = "#37474f", "#f3f6f9", "#f3f6f9"
NOTE_STYLES = {Tone.VETO: ("#fdecea", "#b71c1c"), Tone.WARNING: ("#fff8e1", "#7a5a00"),
               Tone.INFO: ("#eaf1fb", "#0d3c78")}
TITLE_ONLY_LAYOUT = 5
"""Of python-pptx's default template: a title placeholder and nothing else."""


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#"))


class _Deck:
    """The presentation being written, with the language its runs are tagged with."""

    def __init__(self, lang: str, footer: str, dashboard: str | None = None) -> None:
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
        self.lang = lang
        self.footer = footer
        self.dashboard = dashboard
        """The dashboard's address: a hazard number links to the hazards behind it (None: no links)."""

    def run(self, paragraph, text: str, size: float, bold: bool = False, colour: str = INK) -> None:
        """The text at the end of the paragraph; status symbols in a symbol font of their own."""
        # The end-of-paragraph mark has a size of its own (18 pt by default) that sets the line height too.
        paragraph._p.get_or_add_endParaRPr().set("sz", str(round(size * 100)))
        for part in _SYMBOL_SPLIT.split(text):
            if part:
                self._run(paragraph, part, size, bold, colour, SYMBOL_FONT if part in _SYMBOLS else FONT)

    def _run(self, paragraph, text: str, size: float, bold: bool, colour: str, typeface: str) -> None:
        run = paragraph.add_run()
        run.text = text
        font = run.font
        font.size, font.bold, font.name = Pt(size), bold, typeface
        font.color.rgb = _rgb(colour)
        properties = run._r.get_or_add_rPr()
        properties.set("lang", "zh-CN" if self.lang == "zh" else "en-US")
        properties.set("altLang", "en-US" if self.lang == "zh" else "zh-CN")
        east_asian = etree.SubElement(properties, qn("a:ea"))
        east_asian.set("typeface", typeface)
        if typeface == FONT:
            east_asian.set("charset", GB2312_CHARSET)
        properties.find(qn("a:latin")).addnext(east_asian)

    def text(self, slide, left, top, width, height, lines: Sequence[tuple[str, float, bool, str]],
             align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP):
        """A text box of one paragraph per (text, size, bold, colour)."""
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap, frame.auto_size, frame.vertical_anchor = True, MSO_AUTO_SIZE.NONE, anchor
        for i, (text, size, bold, colour) in enumerate(lines):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            paragraph.alignment = align
            self.run(paragraph, text, size, bold, colour)
        return box

    def new_slide(self, title: str, left, top, width, height, size: float, colour: str, align=PP_ALIGN.LEFT):
        """A slide whose title placeholder (the template's is placed for 4:3) holds `title` in the given box."""
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[TITLE_ONLY_LAYOUT])
        placeholder = slide.shapes.title
        placeholder.left, placeholder.top, placeholder.width, placeholder.height = left, top, width, height
        frame = placeholder.text_frame
        frame.word_wrap, frame.vertical_anchor = True, MSO_ANCHOR.MIDDLE
        frame.paragraphs[0].alignment = align
        self.run(frame.paragraphs[0], title, size, True, colour)
        return slide

    def slide(self, title: str, number: int, total: int):
        slide = self.new_slide(title, MARGIN, Inches(0.3), BODY_WIDTH, Inches(0.8), 30, TITLE_INK)
        rule = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, MARGIN, Inches(1.12), BODY_WIDTH, Emu(Pt(2.5)))
        rule.fill.solid()
        rule.fill.fore_color.rgb = _rgb(TITLE_INK)
        rule.line.fill.background()
        self.text(slide, MARGIN, Inches(7.05), BODY_WIDTH, Inches(0.35),
                  [(f"{self.footer}    {number} / {total}", 11, False, MUTED)], align=PP_ALIGN.RIGHT)
        return slide

    def box(self, slide, left, top, width, height, fill: str, border: str | None = None, dashed: bool = False):
        shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, top, width, height)
        shape.adjustments[0] = 0.08
        shape.fill.solid()
        shape.fill.fore_color.rgb = _rgb(fill)
        if border:
            shape.line.color.rgb = _rgb(border)
            shape.line.width = Pt(1.5)
            if dashed:
                shape.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        else:
            shape.line.fill.background()
        shape.shadow.inherit = False
        return shape

    def save(self) -> bytes:
        out = io.BytesIO()
        self.prs.save(out)
        return out.getvalue()


def _notes(deck: _Deck, slide, notes: tuple[Note, ...], top, bottom) -> int:
    """The notes stacked between `top` and `bottom`, each at most 0.7 in tall; returns where they end."""
    if not notes:
        return top
    height = min(Inches(0.7), int((bottom - top - GAP * (len(notes) - 1)) / len(notes)))
    size = 18 if height >= Inches(0.6) else 16 if height >= Inches(0.45) else 13
    for note in notes:
        fill, ink = NOTE_STYLES[note.tone]
        shape = deck.box(slide, MARGIN, top, BODY_WIDTH, height, fill, ink if note.tone is Tone.VETO else None)
        frame = shape.text_frame
        frame.word_wrap, frame.vertical_anchor = True, MSO_ANCHOR.MIDDLE
        frame.margin_left = frame.margin_right = Inches(0.2)
        deck.run(frame.paragraphs[0], note.text, size, note.tone is not Tone.INFO, ink)
        top += height + GAP
    return top


def _cell(deck: _Deck, cell, content: Cell, size: float, fill: str, bold: bool = False, ink: str = INK) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = _rgb(content.fill or fill)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    cell.margin_left = cell.margin_right = CELL_PADDING
    cell.margin_top = cell.margin_bottom = CELL_MARGIN
    paragraph = cell.text_frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.RIGHT if content.numeric else PP_ALIGN.LEFT
    paragraph.line_spacing = Pt(size * LINE_HEIGHT)
    deck.run(paragraph, content.text, size, bold or content.bold, content.ink or ink)
    if content.link is not None and deck.dashboard is not None:
        for run in paragraph.runs:
            run.hyperlink.address = hazard_url(deck.dashboard, content.link)


def _ems(text: str) -> float:
    """The text's width in ems, generously: CJK and full-width characters 1, symbols 1.3 (the fallback font may
    be an emoji font), any other 0.7 (bold digits of a wide Latin font)."""
    return sum(1.3 if c in _SYMBOLS else 1.0 if unicodedata.east_asian_width(c) in "WF" else 0.7 for c in text)


def _header_ems(text: str) -> float:
    """A header may take two lines, but breaks between words only."""
    return max([_ems(text) / 2] + [_ems(w) for w in text.split()])


def _fit(table: Table, width: int, size: int) -> tuple[int, list[int]]:
    """The type size (at most `size`) and the column widths: every column as wide as its longest cell (a header
    may take two lines) at the largest size that fits the width, shrinking to three quarters of `size` at most;
    if that is not enough, numbers, statuses and grades keep their width and the text columns wrap."""
    needs = [max([_ems(row[j].text) for row in table.rows] + [_header_ems(name), 1.5])
             for j, name in enumerate(table.columns)]
    padding = 2 * CELL_PADDING

    def required(points: int) -> int:
        return int(sum(needs) * Pt(points)) + padding * len(needs)

    floor = max(SMALLEST_TYPE, round(size * 0.75))
    while size > floor and required(size) > width:
        size -= 1
    if required(size) <= width:
        spare = width - required(size)
        return size, [int(n * Pt(size) + padding + spare * n / sum(needs)) for n in needs]
    fixed = [all(row[j].numeric or row[j].fill for row in table.rows) for j in range(len(needs))]
    fixed_width = sum(int(n * Pt(size)) + padding for n, f in zip(needs, fixed) if f)
    text_needs = sum(n for n, f in zip(needs, fixed) if not f)
    return size, [int(n * Pt(size)) + padding if f else int((width - fixed_width) * n / text_needs)
                  for n, f in zip(needs, fixed)]


def _table(deck: _Deck, slide, table: Table, left, top, width, bottom, largest: int = 20) -> None:
    """A real table between `top` and `bottom`: type as large as one line per row allows (11 pt to `largest`),
    smaller if the columns need it; a cell that wraps makes its row taller."""
    rows = len(table.rows) + 1
    row_height = min(Inches(0.55), int((bottom - top) / rows))
    size = max(SMALLEST_TYPE, min(largest, int((Emu(row_height).pt - 2 * CELL_MARGIN.pt) / (LINE_HEIGHT * 1.1))))
    size, widths = _fit(table, width, size)
    shape = slide.shapes.add_table(rows, len(table.columns), left, top, width, row_height * rows)
    grid = shape.table
    grid.first_row, grid.horz_banding = True, False
    for column, column_width in zip(grid.columns, widths):
        column.width = Emu(column_width)
    for row in grid.rows:
        row.height = row_height
    for j, name in enumerate(table.columns):
        _cell(deck, grid.cell(0, j), Cell(name, numeric=table.rows[0][j].numeric if table.rows else False), size,
              HEADER_FILL, bold=True, ink="#ffffff")
    for i, cells in enumerate(table.rows, start=1):
        for j, content in enumerate(cells):
            _cell(deck, grid.cell(i, j), content, size, BAND_FILL if i % 2 == 0 else "#ffffff")


def _captioned_table(deck: _Deck, slide, table: Table, left, top, width, bottom, largest: int = 20) -> None:
    if table.caption:
        deck.text(slide, left, top, width, Inches(0.45), [(table.caption, 18, True, TITLE_INK)])
        top += Inches(0.5)
    _table(deck, slide, table, left, top, width, bottom, largest)


def _picture(deck: _Deck, slide, chart: ChartImage, reason: str | None, left, top, width, height) -> None:
    """The chart fitted into the box (centred, aspect kept), or a visible note of why it is missing."""
    if chart.png is None:
        shape = deck.box(slide, left, top, width, height, "#fafafa", "#9e9e9e", dashed=True)
        frame = shape.text_frame
        frame.word_wrap, frame.vertical_anchor = True, MSO_ANCHOR.MIDDLE
        deck.run(frame.paragraphs[0], word("chart_missing", deck.lang, title=chart.title, reason=reason), 14,
                 colour=MUTED)
        frame.paragraphs[0].alignment = PP_ALIGN.CENTER
        return
    scale = min(width / chart.width, height / chart.height)
    shown_width, shown_height = int(chart.width * scale), int(chart.height * scale)
    slide.shapes.add_picture(io.BytesIO(chart.png), left + (width - shown_width) // 2,
                             top + (height - shown_height) // 2, shown_width, shown_height)


def _tiles(deck: _Deck, slide, tiles: tuple[Tile, ...], top, columns: int = 4) -> int:
    width = int((BODY_WIDTH - GAP * (columns - 1)) / columns)
    height = Inches(1.55)
    for i, tile in enumerate(tiles):
        left = MARGIN + (width + GAP) * (i % columns)
        y = top + (height + GAP) * (i // columns)
        deck.box(slide, left, y, width, height, TILE_FILL)
        lines = [(tile.label, 15, False, MUTED), (tile.value, 34, True, INK)]
        lines += [(c.text, 12, False, c.colour or MUTED) for c in tile.changes]
        deck.text(slide, left + Inches(0.15), y + Inches(0.08), width - Inches(0.3), height - Inches(0.16), lines)
    return top + (height + GAP) * -(-len(tiles) // columns)


def _lay_out(deck: _Deck, slide, section: Section, charts: BulletinCharts) -> None:
    """One layout per kind of slide."""
    chart = {c.key: c for c in (charts.ranking, *charts.trends)}
    match section.slide.kind:
        case SlideKind.HEADLINE:
            below = _tiles(deck, slide, section.tiles, BODY_TOP)
            _notes(deck, slide, section.notes, below + Inches(0.05), BODY_BOTTOM)
        case SlideKind.VETO_AND_RED | SlideKind.RECTIFICATION:
            top = _notes(deck, slide, section.notes, BODY_TOP, BODY_TOP + (Inches(0.7) + GAP) * len(section.notes))
            for table in section.tables:
                _captioned_table(deck, slide, table, MARGIN, top, BODY_WIDTH, BODY_BOTTOM, largest=16)
        case SlideKind.SCORECARD:
            top = _notes(deck, slide, section.notes, BODY_TOP - Inches(0.05), BODY_TOP + Inches(0.4))
            for table in section.tables:
                _table(deck, slide, table, MARGIN, top - Inches(0.05), BODY_WIDTH, BODY_BOTTOM + Inches(0.05),
                       largest=14)
        case SlideKind.RANKING:  # the chart beside the table on the first slide; continued, the table alone
            table_width = Inches(7.2) if section.charts else BODY_WIDTH
            for table in section.tables:
                _table(deck, slide, table, MARGIN, BODY_TOP, table_width, BODY_BOTTOM, largest=16)
            left = MARGIN + table_width + Inches(0.3)
            for key in section.charts:
                width = SLIDE_WIDTH - MARGIN - left
                deck.text(slide, left, BODY_TOP, width, Inches(0.4), [(chart[key].title, 15, True, TITLE_INK)])
                _picture(deck, slide, chart[key], charts.reason, left, BODY_TOP + Inches(0.4), width,
                         BODY_BOTTOM - BODY_TOP - Inches(0.4))
        case SlideKind.MOVERS:
            width = int((BODY_WIDTH - Inches(0.4)) / 2)
            for i, table in enumerate(section.tables):
                _captioned_table(deck, slide, table, MARGIN + (width + Inches(0.4)) * i, BODY_TOP, width,
                                 BODY_TOP + Inches(0.5) + Inches(0.55) * (len(table.rows) + 1), largest=18)
        case SlideKind.TRENDS:
            width = int((BODY_WIDTH - GAP) / 2)
            height = int((BODY_BOTTOM - BODY_TOP - GAP) / 2)
            cells = [(MARGIN + (width + GAP) * (i % 2), BODY_TOP + (height + GAP) * (i // 2)) for i in range(4)]
            for (left, top), key in zip(cells, section.charts):
                deck.text(slide, left, top, width, Inches(0.4), [(chart[key].title, 15, True, TITLE_INK)])
                _picture(deck, slide, chart[key], charts.reason, left, top + Inches(0.4), width,
                         height - Inches(0.4))
            left, top = cells[len(section.charts)]
            for table in section.tables:
                _captioned_table(deck, slide, table, left, top, width, top + height, largest=14)
        case _:
            raise ValueError(f"unknown slide kind: {section.slide.kind!r}")


def _title_slide(deck: _Deck, bulletin: Bulletin, charts: BulletinCharts, total: int) -> None:
    lang = deck.lang
    slide = deck.new_slide(DOCUMENT_TITLE[lang], MARGIN, Inches(2.5), BODY_WIDTH, Inches(1.2), 54, "#ffffff",
                           PP_ALIGN.CENTER)
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(2.2), SLIDE_WIDTH, Inches(2.6))
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(TITLE_INK)
    band.line.fill.background()
    slide.shapes._spTree.remove(band._element)
    slide.shapes._spTree.insert(2, band._element)  # behind the title: the first two children are not shapes
    deck.text(slide, MARGIN, Inches(3.7), BODY_WIDTH, Inches(0.8), [(label(bulletin.month, lang), 32, False,
                                                                     "#ffffff")], align=PP_ALIGN.CENTER)
    note = sections.charts_note(charts, lang)
    if note:
        _notes(deck, slide, (note,), Inches(5.4), Inches(6.2))
    deck.text(slide, MARGIN, Inches(7.05), BODY_WIDTH, Inches(0.35), [(f"1 / {total}", 11, False, MUTED)],
              align=PP_ALIGN.RIGHT)


def bulletin_pptx(bulletin: Bulletin, lang: str, charts: BulletinCharts, scorecards: Sequence[str] = (),
                  dashboard: str | None = None) -> bytes:
    """The deck: title slide, then the slides of `bulletin.slides(lang, scorecards)` in order. `charts` from
    `chart_images.bulletin_charts` (a chart it left out shows as a note in its place); with the dashboard's
    address (`dashboard`), each hazard number in a table links to the hazards behind it."""
    pages = sections.sections(bulletin, lang, scorecards)
    deck = _Deck(lang, f"{DOCUMENT_TITLE[lang]} · {label(bulletin.month, lang)}", dashboard)
    total = len(pages) + 1
    _title_slide(deck, bulletin, charts, total)
    for number, page in enumerate(pages, start=2):
        _lay_out(deck, deck.slide(page.slide.title, number, total), page, charts)
    return deck.save()
