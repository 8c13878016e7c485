"""Targets: import validation (every problem, nothing written), replacement per year, export round trip."""
import pytest

from metrics import store
from metrics.core.catalog import load_catalog
from metrics.core.problems import Rejected
from metrics.ingest import targets
from metrics.store import schema
from tests.builders import memory_store, set_targets

HEADER = "year,subsidiary,indicator,target,limit,weight,veto\n"


def write(tmp_path, body, name="t.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_replaces_all_targets_of_each_year_in_the_file(tmp_path):
    con = memory_store()
    set_targets(con, [(2025, "*", "injuries", 1, 2, 1, False), (2026, "*", "injuries", 1, 2, 1, False),
                      (2026, "A", "major_hazards", 0, 1, 1, False)])
    targets.import_targets(con, write(tmp_path, "2026,*,injuries,3,,10,false\n2026,A,fatalities,0,0,20,true\n"),
                           load_catalog(), actor="test")
    rows = store.query(con, "SELECT year, subsidiary, indicator, target, limit_value, weight, veto FROM targets "
                            "ORDER BY ALL").values.tolist()
    assert rows[0] == [2025, "*", "injuries", 1.0, 2.0, 1.0, False]
    assert rows[1][:3] == [2026, "*", "injuries"] and rows[1][4] != rows[1][4]  # blank limit kept blank
    assert rows[2] == [2026, "A", "fatalities", 0.0, 0.0, 20.0, True]
    assert len(rows) == 3


@pytest.mark.parametrize("line, column, message", [
    ("2026,*,near_misses,10,20,1,false", "indicator", "no direction"),
    ("2026,*,hours_worked,10,,1,false", "indicator", "no direction"),
    ("2026,*,injuries,3,2,1,false", "limit", "at or above the target"),
    ("2026,*,rectification_rate,95,97,1,false", "limit", "at or below the target"),
    ("2026,*,injuries,3,4,,false", "weight", "required"),
    ("2026,*,injuries,3,4,-1,false", "weight", "0 or more"),
    ("2026,*,injuries,abc,4,1,false", "target", "not a number"),
    ("2026,ZZ,injuries,3,4,1,false", "subsidiary", "unknown unit"),
    ("2026,*,injury,3,4,1,false", "indicator", "unknown indicator"),
    ("26,*,injuries,3,4,1,false", "year", "not a year"),
    ("2026,*,injuries,3,4,1,maybe", "veto", "true or false"),
])
def test_bad_rows_are_rejected_with_row_column_and_reason(tmp_path, line, column, message):
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, True)])
    path = write(tmp_path, "2026,*,fatalities,0,0,20,true\n" + line + "\n")
    with pytest.raises(Rejected) as caught:
        targets.import_targets(con, path, load_catalog(), actor="test")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, column)
    assert message in problem.message
    assert store.query(con, "SELECT indicator FROM targets")["indicator"].tolist() == ["fatalities"]


def test_every_problem_is_listed_at_once(tmp_path):
    con = memory_store()
    path = write(tmp_path, "2026,*,injuries,3,2,1,false\n2026,*,injuries,3,4,1,false\n2026,X,nope,a,b,c,d\n")
    with pytest.raises(Rejected) as caught:
        targets.import_targets(con, path, load_catalog(), actor="test")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(2, "limit"), (3, "indicator"), (4, "subsidiary"), (4, "indicator"), (4, "target"), (4, "limit"),
            (4, "weight"), (4, "veto")} <= found
    assert store.scalar(con, "SELECT count(*) FROM targets") == 0


def test_export_then_import_round_trips(tmp_path):
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 10, False), (2026, "A", "injuries", 5, None, 7.5, False),
                      (2026, "*", "fatalities", 0, 0, 20, True), (2026, "*", "rectification_rate", 95, 85, 10, False)])
    text = targets.export_targets(con, 2026)
    assert text.splitlines()[0] == HEADER.strip()
    assert "2026,A,injuries,5,,7.5,false" in text.splitlines()
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    before = store.query(con, "SELECT * FROM targets ORDER BY ALL")
    targets.import_targets(con, path, load_catalog(), actor="test")
    after = store.query(con, "SELECT * FROM targets ORDER BY ALL")
    assert before.equals(after)
    assert text.splitlines()[1].startswith("2026,*,")  # group defaults first


def test_target_numbers_use_the_upload_number_rules(tmp_path):
    """"1,5" is not fifteen: target cells go through the same strict converter as uploaded values."""
    con = memory_store()
    with pytest.raises(Rejected) as caught:
        targets.import_targets(con, write(tmp_path, "2026,*,injuries,\"1,5\",\"1,200\",1,false\n"), load_catalog(),
                               actor="test")
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(2, "target", "1,5")]
    targets.import_targets(con, write(tmp_path, "2026,*,injuries,3,\"1,200\",１０,false\n"), load_catalog(),
                           actor="test")
    assert store.query(con, "SELECT target, limit_value, weight FROM targets").values.tolist() == [[3, 1200, 10]]


