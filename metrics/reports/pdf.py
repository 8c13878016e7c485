"""The monthly bulletin as an A4 PDF to hand out: a cover, a table of contents with page numbers, then one
chapter per `Bulletin.slides()` entry with the same content as the deck and the meeting page (report_content),
paginated with page numbers in the footer. A chapter holds its tables whole (`sections(..., paged=False)`):
paper runs on to the next page, so the PDF lists every flag, every unit's hazards and the whole ranking where
a slide shows the worst rows or continues the table.

WeasyPrint lays out HTML and CSS paged media (`@page`, `target-counter` for the contents' page numbers) with
Pango, so Chinese is set in the Noto Sans CJK fonts the project installs (Debian fonts-noto-cjk) and
embedded in the file. Every text that goes into the HTML is escaped; charts are PNG data URIs.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape

from weasyprint import HTML

from metrics.core.links import hazard_url
from metrics.core.months import label
from metrics.reports import sections
from metrics.reports.bulletin import DOCUMENT_TITLE, Bulletin, SlideKind
from metrics.reports.chart_images import BulletinCharts, ChartImage
from metrics.reports.sections import Cell, Note, Section, Table, Tile, word

CONTENTS = {"zh": "目录", "en": "Contents"}
FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
STYLE = """
@page {
  size: A4; margin: 20mm 16mm 18mm 16mm;
  @top-right { content: %(running)s; font-size: 8.5pt; color: #757575; }
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #616161; }
}
@page :first { @top-right { content: none; } @bottom-center { content: none; } }
html { font-family: %(fonts)s; font-size: 10.5pt; color: #212121; line-height: 1.45; }
h1, h2, h3 { color: #0d3c78; font-weight: 700; }
.cover { height: 235mm; display: flex; flex-direction: column; justify-content: center; text-align: center; }
.cover h1 { font-size: 34pt; margin: 0 0 6mm 0; bookmark-level: none; }
.cover .month { font-size: 22pt; color: #37474f; margin: 0; }
.cover .note { margin-top: 18mm; text-align: left; }
.contents, .chapter { break-before: page; }
.contents h2 { bookmark-level: none; }
.contents ol { list-style: none; padding: 0; font-size: 13pt; }
.contents li { margin: 3mm 0; }
.contents a { color: #212121; text-decoration: none; }
.contents a::after { content: leader(".") target-counter(attr(href), page); }
h2 { font-size: 18pt; border-bottom: 2pt solid #0d3c78; padding-bottom: 2mm; margin: 0 0 5mm 0; }
h3 { font-size: 12.5pt; margin: 5mm 0 2mm 0; break-after: avoid; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; margin-bottom: 5mm; }
.tile { background: #f3f6f9; border-radius: 2mm; padding: 3mm; }
.tile .label { color: #616161; font-size: 9.5pt; }
.tile .value { font-size: 20pt; font-weight: 700; margin: 1mm 0; }
.tile .change { font-size: 8.5pt; color: #616161; }
.note { border-radius: 2mm; padding: 3mm 4mm; margin: 0 0 3mm 0; break-inside: avoid; }
.note.veto { background: #fdecea; color: #b71c1c; border: 1pt solid #b71c1c; font-weight: 700; }
.note.warning { background: #fff8e1; color: #7a5a00; font-weight: 700; }
.note.info { background: #eaf1fb; color: #0d3c78; }
table { width: 100%%; border-collapse: collapse; margin: 0 0 5mm 0; font-size: 10pt; }
thead { display: table-header-group; }
th { background: #37474f; color: #ffffff; font-weight: 700; text-align: left; }
th, td { padding: 1.4mm 2mm; border-bottom: 0.4pt solid #dddddd; }
tbody tr:nth-child(even) td { background-color: #f3f6f9; }
tr { break-inside: avoid; }
.num { text-align: right; }
td a, .tile a { color: #0d47a1; }
td.strong { font-weight: 700; }
figure { margin: 0 0 5mm 0; break-inside: avoid; }
figure img { width: 100%%; }
figure.ranking img { width: 75%%; }
figcaption { font-weight: 700; color: #0d3c78; margin-bottom: 1mm; }
.missing-chart { border: 1pt dashed #9e9e9e; border-radius: 2mm; padding: 10mm 6mm; text-align: center;
                 color: #616161; }
"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _linked(text: str, link: Mapping[str, str] | None, base: str | None) -> str:
    """The escaped text, inside a link to the hazards behind it where it has one and the dashboard's address is
    known."""
    shown = escape(text)
    return shown if link is None or base is None else f'<a href="{escape(hazard_url(base, link))}">{shown}</a>'


def _cell(cell: Cell, tag: str = "td", css_class: str | None = None, base: str | None = None) -> str:
    classes = [c for c in (css_class, "num" if cell.numeric else None, "strong" if cell.bold else None) if c]
    style = "".join(f"{p}: {v};" for p, v in (("background-color", cell.fill), ("color", cell.ink)) if v)
    attributes = (f' class="{" ".join(classes)}"' if classes else "") + (f' style="{style}"' if style else "")
    return f"<{tag}{attributes}>{_linked(cell.text, cell.link, base)}</{tag}>"


def _table(table: Table, base: str | None) -> str:
    numeric = [bool(table.rows) and table.rows[0][j].numeric for j in range(len(table.columns))]
    head = "".join(_cell(Cell(name, numeric=n), "th") for name, n in zip(table.columns, numeric))
    body = "".join("<tr>" + "".join(_cell(c, base=base) for c in row) + "</tr>" for row in table.rows)
    caption = f"<h3>{escape(table.caption)}</h3>" if table.caption else ""
    return f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(note: Note) -> str:
    return f'<p class="note {note.tone.value}">{escape(note.text)}</p>'


def _tile(tile: Tile, base: str | None) -> str:
    changes = "".join(_cell(Cell(c.text, ink=c.colour), "div", "change") for c in tile.changes)
    return (f'<div class="tile"><div class="label">{escape(tile.label)}</div>'
            f'<div class="value">{_linked(tile.value, tile.link, base)}</div>{changes}</div>')


def _figure(chart: ChartImage, reason: str | None, lang: str) -> str:
    if chart.png is None:
        text = word("chart_missing", lang, title=chart.title, reason=reason)
        return f'<figure><div class="missing-chart">{escape(text)}</div></figure>'
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure class="{escape(chart.key)}"><figcaption>{escape(chart.title)}</figcaption>'
            f'<img src="data:image/png;base64,{data}" alt="{escape(chart.title)}"></figure>')


def _chapter_body(section: Section, charts: BulletinCharts, lang: str, base: str | None) -> str:
    """The chapter's parts in the order the meeting reads them, per kind of slide."""
    chart = {c.key: c for c in (charts.ranking, *charts.trends)}
    tiles = f'<div class="tiles">{"".join(_tile(t, base) for t in section.tiles)}</div>' if section.tiles else ""
    notes = "".join(_note(n) for n in section.notes)
    tables = "".join(_table(t, base) for t in section.tables)
    figures = "".join(_figure(chart[key], charts.reason, lang) for key in section.charts)
    match section.slide.kind:
        case SlideKind.HEADLINE:
            return tiles + notes
        case SlideKind.VETO_AND_RED | SlideKind.MOVERS | SlideKind.RECTIFICATION | SlideKind.SCORECARD:
            return notes + tables
        case SlideKind.RANKING | SlideKind.TRENDS:
            return tables + figures
    raise ValueError(f"unknown slide kind: {section.slide.kind!r}")


def bulletin_html(bulletin: Bulletin, lang: str, charts: BulletinCharts, scorecards: Sequence[str] = (),
                  dashboard: str | None = None) -> str:
    """The bulletin as one HTML document for paged media (what `bulletin_pdf` lays out). With the dashboard's
    address (`dashboard`: https://safety.example.cn), each hazard number links to the hazards behind it."""
    parts = sections.sections(bulletin, lang, scorecards, paged=False)
    title, month = DOCUMENT_TITLE[lang], label(bulletin.month, lang)
    style = STYLE % {"running": _css_string(f"{title} · {month}"), "fonts": FONTS}
    note = sections.charts_note(charts, lang)
    omitted = _note(note) if note else ""
    cover = (f'<section class="cover"><h1>{escape(title)}</h1><p class="month">{escape(month)}</p>'
             f"{omitted}</section>")
    entries = "".join(f'<li><a href="#part-{i}">{escape(s.slide.title)}</a></li>' for i, s in enumerate(parts, 1))
    contents = f'<nav class="contents"><h2>{escape(CONTENTS[lang])}</h2><ol>{entries}</ol></nav>'
    chapters = "".join(f'<section class="chapter" id="part-{i}"><h2>{escape(s.slide.title)}</h2>'
                       f"{_chapter_body(s, charts, lang, dashboard)}</section>" for i, s in enumerate(parts, 1))
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{escape(title)} {escape(month)}</title><style>{style}</style></head>"
            f"<body>{cover}{contents}{chapters}</body></html>")


def bulletin_pdf(bulletin: Bulletin, lang: str, charts: BulletinCharts, scorecards: Sequence[str] = (),
                 dashboard: str | None = None) -> bytes:
    """The A4 PDF: cover, contents, then the chapters of `bulletin.slides(lang, scorecards)` in order. `charts`
    from `chart_images.bulletin_charts` (a chart it left out shows as a note in its place); `dashboard`, the
    dashboard's address, makes each hazard number a link to the hazards behind it (as `bulletin_html`)."""
    return HTML(string=bulletin_html(bulletin, lang, charts, scorecards, dashboard)).write_pdf()
