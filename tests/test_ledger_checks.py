"""The ledger's checks (metrics/ledger/checks.py; docs/rules.md, "9. The hazard ledger", rules 14-18) on small
ledgers built through the product's own steps, each expected figure worked out by hand in the test, and the demo's
changeover (LG01 registers every hazard from March 2026, keeps its ledger from May: March and April compared).

The constants are given here (SETTINGS, as data/hazards.toml's [checks] has them), so each case reads with them."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.core.catalog import load_catalog
from metrics.ledger import checks, demo, figures
from metrics.ledger.checks import ChecksError, Flag, Settings, find_flags, parse_settings
from metrics.ledger.hazards import Change, NewHazard
from tests.builders import memory_store

ADMIN = User("safety", Role.ADMIN)
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
SETTINGS = Settings(changeover_months=2, deadline_day_min_closures=5, deadline_day_share=0.5, rate_months=3,
                    rate_fraction=0.25, rate_min_peers=2)
NAMES = {i.code: (i.name_zh, i.name_en) for i in load_catalog().indicators}
UNITS = [("A", "甲煤矿", "Mine A", "coal"), ("P", "乙煤矿", "Mine P", "coal"), ("Q", "丙煤矿", "Mine Q", "coal"),
         ("D", "丁化工", "Chem D", "chemical")]
APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture()
def con(monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-12-01T09:00")
    connection = memory_store(UNITS)
    yield connection
    connection.close()


def hazard(con, raw: Path, unit: str, found: date, deadline: date, *, closed: date | None = None,
           evidence: bytes | None = None) -> str:
    """A general hazard of `unit` found on `found`, issued with `deadline`; closed (rectified and verified) on
    `closed` with one evidence file (`evidence`, or a file of its own)."""
    number = access.register_hazard(con, ADMIN, NewHazard(unit, "daily", f"部位{found:%m%d}-{deadline:%m%d}",
                                                          "护罩缺失", "general", "thing", "machinery", found, "李工"))
    five = {"owner": "王工", "measures": "整改", "funds": 0.0, "deadline": deadline, "verifier": "赵主任"}
    access.hazard_step(con, ADMIN, number, "issue", Change("", found, "", five))
    if closed:
        access.attach_evidence(con, ADMIN, number, evidence or f"photo {number}".encode(), "after.jpg", raw)
        access.hazard_step(con, ADMIN, number, "submit", Change("", closed, "", {"rectified_on": closed}))
        access.hazard_step(con, ADMIN, number, "accept", Change("", closed, "合格", {"verified_on": closed}))
    return number


def submit(con, raw: Path, rows: list[tuple[str, str, str, float]]) -> None:
    """Upload (month, unit, indicator, value) rows as the monthly file does."""
    body = "month,subsidiary,indicator,value\n" + "".join(f"{m},{u},{i},{v}\n" for m, u, i, v in rows)
    result = figures.import_monthly(con, body.encode(), "month.csv", actor="safety", raw_directory=raw)
    assert result.status == "committed", result.errors


def flags(con, month: date, check: str, **options) -> list[Flag]:
    return [f for f in find_flags(con, month, settings=SETTINGS, **options) if f.check == check]


def message(flag: Flag, lang: str = "zh") -> str:
    return flag.message(lang, NAMES, SETTINGS)


# --- the changeover ---------------------------------------------------------------------------------------

@pytest.fixture()
def changing_over(con, tmp_path):
    """A registers 2 hazards in August, 2 in September (one closed in it), 1 in October; keeps its ledger from
    November, so September and October are its changeover (2 months), August is not. It typed: August found 5;
    September found 3, rectified 1; October found 1, rectified 0, overdue 0. The ledger counts September found 2,
    rectified 1; October found 1, rectified 0, overdue 1 (the 09-05 hazard, deadline 09-20, open at October's end;
    the 09-10 one was closed on 09-15)."""
    raw = tmp_path / "raw"
    hazard(con, raw, "A", date(2026, 8, 3), date(2026, 8, 30), closed=date(2026, 8, 20))
    hazard(con, raw, "A", date(2026, 8, 4), date(2026, 8, 30), closed=date(2026, 8, 21))
    hazard(con, raw, "A", date(2026, 9, 5), date(2026, 9, 20))
    hazard(con, raw, "A", date(2026, 9, 10), date(2026, 9, 25), closed=date(2026, 9, 15))
    hazard(con, raw, "A", date(2026, 10, 8), date(2026, 11, 30))
    submit(con, raw, [("2026-08", "A", "hazards_found", 5), ("2026-09", "A", "hazards_found", 3),
                      ("2026-09", "A", "hazards_rectified", 1), ("2026-10", "A", "hazards_found", 1),
                      ("2026-10", "A", "hazards_rectified", 0), ("2026-10", "A", "hazards_overdue", 0),
                      ("2026-09", "P", "hazards_found", 9), ("2026-11", "A", "hours_worked", 900)])
    figures.keep_ledger(con, "A", NOV, actor="director")
    return con


def test_a_changeover_month_whose_typed_figure_differs_from_the_ledger_is_flagged(changing_over):
    [flag] = flags(changing_over, SEP, "changeover")
    assert (flag.subsidiary, flag.month, flag.indicator) == ("A", SEP, "hazards_found")
    assert flag.evidence == {"typed": 3.0, "counted": 2.0, "difference": 1.0, "gap": "short", "ledger_from": "2026-11"}
    assert message(flag) == "2026年9月排查隐患数：填报 3，台账统计 2，台账少 1，请核对台账记录是否完整"
    assert message(flag, "en") == ("Sep 2026, Hazards found: typed 3, counted from the ledger 2; the ledger has 1 "
                                   "fewer: check that its records are complete")


def test_the_ledger_counting_more_than_was_typed_asks_to_check_the_typed_figure(changing_over):
    [flag] = flags(changing_over, OCT, "changeover")
    assert (flag.indicator, flag.evidence["typed"], flag.evidence["counted"]) == ("hazards_overdue", 0.0, 1.0)
    assert message(flag) == "2026年10月超期未整改隐患数：填报 0，台账统计 1，台账多 1，请核对填报数是否准确"


def test_no_changeover_flag_outside_the_changeover_or_for_a_unit_that_types_its_figures(changing_over):
    assert flags(changing_over, date(2026, 8, 1), "changeover") == []  # typed 5, ledger 2: not yet changing over
    assert flags(changing_over, NOV, "changeover") == []  # the ledger's own month
    assert [f.subsidiary for f in flags(changing_over, SEP, "changeover", units=["P"])] == []  # P keeps none here


# --- hours and inspections but no findings ----------------------------------------------------------------

@pytest.fixture()
def kept(con, tmp_path):
    """A and D keep their ledgers from October (each with a hazard found in September). November: A worked 1,200
    hours and did 4 inspections (as typed), found nothing; D did 3 inspections but reported no hours."""
    raw = tmp_path / "raw"
    hazard(con, raw, "A", date(2026, 9, 2), date(2026, 9, 30), closed=date(2026, 9, 20))
    hazard(con, raw, "D", date(2026, 9, 3), date(2026, 9, 30), closed=date(2026, 9, 21))
    submit(con, raw, [("2026-11", "A", "hours_worked", 1200), ("2026-11", "A", "inspections_done", 4),
                      ("2026-11", "D", "inspections_done", 3)])
    figures.keep_ledger(con, "A", OCT, actor="director")
    figures.keep_ledger(con, "D", OCT, actor="director")
    return con


def test_hours_and_inspections_without_a_hazard_found_is_flagged(kept):
    [flag] = flags(kept, NOV, "no_findings")
    assert flag.subsidiary == "A"  # D has no hours: not flagged
    assert flag.evidence == {"hours": 1200.0, "count": 4.0, "inspections": "reported"}
    assert message(flag) == ("2026年11月有工时 1,200 小时、填报完成检查 4 次，台账未登记隐患，"
                             "请核对检查发现的问题是否已登记")


def test_the_ledgers_inspection_records_count_before_the_typed_figure(kept):
    # Nothing in the product writes inspections yet (the table is the ledger's, schema v7): two records by hand.
    for i, day in enumerate((date(2026, 11, 4), date(2026, 11, 18)), start=1):
        kept.execute("INSERT INTO inspections VALUES (?, 'A', 'daily', ?, '张工', '全矿', ?, 'safety')",
                     [i, day, day])
    [flag] = flags(kept, NOV, "no_findings")
    assert flag.evidence == {"hours": 1200.0, "count": 2, "inspections": "records"}
    assert "检查记录 2 次" in message(flag) and "2 inspection records" in message(flag, "en")


def test_a_hazard_found_in_the_month_clears_it(kept, tmp_path):
    hazard(kept, tmp_path / "raw", "A", date(2026, 11, 20), date(2026, 12, 20))
    assert flags(kept, NOV, "no_findings") == []


# --- closures on the deadline day -------------------------------------------------------------------------

@pytest.fixture()
def closing(con, tmp_path):
    """A keeps its ledger from September. In November it closes 5 hazards, 3 of them on their deadline day; in
    October 5, 2 on their deadline day (spread over the month); D (from September) closes 4 in November, all
    on their deadline day."""
    raw = tmp_path / "raw"
    for day in (3, 6, 9):
        hazard(con, raw, "A", date(2026, 11, 1), date(2026, 11, day), closed=date(2026, 11, day))
    for day in (12, 15):
        hazard(con, raw, "A", date(2026, 11, 1), date(2026, 11, 28), closed=date(2026, 11, day))
    for day in (5, 12):
        hazard(con, raw, "A", date(2026, 9, 28), date(2026, 10, day), closed=date(2026, 10, day))
    for day in (8, 19, 26):
        hazard(con, raw, "A", date(2026, 9, 28), date(2026, 10, 30), closed=date(2026, 10, day))
    for day in (4, 11, 18, 25):
        hazard(con, raw, "D", date(2026, 9, 1), date(2026, 11, day), closed=date(2026, 11, day))
    submit(con, raw, [("2026-11", "A", "hours_worked", 1000), ("2026-11", "D", "hours_worked", 800)])
    figures.keep_ledger(con, "A", SEP, actor="director")
    figures.keep_ledger(con, "D", SEP, actor="director")
    return con


def test_closures_bunched_on_the_deadline_day_are_flagged(closing):
    [flag] = flags(closing, NOV, "deadline_day")
    assert flag.subsidiary == "A"  # D: 4 of 4, fewer than 5 closures
    assert flag.evidence == {"closures": 5, "on_deadline": 3, "share": 60}
    assert message(flag) == ("2026年11月验收销号 5 项，其中 3 项（60%）在整改期限当日验收，"
                             "请核对验收记录与实际整改时间")


def test_closures_spread_over_the_month_are_not(closing):
    assert flags(closing, OCT, "deadline_day") == []  # 2 of 5 (40 %)


# --- closed the day it was found without evidence of its own -----------------------------------------------

def test_a_hazard_closed_the_day_it_was_found_on_another_hazards_evidence_is_flagged(con, tmp_path):
    raw = tmp_path / "raw"
    first = hazard(con, raw, "A", date(2026, 10, 20), date(2026, 11, 10), closed=date(2026, 10, 25),
                   evidence=b"the same photo")
    same_day = hazard(con, raw, "A", date(2026, 11, 5), date(2026, 11, 20), closed=date(2026, 11, 5),
                      evidence=b"the same photo")
    hazard(con, raw, "A", date(2026, 11, 6), date(2026, 11, 20), closed=date(2026, 11, 6))  # its own photo
    hazard(con, raw, "A", date(2026, 11, 7), date(2026, 11, 20), closed=date(2026, 11, 9),
           evidence=b"the same photo")  # shared, but closed two days after it was found
    submit(con, raw, [("2026-11", "A", "hours_worked", 1000)])
    figures.keep_ledger(con, "A", OCT, actor="director")
    [flag] = flags(con, NOV, "same_day")
    assert (flag.subsidiary, flag.hazard) == ("A", same_day)
    assert flag.evidence == {"number": same_day, "place": "部位1105-1120", "files": 1, "evidence": "shared",
                             "shared_with": first}
    assert message(flag) == (f"隐患 {same_day}（部位1105-1120）发现当日即验收销号，所附整改证据与隐患 {first} 的文件"
                             f"相同，请核对整改与验收记录")
    assert flags(con, OCT, "same_day") == []  # the first was closed five days after it was found


def test_a_hazard_without_any_evidence_reads_so():
    flag = Flag("same_day", "A", NOV, {"number": "A-2026-0009", "place": "井口", "files": 0, "evidence": "none"},
                hazard="A-2026-0009")
    assert message(flag) == "隐患 A-2026-0009（井口）发现当日即验收销号，未附整改证据，请核对整改与验收记录"
    assert message(flag, "en") == ("Hazard A-2026-0009 was closed the day it was found and has no evidence "
                                   "attached: check the rectification and verification records")  # no Han text


# --- findings per 10,000 hours against the sector -----------------------------------------------------------

@pytest.fixture()
def rates(con, tmp_path):
    """Coal: A keeps its ledger from September and found 1 hazard (September) in 30,000 hours over September to
    November: 0.33 per 10,000 hours. Its peers typed: P 5 a month in 10,000 hours a month, Q 4 a month in 20,000:
    27 in 90,000 hours, 3 per 10,000. 0.33 < 25 % of 3 (0.75)."""
    raw = tmp_path / "raw"
    hazard(con, raw, "A", date(2026, 9, 2), date(2026, 9, 30), closed=date(2026, 9, 20))
    rows = []
    for month in ("2026-09", "2026-10", "2026-11"):
        rows += [(month, "A", "hours_worked", 10_000), (month, "P", "hours_worked", 10_000),
                 (month, "P", "hazards_found", 5), (month, "Q", "hours_worked", 20_000),
                 (month, "Q", "hazards_found", 4)]
    submit(con, raw, rows)
    figures.keep_ledger(con, "A", SEP, actor="director")
    return con


def test_findings_far_below_the_sectors_are_flagged(rates):
    [flag] = flags(rates, NOV, "low_rate")
    assert flag.evidence == {"found": 1.0, "hours": 30_000.0, "rate": 0.33, "sector_rate": 3.0, "peers": 2,
                             "months": 3, "first": "2026-09", "period": "span"}
    assert message(flag) == ("2026年9月至2026年11月（3 个月）每万工时排查隐患 0.33 项（1 项，30,000 小时），"
                             "同板块其他 2 家单位同期合计每万工时 3 项，本单位不足其 25%，请核对隐患排查是否全面")
    assert message(flag, "en").startswith("Sep 2026 to Nov 2026 (3 months): 0.33 hazards found per 10,000 hours")


def test_no_comparison_with_too_few_peers_or_for_a_unit_user(rates):
    fewer = Settings(**{**SETTINGS.__dict__, "rate_min_peers": 3})
    assert [f for f in find_flags(rates, NOV, settings=fewer) if f.check == "low_rate"] == []
    assert flags(rates, NOV, "low_rate", compare_sectors=False) == []
    assert [f.check for f in access.ledger_checks(rates, ADMIN, NOV)] == ["low_rate"]
    assert access.ledger_checks(rates, User("a", Role.UNIT, ("A",)), NOV) == []  # the sector's figures are withheld


def test_a_unit_user_sees_only_their_own_units_flags(closing):
    assert {f.subsidiary for f in access.ledger_checks(closing, ADMIN, NOV)} == {"A"}
    assert access.ledger_checks(closing, User("d", Role.UNIT, ("D",)), NOV) == []
    assert [f.check for f in access.ledger_checks(closing, User("a", Role.UNIT, ("A",)), NOV)] == ["deadline_day"]


# --- the constants ------------------------------------------------------------------------------------------

def test_the_constants_come_from_the_data_file_and_bad_ones_are_refused():
    assert checks.load_settings() == SETTINGS
    with pytest.raises(ChecksError, match=r"\[checks\]: rate_fraction = 1.5 is out of range"):
        parse_settings("[checks]\n" + "\n".join(f"{k} = {v}" for k, v in {**SETTINGS.__dict__,
                                                                           "rate_fraction": 1.5}.items()))
    with pytest.raises(ChecksError, match="changeover_months = 'two'"):
        parse_settings("[checks]\n" + "\n".join(f"{k} = {v!r}" if k == "changeover_months" else f"{k} = {v}"
                                                for k, v in {**SETTINGS.__dict__, "changeover_months": "two"}.items()))
    with pytest.raises(ChecksError, match="no \\[checks\\] table"):
        parse_settings("[settings]\ndue_soon_days = 3\n")


def test_every_check_words_its_constants_in_both_languages():
    for check in checks.CHECKS:
        for lang in ("zh", "en"):
            rule = check.rule_text(lang, SETTINGS)
            assert "{" not in rule and rule, (check.id, lang)


# --- the demo's changeover and the page -------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_ledger(pristine, tmp_path_factory) -> Path:
    """The session's demo store (ending 2026-10) with its hazard ledgers, as `metrics init --demo` fills them."""
    path = tmp_path_factory.mktemp("ledger_checks") / "demo.duckdb"
    shutil.copy(pristine, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAFETY_NOW", "2026-11-02T09:00")
        demo.fill_store(path)
    return path


def test_the_demos_lg01_changes_over_in_march_and_april(demo_ledger):
    """LG01 typed March found 13, rectified 13, overdue 2 and April found 18, rectified 17; its ledger counts
    March 13, 8, 0 and April 18, 12 (every hazard registered, the closures of the later ones after the month)."""
    with store.connect(demo_ledger, read_only=True) as con:
        got = {(f.month, f.indicator): (f.evidence["typed"], f.evidence["counted"])
               for m in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1))
               for f in find_flags(con, m) if f.check == "changeover"}
        lg01 = {f.subsidiary for m in range(1, 11) for f in find_flags(con, date(2026, m, 1))}
    assert got == {(date(2026, 3, 1), "hazards_rectified"): (13.0, 8.0),
                   (date(2026, 3, 1), "hazards_overdue"): (2.0, 0.0),
                   (date(2026, 4, 1), "hazards_rectified"): (17.0, 12.0)}
    assert lg01 == {"LG01"}  # only LG01 keeps its ledger here


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_breaches_page_shows_the_ledger_checks(demo_ledger, monkeypatch, lang):
    monkeypatch.setenv("SAFETY_DB", str(demo_ledger))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update({"lang": lang, "month": "2026-04"})
    app.switch_page("pages/breaches.py")
    at = app.run()
    assert not at.exception, [e.message for e in at.exception]
    heading = {"zh": "台账核查提示", "en": "Ledger checks"}[lang]
    assert heading in [h.value for h in at.subheader]
    table = at.dataframe[-1].value  # below the breaches
    column = {"zh": "核查提示", "en": "What to check"}[lang]
    expected = {"zh": "2026年4月已整改隐患数：填报 17，台账统计 12，台账少 5，请核对台账记录是否完整",
                "en": "Apr 2026, Hazards rectified: typed 17, counted from the ledger 12; the ledger has 5 fewer: "
                      "check that its records are complete"}[lang]
    assert table[column].tolist() == [expected]
    assert list(table.columns) == [{"zh": "单位", "en": "Unit"}[lang], {"zh": "核查项", "en": "Check"}[lang], column]
    [link] = [e.proto for e in at.get("page_link") if "LG01 · " in e.proto.label]  # the ledger's hazards behind it
    assert link.label == "LG01 · " + {"zh": "2026年4月 · 已整改隐患数", "en": "Apr 2026 · Hazards rectified"}[lang]
    assert link.page == "hazards"
    assert dict(parse_qsl(link.query_string)) == {"lang": lang, "month": "2026-04", "basis": "month", "units": "LG01",
                                                  "figure": "hazards_rectified"}


def test_a_month_without_flags_says_so(demo_ledger, monkeypatch):
    monkeypatch.setenv("SAFETY_DB", str(demo_ledger))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update({"lang": "zh", "month": "2026-10"})
    app.switch_page("pages/breaches.py")
    at = app.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "本月没有台账核查提示。" in [i.value for i in at.info]

