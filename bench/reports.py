#!/usr/bin/env python
"""Bulletin generation benchmark (issue: "The benchmark reports generating each format for a 12-unit month and
a 500-unit month; aim under 10 s for the PPTX of 12 units. Not a timed test."): `make bench`, or
`.venv/bin/python bench/reports.py`.

1. The two stores of bench/pages.py (`demo_store`, `group_store`: built once, reused from its cache directory),
   copied into this benchmark's own output directory, since `python -m metrics report` opens its store
   read-write (as it does for real) and the shared cache is left untouched.
2. For each store and the month 2026-10, the steps of `python -m metrics report` (metrics/cli/main.py `_cmd_report`,
   `_report_bytes`) timed one by one in this process:
   a. building the bulletin: `store.connect`, `store.migrate`, `overview.available_months`,
      `bulletin.build_bulletin` (the store queries);
   b. the chart images, `chart_images.bulletin_charts`: cold (Chromium started by the call: `chart_images.stop()`
      before each run; the very first call of the process is reported separately) and with the renderer warm;
   c. each format's assembly from the same bulletin and images: `slides.bulletin_pptx`,
      `pdf.bulletin_pdf`, `workbook.bulletin_xlsx`;
   and the whole command as a subprocess, once per format, `python -m metrics report --db STORE --month 2026-10
   --format FMT --out DIR` (Python start-up, imports, a Chromium of its own, writing the file).
   Medians of 3 runs; a step whose first run takes longer than --cheap seconds runs once.
3. The outputs read back: sizes, slides (python-pptx), pages and chapters (pypdf), sheets (openpyxl), the chart
   PNGs' pixel sizes and where the ranking chart lands on a slide and on a PDF page. The PDF page holding the
   ranking chart is drawn with `pdftoppm -r 50`, and the chart PNGs are saved, for a person to look at.
4. Every assembly step of the 500-unit store that takes longer than --profile-over seconds (or raises) is run
   once more under cProfile and its main costs are listed.
5. Writes bench/REPORTS.md. A section headed "## Looked at by eye" in the existing file is kept as it is.
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import plotly.io as pio
from PIL import Image

PLOTLY_TEMPLATE = pio.templates.default
from bench.pages import DEFAULT_CACHE, demo_store, describe, group_store

# bench.pages imports Streamlit, and importing Streamlit makes its own Plotly template the default, which changes
# the chart images (see "template" below); `python -m metrics report` never imports Streamlit.
STREAMLIT_TEMPLATE = pio.templates.default
pio.templates.default = PLOTLY_TEMPLATE
from bench.common import machine, publish, table
from metrics import store
from metrics.core.months import iso_month
from metrics.reports import bulletin
from metrics.reports.bulletin import KEY_TRENDS
from metrics.scoring import overview

if TYPE_CHECKING:
    from metrics.reports.chart_images import BulletinCharts

MONTH = date(2026, 10, 1)
LANG = "zh"
FORMATS = ("pptx", "pdf", "xlsx")
PPTX_AIM_S = 10.0
RESULTS = Path(__file__).resolve().parent / "REPORTS.md"
DEFAULT_OUT = Path(tempfile.gettempdir()) / "safety-bench-reports"
BY_EYE = "## Looked at by eye"
IMPORTS = ("import metrics.cli.main, metrics.reports.chart_images, metrics.reports.slides, metrics.reports.pdf, "
           "metrics.reports.workbook")
MM_PER_PT = 25.4 / 72
SQUEEZED = 0.2 * 914400
PAGED_TITLE = re.compile(r"(.*)（(\d+)/(\d+)）")  # data/words.toml paged_title.zh (LANG)
"""A text box less than 0.2 in (14.4 pt) tall cannot hold a line of the deck's smallest type (11 pt)."""


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Step:
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (Chromium's is not in it)
    error: str | None = None
    load: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def cell(self) -> str:
        if self.error:
            return f"**raised** after {self.times[0]:.2f}" if self.times else "**raised**"
        if not self.times:
            return "—"
        return f"{self.median:.2f}" if len(self.times) > 1 else f"{self.times[0]:.2f} (1 run)"


def where(exc: BaseException) -> str:
    """The exception and the innermost frame of the project's own code that it went through."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(ROOT / "metrics") in f.filename]
    at = (" in " + " → ".join(f"`{Path(f.filename).stem}.{f.name}` (:{f.lineno})" for f in frames)) if frames else ""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{at}"


def timed(fn: Callable[[], object], runs: int, cheap_s: float, before: Callable[[], None] | None = None):
    """(Step, the last result). `before` runs untimed ahead of each run."""
    step, result = Step(load=" ".join(f"{x:.2f}" for x in os.getloadavg())), None
    for i in range(runs):
        if before is not None:
            before()
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - reported, not timed further
            step.times.append(time.perf_counter() - t0)
            step.error = where(exc)
            traceback.print_exc()
            return step, None
        step.times.append(time.perf_counter() - t0)
        step.cpu.append(time.process_time() - c0)
        if i == 0 and step.times[0] > cheap_s:
            break
    return step, result


class ChartCalls:
    """Each `chart_images.png` call of `bulletin_charts` (it looks the function up in its module on each call):
    (width, height in CSS px, seconds)."""

    def __init__(self, module) -> None:
        self.calls: list[tuple[int, int, float]] = []
        self.first_done = False
        original = module.png

        def png(figure, width, height):
            t0 = time.perf_counter()
            try:
                return original(figure, width, height)
            finally:
                self.calls.append((width, height, time.perf_counter() - t0))
        module.png = png

    def take(self) -> list[tuple[int, int, float]]:
        calls, self.calls = self.calls, []
        return calls


def subprocess_times(cmd: list[str], runs: int, cheap_s: float) -> tuple[Step, list[subprocess.CompletedProcess]]:
    done: list[subprocess.CompletedProcess] = []
    cpu: list[float] = []

    def run() -> None:
        env = {k: v for k, v in os.environ.items() if k != "SAFETY_CHART_IMAGES"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done.append(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done[-1].returncode != 0:
            tail = (done[-1].stderr.strip().splitlines() or ["(no message)"])[-1]
            raise RuntimeError(f"exit {done[-1].returncode}: {tail}")
    step, _ = timed(run, runs, cheap_s)
    step.cpu = cpu  # the command's own, and its Chromium's (its children, waited for)
    if step.error:  # the message of the failing command, not of this wrapper
        step.error = step.error.removeprefix("RuntimeError: ")
    return step, done


def profile(fn: Callable[[], object], top: int) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    raised: str | None
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        raised = where(exc)
    else:
        raised = None
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    width = len(str(ROOT)) + 1

    def named(func: tuple[str, int, str]) -> str:
        filename, line, name = func
        filename = filename[width:] if filename.startswith(str(ROOT)) else re.sub(r".*site-packages/", "", filename)
        return f"`{filename}:{line}` `{name}`"

    timings = stats.stats.items()  # type: ignore[attr-defined]  # pstats keeps its table undeclared
    rows = table(["cumulative (s)", "own (s)", "calls", "function"], "rrrl",
                 ([f"{ct:.2f}", f"{tt:.2f}", nc, named(func)]
                  for func, (_, nc, tt, ct, _) in sorted(timings, key=lambda kv: -kv[1][3])[:top]))
    by_own = sorted(timings, key=lambda kv: -kv[1][2])[:top // 2]
    rows += ["", "Largest own times:", "",
             *table(["own (s)", "calls", "function"], "rrl",
                    ([f"{tt:.2f}", nc, named(func)] for func, (_, nc, tt, _, _) in by_own))]
    return rows + (["", f"(raised: {raised})"] if raised else [])


# ---------------------------------------------------------------------------------------------------------
# Reading the outputs back
# ---------------------------------------------------------------------------------------------------------

def pptx_facts(data: bytes) -> dict:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    deck = Presentation(io.BytesIO(data))
    titles = [s.shapes.title.text if s.shapes.title is not None else "" for s in deck.slides]
    paged = (PAGED_TITLE.fullmatch(t) for t in titles)  # "…（2/4）": a slide that continues a table
    continued = Counter(m.group(1) for m in paged if m is not None and int(m.group(2)) > 1)
    pictures: list[dict] = []
    squeezed: dict[int, list[float]] = {}
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip() and shape.height < SQUEEZED:
                squeezed.setdefault(number, []).append(shape.height / 12700)
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                pictures.append({"slide": number, "title": titles[number - 1], "in": (shape.width / 914400,
                                 shape.height / 914400), "px": shape.image.size})
    return {"slides": len(titles), "titles": titles, "continued": dict(continued), "pictures": pictures,
            "squeezed": {n: (titles[n - 1], heights) for n, heights in squeezed.items()}}


def pptx_plan(found: bulletin.Bulletin) -> list[tuple[str, int]]:
    """(slide title, slides it takes) as `bulletin_pptx` lays them out (sections.continued), title slide first."""
    from metrics.reports import sections
    whole = [sections.section(found, slide, LANG) for slide in found.slides(LANG)]
    return [("(title slide)", 1)] + [(s.slide.title, len(sections.continued(s, LANG))) for s in whole]


def _matrix(a, b):
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def _images_drawn(page) -> list[dict]:
    """Each image XObject drawn on the page: its pixels and the size it is drawn at (points), from the content
    stream's transformation matrices (q/Q/cm; forms are not followed)."""
    xobjects = page["/Resources"].get("/XObject", {}) if "/Resources" in page else {}
    if not xobjects:
        return []
    xobjects = cast(Any, xobjects).get_object()
    drawn, ctm, stack = [], [1, 0, 0, 1, 0, 0], []
    contents = page.get_contents()
    if contents is None:
        return []
    for operands, operator in contents.operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q":
            ctm = stack.pop() if stack else ctm
        elif operator == b"cm":
            ctm = _matrix([float(x) for x in operands], ctm)
        elif operator == b"Do" and operands[0] in xobjects:
            xo = xobjects[operands[0]].get_object()
            if xo.get("/Subtype") == "/Image":
                drawn.append({"px": (int(xo["/Width"]), int(xo["/Height"])),
                              "pt": (abs(ctm[0]) + abs(ctm[2]), abs(ctm[1]) + abs(ctm[3]))})
    return drawn


def pdf_facts(path: Path) -> dict:
    from pypdf import PdfReader
    reader = PdfReader(path)
    chapters = []
    for item in reader.outline:
        if not isinstance(item, list):
            chapters.append((item.title, cast(int, reader.get_destination_page_number(item)) + 1))
    starts = [p for _, p in chapters] + [len(reader.pages) + 1]
    spans = [(title, start, starts[i + 1] - start) for i, (title, start) in enumerate(chapters)]
    images = []
    for number, page in enumerate(reader.pages, start=1):
        height = float(page.mediabox.height)
        for image in _images_drawn(page):
            images.append({"page": number, "page_pt": (float(page.mediabox.width), height), **image})
    return {"pages": len(reader.pages), "chapters": spans, "images": images}


def xlsx_facts(path: Path) -> dict:
    from openpyxl import load_workbook
    book = load_workbook(path, read_only=True)
    sheets = {ws.title: ws.max_row for ws in book.worksheets}
    book.close()
    return {"sheets": sheets}


def chart_type_pt(shown_width_pt: float, width_px: int) -> float:
    """The size the chart's text appears at: `chart_images.EXPORT_FONT_SIZE` CSS px scaled like the image."""
    from metrics.reports import chart_images
    return chart_images.EXPORT_FONT_SIZE * shown_width_pt / (width_px / chart_images.SCALE)


def png_size(data: bytes | None) -> tuple[int, int] | None:
    return Image.open(io.BytesIO(data)).size if data else None


# ---------------------------------------------------------------------------------------------------------
# One store
# ---------------------------------------------------------------------------------------------------------

@dataclass
class StoreResult:
    name: str
    units: int
    steps: dict[str, Step] = field(default_factory=dict)
    chart_calls: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    charts: BulletinCharts | None = None
    found: bulletin.Bulletin | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    cli_stderr: dict[str, str] = field(default_factory=dict)
    facts: dict[str, dict] = field(default_factory=dict)
    plan: list[tuple[str, int]] = field(default_factory=list)
    diagnostic: dict = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    pictures: dict[str, Path] = field(default_factory=dict)
    same_images: bool | None = None
    template: dict = field(default_factory=dict)


def build(db: Path):
    """What `_cmd_report` does before the formats: the store opened read-write and migrated, the month checked,
    the bulletin built."""
    with store.connect(db) as con:
        store.migrate(con)
        if MONTH not in overview.available_months(con):
            raise RuntimeError(f"no data for {iso_month(MONTH)} in {db}")
        return bulletin.build_bulletin(con, MONTH)


def measure(name: str, db: Path, units: int, out: Path, args, chart_calls: ChartCalls) -> StoreResult:
    from metrics.reports import chart_images, pdf, slides, workbook
    result = StoreResult(name, units)
    steps = result.steps
    print(f"{name} ({units} units):", flush=True)

    steps["build"], found = timed(lambda: build(db), args.runs, args.cheap)
    result.found = found
    print(f"  bulletin built: {steps['build'].times}", flush=True)
    if found is None:
        return result

    charts = lambda: chart_images.bulletin_charts(found, LANG)  # noqa: E731
    chart_calls.take()
    if not chart_calls.first_done:  # the process's first image: Chromium starts, plotly.js loads the first time
        chart_calls.first_done = True
        steps["charts_first"], _ = timed(charts, 1, args.cheap)
        result.chart_calls["first"] = chart_calls.take()
    steps["charts_cold"], _ = timed(charts, args.runs, args.cheap, before=chart_images.stop)
    result.chart_calls["cold"] = chart_calls.take()
    steps["charts_warm"], drawn = timed(charts, args.runs, args.cheap)
    result.chart_calls["warm"] = chart_calls.take()
    result.charts = drawn
    print(f"  charts: cold {steps['charts_cold'].times}, warm {steps['charts_warm'].times}"
          f"{'; ' + drawn.reason if drawn and drawn.reason else ''}", flush=True)
    if drawn is None:
        return result
    for chart in (drawn.ranking, *drawn.trends):
        if chart.png:
            path = out / f"chart-{chart.key}.png"
            path.write_bytes(chart.png)
            result.pictures[chart.key] = path

    assemble = {"pptx": lambda: slides.bulletin_pptx(found, LANG, drawn, []),
                "pdf": lambda: pdf.bulletin_pdf(found, LANG, drawn, []),
                "xlsx": lambda: workbook.bulletin_xlsx(found, LANG)}
    for fmt, make in assemble.items():
        steps[fmt], data = timed(make, args.runs, args.cheap)
        print(f"  {fmt} assembled: {steps[fmt].times}{f' RAISED {steps[fmt].error}' if steps[fmt].error else ''}",
              flush=True)

    result.plan = pptx_plan(found)
    if steps["pptx"].error:
        # Diagnostic only: the same deck with the veto and red flags emptied, to see the rest of it (the flag
        # slide then says nothing is flagged). Not the product's output.
        quiet = dataclasses.replace(found, breaches=[])
        assemble["pptx without flags (diagnostic)"] = lambda: slides.bulletin_pptx(quiet, LANG, drawn, [])
        t0 = time.perf_counter()
        try:
            deck = slides.bulletin_pptx(quiet, LANG, drawn, [])
            result.diagnostic = {"seconds": time.perf_counter() - t0, **pptx_facts(deck)}
            (out / "diagnostic-without-flags.pptx").write_bytes(deck)
        except Exception as exc:  # noqa: BLE001
            result.diagnostic = {"error": where(exc)}

    chart_images.stop()  # the commands below start their own
    cmd = [sys.executable, "-m", "metrics", "report", "--db", str(db), "--month", iso_month(MONTH), "--format"]
    for fmt in FORMATS:
        target = out / fmt
        target.mkdir(exist_ok=True)
        steps[f"cli_{fmt}"], done = subprocess_times([*cmd, fmt, "--out", str(target)], args.runs, args.cheap)
        step = steps[f"cli_{fmt}"]
        print(f"  cli {fmt}: {step.times}{f' FAILED {step.error}' if step.error else ''}", flush=True)
        if done:
            result.cli_stderr[fmt] = done[-1].stderr.strip()
            wrote = re.search(r"^wrote (.+) \([\d,]+ bytes\)$", done[-1].stdout, re.M)
            if wrote:
                result.outputs[fmt] = Path(wrote.group(1))

    for fmt, path in result.outputs.items():
        facts = {"bytes": path.stat().st_size}
        facts |= {"pptx": lambda p: pptx_facts(p.read_bytes()), "pdf": pdf_facts, "xlsx": xlsx_facts}[fmt](path)
        result.facts[fmt] = facts
    pdf_found = result.facts.get("pdf")
    if pdf_found and shutil.which("pdftoppm"):
        ranking = [i for i in pdf_found["images"] if i["px"] == png_size(drawn.ranking.png)] or pdf_found["images"]
        if ranking:
            page = ranking[0]["page"]
            prefix = out / f"pdf-page-{page}"
            subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                            str(result.outputs["pdf"]), str(prefix)], check=False)
            result.pictures["pdf_page"] = prefix.with_suffix(".png")

    # The ranking slide as LibreOffice draws it: the CLI's deck, or the diagnostic one when the CLI failed.
    deck_file = result.outputs.get("pptx") or (out / "diagnostic-without-flags.pptx")
    deck_facts = result.facts.get("pptx") or result.diagnostic
    ranking_px = png_size(drawn.ranking.png)
    slide = next((p["slide"] for p in deck_facts.get("pictures", []) if p["px"] == ranking_px), None)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if deck_file.exists() and slide and office and not args.no_office:
        converted = out / "libreoffice"
        subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(converted), str(deck_file)],
                       capture_output=True, timeout=600, check=False)
        pdfs = list(converted.glob("*.pdf"))
        if pdfs and shutil.which("pdftoppm"):
            prefix = out / f"pptx-slide-{slide}"
            subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(slide), "-l", str(slide), "-singlefile",
                            str(pdfs[0]), str(prefix)], check=False)
            result.pictures["pptx_slide"] = prefix.with_suffix(".png")
    if result.outputs.get("pptx"):  # are the in-process images those of the command?
        from pptx import Presentation
        blobs = {shape.image.blob for s in Presentation(str(result.outputs["pptx"])).slides for shape in s.shapes
                 if shape.shape_type == 13}
        result.same_images = all(c.png in blobs for c in (drawn.ranking, *drawn.trends))

    if units >= 100 and not args.no_profile:
        for fmt, make in assemble.items():
            step = steps.get(fmt) or Step(times=[result.diagnostic.get("seconds", 0.0)])
            if fmt == "pptx" and step.error:
                continue  # it fails early; the diagnostic deck below shows where a deck's time goes
            if step.error or (step.median or 0) > args.profile_over:
                print(f"  profiling {fmt} ...", flush=True)
                result.profiles += ["", f"**{fmt} assembly, {units} units** (one run under cProfile):", "",
                                    *profile(make, args.top)]
    return result


