"""The dashboard's pages run headless with Streamlit's AppTest against a deterministic demo store.

The demo ends in October 2026: 北川煤矿 (CM03) is vetoed for a fatality, 铁运公司 (LG02) has not reported
the latest month, 矿山建设公司 (CN02) is out of statistical control and 鑫泰热电公司 (PW01) is suspiciously
silent about hazards.

AppTest limitation: the month/basis radio formats its options with `t()`, which reads the language from
session state when AppTest re-formats it *between* runs (outside the script). After switching to English,
a further rerun therefore fails inside AppTest (not in a browser), so the English checks below each use a
single run after the switch.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.initialise import init_store

APP = Path(__file__).resolve().parents[1] / "app.py"
END_MONTH = date(2026, 10, 1)
VETO_BANNER_ZH = "一票否决：北川煤矿（死亡人数 1），本期得分归零"
VETO_BANNER_EN = "Veto: Beichuan Coal Mine (Fatalities 1); its score for the period is 0"


@pytest.fixture(scope="module")
def demo_store_path(tmp_path_factory) -> Path:
    """A demo store ending in October 2026, built once for the module (the pages only read it)."""
    path = tmp_path_factory.mktemp("app_pages") / "safety.duckdb"
    init_store(path, with_demo=True, end_month=END_MONTH)
    return path


@pytest.fixture
def demo_app(demo_store_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SAFETY_DB", str(demo_store_path))
    return AppTest.from_file(str(APP), default_timeout=60)


def exceptions(at: AppTest) -> list[str]:
    return [e.message for e in at.exception]


def units_table(at: AppTest):
    assert len(at.dataframe) == 1, "the overview shows one table of units"
    return at.dataframe[0].value


def test_overview_in_chinese(demo_app):
    at = demo_app.run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["集团安全生产指标看板"]
    assert [e.value for e in at.error] == [VETO_BANNER_ZH]
    assert any("铁运公司" in w.value for w in at.warning), [w.value for w in at.warning]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["参评单位"] == "12"
    assert metrics["一票否决"] == "1"
    assert metrics["未报单位"] == "1"

    table = units_table(at)
    assert len(table) == 12
    vetoed = table[table["单位"] == "北川煤矿"]
    assert len(vetoed) == 1
    assert vetoed.iloc[0]["等级"] == "⛔ 否决"
    assert vetoed.iloc[0]["得分"] == 0
    assert (table["等级"] == "⛔ 否决").sum() == 1
    silent = table[table["单位"] == "铁运公司"].iloc[0]
    assert silent["未报"] > 0


def test_switching_the_sidebar_to_english(demo_app):
    at = demo_app.run()
    assert not at.exception, exceptions(at)
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["Group Safety Production Dashboard"]
    assert [e.value for e in at.error] == [VETO_BANNER_EN]
    assert "Beichuan Coal Mine" in at.error[0].value
    table = units_table(at)
    assert len(table) == 12
    assert table.loc[table["Unit"] == "Beichuan Coal Mine", "Grade"].tolist() == ["⛔ Veto"]


def test_query_parameter_selects_english_at_first_load(demo_app):
    demo_app.query_params["lang"] = "en"
    at = demo_app.run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["Group Safety Production Dashboard"]
    assert [e.value for e in at.error] == [VETO_BANNER_EN]
    assert at.sidebar.radio(key="lang").value == "en"


def test_other_month_and_basis_run(demo_app):
    at = demo_app.run()
    month = at.sidebar.selectbox(key="month")
    assert month.value == END_MONTH
    at.sidebar.radio(key="basis").set_value("month").run()
    assert not at.exception, exceptions(at)
    assert len(units_table(at)) == 12
    at.sidebar.selectbox(key="month").set_value(date(2024, 1, 1)).run()
    assert not at.exception, exceptions(at)
    assert len(units_table(at)) == 12


def test_first_start_creates_the_demo_store(tmp_path, monkeypatch):
    """No store yet: the app builds the demo (ending with the last complete month) on its first run."""
    path = tmp_path / "fresh" / "safety.duckdb"
    assert not path.exists()
    monkeypatch.setenv("SAFETY_DB", str(path))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, exceptions(at)
    assert path.exists()
    assert [t.value for t in at.title] == ["集团安全生产指标看板"]
    assert len(units_table(at)) == 12


def test_breaches_page(demo_app):
    at = demo_app.run()
    at.switch_page("pages/breaches.py").run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["预警与问责"]
    table = at.dataframe[0].value
    rows = set(zip(table["类型"], table["单位"]))
    assert ("一票否决", "北川煤矿") in rows
    assert ("统计失控", "矿山建设公司") in rows
    assert ("疑似瞒报", "鑫泰热电公司") in rows
    assert ("未报", "铁运公司") in rows
    veto = table[table["类型"] == "一票否决"]
    assert veto["单位"].tolist() == ["北川煤矿"]
    assert veto["严重程度"].tolist() == ["高"]

    at.multiselect(key="breach_kinds").set_value(["疑似瞒报"]).run()
    assert not at.exception, exceptions(at)
    shown = at.dataframe[0].value
    assert shown["单位"].tolist() == ["鑫泰热电公司"]


def test_breaches_page_in_english(demo_app):
    demo_app.query_params["lang"] = "en"
    at = demo_app.switch_page("pages/breaches.py").run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["Breaches"]
    table = at.dataframe[0].value
    kinds = set(table["Kind"])
    assert {"Veto", "Red", "Yellow", "Not reported", "Out of control", "Suspicious silence"} <= kinds


def test_unit_page_first_unit(demo_app):
    at = demo_app.run()
    at.switch_page("pages/unit.py").run()
    assert not at.exception, exceptions(at)
    assert [t.value for t in at.title] == ["单位详情"]
    assert at.selectbox(key="unit").value == "CH01"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["排名"].endswith("/ 12")
    assert len(at.dataframe) == 1


def test_unit_page_vetoed_unit(demo_app):
    at = demo_app.run()
    at.switch_page("pages/unit.py").run()
    at.selectbox(key="unit").set_value("CM03").run()
    assert not at.exception, exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["等级"] == "⛔ 否决"
    assert metrics["排名"] == "11 / 12"
    table = at.dataframe[0].value
    fatalities = table[table["指标"] == "死亡人数"].iloc[0]
    assert fatalities["否决项"] == "⛔"
    assert fatalities["状态"] == "🔴 超标"
