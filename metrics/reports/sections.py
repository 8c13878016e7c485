"""What each part of the monthly bulletin says, as text, tables and figures ready to lay out: the `Section`s
of `sections()`, shown one at a time by the meeting page (pages/meeting.py), laid out as slides by report_pptx
and as chapters by report_pdf, so the projector and the two documents cannot disagree. The charts are the
Plotly figures of `figure()`: drawn on the page, made into pictures for the files by chart_images.

A slide holds what a 1280×720 screen and a 16:9 slide hold in type readable across a meeting room: SLIDE_ROWS
table rows, a banner taking the room of NOTE_ROWS of them. Where a table is longer, `sections()` gives the
meeting what it needs:
- vetoes and red flags: the worst first (the vetoes, then the red flags furthest beyond their limit, measured
  in widths of the target-to-limit band), the last row "及其余 N 项 / and N more";
- the ranking and a scorecard: continued on further slides titled "…（2/4）", the ranking's chart (best and
  worst scores) on its first; a scorecard's breached indicators first;
- hazard rectification: the lowest rates first, "及其余 N 个单位", and the group's row always last;
- a banner names as many units as fit on a line or two (NAMED_EMS), then "及其余 N 个单位".
The PDF takes `sections(..., paged=False)`: every table and list whole, since paper runs on to the next page.

The key trends are year to date, as their slide says (bulletin.build_bulletin reads them on that basis).

Statuses read as symbol and word on the status colour (✔ 达标, ▲ 预警, ✖ 超标, ○ 未报), never the colour
alone; numbers as `formatting.display_number` writes them.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from metrics.core.codes import (
    FATALITIES,
    HAZARDS_FOUND,
    HAZARDS_OVERDUE,
    HAZARDS_RECTIFIED,
    LTIFR,
    MAJOR_HAZARDS,
    RECTIFICATION_RATE,
)
from metrics.core.formatting import display_number
from metrics.core.links import figures_behind, hazard_query, keeping
from metrics.core.months import day_label, label
from metrics.core.words import word
from metrics.reports import charts
from metrics.reports.bulletin import KEY_TRENDS, Bulletin, Slide, SlideKind
from metrics.scoring.breaches import Breach
from metrics.scoring.scorecard import breached_first

if TYPE_CHECKING:  # chart_images makes its pictures from `figure` below
    from metrics.reports.chart_images import BulletinCharts

MAX_VETO_BANNERS = 3
SLIDE_ROWS = 14
"""Table rows (the header not counted) a slide holds: what the meeting page's type fits on a 1280×720 screen."""
NOTE_ROWS = 2
"""The room a banner above a table takes, in table rows."""
NAMED_EMS = 40
"""How wide the unit names a banner lists may run, in ems (a Chinese character is one), before "and N more"."""
RANKING_BARS = 20
"""The ranking chart of a larger group shows its 10 best and 10 worst scores."""
SEPARATOR = {"zh": "、", "en": ", "}
CHANGE_COLOURS = {"better": charts.STATUS_COLOURS["green"], "worse": charts.STATUS_COLOURS["red"]}


class Tone(str, Enum):
    VETO = "veto"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Cell:
    text: str
    fill: str | None = None
    """Background colour (#rrggbb) of a status or grade; None: the table's own."""
    ink: str | None = None
    """Text colour; None: the table's own."""
    bold: bool = False
    numeric: bool = False
    """Right-aligned."""
    link: Mapping[str, str] | None = None
    """The hazard ledger page's query for the hazards behind the number (metrics/core/links.py); None: no link."""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class Change:
    text: str
    colour: str | None
    """Green when better, red when worse, None when unchanged or unknown."""


@dataclass(frozen=True)
class Tile:
    """A headline figure: what, how much, and how it changed."""
    label: str
    value: str
    changes: tuple[Change, ...]
    link: Mapping[str, str] | None = None
    """As a Cell's: the hazards behind the figure."""


@dataclass(frozen=True)
class Note:
    text: str
    tone: Tone