def test_a_table_edited_on_the_page_goes_through_the_same_validation():
    """The page's editor hands over a typed table; it is turned into text rows and validated like a CSV."""
    import pandas as pd
    con = memory_store()
    set_targets(con, [(2026, "*", "injuries", 2, 4, 10, False)])
    before = store.query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": 2026})
    edited = pd.DataFrame({"year": [2026, 2026], "subsidiary": ["*", "A"], "indicator": ["injuries", "injuries"],
                           "target": [2.0, 5.0], "limit": [float("nan"), 3.0], "weight": [10.0, -1.0],
                           "veto": [False, True]})
    assert targets.frame_rows(edited)[1] == (3, {"year": "2026", "subsidiary": "A", "indicator": "injuries",
                                                 "target": "5", "limit": "3", "weight": "-1", "veto": "true"})
    with pytest.raises(Rejected) as rejected:
        targets.apply_targets(con, targets.frame_rows(edited), load_catalog(), actor="test")
    assert [(p.row, p.column) for p in rejected.value.problems] == [(3, "weight"), (3, "limit")]
    assert store.query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": 2026}).equals(before)

    edited.loc[1, ["limit", "weight"]] = [8.0, 10.0]
    saved = targets.apply_targets(con, targets.frame_rows(edited), load_catalog(), actor="test")
    after = store.query(con, schema.SELECT_TARGETS_OF_YEAR, {"year": 2026})
    assert after[["subsidiary", "target", "weight", "veto"]].values.tolist() == [
        ["*", 2.0, 10.0, False], ["A", 5.0, 10.0, True]]
    assert pd.isna(after["limit"][0]) and after["limit"][1] == 8.0  # a blank limit stays blank (= target)
    assert len(saved) == 2


def test_export_writes_a_formula_like_unit_code_as_text_keeps_numbers_and_reads_back(tmp_path):
    con = memory_store([("=1+1", "公式单位", "Formula unit", "coal"), ("A", "甲煤矿", "Mine A", "coal")])
    set_targets(con, [(2026, "=1+1", "injuries", 2, 4, 10, False), (2026, "*", "training_hours", -1, -3, 1,
                                                                       False)])
    text = targets.export_targets(con, 2026)
    assert text.splitlines()[1:] == ["2026,*,training_hours,-1,-3,1,false", "2026,'=1+1,injuries,2,4,10,false"]
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    before = store.query(con, "SELECT * FROM targets ORDER BY ALL")
    targets.import_targets(con, path, load_catalog(), actor="test")
    assert store.query(con, "SELECT * FROM targets ORDER BY ALL").equals(before)


@pytest.mark.parametrize("body, row, message", [
    # A quote opened on row 3 and never closed: every later line would read as one cell of row 3.
    ('2026,*,fatalities,0,0,20,true\n2026,"*,injuries,3,4,1,false\n' + "2026,*,injuries,3,4,1,false\n" * 100, 3,
     'a quote (") opened in this row is never closed, so the rest of the file reads as one cell longer than the '
     "1,000 characters allowed; close the quote or remove it, then upload the file again"),
    ("2026,*,fatalities,0,0,20,true\n2026,*,injuries,3,4,1," + "x" * 1001 + "\n", 3,
     "a cell in this row is longer than the 1,000 characters allowed; shorten it (a cell holds one value) and "
     "upload the file again"),
])
def test_a_broken_or_overlong_cell_is_refused_naming_its_row(tmp_path, body, row, message):
    """The targets and units files obey the upload's cell limit (data/limits.toml), with the same sentence."""
    con = memory_store()
    set_targets(con, [(2026, "*", "fatalities", 0, 0, 20, True)])
    with pytest.raises(Rejected) as caught:
        targets.import_targets(con, write(tmp_path, body), load_catalog(), actor="test")
    [problem] = caught.value.problems
    assert (problem.row, problem.message) == (row, message)
    assert problem.message_zh
    assert store.query(con, "SELECT indicator FROM targets")["indicator"].tolist() == ["fatalities"]


def test_a_targets_file_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    limits = tmp_path / "limits.toml"
    limits.write_text("file_mb = 1\n", encoding="utf-8")
    monkeypatch.setenv("SAFETY_LIMITS", str(limits))
    con = memory_store()
    path = write(tmp_path, "2026,*,injuries,3,4,1,false\n" * 40_000)  # 28 + 40,000 × 28 bytes: 1.07 MB
    with pytest.raises(Rejected) as caught:
        targets.import_targets(con, path, load_catalog(), actor="test")
    [problem] = caught.value.problems
    assert problem.message == ("the file is 1.1 MB, more than the 1 MB allowed; split it into several files (a year "
                               "or a few months each) and upload them one by one")
    assert store.query(con, "SELECT count(*) AS n FROM targets")["n"].tolist() == [0]
