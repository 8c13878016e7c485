"""The monthly bulletin as files, read back: the PPTX with python-pptx, the PDF with pypdf and one page drawn by
pdftoppm; the `report` command; and both files without a chart renderer.

Chart images need Debian's Chromium (`make system-deps`); they are drawn once for the module (the first image
costs seconds).
"""
import io
import re
import shutil
import subprocess
from datetime import date

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader

from metrics import store
from metrics.cli.main import main
from metrics.ingest.initialise import init_store
from metrics.reports import chart_images
from metrics.reports.bulletin import DOCUMENT_TITLE, SlideKind, build_bulletin, file_name
from metrics.reports.charts import STATUS_COLOURS
from metrics.reports.pdf import bulletin_pdf
from metrics.reports.sections import NOTE_ROWS, SLIDE_ROWS, sections
from metrics.reports.slides import bulletin_pptx

MONTH = date(2026, 10, 1)
SCORECARDS = ["CM03", "LG02"]
CHART_TITLES = ["单位得分与等级", "百万工时伤害率（GB 6441）", "损失工时伤害频率 LTIFR", "隐患整改率"]
needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="no chromium (install it with `make system-deps`)")


@pytest.fixture(scope="module")
def bulletin(pristine):
    with store.connect(pristine, read_only=True) as con:
        return build_bulletin(con, MONTH)


@pytest.fixture(scope="module")
def charts(bulletin):
    drawn = chart_images.bulletin_charts(bulletin, "zh")
    yield drawn
    chart_images.stop()


@pytest.fixture(scope="module")
def no_charts(bulletin):
    return chart_images.bulletin_charts(bulletin, "zh", render=False)


@pytest.fixture(scope="module")
def deck(bulletin, charts):
    return Presentation(io.BytesIO(bulletin_pptx(bulletin, "zh", charts)))


