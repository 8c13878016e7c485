"""Sectors are reference data the store holds: `sectors import` adds and renames them (validated whole, on the
audit trail), `sectors export` writes them back, `init` no longer overwrites them from data/sectors.csv, units and
the pages read the store's, and a rebuilt store gets them — on real stores, through the command line."""
from __future__ import annotations

import json

import pytest

from metrics import access, store
from metrics.cli.main import main
from metrics.core.paths import SECTORS_FILE
from metrics.store import audit, schema

SEEDED = ("code,name_zh,name_en\nchemical,化工,Chemicals\ncoal,煤矿,Coal mining\nconstruction,建设,Construction\n"
          "logistics,物流,Logistics\npower,电力,Power\n")
"""data/sectors.csv as `sectors export` writes it (by code)."""


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, capsys) -> str:
    path = str(tmp_path / "s.duckdb")
    assert run(capsys, "init", "--db", path)[0] == 0
    return path


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def exported(capsys, db: str) -> str:
    code, out, _ = run(capsys, "sectors", "export", "--db", db)
    assert code == 0
    return out


def trail(db: str):
    with store.connect(db, read_only=True) as con:
        return audit.entries(con)


def test_a_new_store_starts_with_the_repositorys_sectors(db, capsys):
    lines = SECTORS_FILE.read_text(encoding="utf-8").splitlines()
    assert [lines[0], *sorted(lines[1:])] == SEEDED.splitlines()
    assert exported(capsys, db) == SEEDED


def test_import_adds_and_renames_and_the_store_keeps_them(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("USER", "ops")
    source = write(tmp_path, "sectors.csv", "code,name_zh,name_en\npower,电力能源,Power and energy\n"
                                            "new_energy,新能源,New energy\n")
    code, out, err = run(capsys, "sectors", "import", source, "--db", db)
    assert (code, out, err) == (0, "sectors imported: 2 added or renamed (power, new_energy)\n", "")
    expected = ("code,name_zh,name_en\nchemical,化工,Chemicals\ncoal,煤矿,Coal mining\nconstruction,建设,Construction\n"
                "logistics,物流,Logistics\nnew_energy,新能源,New energy\npower,电力能源,Power and energy\n")
    assert exported(capsys, db) == expected
    row = trail(db)
    row = row[row["action"] == "sectors_change"].iloc[0]
    assert (row["actor"], row["target"], row["outcome"]) == ("cli:ops", "sectors", "ok")
    assert json.loads(row["detail"]) == {"sectors": 2, "added_or_changed": ["power", "new_energy"]}
    assert audit.describe(row["detail"], "zh") == "新增或修改: power, new_energy · 板块: 2"
    assert audit.target_text("sectors", "zh") == "板块名录"

    assert run(capsys, "init", "--db", db)[0] == 0  # an upgrade does not put data/sectors.csv back
    assert exported(capsys, db) == expected
    assert run(capsys, "sectors", "import", source, "--db", db)[1] == "sectors imported: 0 added or renamed\n"

    units = write(tmp_path, "units.csv", "code,name_zh,name_en,sector\nNE1,一号光伏电站,Solar plant 1,新能源\n"
                                         "PW1,热电厂,Power plant,Power and energy\n")
    assert run(capsys, "units", "import", units, "--db", db)[0] == 0
    with store.connect(db, read_only=True) as con:
        ref = access.reference(con, access.DEMO_USER)
        assert ref.units[["code", "sector", "sector_zh", "sector_en"]].values.tolist() == [
            ["NE1", "new_energy", "新能源", "New energy"], ["PW1", "power", "电力能源", "Power and energy"]]


def test_a_bad_file_lists_every_problem_and_changes_nothing(db, tmp_path, capsys):
    before, rows_before = exported(capsys, db), len(trail(db))
    source = write(tmp_path, "bad.csv", "code,name_zh,name_en\n"
                                        "Coal2,煤炭,Coal 2\n"       # row 2: upper-case code
                                        "mining,矿业,\n"            # row 3: no English name
                                        "lng,液化气,LNG\n"
                                        "lng,天然气,Gas\n"          # row 5: code used twice
                                        "city_gas,<b>燃气</b>,Gas\n"  # row 6: markup; 'Gas' is row 5's
                                        "power,煤矿,Power\n")       # row 7: 煤矿 names coal
    code, out, err = run(capsys, "sectors", "import", source, "--db", db)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: row 2, column code, value 'Coal2': a sector code is 1 to 32 lower-case letters, digits or _, "
        "starting with a letter (e.g. coal, new_energy)",
        "error: row 3, column name_en, value '': a sector needs its English name (the English pages show it)",
        "error: row 5, column code, value 'lng': code already used on row 4; list each sector once",
        "error: row 6, column name_zh, value '<b>燃气</b>': a sector's name may not hold < > or control characters; "
        "write it as plain text",
        "error: row 6, column name_en, value 'Gas': is already the name_en of sector lng (on row 5); a code or name "
        "may name one sector only, since a units file names a sector by any of them: choose another",
        "error: row 7, column name_zh, value '煤矿': is already the name_zh of sector coal (in the store); a code or "
        "name may name one sector only, since a units file names a sector by any of them: choose another",
    ]
    assert exported(capsys, db) == before
    assert len(trail(db)) == rows_before + 1  # the export's row only: no sectors_change
    assert "sectors_change" not in set(trail(db)["action"])