@dataclass(frozen=True)
class Section:
    slide: Slide
    tiles: tuple[Tile, ...] = ()
    notes: tuple[Note, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[str, ...] = ()
    """Keys of chart_images.ChartImage: 'ranking' or an indicator code."""


def ink_on(fill: str) -> str:
    """Black or white, whichever reads better on the fill (WCAG relative luminance)."""
    channels = [int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#212121" if luminance > 0.4 else "#ffffff"


def status_cell(status: str | None, lang: str) -> Cell:
    if status is None or status != status:
        return Cell("")
    fill = charts.STATUS_COLOURS[status]
    return Cell(charts.status_label(status, lang), fill=fill, ink=ink_on(fill),
                bold=True)


def grade_cell(grade: str | None, grades: pd.DataFrame, lang: str) -> Cell:
    if grade is None or grade != grade:
        return Cell("—")
    fill = charts.GRADE_COLOURS.get(grade, charts.GRADE_COLOURS[None])
    if grade == "veto":
        text = word("veto", lang)
    else:
        row = grades[grades["grade"] == grade]
        text = f"{grade} {row.iloc[0]['name_zh' if lang == 'zh' else 'name_en'] if len(row) else ''}".strip()
    return Cell(text, fill=fill, ink=ink_on(fill), bold=True)


def unit_grade_cell(unit, bulletin: Bulletin, lang: str) -> Cell:
    """A ranked unit's grade; one that reported nothing for the month reads 未报 (待报 before the deadline), never D."""
    if unit.reason == "not_reported":
        return Cell(word("not_reported" if bulletin.overview.deadline_passed else "pending", lang))
    return grade_cell(unit.grade, bulletin.reference.grades, lang)


def number_cell(value, digits: int | None = None, bold: bool = False) -> Cell:
    shown = None if value is None or pd.isna(value) else round(float(value), digits) if digits is not None else value
    return Cell(display_number(shown), numeric=True, bold=bold)


def hazard_link(bulletin: Bulletin, code: str, unit: str | None = None) -> dict[str, str] | None:
    """The ledger page's query for the hazards behind indicator `code` year to date (the bulletin's basis) of
    `unit` (None: the group's), where the ledger holds them all (metrics/core/links.py): for the group, every
    unit's (a number that adds up typed figures too has no list of its own); None where it does not, or `code`
    counts no hazards."""
    ref = bulletin.reference
    figure = figures_behind(ref.indicators).get(code)
    if figure is None:
        return None
    kept = keeping(ref.units, ref.indicators, figure, bulletin.month, "ytd")
    if unit is not None:
        return hazard_query(figure, bulletin.month, (unit,)) if unit in kept else None
    return hazard_query(figure, bulletin.month) if set(ref.units["code"]) <= kept else None


def linked(cell: Cell, link: Mapping[str, str] | None) -> Cell:
    return cell if link is None else replace(cell, link=link)


def change_text(value: float | None, digits: int) -> str:
    """'+1.5', '-20', '0', or '—' where there is nothing to compare (as the pages write changes)."""
    if value is None or value != value:
        return "—"
    if not round(value, digits):
        return "0"
    text = f"{value:+,.{digits}f}"
    return text.rstrip("0").rstrip(".") if digits else text


def _change_colour(value: float | None, digits: int, lower_is_better: bool) -> str | None:
    if value is None or value != value or not round(value, digits):
        return None
    return CHANGE_COLOURS["better" if (value < 0) == lower_is_better else "worse"]


def change_cell(value: float | None, digits: int = 1) -> Cell:
    """A score change: up is better."""
    return Cell(change_text(value, digits), ink=_change_colour(value, digits, False), numeric=True)


def _ems(text: str) -> float:
    """The text's width in ems: a Chinese (wide) character 1, any other 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def named(names: list[str], lang: str, room: float | None = NAMED_EMS) -> str:
    """The names joined, as many as fit `room` ems, then "及其余 N 个单位" (room None: all of them)."""
    shown: list[str] = []
    width = 0.0
    for name in names:
        width += _ems(name) + 1
        if room is not None and shown and width > room:
            break
        shown.append(name)
    joined = SEPARATOR[lang].join(shown)
    return joined if len(shown) == len(names) else word("named_more", lang, names=joined, count=len(names) - len(shown))


def _headline(bulletin: Bulletin, lang: str, paged: bool = True) -> tuple[tuple[Tile, ...], tuple[Note, ...]]:
    ov = bulletin.overview
    h = ov.headlines

    def tile(key: str, code: str, digits: int, suffix: str = "") -> Tile:
        figure = h[code]
        value = "—" if figure.value is None else f"{display_number(round(figure.value, digits))}{suffix}"
        changes = tuple(Change(word(which, lang, change=change_text(figure.change(other), digits)),
                               _change_colour(figure.change(other), digits, figure.lower_is_better))
                        for which, other in (("vs_month", figure.previous), ("vs_year", figure.last_year)))
        return Tile(word(key, lang), value, changes, hazard_link(bulletin, code))

    def days(key: str, safe) -> Tile:
        return Tile(word(key, lang), f"{'≥' if safe.since_records else ''}{safe.days:,} {word('days', lang)}", ())

    reported = h["reported"]
    reported_tile = Tile(word("reported", lang), f"{int(reported.value or 0)} / {ov.expected}",
                         tuple(Change(word(which, lang, count="—" if other is None else f"{int(other)}"), None)
                               for which, other in (("reported_month", reported.previous),
                                                    ("reported_year", reported.last_year))))
    tiles = (tile("fatalities", FATALITIES, 0), tile("ltifr", LTIFR, 2),
             tile("rectification", RECTIFICATION_RATE, 1, "%"), days("safe_days_full", ov.safe_days_fatality["*"]),
             tile("red_flags", "red", 0), tile("yellow_flags", "yellow", 0), reported_tile,
             days("lti_days_full", ov.safe_days_lost_time["*"]))
    names, indicators = bulletin.names(lang), bulletin.indicator_names(lang)
    values = ov.ytd.indicators.set_index(["subsidiary", "indicator"])["value"]
    separator = "、" if lang == "zh" else ", "
    vetoed = list(ov.vetoed_units.itertuples(index=False))
    room = NAMED_EMS if paged else None
    if len(vetoed) > MAX_VETO_BANNERS:  # one banner naming them: a banner each would not fit the slide
        notes = [Note(word("vetoed_units_banner", lang, count=len(vetoed),
                           units=named([names[u.subsidiary] for u in vetoed], lang, room)), Tone.VETO)]
    else:
        notes = [Note(word("veto_banner", lang, unit=names[u.subsidiary], reason=separator.join(
            f"{indicators[c]} {display_number(values[(u.subsidiary, c)])}" for c in u.veto_reason)), Tone.VETO)
            for u in vetoed]
    if ov.missing_units:
        key, tone = ("missing_banner", Tone.WARNING) if ov.deadline_passed else ("pending_banner", Tone.INFO)
        notes.append(Note(word(key, lang, units=named([names[c] for c in ov.missing_units], lang, room),
                               deadline=day_label(ov.deadline, lang)), tone))
    return tiles, (*notes, Note(word("headline_note", lang), Tone.INFO))


def beyond_limit(flag: Breach) -> float:
    """How far a red flag lies beyond its limit, in widths of its target-to-limit band (where target and limit
    are equal, in units of the limit, or of 1 for a limit of 0): the worst are the meeting's first business."""
    value, target, limit = (flag.evidence.get(k) for k in ("value", "target", "limit"))
    if value is None or limit is None:
        return 0.0
    band = abs(limit - (limit if target is None else target)) or abs(limit) or 1.0
    return abs(value - limit) / band


def _flags(bulletin: Bulletin, lang: str, paged: bool = True) -> tuple[tuple[Note, ...], tuple[Table, ...]]:
    """Vetoes as banners, red flags in a table, the worst first; the red flag of a vetoed indicator is the veto
    itself, so it is not listed twice. Paged, a table longer than the slide ends with "and N more"."""
    flagged = bulletin.flagged()
    if not flagged:
        return (Note(word("nothing_flagged", lang), Tone.INFO),), ()
    names = {r.code: (r.name_zh, r.name_en) for r in bulletin.reference.indicators.itertuples(index=False)}
    vetoes = [b for b in flagged if b.kind == "veto"]
    colon = "：" if lang == "zh" else ": "
    reds = sorted((b for b in flagged if b.kind == "red"), key=lambda b: (-beyond_limit(b), b.subsidiary))
    if len(vetoes) <= MAX_VETO_BANNERS:
        notes = tuple(Note(f"{b.unit_name(lang)}{colon}{b.message(lang, names)}", Tone.VETO) for b in vetoes)
        listed = reds
    else:  # a bad month: the vetoes head the table instead of filling the page with banners
        notes = (Note(word("many_vetoes", lang, count=len(vetoes)), Tone.VETO),)
        listed = vetoes + reds
    room = SLIDE_ROWS - NOTE_ROWS * len(notes)
    rest = len(listed) - (room - 1) if paged and len(listed) > room else 0
    listed = listed[:len(listed) - rest]
    veto_fill = charts.GRADE_COLOURS["veto"]
    rows = tuple((Cell(word("veto", lang), fill=veto_fill, ink=ink_on(veto_fill), bold=True) if b.kind == "veto"
                  else status_cell("red", lang), Cell(b.unit_name(lang)),
                  linked(Cell(b.message(lang, names)), hazard_link(bulletin, b.indicator, b.subsidiary)
                         if b.indicator else None))
                 for b in listed)
    if rest:
        rows += ((Cell(""), Cell(""), Cell(word("more_flags", lang, count=rest), bold=True)),)
    if not rows:
        return notes, ()
    return notes, (Table((word("status", lang), word("unit", lang), word("detail", lang)), rows),)


def _ranking(bulletin: Bulletin, lang: str) -> Table:
    names = bulletin.names(lang)
    rows = []
    for u in bulletin.overview.units.itertuples(index=False):
        moved = None if pd.isna(u.rank_change) else int(u.rank_change)
        rank_change = "—" if moved is None else "0" if moved == 0 else f"↑{moved}" if moved > 0 else f"↓{-moved}"
        rows.append((number_cell(u.rank), Cell(names[u.subsidiary]), number_cell(u.unit_score, 1, bold=True),
                     unit_grade_cell(u, bulletin, lang), change_cell(u.change),
                     Cell(rank_change, ink=_change_colour(moved, 0, False), numeric=True)))
    columns = tuple(word(k, lang) for k in ("rank", "unit", "score", "grade", "change", "rank_change"))
    return Table(columns, tuple(rows))


def _movers(bulletin: Bulletin, lang: str) -> tuple[Table, ...]:
    names, grades = bulletin.names(lang), bulletin.reference.grades
    columns = tuple(word(k, lang) for k in ("unit", "previous_score", "score", "change", "grade"))
    tables = []
    for caption, frame in zip(("improvers", "decliners"), bulletin.movers()):
        rows = tuple((Cell(names[m.subsidiary]), number_cell(m.previous_score, 1), number_cell(m.unit_score, 1, True),
                      change_cell(m.change), grade_cell(m.grade, grades, lang)) for m in frame.itertuples(index=False))
        if not rows:
            rows = ((Cell(word("no_movers", lang)), Cell(""), Cell(""), Cell(""), Cell("")),)
        tables.append(Table(columns, rows, word(caption, lang)))
    return tuple(tables)


def _trend_summary(bulletin: Bulletin, lang: str) -> Table:
    names = bulletin.indicator_names(lang)
    rows = []
    for code in KEY_TRENDS:
        series = bulletin.trends[code].set_index("month")

        def at(months_back: int, column: str = "value", series: pd.DataFrame = series):  # this code's series
            moment = pd.Timestamp(bulletin.month) - pd.DateOffset(months=months_back)
            return series[column].get(moment)

        rows.append((Cell(names[code]), number_cell(at(0), 2, bold=True), number_cell(at(1), 2),
                     number_cell(at(12), 2), number_cell(at(0, "target")), number_cell(at(0, "limit"))))
    columns = tuple(word(k, lang) for k in ("indicator", "value_ytd", "ytd_last_month", "ytd_last_year", "target",
                                            "limit"))
    return Table(columns, tuple(rows), word("trend_note", lang, month=label(bulletin.month, lang)))


def _rectification(bulletin: Bulletin, lang: str, paged: bool = True) -> Table:
    """Every unit's hazards, the lowest rates first, the group's row last; paged, the units a slide has no room
    for are counted in an "and N more" row above the group's."""
    names = bulletin.names(lang)
    rows = []
    for r in bulletin.rectification().itertuples(index=False):
        total = r.subsidiary == "*"
        unit = None if total else r.subsidiary

        def behind(cell: Cell, code: str, unit: str | None = unit) -> Cell:
            return linked(cell, hazard_link(bulletin, code, unit))

        rows.append((Cell(word("group_total", lang) if total else names[r.subsidiary], bold=total),
                     behind(number_cell(r.found, bold=total), HAZARDS_FOUND),
                     behind(number_cell(r.rectified, bold=total), HAZARDS_RECTIFIED),
                     behind(number_cell(r.rate, 1, bold=True), RECTIFICATION_RATE), status_cell(r.status, lang),
                     behind(number_cell(r.overdue, bold=total), HAZARDS_OVERDUE),
                     behind(number_cell(r.major, bold=total), MAJOR_HAZARDS)))
    columns = tuple(word(k, lang) for k in ("unit", "found", "rectified", "rate", "status", "overdue", "major"))
    if paged and len(rows) > SLIDE_ROWS:
        shown, group = rows[:SLIDE_ROWS - 2], rows[-1]
        more = (Cell(word("more_units", lang, count=len(rows) - 1 - len(shown)), bold=True),) + (Cell(""),) * 6
        rows = [*shown, more, group]
    return Table(columns, tuple(rows))


def _scorecard(bulletin: Bulletin, unit: str, lang: str) -> tuple[Note, Table]:
    indicators = bulletin.indicator_names(lang)
    ranked = bulletin.overview.units.set_index("subsidiary").loc[unit]
    grade = unit_grade_cell(ranked, bulletin, lang).text
    summary = word("scorecard_summary", lang, score=display_number(
        None if ranked["unit_score"] != ranked["unit_score"] else round(ranked["unit_score"], 1)),
        grade=grade, rank="—" if pd.isna(ranked["rank"]) else int(ranked["rank"]), count=bulletin.overview.ranked,
        red=int(ranked["red"]),
        yellow=int(ranked["yellow"]), missing=int(ranked["missing"]))
    card = breached_first(bulletin.scorecard(unit))
    rows = tuple((Cell(indicators[r.indicator], bold=bool(r.veto)),
                  linked(number_cell(r.value), hazard_link(bulletin, r.indicator, unit)), number_cell(r.target),
                  number_cell(r.limit), status_cell(r.status, lang), number_cell(r.score, 1), number_cell(r.weight),
                  Cell(word("yes", lang) if r.veto else "")) for r in card.itertuples(index=False))
    columns = tuple(word(k, lang) for k in ("indicator", "value_ytd", "target", "limit", "status", "score",
                                            "weight", "veto"))
    tone = Tone.VETO if ranked["vetoed"] else Tone.INFO
    return Note(summary, tone), Table(columns, rows)


def figure(bulletin: Bulletin, key: str, lang: str) -> go.Figure:
    """The chart `key` of a section ('ranking' or a key trend's indicator code): the meeting page draws it,
    chart_images makes the files' picture of it."""
    if key == "ranking":
        return charts.score_bars(bulletin.overview.units, bulletin.names(lang), lang, most=RANKING_BARS,
                                 overdue=bulletin.overview.deadline_passed)
    measure = bulletin.reference.indicators.set_index("code").at[key, "unit_zh" if lang == "zh" else "unit_en"]
    return charts.year_to_date_trend(bulletin.trends[key], measure, lang)


def chart_title(bulletin: Bulletin, key: str, lang: str) -> str:
    if key != "ranking":
        return bulletin.indicator_names(lang)[key]
    if len(bulletin.overview.units) > RANKING_BARS:
        return word("ranking_chart_most", lang, count=RANKING_BARS // 2)
    return word("ranking_chart", lang)


def charts_note(charts: BulletinCharts, lang: str) -> Note | None:
    """What the cover says when charts were left out: why, and which."""
    if not charts.omitted:
        return None
    separator = "、" if lang == "zh" else ", "
    return Note(word("charts_omitted", lang, reason=charts.reason, titles=separator.join(charts.omitted)), Tone.WARNING)


def section(bulletin: Bulletin, slide: Slide, lang: str, paged: bool = True) -> Section:
    """The content of one slide of `Bulletin.slides`; paged, the flags and the rectification table cut to what
    a slide holds (see the module's docstring)."""
    match slide.kind:
        case SlideKind.HEADLINE:
            tiles, notes = _headline(bulletin, lang, paged)
            return Section(slide, tiles=tiles, notes=notes)
        case SlideKind.VETO_AND_RED:
            notes, tables = _flags(bulletin, lang, paged)
            return Section(slide, notes=notes, tables=tables)
        case SlideKind.RANKING:
            return Section(slide, tables=(_ranking(bulletin, lang),), charts=("ranking",))
        case SlideKind.MOVERS:
            return Section(slide, tables=_movers(bulletin, lang))
        case SlideKind.TRENDS:
            return Section(slide, tables=(_trend_summary(bulletin, lang),), charts=KEY_TRENDS)
        case SlideKind.RECTIFICATION:
            return Section(slide, tables=(_rectification(bulletin, lang, paged),))
        case SlideKind.SCORECARD:
            assert slide.unit is not None  # a scorecard slide is one unit's
            note, table = _scorecard(bulletin, slide.unit, lang)
            return Section(slide, notes=(note,), tables=(table,))
    raise ValueError(f"unknown slide kind: {slide.kind!r}")


def continued(whole: Section, lang: str) -> list[Section]:
    """A ranking or scorecard whose table is longer than a slide holds, over as many slides as it takes, each
    titled "…（2/4）": the first with the notes and charts, the others with the rest of the rows."""
    room = SLIDE_ROWS - NOTE_ROWS * len(whole.notes)
    if whole.slide.kind not in (SlideKind.RANKING, SlideKind.SCORECARD) or len(whole.tables) != 1 \
            or len(whole.tables[0].rows) <= room:
        return [whole]
    table = whole.tables[0]
    chunks = [table.rows[:room]] + [table.rows[i:i + SLIDE_ROWS] for i in range(room, len(table.rows), SLIDE_ROWS)]
    pages = []
    for page, rows in enumerate(chunks, start=1):
        title = word("paged_title", lang, title=whole.slide.title, page=page, pages=len(chunks))
        part = Section(replace(whole.slide, title=title), tables=(replace(table, rows=rows),))
        pages.append(replace(part, notes=whole.notes, charts=whole.charts) if page == 1 else part)
    return pages


def sections(bulletin: Bulletin, lang: str, scorecards: Sequence[str] = (), paged: bool = True) -> list[Section]:
    """Every slide in meeting order (`Bulletin.slides`, one scorecard per unit asked for) as the meeting page
    and the deck show them: paged, each fitting a slide; `paged=False`, each section whole (the PDF)."""
    whole = [section(bulletin, slide, lang, paged) for slide in bulletin.slides(lang, scorecards)]
    return [page for s in whole for page in continued(s, lang)] if paged else whole