@pytest.fixture(scope="module")
def pdf_file(bulletin, charts, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / file_name(MONTH, "pdf")
    path.write_bytes(bulletin_pdf(bulletin, "zh", charts, ["CM03"]))
    return path


def slide_text(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def tables(slide):
    return [shape.table for shape in slide.shapes if shape.has_table]


def pictures(slide):
    return [shape for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]


def slide_of(deck, bulletin, kind: SlideKind, scorecards=()):
    """The deck's (first) slide of a kind: the title slide comes first, then the sections as paged."""
    kinds = [s.slide.kind for s in sections(bulletin, "zh", list(scorecards))]
    return deck.slides[1 + kinds.index(kind)]


def pdf_text(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


# --- the deck ---------------------------------------------------------------------------------------------


def test_deck_is_a_title_slide_then_the_meeting_pages_slides(bulletin, deck, charts):
    assert (deck.slide_width, deck.slide_height) == (12192000, 6858000)  # 13.333 × 7.5 in: 16:9
    assert len(deck.slides) == 1 + len(bulletin.slides("zh")) == 7  # twelve units: nothing to continue
    title = slide_text(deck.slides[0])
    assert DOCUMENT_TITLE["zh"] in title and "2026年10月" in title
    for slide, expected in zip(list(deck.slides)[1:], bulletin.slides("zh")):
        assert expected.title in slide_text(slide)
    with_scorecards = Presentation(io.BytesIO(bulletin_pptx(bulletin, "zh", charts, SCORECARDS)))
    # A scorecard's 19 (18) indicators and its summary banner take two slides of at most SLIDE_ROWS rows.
    assert (len(bulletin.scorecard("CM03")), len(bulletin.scorecard("LG02"))) == (19, 18)
    titles = [s.slide.title for s in sections(bulletin, "zh", SCORECARDS)]
    assert titles[-4:] == ["北川煤矿记分卡（1/2）", "北川煤矿记分卡（2/2）",
                           "铁运公司记分卡（1/2）", "铁运公司记分卡（2/2）"]
    assert len(with_scorecards.slides) == 1 + len(titles) == 11
    first, second = slide_text(with_scorecards.slides[7]), slide_text(with_scorecards.slides[8])
    assert "北川煤矿记分卡（1/2）" in first and "死亡人数" in first and "✖ 超标" in first
    assert "北川煤矿记分卡（2/2）" in second and "死亡人数" not in second
    assert [len(t.rows) for t in tables(with_scorecards.slides[7]) + tables(with_scorecards.slides[8])] == [
        1 + SLIDE_ROWS - NOTE_ROWS, 1 + 19 - (SLIDE_ROWS - NOTE_ROWS)]
    assert "铁运公司记分卡（1/2）" in slide_text(with_scorecards.slides[9])


def test_tables_are_real_tables_with_the_units_in_chinese(bulletin, deck):
    ranking = slide_of(deck, bulletin, SlideKind.RANKING)
    [table] = tables(ranking)
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == ["排名", "单位", "得分", "等级", "较上月", "名次变化"]
    assert [row[1] for row in cells[1:]] == list(bulletin.overview.units["name_zh"])
    assert cells[1 + list(bulletin.overview.units["subsidiary"]).index("CM03")][1:4] == ["北川煤矿", "0", "否决"]
    rectification = tables(slide_of(deck, bulletin, SlideKind.RECTIFICATION))[0]
    units = [row.cells[0].text for row in rectification.rows]
    assert "北川煤矿" in units and units[-1] == "集团合计"


def test_status_cells_carry_symbol_word_and_colour(bulletin, deck):
    rectification = tables(slide_of(deck, bulletin, SlideKind.RECTIFICATION))[0]
    status = {row.cells[0].text: row.cells[4] for row in rectification.rows}
    assert status["华源化工有限公司"].text == "▲ 预警"
    assert str(status["华源化工有限公司"].fill.fore_color.rgb) == STATUS_COLOURS["yellow"].lstrip("#").upper()
    assert status["铁运公司"].text == "○ 未报"
    assert status["建设工程公司"].text == "✔ 达标"


def test_every_run_names_an_east_asian_typeface(deck):
    runs = [run for slide in deck.slides for shape in slide.shapes if shape.has_text_frame
            for paragraph in shape.text_frame.paragraphs for run in paragraph.runs]
    assert runs
    for run in runs:
        east_asian = run._r.rPr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}ea")
        assert east_asian is not None and east_asian.get("typeface"), run.text


def test_veto_slide_names_the_vetoed_unit_with_the_numbers(bulletin, deck):
    text = slide_text(slide_of(deck, bulletin, SlideKind.VETO_AND_RED))
    assert "北川煤矿：一票否决：本年累计死亡人数 1，按目标责任书一票否决" in text
    assert "超标：本年累计重伤人数 2，控制值 1（目标 0）" in text  # 东峰煤矿's red flag, with its numbers
    headline = slide_text(slide_of(deck, bulletin, SlideKind.HEADLINE))
    assert "一票否决：北川煤矿（死亡人数 1），本年累计得分归零" in headline
    assert "11 / 12" in headline and "逾期未报（截止 11月10日）：铁运公司" in headline


@needs_chromium
def test_ranking_and_trend_slides_carry_the_charts_as_images(bulletin, deck, charts):
    assert charts.omitted == [] and charts.reason is None
    assert len(pictures(slide_of(deck, bulletin, SlideKind.RANKING))) == 1
    trends = pictures(slide_of(deck, bulletin, SlideKind.TRENDS))
    assert len(trends) == 3
    assert all(p.image.blob.startswith(b"\x89PNG") for p in trends)
    assert Image.open(io.BytesIO(charts.ranking.png)).size == (2 * charts.ranking.width, 2 * charts.ranking.height)


# --- the PDF ----------------------------------------------------------------------------------------------


def test_pdf_has_a_cover_contents_with_page_numbers_and_every_chapter(bulletin, pdf_file):
    pages = pdf_text(pdf_file)
    slides = bulletin.slides("zh", ["CM03"])
    assert len(pages) >= 2 + len(slides)
    assert "安全生产月度通报" in pages[0] and "2026年10月" in pages[0]
    contents = pages[1]
    assert "目录" in contents
    for slide in slides:
        match = re.search(re.escape(slide.title) + r"[\s.]*(\d+)", contents)
        assert match, slide.title
        chapter = int(match.group(1))
        assert slide.title in pages[chapter - 1], f"{slide.title} is not on page {chapter}"
    assert "北川煤矿" in "".join(pages)
    assert re.search(r"3\s*/\s*\d+", pages[2])  # page numbers in the footer


def test_a_pdf_page_is_drawn_with_ink(pdf_file, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("no pdftoppm (install poppler-utils with `make system-deps`)")
    subprocess.run(["pdftoppm", "-f", "3", "-l", "3", "-r", "50", "-png", "-singlefile", str(pdf_file),
                    str(tmp_path / "page")], check=True, timeout=60)
    pixels = np.asarray(Image.open(tmp_path / "page.png").convert("L"))
    assert (pixels < 200).mean() > 0.02  # the headline page: tiles, figures and banners, not a blank sheet


# --- without a renderer -----------------------------------------------------------------------------------


def test_without_chart_images_both_files_keep_their_tables_and_say_what_is_missing(bulletin, no_charts, tmp_path):
    assert no_charts.omitted == CHART_TITLES and no_charts.reason
    deck = Presentation(io.BytesIO(bulletin_pptx(bulletin, "zh", no_charts)))
    assert len(deck.slides) == 7
    assert not [p for slide in deck.slides for p in pictures(slide)]
    ranking = slide_of(deck, bulletin, SlideKind.RANKING)
    assert tables(ranking) and "图表未生成：单位得分与等级" in slide_text(ranking)
    assert "隐患整改率" in slide_text(deck.slides[0])  # the title slide lists what was left out
    path = tmp_path / "no-charts.pdf"
    path.write_bytes(bulletin_pdf(bulletin, "zh", no_charts))
    text = "".join(pdf_text(path))
    assert "图表未生成" in text and "北川煤矿" in text and "排名" in text


# --- the command ------------------------------------------------------------------------------------------


@pytest.fixture()
def db(db):
    """The copy of the demo store (tests/conftest.py), as the command line's --db takes it."""
    return str(db)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_command_writes_the_file_under_its_standard_name(db, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run(capsys, "report", "--month", "2026-10", "--format", "pptx", "--out", str(out_dir),
                         "--scorecards", "CM03", "--db", db)
    assert code == 0, err
    written = out_dir / "安全生产月度通报_2026年10月.pptx"
    assert str(written) in out
    assert len(Presentation(written).slides) == 9  # title, six slides, the scorecard's two
    pdf = tmp_path / "bulletin.pdf"
    code, _, err = run(capsys, "report", "--month", "2026-10", "--format", "pdf", "--out", str(pdf), "--lang", "en",
                       "--db", db)
    assert code == 0, err
    assert "Monthly safety bulletin" in "".join(pdf_text(pdf))
    xlsx = tmp_path / "bulletin.xlsx"
    assert run(capsys, "report", "--month", "2026-10", "--format", "xlsx", "--out", str(xlsx), "--db", db)[0] == 0
    assert xlsx.read_bytes().startswith(b"PK")


def test_report_command_lists_the_charts_it_left_out(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(chart_images.ENVIRONMENT_SWITCH, "off")
    code, _, err = run(capsys, "report", "--month", "2026-10", "--format", "pptx", "--out", str(tmp_path),
                       "--db", db)
    assert code == 0
    assert "4 charts left out" in err and "单位得分与等级" in err
    assert len(Presentation(tmp_path / "安全生产月度通报_2026年10月.pptx").slides) == 7


@pytest.mark.parametrize("args, fragment", [
    (["--format", "ppt"], "invalid choice"),
    (["--format", "docx"], "invalid choice"),
    ([], "--format"),
    (["--format", "pdf", "--lang", "fr"], "invalid choice"),
    (["--format", "pdf", "--scorecards", ","], "no unit codes"),
])
def test_report_command_usage_errors_exit_2(args, fragment, tmp_path, capsys):
    code, _, err = run(capsys, "report", "--month", "2026-10", "--out", str(tmp_path), *args)
    assert code == 2 and fragment in err


def test_report_command_refuses_a_month_without_data_and_unknown_units(db, tmp_path, capsys):
    code, _, err = run(capsys, "report", "--month", "2027-01", "--format", "pdf", "--out", str(tmp_path), "--db", db)
    assert code == 1 and "no data for 2027-01" in err and "2026-10" in err
    code, _, err = run(capsys, "report", "--month", "2026-10", "--format", "pdf", "--out", str(tmp_path),
                       "--scorecards", "CM03,XX99", "--db", db)
    assert code == 1 and "unknown unit XX99" in err
    empty = tmp_path / "empty.duckdb"
    init_store(empty)
    code, _, err = run(capsys, "report", "--month", "2026-10", "--format", "pptx", "--out", str(tmp_path),
                       "--db", str(empty))
    assert code == 1 and "holds no data" in err
    assert not list(tmp_path.glob("*.pptx")) and not list(tmp_path.glob("*.pdf"))


def test_a_browser_that_cannot_start_leaves_the_charts_out(bulletin, monkeypatch):
    """Last in the module: it stops the shared browser, which a later image would start again."""
    chart_images.stop()
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    drawn = chart_images.bulletin_charts(bulletin, "zh")
    assert drawn.omitted == CHART_TITLES
    assert "Chromium" in drawn.reason



def test_a_large_groups_ranking_chart_shows_its_best_and_worst_fifteen():
    import pandas as pd

    from metrics.reports import charts as figures
    units = pd.DataFrame({"subsidiary": [f"U{i:03d}" for i in range(100)], "unit_score": range(100, 0, -1),
                          "grade": ["A"] * 100, "vetoed": [False] * 100})
    bars = figures.score_bars(units, {}, "zh", most=figures.RANKING_BARS)
    shown = list(bars.data[0].y)
    assert len(shown) == 30
    assert shown[-1] == "U000" and shown[-15] == "U014" and shown[14] == "U085" and shown[0] == "U099"


def test_many_vetoes_head_the_flag_table_and_the_deck_still_fits(bulletin, charts):
    """A month with more vetoes than banners fit (python-pptx refused a table of negative height when seven
    banners filled the slide): one banner says how many, the vetoes lead the table, the red flags furthest
    beyond their limits follow, and a last row counts the rest."""
    from dataclasses import replace

    from metrics.reports.sections import MAX_VETO_BANNERS, section
    from metrics.scoring.breaches import Breach
    vetoes = [Breach("veto", code, code, code, "fatalities", {"value": 1.0, "target": 0.0, "limit": 0.0})
              for code in ("CM01", "CM02", "CM04", "CH01", "CH02", "CN01", "CN02")]
    many = replace(bulletin, breaches=vetoes + bulletin.breaches)
    slide = next(s for s in many.slides("zh") if s.kind is SlideKind.VETO_AND_RED)
    content = section(many, slide, "zh")
    assert len(vetoes) + 1 > MAX_VETO_BANNERS
    assert [n.text for n in content.notes] == ["本年 8 项一票否决，列于下表之首"]
    rows = content.tables[0].rows
    assert len(rows) == SLIDE_ROWS - NOTE_ROWS == 12
    assert [row[0].text for row in rows[:8]] == ["否决"] * 8
    # The demo's worst red flags: 北川煤矿's fatalities per Mt 1.19 against a band of 0–0.1 (10.9 bands beyond
    # the limit), its severity rate 1,286.7 against 100–300 (4.9), then 矿山建设公司's 12 injuries against 3–5
    # (3.5) and 北川煤矿's direct loss 164.71 against 30–60 (3.49); 8 red flags, 3 shown.
    assert [(row[1].text, row[2].text.split("，")[0]) for row in rows[8:11]] == [
        ("北川煤矿", "超标：本年累计百万吨死亡率 1.19"),
        ("北川煤矿", "超标：本年累计百万工时损失工作日（伤害严重率） 1,286.7"),
        ("矿山建设公司", "超标：本年累计负伤人数（轻伤及以上） 12")]
    assert [c.text for c in rows[11]] == ["", "", "及其余 5 项"]
    deck = Presentation(io.BytesIO(bulletin_pptx(many, "zh", charts)))
    assert len(deck.slides) == len(many.slides("zh")) + 1
    assert "及其余 5 项" in slide_text(slide_of(deck, many, SlideKind.VETO_AND_RED))


def test_many_vetoed_units_share_one_headline_banner(bulletin):
    from dataclasses import replace

    from metrics.reports.sections import MAX_VETO_BANNERS, section
    ov = bulletin.overview
    four = pd.concat([ov.vetoed_units] * (MAX_VETO_BANNERS + 1), ignore_index=True)
    many = replace(bulletin, overview=replace(ov, vetoed_units=four))
    slide = next(s for s in many.slides("zh") if s.kind is SlideKind.HEADLINE)
    vetoes = [n.text for n in section(many, slide, "zh").notes if n.tone.value == "veto"]
    assert vetoes == ["本年 4 个单位一票否决：北川煤矿、北川煤矿、北川煤矿、北川煤矿"]


def test_chart_images_do_not_depend_on_the_default_template():
    """Importing Streamlit sets its Plotly template as the default; the images use Plotly's own."""
    import plotly.io as pio
    if not shutil.which("chromium"):
        pytest.skip("no chromium")
    from metrics.reports import charts as figures
    units = pd.DataFrame({"subsidiary": ["CM03"], "unit_score": [50.0], "grade": ["D"], "vetoed": [False]})
    figure = figures.score_bars(units, {"CM03": "北川煤矿"}, "zh")
    plain = chart_images.png(figure, 400, 200)
    previous = pio.templates.default
    try:
        pio.templates.default = "plotly_dark"
        assert chart_images.png(figure, 400, 200) == plain
    finally:
        pio.templates.default = previous
