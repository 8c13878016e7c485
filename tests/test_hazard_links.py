"""From a hazard number to the hazards behind it (issue 14, item 5): the address metrics/core/links.py makes, and
the links the overview, the ranking, the unit scorecard and the breaches page draw, run with Streamlit's AppTest
on a copy of the demo store (ending 2026-10) where CM01 keeps its hazard ledger here from January 2026
(tests/builders.kept_ledger) and every other unit types its figures.

CM01 at the end of October 2026, by hand from builders.KEPT_LEDGER: 7 hazards found in 2026 (1 in October), none
closed, 6 open past their deadline (0001, deadline 02-15; 0002 to 0006, deadlines 10-02 to 10-06), so
hazards_overdue 6 is red (limit 5), rectification_rate 0 % is red (limit 85), major_hazards 0 is green.
"""
from __future__ import annotations

import io
import shutil
from datetime import date
from urllib.parse import parse_qs

import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from metrics import store
from metrics.cli.main import main
from metrics.core.catalog import load_catalog
from metrics.core.links import figures_behind, hazard_query, hazard_url, keeping, period_start, scope
from metrics.reports import chart_images
from metrics.reports.bulletin import SlideKind, build_bulletin
from metrics.reports.pdf import bulletin_html, bulletin_pdf
from metrics.reports.sections import Cell, Section, sections
from metrics.reports.slides import bulletin_pptx
from tests.builders import kept_ledger
from tests.test_hazard_page import APP, ok

NOW = "2026-11-20T10:00"
OCTOBER = date(2026, 10, 1)


# --- the address ----------------------------------------------------------------------------------------------