# ---------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------

ROWS = (
    ("startup", "Python start-up + imports of `metrics.cli.main` and the report modules (subprocess, no store)"),
    ("build", "building the bulletin: `connect` + `migrate` + `build_bulletin` (store queries)"),
    ("charts_first", "chart images, the process's first `bulletin_charts` (Chromium starts, first plotly.js load)"),
    ("charts_cold", "chart images, `bulletin_charts` with Chromium started by the call (`stop()` before)"),
    ("charts_warm", "chart images, `bulletin_charts` with the renderer warm"),
    ("pptx", "PPTX assembly, `bulletin_pptx`"),
    ("pdf", "PDF assembly, `bulletin_pdf`"),
    ("xlsx", "XLSX assembly, `bulletin_xlsx`"),
    ("cli_pptx", "**end to end** `python -m metrics report … --format pptx`"),
    ("cli_pdf", "**end to end** `… --format pdf`"),
    ("cli_xlsx", "**end to end** `… --format xlsx`"),
)


def _kb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def observations(r: StoreResult) -> list[str]:
    lines = [f"**{r.units} units**"]
    if r.found is not None:
        flagged = Counter(b.kind for b in r.found.flagged())
        ov = r.found.overview
        lines.append(f"- Bulletin: {len(ov.units)} ranked units ({len(ov.vetoed_units)} vetoed, "
                     f"{len(ov.missing_units)} not reported), {len(r.found.breaches)} breach flags, of which "
                     f"{flagged.get('veto', 0)} vetoes and {flagged.get('red', 0)} red (the flag slide's content).")
    per_run = 1 + len(KEY_TRENDS)
    for key, calls in r.chart_calls.items():
        if calls:
            runs = len(calls) // per_run
            each = [(calls[i][0], calls[i][1], statistics.median(c[2] for c in calls[i::per_run]))
                    for i in range(per_run)]
            lines.append(f"- Chart images, {key}, seconds per image (median of {runs} runs): "
                         + ", ".join(f"{w}×{h} CSS px {s:.2f}" for w, h, s in each)
                         + " (the ranking first, then the three trends).")
    if r.charts is not None:
        sizes = [(c.key, png_size(c.png), len(c.png or b"")) for c in (r.charts.ranking, *r.charts.trends)]
        lines.append("- Chart PNGs: " + ", ".join(f"{k} {s[0]}×{s[1]} px {_kb(n)}" for k, s, n in sizes if s)
                     + (f"; left out: {r.charts.reason}" if r.charts.reason else ""))
    for fmt in FORMATS:
        step, cli = r.steps.get(fmt), r.steps.get(f"cli_{fmt}")
        if step and step.error:
            lines.append(f"- **{fmt.upper()} assembly raised**: {step.error}.")
        if cli and cli.error:
            lines.append(f"- **`report --format {fmt}` failed**: {cli.error}.")
        stderr = r.cli_stderr.get(fmt, "")
        if stderr and not (cli and cli.error):
            lines.append(f"- `report --format {fmt}` printed on stderr: `{stderr.splitlines()[-1][:300]}`")
    if r.same_images is not None:
        lines.append(f"- The in-process chart PNGs are "
                     f"{'byte for byte those in' if r.same_images else '**not** those in'} the command's deck.")
    if r.template:
        lines.append(f"- With Streamlit's Plotly template (`{r.template['template']}`) as the default, as in a process "
                     f"that has imported Streamlit (the app's meeting page, `pages/meeting.py` `document`), the "
                     f"ranking PNG {'**differs**' if r.template['differs'] else 'is the same'}: "
                     f"`{r.template['path']}`.")
    for fmt in FORMATS:
        stderr = r.cli_stderr.get(fmt, "")
        if "Traceback (most recent call last)" in stderr:
            lines.append(f"- `report --format {fmt}` ended with a Python traceback on stderr, not an error message.")
    if r.plan:
        total = sum(n for _, n in r.plan)
        lines.append(f"- PPTX slide plan (`sections.continued` over each section): {total} slides: "
                     + ", ".join(f"{t} {n}" for t, n in r.plan[1:]) + ".")
    deck = r.facts.get("pptx")
    if deck:
        lines.append(f"- PPTX written: {_kb(deck['bytes'])}, {deck['slides']} slides"
                     + (", continued: " + ", ".join(f"{t} +{n}" for t, n in deck["continued"].items())
                        if deck["continued"] else ", no table continues") + ".")
    diag = r.diagnostic
    if diag:
        if "error" in diag:
            lines.append(f"- Diagnostic deck without the flags also raised: {diag['error']}.")
        else:
            lines.append(f"- Diagnostic deck (the same bulletin with the flags emptied, not the product's output): "
                         f"assembled in {diag['seconds']:.2f} s, {diag['slides']} slides, continued: "
                         + ", ".join(f"{t} +{n}" for t, n in diag["continued"].items()) + ".")
            deck = deck or diag
    if deck:
        for number, (title, heights) in deck.get("squeezed", {}).items():
            lines.append(f"- **PPTX slide {number} ({title}): {len(heights)} text boxes squeezed to "
                         f"{min(heights):.1f}–{max(heights):.1f} pt tall** (under {SQUEEZED / 12700:.0f} pt: their "
                         f"text cannot fit and overlaps).")
        for p in deck["pictures"]:
            w, h = p["in"]
            line = (f"- PPTX picture on slide {p['slide']} ({p['title']}): shown {w:.2f} × {h:.2f} in, "
                    f"{p['px'][0]}×{p['px'][1]} px, its type at about {chart_type_pt(w * 72, p['px'][0]):.1f} pt")
            if r.charts is not None and p["px"] == png_size(r.charts.ranking.png):
                pitch = h * 72 * 32 / r.charts.ranking.height
                small = pitch < 9 or chart_type_pt(w * 72, p["px"][0]) < 9
                line += (f"; one unit's bar and label get {pitch:.2f} pt of height "
                         f"({'small: under 9 pt' if small else 'legible'})")
            lines.append(line)
    pdf = r.facts.get("pdf")
    if pdf:
        lines.append(f"- PDF written: {_kb(pdf['bytes'])}, {pdf['pages']} A4 pages; chapters (first page, pages): "
                     + ", ".join(f"{t} p.{s} ({n})" for t, s, n in pdf["chapters"]) + ".")
        for i in pdf["images"]:
            (w, h), (pw, ph) = i["pt"], i["page_pt"]
            line = (f"- PDF image on page {i['page']}: {i['px'][0]}×{i['px'][1]} px drawn {w * MM_PER_PT:.0f} × "
                    f"{h * MM_PER_PT:.0f} mm on a {pw * MM_PER_PT:.0f} × {ph * MM_PER_PT:.0f} mm page, its type "
                    f"at about {chart_type_pt(w, i['px'][0]):.1f} pt")
            if h > ph:
                line += f" (**{h / ph:.1f} pages tall on one page: all but the top is cut off**)"
            lines.append(line)
    book = r.facts.get("xlsx")
    if book:
        lines.append(f"- XLSX written: {_kb(book['bytes'])}, sheets (rows incl. header): "
                     + ", ".join(f"{s} {n}" for s, n in book["sheets"].items()) + ".")
    if r.pictures:
        lines.append("- Saved to look at: " + ", ".join(f"`{p}`" for p in r.pictures.values()) + ".")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--runs", type=int, default=3, help="runs per step, median reported (default 3)")
    parser.add_argument("--cheap", type=float, default=30.0,
                        help="a step whose first run takes longer than this many seconds runs once (default 30)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"bench/pages.py's store cache (default {DEFAULT_CACHE})")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT,
                        help=f"store copies, the bulletins, chart PNGs and page images (default {DEFAULT_OUT})")
    parser.add_argument("--profile-over", type=float, default=5.0,
                        help="profile 500-unit assembly steps slower than this (default 5 s)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-office", action="store_true", help="skip drawing the ranking slide with LibreOffice")
    parser.add_argument("--top", type=int, default=15, help="rows per profile table (default 15)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file (default bench/REPORTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    info = machine()
    uptime_start = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {info}\nuptime: {uptime_start}", flush=True)

    demo_db, demo_built = demo_store(args.cache)
    group_db, group_built = group_store(args.cache, args.units, args.months, args.seed)
    if args.out_dir.exists():
        shutil.rmtree(args.out_dir)
    stores = {}
    for name, (db, built) in {"demo": (demo_db, demo_built), "group": (group_db, group_built)}.items():
        out = args.out_dir / name
        out.mkdir(parents=True)
        copy = out / db.name
        shutil.copyfile(db, copy)
        stores[name] = (copy, describe(copy), built, db)
        print(f"  {name}: {db} -> {copy}: {stores[name][1]}", flush=True)

    startup, _ = subprocess_times([sys.executable, "-c", IMPORTS], args.runs, args.cheap)
    bare, _ = subprocess_times([sys.executable, "-c", "pass"], args.runs, args.cheap)
    print(f"start-up + imports {startup.times}, bare Python {bare.times}", flush=True)

    from metrics.reports import chart_images
    calls = ChartCalls(chart_images)
    results = {name: measure(name, db, described["units"], db.parent, args, calls)
               for name, (db, described, _, _) in stores.items()}
    for r in results.values():
        r.steps["startup"] = startup

    # The same images with Streamlit's Plotly template as the default, as in the app (pages/meeting.py `document`
    # runs in a process that has imported Streamlit).
    demo = results["demo"]
    if demo.found is not None and demo.charts is not None and STREAMLIT_TEMPLATE != PLOTLY_TEMPLATE:
        pio.templates.default = STREAMLIT_TEMPLATE
        try:
            in_app = chart_images.bulletin_charts(demo.found, LANG)
        finally:
            pio.templates.default = PLOTLY_TEMPLATE
            chart_images.stop()
        if in_app.ranking.png:
            path = stores["demo"][0].parent / "chart-ranking-streamlit-template.png"
            path.write_bytes(in_app.ranking.png)
            demo.pictures["ranking_streamlit_template"] = path
            demo.template = {"differs": in_app.ranking.png != demo.charts.ranking.png, "path": path,
                             "template": STREAMLIT_TEMPLATE}

    # -------------------------------------------------------------------------------- the report
    demo, group = results["demo"], results["group"]
    table = [f"| step | {demo.units} units (s) | {group.units} units (s) |", "|---|---:|---:|"]
    for key, text in ROWS:
        cells = [r.steps[key].cell() if key in r.steps else "—" for r in (demo, group)]
        if key == "charts_first":
            cells[1] = "— (once per process: the 12-unit run came first)"
        table.append(f"| {text} | {cells[0]} | {cells[1]} |")
    detail = ["| store | step | runs (s) | CPU (s) | load at start |", "|---|---|---|---|---|"]
    for r in (demo, group):
        for key, _ in ROWS:
            step = r.steps.get(key)
            if step and step.times:
                detail.append(f"| {r.units} units | {key} | {', '.join(f'{t:.2f}' for t in step.times)} | "
                              f"{', '.join(f'{c:.2f}' for c in step.cpu) or '—'} | {step.load} |")
    detail.append(f"| — | bare `python -c pass` | {', '.join(f'{t:.2f}' for t in bare.times)} | "
                  f"{', '.join(f'{c:.2f}' for c in bare.cpu)} | {bare.load} |")

    cli = demo.steps.get("cli_pptx")
    if cli is None or cli.error or not cli.times:
        aim = (f"**Aim: PPTX of {demo.units} units end to end < {PPTX_AIM_S:g} s: not measured** "
               f"({cli.error if cli else 'no run'}).")
    else:
        assert cli.median is not None  # it has times
        verdict = "met" if cli.median < PPTX_AIM_S else "missed"
        aim = (f"**Aim: PPTX of {demo.units} units end to end < {PPTX_AIM_S:g} s: {verdict}** "
               f"({cli.median:.2f} s, median of {len(cli.times)}: {', '.join(f'{t:.2f}' for t in cli.times)}).")

    uptime_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    def store_line(name: str) -> str:
        _, s, built, source = stores[name]
        how = "reused from" if built["reused"] else f"built in {built['build_s']:.0f} s into"
        return (f"{s['units']} units, {s['months']} months {s['first']:%Y-%m}..{s['last']:%Y-%m}, {s['rows']:,} "
                f"observations, {s['mb']:.0f} MiB ({how} `{source}`, copied)")

    from importlib.metadata import version

    import duckdb
    import plotly
    import pptx
    import pypdf
    import weasyprint
    command = " ".join([".venv/bin/python bench/reports.py", *(sys.argv[1:] if argv is None else argv)])
    doc = [
        "# Bulletin generation benchmark",
        "",
        f"Generated by `{command}` (part of `make bench`) on {datetime.now():%Y-%m-%d %H:%M}, total run time "
        f"{time.perf_counter() - started:.0f} s.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}; Python {info['python']}, "
        f"DuckDB {duckdb.__version__}, pandas {info['pandas']}, plotly {plotly.__version__}, kaleido "
        f"{version('kaleido')}, python-pptx {pptx.__version__}, WeasyPrint {weasyprint.__version__}, "
        f"pypdf {pypdf.__version__}, Chromium {chromium_version()}.",
        "",
        f"Load: `{uptime_start}` at the start, `{uptime_end}` at the end (other work shared the machine when the "
        f"load is above its {info['nproc']} CPUs; see the per-step load below).",
        "",
        f"Stores: {store_line('demo')}; {store_line('group')}. Month {iso_month(MONTH)}, language {LANG}, no "
        f"scorecards.",
        "",
        f"Issue: \"The benchmark reports generating each format for a 12-unit month and a 500-unit month; aim "
        f"under {PPTX_AIM_S:g} s for the PPTX of 12 units. Not a timed test.\"",
        "",
        aim,
        "",
        f"Seconds, median of {args.runs} runs (a step whose first run took over {args.cheap:g} s ran once):",
        "",
        *table,
        "",
        "How it is measured:",
        "- In-process steps repeat what `python -m metrics report` does (`metrics/cli/main.py` `_cmd_report`, "
        "`_report_bytes`) in one Python process: build the bulletin from the store; draw the four chart images "
        "(`chart_images.bulletin_charts`: the ranking's score bars and three trends, PNG at scale 2, by kaleido in "
        "headless Chromium); assemble each format from that one bulletin and those images (the XLSX needs no "
        "images). The CLI does build → images → one format, so a CLI run ≈ start-up + build + cold images + "
        "assembly + writing the file (XLSX: no images, no Chromium).",
        "- Cold images: `chart_images.stop()` before each run, so the call starts Chromium again (the process's "
        "very first call, on the 12-unit store, also loads plotly.js into the browser the first time and is "
        "reported on its own). Warm: the renderer left running from the run before.",
        "- End to end: a subprocess per run, `python -m metrics report --db COPY --month 2026-10 --format FMT "
        "--out DIR`, with `SAFETY_CHART_IMAGES` unset; wall time until it exits, Python start-up, imports and "
        "its own Chromium included. A non-zero exit is reported as a failure with its last stderr line.",
        "- The stores are copies in the output directory (the command opens its store read-write, as for real).",
        "",
        "Every run. CPU: user + system seconds; for the in-process steps this process's only (not its Chromium's); "
        "for the commands the command's own plus its children's (its Chromium), from `getrusage(RUSAGE_CHILDREN)`. "
        "CPU seconds above the wall seconds mean both CPUs were busy; the load average includes this benchmark "
        "itself (about 1 to 2 while it runs):",
        "",
        *detail,
        "",
        "## Observations (measured)",
        "",
        *observations(demo),
        "",
        *observations(group),
    ]
    if group.profiles:
        doc += ["", f"## Where the time goes ({group.units} units)", "",
                "cProfile of one more run of each slow (or raising) assembly step; cProfile inflates Python-heavy "
                "code, so read the shares, not the seconds.", *group.profiles]
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    kept = previous[previous.index(BY_EYE):] if BY_EYE in previous else ""
    text = "\n".join(doc) + "\n" + ("\n" + kept if kept else "")
    publish(text, args.out, write=not args.no_write)
    failed = [s for r in results.values() for s in r.steps.values() if s.error]
    return 1 if failed else 0


def chromium_version() -> str:
    try:
        out = subprocess.run(["chromium", "--version"], capture_output=True, text=True, timeout=30).stdout
        found = re.search(r"[\d.]{6,}", out)
        return found.group(0) if found else "?"
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    sys.exit(main())