@pytest.mark.parametrize("text, message", [
    ("code,name_zh\ncoal,煤矿\n", "error: row 1, column name_en: column name_en is missing; the header must be "
                                  "code,name_zh,name_en"),
    ("code,name_zh,name_en\n", "error: the file has no sector rows"),
])
def test_a_file_without_the_columns_or_rows_is_rejected(db, tmp_path, capsys, text, message):
    before = exported(capsys, db)
    code, _, err = run(capsys, "sectors", "import", write(tmp_path, "s.csv", text), "--db", db)
    assert code == 1 and err.splitlines() == [message]
    assert exported(capsys, db) == before


def test_names_can_move_between_sectors_listed_in_one_file(db, tmp_path, capsys):
    """A name is free once the file renames the sector that had it."""
    source = write(tmp_path, "swap.csv", "code,name_zh,name_en\ncoal,煤炭,Coal\npower,煤矿发电,Coal mining power\n"
                                         "logistics,物流运输,Chemicals\n")
    code, _, err = run(capsys, "sectors", "import", source, "--db", db)
    assert code == 1  # Chemicals is still chemical's, which the file does not list
    assert err.splitlines() == [
        "error: row 4, column name_en, value 'Chemicals': is already the name_en of sector chemical (in the store); "
        "a code or name may name one sector only, since a units file names a sector by any of them: choose another"]
    source = write(tmp_path, "swap.csv", "code,name_zh,name_en\ncoal,煤炭,Coal\npower,煤矿,Coal mining\n")
    assert run(capsys, "sectors", "import", source, "--db", db)[0] == 0
    assert exported(capsys, db).splitlines()[2:3] + exported(capsys, db).splitlines()[-1:] == [
        "coal,煤炭,Coal", "power,煤矿,Coal mining"]


def test_export_to_a_file_is_on_the_record_and_reads_back(db, tmp_path, capsys):
    out = tmp_path / "sectors-out.csv"
    assert run(capsys, "sectors", "export", "--out", str(out), "--db", db)[0] == 0
    assert out.read_text(encoding="utf-8") == SEEDED
    row = trail(db).iloc[0]
    assert (row["action"], row["target"], json.loads(row["detail"])) == ("export", str(out),
                                                                         {"what": "sectors", "rows": 5})
    code, printed, _ = run(capsys, "sectors", "import", str(out), "--db", db)
    assert (code, printed) == (0, "sectors imported: 0 added or renamed\n")


def test_a_rebuilt_store_has_the_live_stores_sectors(db, tmp_path, capsys):
    source = write(tmp_path, "sectors.csv", "code,name_zh,name_en\nnew_energy,新能源,New energy\n")
    assert run(capsys, "sectors", "import", source, "--db", db)[0] == 0
    rebuilt = tmp_path / "rebuilt.duckdb"
    assert run(capsys, "rebuild", "--out", str(rebuilt), "--db", db)[0] == 0
    with store.connect(rebuilt, read_only=True) as con:
        assert list(store.query(con, schema.SELECT_SECTORS)["code"]) == [
            "chemical", "coal", "construction", "logistics", "new_energy", "power"]