INDICATORS = pd.DataFrame({
    "code": ["hazards_found", "hazards_rectified", "hazards_overdue", "rectification_rate", "injuries", "ltifr"],
    "ledger": ["kept", "kept", "kept", None, None, None],
    "rollup": ["sum", "sum", "last", None, "sum", None],
    "numerator": [None, None, None, "hazards_rectified", None, "injuries"],
    "denominator": [None, None, None, "hazards_found", None, "hours_worked"],
})
UNITS = pd.DataFrame({"code": ["A", "B", "C"],
                      "ledger_from": [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-05-01"), pd.NaT]})


def test_a_ledger_figure_opens_to_itself_and_a_ratio_of_two_to_its_denominator():
    assert figures_behind(INDICATORS) == {"hazards_found": "hazards_found", "hazards_rectified": "hazards_rectified",
                                          "hazards_overdue": "hazards_overdue", "rectification_rate": "hazards_found"}


@pytest.mark.parametrize("figure, month, basis, first", [
    ("hazards_found", date(2026, 9, 1), "ytd", date(2026, 1, 1)),  # summed: January to September
    ("hazards_found", date(2026, 9, 1), "month", date(2026, 9, 1)),
    ("hazards_overdue", date(2026, 9, 1), "ytd", date(2026, 9, 1)),  # a stock: the month's end on either basis
])
def test_the_records_behind_a_figure_begin_with_its_period(figure, month, basis, first):
    assert period_start(INDICATORS, figure, month, basis) == first


@pytest.mark.parametrize("figure, month, basis, kept", [
    ("hazards_found", date(2026, 9, 1), "ytd", {"A"}),  # B typed January to April of the year
    ("hazards_found", date(2026, 9, 1), "month", {"A", "B"}),
    ("hazards_overdue", date(2026, 9, 1), "ytd", {"A", "B"}),
    ("hazards_overdue", date(2026, 4, 1), "month", {"A"}),  # B's ledger begins in May
    ("hazards_found", date(2025, 12, 1), "month", set()),
])
def test_only_a_unit_whose_ledger_holds_the_whole_period_is_linked(figure, month, basis, kept):
    assert keeping(UNITS, INDICATORS, figure, month, basis) == kept


def test_the_query_and_the_whole_address():
    query = hazard_query("hazards_overdue", date(2026, 9, 1), ("CM01", "CM02"), "month")
    assert query == {"units": "CM01,CM02", "month": "2026-09", "figure": "hazards_overdue", "basis": "month"}
    assert hazard_query("hazards_found", date(2026, 9, 1)) == {"month": "2026-09", "figure": "hazards_found",
                                                                "basis": "ytd"}
    assert hazard_url("https://safety.example.cn/dash/", query) == (
        "https://safety.example.cn/dash/hazards?units=CM01,CM02&month=2026-09&figure=hazards_overdue&basis=month")


def test_a_group_figure_over_every_unit_names_none():
    assert scope({"A", "B"}, ["A", "B"]) is None
    assert scope({"B", "A"}, ["A", "B", "C"]) == ("A", "B")


# --- the pages' links -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kept(pristine, tmp_path_factory):
    path = tmp_path_factory.mktemp("hazard-links") / "safety.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", NOW)
        kept_ledger(path)
    return path


def page(path, monkeypatch, script: str, **query: str) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(path))
    monkeypatch.setenv("SAFETY_NOW", NOW)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update(query)
    if script != "app.py":
        at.switch_page(script)
    return ok(at.run())


def hazard_links(at: AppTest) -> dict[str, dict[str, str]]:
    """Each link to the hazards behind a figure (not the navigation's to the ledger page): its label -> its query."""
    links = {link.proto.label: {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
             for link in at.get("page_link") if link.proto.page == "hazards"}
    return {label: query for label, query in links.items() if "figure" in query}


def contract(query: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k in ("units", "month", "figure", "basis")}


KEPT = ("hazards_found", "major_hazards", "hazards_rectified", "hazards_overdue")


def kept_figures(links: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The links to the figures a unit types unless it keeps its ledger here (the catalog's `ledger = "kept"`);
    the others' (`ledger = "only"`) must be figures the catalog says the ledger counts."""
    counted = set(load_catalog().from_ledger())
    assert {q["figure"] for q in links.values()} <= counted
    return {label: contract(q) for label, q in links.items() if q["figure"] in KEPT}


def test_the_scorecards_hazard_numbers_open_the_hazards_behind_them(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/unit.py", unit="CM01"))
    in_cm01 = {"units": "CM01", "month": "2026-10", "basis": "ytd"}
    assert kept_figures(links) == {
        ":red[✖ 超期未整改隐患数：6]": in_cm01 | {"figure": "hazards_overdue"},
        ":red[✖ 隐患整改率：0%]": in_cm01 | {"figure": "hazards_found"},
        "排查隐患数：7": in_cm01 | {"figure": "hazards_found"},
        "已整改隐患数：0": in_cm01 | {"figure": "hazards_rectified"},
        "✔ 重大隐患数：0": in_cm01 | {"figure": "major_hazards"},
    }
    assert links[":red[✖ 超期未整改隐患数：6]"]["unit"] == "CM01"  # the rest of the view comes along


def test_the_scorecard_of_the_month_alone_links_the_months_numbers(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/unit.py", unit="CM01", basis="month", lang="en"))
    assert contract(links["Hazards found: 1"]) == {"units": "CM01", "month": "2026-10",
                                                         "figure": "hazards_found", "basis": "month"}
    assert ":red[✖ Overdue hazards: 6]" in links


def test_a_unit_that_types_its_figures_has_no_links(kept, monkeypatch):
    at = page(kept, monkeypatch, "pages/unit.py", unit="CM02")  # one overdue hazard in the ledger, figures typed
    assert hazard_links(at) == {}


def test_the_breaches_link_the_flags_of_a_unit_keeping_its_ledger(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/breaches.py"))
    flags = {label: q for label, q in links.items() if "：" in label}  # not the ledger checks' links (ui/ledger_checks)
    in_cm01 = {"units": "CM01", "month": "2026-10", "basis": "ytd"}
    # CH01's red 超期未整改隐患数 11 is typed: no link.
    assert kept_figures(flags) == {
        ":red[✖ 东峰煤矿 · 超期未整改隐患数：6]": in_cm01 | {"figure": "hazards_overdue"},
        ":red[✖ 东峰煤矿 · 隐患整改率：0%]": in_cm01 | {"figure": "hazards_found"},
    }


def test_the_ranking_links_each_figure_of_the_units_shown(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "pages/ranking.py"))
    assert kept_figures(links) == {
        f"{name}（1 个单位）": {"units": "CM01", "month": "2026-10", "figure": figure, "basis": "ytd"}
        for name, figure in (("排查隐患数", "hazards_found"), ("已整改隐患数", "hazards_rectified"),
                             ("重大隐患数", "major_hazards"), ("超期未整改隐患数", "hazards_overdue"))}


def test_the_overviews_rectification_rate_opens_the_hazards_found(kept, monkeypatch):
    links = hazard_links(page(kept, monkeypatch, "app.py", month="2026-10"))
    assert {label: contract(q) for label, q in links.items()} == {
        "隐患整改率：查看在本系统建立隐患台账的单位的隐患明细（1 个单位）":
            {"units": "CM01", "month": "2026-10", "figure": "hazards_found", "basis": "ytd"}}


def test_the_demo_as_built_links_nothing_but_what_its_ledgers_hold(pristine, monkeypatch):
    """The session's demo store: no unit keeps its ledger here, so no number has a link."""
    for script in ("app.py", "pages/ranking.py", "pages/breaches.py", "pages/unit.py"):
        assert hazard_links(page(pristine, monkeypatch, script)) == {}, script


# --- the bulletin ---------------------------------------------------------------------------------------------

DASHBOARD = "https://safety.example.cn/dash"
CM01 = {"units": "CM01", "month": "2026-10", "basis": "ytd"}


@pytest.fixture(scope="module")
def bulletin(kept):
    with store.connect(kept, read_only=True) as con:
        return build_bulletin(con, OCTOBER)


def section_of(bulletin, kind: SlideKind) -> Section:
    return next(s for s in sections(bulletin, "zh", ["CM01"], paged=False) if s.slide.kind is kind)


def row_of(table, unit_name: str) -> dict[str, Cell]:
    row = next(r for r in table.rows if r[0].text == unit_name)
    return dict(zip(table.columns, row))


def test_the_bulletins_hazard_numbers_of_a_unit_keeping_its_ledger_carry_their_link(bulletin):
    table = section_of(bulletin, SlideKind.RECTIFICATION).tables[0]
    cm01 = row_of(table, "东峰煤矿")
    assert {column: (cell.text, cell.link) for column, cell in cm01.items() if cell.link} == {
        "排查隐患": ("7", CM01 | {"figure": "hazards_found"}),
        "已整改": ("0", CM01 | {"figure": "hazards_rectified"}),
        "整改率 %": ("0", CM01 | {"figure": "hazards_found"}),
        "超期未整改": ("6", CM01 | {"figure": "hazards_overdue"}),
        "重大隐患": ("0", CM01 | {"figure": "major_hazards"}),
    }
    assert not any(cell.link for cell in row_of(table, "华源化工有限公司").values())  # CH01 types its figures
    assert not any(cell.link for cell in table.rows[-1])  # the group's adds typed figures up too
    card = section_of(bulletin, SlideKind.SCORECARD).tables[0]
    assert row_of(card, "超期未整改隐患数")["本年累计"].link == CM01 | {"figure": "hazards_overdue"}
    assert row_of(card, "重伤人数")["本年累计"].link is None
    flags = section_of(bulletin, SlideKind.VETO_AND_RED).tables[0]
    linked = [(r[1].text, r[2].link) for r in flags.rows if r[2].link]
    assert linked == [("东峰煤矿", CM01 | {"figure": "hazards_found"}),  # the rate 0 %, the worst beyond its limit
                      ("东峰煤矿", CM01 | {"figure": "hazards_overdue"})]
    headline = section_of(bulletin, SlideKind.HEADLINE)
    assert all(tile.link is None for tile in headline.tiles)  # the group's rate: most units type their figures


def test_the_html_and_pdf_bulletins_link_them_to_the_dashboard(bulletin):
    charts = chart_images.bulletin_charts(bulletin, "zh", render=False)
    overdue = f"{DASHBOARD}/hazards?units=CM01&month=2026-10&figure=hazards_overdue&basis=ytd"
    html = bulletin_html(bulletin, "zh", charts, ["CM01"], dashboard=DASHBOARD)
    assert f'<td class="num"><a href="{overdue.replace("&", "&amp;")}">6</a></td>' in html
    # CM01's rectification row (5), its scorecard's due hazard figures (overdue, rate, major: 3), its red flags (2)
    assert html.count(f'<a href="{DASHBOARD}/hazards?') == 10
    assert "/hazards?" not in bulletin_html(bulletin, "zh", charts, ["CM01"])  # no address, no links
    reader = PdfReader(io.BytesIO(bulletin_pdf(bulletin, "zh", charts, ["CM01"], dashboard=DASHBOARD)))
    uris = [annotation.get_object()["/A"]["/URI"] for p in reader.pages for annotation in p.get("/Annots", [])
            if "/URI" in annotation.get_object().get("/A", {})]
    assert uris.count(overdue) == 3 and len(uris) == 10  # the rectification table's, the scorecard's, the flag's


def test_the_decks_hazard_numbers_link_to_the_dashboard(bulletin):
    charts = chart_images.bulletin_charts(bulletin, "zh", render=False)
    deck = Presentation(io.BytesIO(bulletin_pptx(bulletin, "zh", charts, ["CM01"], dashboard=DASHBOARD)))
    links = [(run.text, run.hyperlink.address) for slide in deck.slides for shape in slide.shapes
             if shape.has_table for row in shape.table.rows for cell in row.cells
             for paragraph in cell.text_frame.paragraphs for run in paragraph.runs if run.hyperlink.address]
    assert ("6", f"{DASHBOARD}/hazards?units=CM01&month=2026-10&figure=hazards_overdue&basis=ytd") in links
    assert len({address for _, address in links}) == 4  # found (the rate's too), rectified, overdue, major


def test_the_report_command_takes_the_dashboards_address_only(kept, tmp_path, capsys):
    assert main(["report", "--db", str(kept), "--month", "2026-10", "--format", "pdf", "--out", str(tmp_path),
                 "--dashboard", "safety.example.cn"]) != 0
    assert "is not the dashboard's address" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
