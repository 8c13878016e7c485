"""Importing a findings workbook into the hazard ledger (metrics/ledger/imports.py through metrics/access.py and the
command line; docs/rules.md, "9. The hazard ledger"), on real files (CSV in UTF-8 with BOM and CRLF as Excel writes
it, .xlsx written with openpyxl with real date cells) and a real DuckDB store of units A, B and C: rejected whole
with every problem at its row and column and nothing written; the same file fixed, committed; imported again,
unchanged; a hazard's 五定 updated by its number; a unit user's file with another unit's row rejected."""
from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest

from metrics import access, store
from metrics.auth.roles import Forbidden, Role, User
from metrics.cli.main import main
from metrics.ingest.reader import read_grid
from metrics.ledger import hazards, imports
from metrics.ledger.hazards import Change, NewHazard, State
from metrics.store import audit, backup, raw_files
from metrics.store.raw_files import raw_dir
from tests.builders import UNITS

ADMIN = User("safety", Role.ADMIN)
EXEC = User("boss", Role.EXECUTIVE)
STAFF_A = User("a-staff", Role.UNIT, ("A",))
HEADER = ["隐患编号", "单位编码", "单位名称", "检查类型", "隐患部位", "隐患描述", "隐患级别", "判定标准",
          "条款", "隐患类别", "可能导致的事故类型", "发现日期", "发现人", "整改责任人", "整改措施",
          "整改资金（万元）", "整改期限", "应急预案", "验收人"]
# The consultancy's findings, rows 2-8 of the sheet, with a mistake on each of rows 3-8.
MISTAKES = [
    ["", "A", "甲煤矿", "日常检查", "2号皮带机头", "护罩缺失", "一般", "", "", "物", "机械伤害", "2026-11-02", "李工",
     "王工", "加装护罩并挂牌", "0.5", "2026-11-10", "", "赵主任"],
    ["", "D", "", "日常检查", "3号皮带", "托辊损坏", "一般", "", "", "物的不安全状态", "机械伤害", "2026-11-02", "李工",
     "", "", "", "", "", ""],
    ["", "A", "", "上级督查", "1201 工作面", "顶板离层超限未处理", "重大", "煤矿重大事故隐患判定标准", "", "环境",
     "冒顶片帮", "2026/11/3", "省局检查组", "王工", "补打锚索", "20", "2026-12-01", "撤人、停采", "赵主任"],
    ["", "A", "", "日常检查", "中央变电所", "接地线松动", "一般", "", "", "物", "触电", "2026-11-05", "李工", "王工",
     "紧固接地线", "0", "2026-11-01", "", "赵主任"],
    ["", "A", "", "专项检查", "绞车房", "信号不清", "一般", "", "", "管理", "雷击", "2026-11-05", "李工", "王工", "",
     "", "", "", ""],
    ["", "A", "", "日常检查", "副井口", "安全栅栏缺失", "一般", "", "", "物", "高处坠落", "11月5日", "李工", "", "", "",
     "", "", ""],
    ["A-2026-0099", "A", "", "第三方咨询", "炸药库", "温湿度计损坏", "一般", "", "", "管理", "火药爆炸", "2026-11-06",
     "安评公司", "", "", "", "", "", ""],
]
FIXES = {(1, 1): "B", (2, 8): "第十二条", (3, 16): "2026-11-15", (4, 10): "触电", (5, 11): "2026年11月5日",
         (6, 0): ""}
FIXED = [[FIXES.get((r, c), cell) for c, cell in enumerate(row)] for r, row in enumerate(MISTAKES)]
ACCIDENT_TYPES = ("物体打击、车辆伤害、机械伤害、起重伤害、触电、淹溺、灼烫、火灾、高处坠落、坍塌、"
                  "冒顶片帮、透水、放炮、火药爆炸、瓦斯爆炸、锅炉爆炸、容器爆炸、其它爆炸、中毒和窒息、其它伤害")
EXPECTED = [
    (3, "单位编码", "D", "无法识别的单位"),
    (4, "条款", "", "重大隐患须注明判定标准的条款"),
    (5, "整改期限", "2026-11-01", "整改期限早于发现日期：请核对整改期限与发现日期"),
    (6, "可能导致的事故类型", "雷击", f"无法识别的可能导致的事故类型：请填写以下之一：{ACCIDENT_TYPES}"),
    (7, "发现日期", "11月5日", "无法识别的日期：请写成 2026-11-02、2026/11/2 或 2026年11月2日"),
    (8, "隐患编号", "A-2026-0099", "台账中没有这个编号的隐患：新发现的隐患请不填隐患编号（由系统编号），"
                               "已登记的隐患请核对编号"),
]
NUMBERS = ["A-2026-0001", "B-2026-0001", "A-2026-0002", "A-2026-0003", "A-2026-0004", "A-2026-0005", "A-2026-0006"]
ISSUED = ["A-2026-0001", "A-2026-0002", "A-2026-0003"]


def csv_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    """As Excel saves "CSV UTF-8": a BOM, CRLF line ends, a cell with a comma in quotes."""
    def cell(text: str) -> str:
        return f'"{text}"' if "," in text else text

    return "\r\n".join(",".join(cell(c) for c in row) for row in [header, *rows]).encode("utf-8-sig") + b"\r\n"


def xlsx_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    """As a person fills the sheet in Excel: dates as date cells, funds as numbers, the rest as text."""
    from io import BytesIO

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        values: list[object] = []
        for name, text in zip(header, row):
            if name in ("发现日期", "整改期限") and text:
                try:
                    values.append(datetime.combine(imports.parse_day(text), datetime.min.time()))
                    continue
                except ValueError:
                    pass
            values.append(float(text) if name == "整改资金（万元）" and text else text or None)
        sheet.append(values)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


FORMATS = {"csv": csv_file, "xlsx": xlsx_file}


@pytest.fixture()
def path(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-20T10:00")
    made = tmp_path / "store.duckdb"
    with store.connect(made) as con:
        store.migrate(con)
        store.load_reference_data(con)
        store.upsert_units(con, pd.DataFrame(UNITS, columns=["code", "name_zh", "name_en", "sector"]), actor="test")
    return made


def imported(path, data: bytes, name: str, user: User = ADMIN, **kwargs) -> imports.HazardImport:
    with store.connect(path) as con:
        return access.import_hazards(con, user, data, name, raw_dir(path), **kwargs)


def counts(path) -> tuple[int, int, int, int]:
    with store.connect(path, read_only=True) as con:
        return tuple(int(store.scalar(con, f"SELECT count(*) FROM {table}"))  # type: ignore[return-value]
                     for table in ("hazards", "hazard_events", "hazard_deadlines", "audit_log"))


def kept(path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in raw_dir(path).rglob("*") if p.is_file()) \
        if raw_dir(path).exists() else []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_workbook_with_mistakes_is_rejected_whole_with_each_at_its_row_and_column(path, fmt):
    before = counts(path)
    result = imported(path, FORMATS[fmt](MISTAKES), f"findings.{fmt}")
    assert result.status == "rejected" and result.error_count == 6 and result.warning_count == 0
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.problems] == EXPECTED
    assert [p.message for p in result.problems][2:4] == [
        "the deadline is before the day the hazard was found: check the deadline and the day found",
        "unknown accident type; write one of: Struck by object, Vehicle injury, Machinery injury, Lifting injury, "
        "Electric shock, Drowning, Burn or scald, Fire, Fall from height, Collapse, Roof or rib fall, Water inrush, "
        "Blasting, Explosive detonation, Gas explosion, Boiler explosion, Pressure vessel explosion, Other explosion, "
        "Poisoning and asphyxiation, Other injury (or its Chinese name or code)"]
    after = counts(path)
    assert after[:3] == before[:3] == (0, 0, 0) and after[3] == before[3] + 1  # only the rejection's row
    with store.connect(path, read_only=True) as con:
        row = audit.entries(con).iloc[0]
    detail = json.loads(row["detail"])
    assert (row["action"], row["outcome"], row["target"]) == ("upload_rejected", "refused", f"findings.{fmt}")
    assert (detail["what"], detail["errors"], detail["sha256"]) == ("hazards", 6, result.sha256)
    assert kept(path) == []  # a rejected file is not kept


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_file_fixed_commits_and_imported_again_changes_nothing(path, fmt):
    data = FORMATS[fmt](FIXED)
    result = imported(path, data, f"findings.{fmt}")
    assert (result.status, result.error_count) == ("committed", 0)
    assert (result.registered, result.issued, result.updated) == (NUMBERS, ISSUED, [])
    assert [(p.row, p.level.value, p.message_zh) for p in result.problems] == [
        (6, "warning", "已登记，暂不下达整改。五定不全：请填写整改责任人、整改措施、整改资金（万元，无资金填 0）、"
                       "整改期限和验收人")]
    with store.connect(path, read_only=True) as con:
        found = {h.number: h for h in hazards.hazards(con)}
        events = store.query(con, "SELECT number, action, from_state, to_state FROM hazard_events ORDER BY id")
        deadlines = store.query(con, "SELECT number, effective_from, deadline FROM hazard_deadlines ORDER BY number")
        trail = audit.entries(con)
        named = raw_files.committed_files(con)
    assert {n: h.state for n, h in found.items()} == {n: State.RECTIFYING if n in ISSUED else State.REGISTERED
                                                      for n in NUMBERS}
    roof = found["A-2026-0002"]
    assert (roof.level, roof.criterion, roof.clause, roof.source, roof.factor, roof.accident_type, roof.found_on,
            roof.funds, roof.deadline, roof.original_deadline, roof.contingency) == (
        "major", "coal", "第十二条", "supervision", "environment", "roof_fall", date(2026, 11, 3), 20.0,
        date(2026, 12, 1), date(2026, 12, 1), "撤人、停采")
    assert (found["B-2026-0001"].factor, found["A-2026-0006"].source, found["A-2026-0005"].found_on) == (
        "thing", "consultancy", date(2026, 11, 5))
    assert found["B-2026-0001"].funds is None and found["A-2026-0004"].owner == "王工"
    assert len(events) == 10 and list(events[events["action"] == "issue"]["number"]) == ISSUED
    assert set(events[events["action"] == "register"]["number"]) == set(NUMBERS)
    assert list(deadlines.itertuples(index=False, name=None)) == [
        ("A-2026-0001", pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-10")),
        ("A-2026-0002", pd.Timestamp("2026-11-03"), pd.Timestamp("2026-12-01")),
        ("A-2026-0003", pd.Timestamp("2026-11-05"), pd.Timestamp("2026-11-15"))]
    row = trail.iloc[0]
    assert (row["action"], row["target"]) == ("hazard_import", f"findings.{fmt}")
    assert json.loads(row["detail"]) | {"bytes": 0} == {
        "file": f"findings.{fmt}", "sha256": result.sha256, "bytes": 0, "rows": 7, "registered": 7, "issued": 3,
        "updated": 0, "units": ["A", "B"]}
    assert kept(path) == [result.sha256] and result.sha256 in named  # the file is kept, and backups hold it

    before = counts(path)
    again = imported(path, data, f"again.{fmt}")
    assert (again.status, again.registered, again.updated) == ("unchanged", [], [])
    assert counts(path)[:3] == before[:3] and counts(path)[3] == before[3] + 1
    with store.connect(path, read_only=True) as con:
        assert audit.entries(con).iloc[0]["action"] == "upload_unchanged"


def test_an_update_by_number_sets_the_five_fixes_through_the_update_step(path):
    imported(path, csv_file(FIXED), "findings.csv")
    header = ["隐患编号", "整改责任人", "整改措施", "整改资金（万元）", "整改期限", "验收人"]
    update = csv_file([["A-2026-0004", "王工", "更换信号装置", "1.2", "2026-11-30", "赵主任"],
                       ["A-2026-0001", "王工", "加装护罩并挂牌", "0.5", "2026-11-10", "赵主任"]], header)
    result = imported(path, update, "update.csv")
    assert (result.status, result.registered, result.updated, result.problems) == (
        "committed", [], ["A-2026-0004"], [])
    with store.connect(path, read_only=True) as con:
        hazard = hazards.get(con, "A-2026-0004")
        event = hazards.events(con, "A-2026-0004").iloc[-1]
        deadline = store.query(con, "SELECT effective_from, deadline FROM hazard_deadlines "
                                    "WHERE number = 'A-2026-0004'")
    assert (hazard.state, hazard.measures, hazard.funds, hazard.deadline, hazard.original_deadline,
            hazard.verifier) == (State.REGISTERED, "更换信号装置", 1.2, date(2026, 11, 30), date(2026, 11, 30),
                                 "赵主任")
    assert (event["action"], event["from_state"], event["to_state"], event["actor"]) == (
        "update", "registered", "registered", "safety")
    assert json.loads(event["detail"]) == {"measures": "更换信号装置", "funds": 1.2, "deadline": "2026-11-30",
                                           "original_deadline": "2026-11-30", "deadline_since": "2026-11-20",
                                           "verifier": "赵主任",
                                           "file": "update.csv", "sha256": result.sha256}
    assert list(deadline.itertuples(index=False, name=None)) == [(pd.Timestamp("2026-11-20"),
                                                                 pd.Timestamp("2026-11-30"))]
    assert imported(path, update, "update.csv").status == "unchanged"


def test_an_import_never_moves_an_issued_deadline_nor_changes_what_was_registered(path):
    imported(path, csv_file(FIXED), "findings.csv")
    before = counts(path)
    header = ["隐患编号", "隐患部位", "整改期限", "隐患级别"]
    result = imported(path, csv_file([["A-2026-0001", "2号皮带机头", "2026-12-31", "一般"],
                                      ["A-2026-0003", "主变电所", "", "重大"]], header), "moved.csv")
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.problems] == [
        (2, "整改期限", "2026-12-31", "隐患 A-2026-0001 已下达整改，整改期限为 2026-11-10；期限只能通过延期变更"
                                    "（在隐患台账页面办理）：请按台账填写"),
        (3, "隐患部位", "主变电所", "与台账中该隐患的隐患部位（中央变电所）不同；导入只修改已登记隐患的五定："
                                "请按台账填写"),
        (3, "隐患级别", "重大", "与台账中该隐患的隐患级别（一般）不同；导入只修改已登记隐患的五定：请按台账填写")]
    assert result.problems[-1].message == ("differs from the ledger's level of A-2026-0003 (General); an import sets "
                                           "only the five fixes of a hazard the ledger holds: write it as the ledger "
                                           "has it")
    assert counts(path)[:3] == before[:3]


def test_a_unit_user_imports_only_their_own_units_hazards(path):
    result = imported(path, csv_file(FIXED), "findings.csv", STAFF_A)
    assert (result.status, result.error_count) == ("rejected", 1)
    assert [(p.row, p.column, p.value, p.message_zh) for p in result.errors] == [
        (3, "单位编码", "B", "单位 B 不是你负责的单位（A）；请删除这些行，或请集团安全部上传")]
    assert counts(path)[:3] == (0, 0, 0)
    own = [row for row in FIXED if row[1] != "B"]
    assert imported(path, csv_file(own), "own.csv", STAFF_A).registered == [n for n in NUMBERS if n[0] == "A"]
    header = ["隐患编号", "整改责任人"]
    with store.connect(path) as con:
        access.register_hazard(con, ADMIN, NewHazard("B", "daily", "罐区", "液位计失灵", "general", "thing", "fire",
                                                     date(2026, 11, 4), "李工"))
    other = imported(path, csv_file([["B-2026-0001", "周工"]], header), "other.csv", STAFF_A)
    assert [(p.row, p.column, p.value) for p in other.errors] == [(2, "隐患编号", "B")]
    with pytest.raises(Forbidden):
        imported(path, csv_file(own), "own.csv", EXEC)


def test_an_imported_hazard_is_the_record_the_page_makes(path, tmp_path):
    row = FIXED[2]
    imported(path, csv_file([row]), "one.csv")
    by_page = tmp_path / "page.duckdb"
    with store.connect(by_page) as con:
        store.migrate(con)
        store.load_reference_data(con)
        store.upsert_units(con, pd.DataFrame(UNITS, columns=["code", "name_zh", "name_en", "sector"]), actor="test")
        number = access.register_hazard(con, ADMIN, NewHazard(
            "A", "supervision", "1201 工作面", "顶板离层超限未处理", "major", "environment", "roof_fall",
            date(2026, 11, 3), "省局检查组", criterion="coal", clause="第十二条", owner="王工", measures="补打锚索",
            funds=20.0, deadline=date(2026, 12, 1), contingency="撤人、停采", verifier="赵主任"))
        access.hazard_step(con, ADMIN, number, "issue", Change("safety", date(2026, 11, 20)))
    records = []
    for made in (path, by_page):
        with store.connect(made, read_only=True) as con:
            hazard = hazards.get(con, "A-2026-0001")
            events = hazards.events(con, "A-2026-0001")
            deadlines = store.query(con, "SELECT effective_from, deadline FROM hazard_deadlines")
        details = [{k: v for k, v in json.loads(d).items() if k not in ("file", "sha256")} for d in events["detail"]]
        records.append((hazard.__dict__ | {"created_at": None, "updated_at": None},
                        events[["actor", "action", "from_state", "to_state", "comment"]].to_dict("records"),
                        details, deadlines.to_dict("records")))
    assert records[0] == records[1]


def test_the_command_line_checks_imports_and_writes_the_template(path, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file(MISTAKES))
    assert main(["hazards", "import", str(bad), "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error: row 3, column 单位编码, value 'D': unknown unit" in err
    assert err.endswith("rejected: 6 errors, nothing written\n")
    file = tmp_path / "findings.csv"
    file.write_bytes(csv_file(FIXED))
    before = counts(path)
    assert main(["hazards", "import", str(file), "--dry-run", "--json", "--db", str(path)]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["status"], dry["dry_run"], dry["registered"], dry["issued"]) == ("committed", True, NUMBERS, ISSUED)
    assert counts(path) == before and kept(path) == []  # a dry run writes nothing
    assert main(["hazards", "import", str(file), "--db", str(path)]) == 0
    assert capsys.readouterr().out.startswith("registered 7 hazards (3 issued for rectification), updated the 五定 of "
                                              "0: A-2026-0001, B-2026-0001")
    assert main(["hazards", "import", str(file), "--db", str(path)]) == 0
    assert capsys.readouterr().out == "unchanged: every row equals the ledger\n"

    assert main(["hazards", "template", "--out", str(tmp_path), "--db", str(path)]) == 0
    csv_template = tmp_path / "隐患排查治理台账导入模板.csv"
    assert csv_template.read_bytes() == ("\ufeff" + ",".join(HEADER) + "\n").encode("utf-8")
    xlsx_template = tmp_path / "template.xlsx"
    assert main(["hazards", "template", "--out", str(xlsx_template), "--db", str(path)]) == 0
    assert read_grid(xlsx_template.read_bytes(), xlsx_template.name).rows == [HEADER]


def test_the_template_filled_in_imports_and_its_lists_come_from_the_vocabulary(path):
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(imports.template_file("xlsx")))
    choices = workbook["可选项"]
    assert [c.value for c in choices[1]] == ["检查类型", "隐患级别", "判定标准", "隐患类别", "可能导致的事故类型"]
    assert [choices.cell(row=r, column=2).value for r in (2, 3, 4)] == ["一般", "重大", None]
    sheet = workbook.active
    for row in FIXED[:2]:
        sheet.append(row)
    out = BytesIO()
    workbook.save(out)
    assert imported(path, out.getvalue(), "filled.xlsx").registered == ["A-2026-0001", "B-2026-0001"]


def test_a_committed_workbook_is_kept_through_the_clean_up_and_in_a_backup(path, tmp_path):
    result = imported(path, xlsx_file(FIXED), "findings.xlsx")
    rejected = imported(path, csv_file(MISTAKES), "bad.csv")
    assert rejected.status == "rejected" and kept(path) == [result.sha256]
    made = backup.backup(path, tmp_path / "backups", actor="test")
    assert made.tables["hazards"] == 7 and made.raw_files == 1
    assert (made.path / "raw" / result.sha256[:2] / f"{result.sha256}.xlsx").is_file()


@pytest.mark.parametrize("text, day", [("2026-11-02", date(2026, 11, 2)), ("2026/11/2", date(2026, 11, 2)),
                                       ("2026.11.2", date(2026, 11, 2)), ("2026年11月2日", date(2026, 11, 2)),
                                       ("20261102", date(2026, 11, 2)), ("２０２６-１１-０２", date(2026, 11, 2)),
                                       ("2026/11/2 0:00", date(2026, 11, 2))])
def test_a_day_as_people_write_it(text, day):
    assert imports.parse_day(text) == day


@pytest.mark.parametrize("text", ["11月5日", "2026-13-01", "2026-02-30", "2026-11", "昨天", ""])
def test_not_a_day(text):
    with pytest.raises(ValueError):
        imports.parse_day(text)


def test_the_command_line_imports_as_a_unit_user(path, tmp_path, capsys):
    from tests.builders import add_user

    add_user(path, "safety")
    add_user(path, "a-staff", "unit", ("A",))
    file = tmp_path / "findings.csv"
    file.write_bytes(csv_file(FIXED))
    assert main(["hazards", "import", str(file), "--as-user", "a-staff", "--dry-run", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error: row 3, column 单位编码, value 'B': unit B is not one of yours (A)" in err
    with store.connect(path, read_only=True) as con:
        row = audit.entries(con).iloc[0]
    assert (row["actor"], row["action"], row["outcome"]) == ("a-staff", "upload_rejected", "refused")
    assert counts(path)[:3] == (0, 0, 0)


@pytest.mark.parametrize("data, name, message_zh", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "文件包含二进制内容：请上传 CSV 或 .xlsx 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "ledger.xls",
     "不支持旧版 Excel .xls 文件：请另存为 .xlsx 或 CSV UTF-8"),
    (b"PK\x03\x04 not a zip", "ledger.xlsx",
     "无法读取该 .xlsx 文件：文件不是完整的 zip 压缩包（.xlsx 文件应是）；请用 Excel 打开后重新保存，"
     "或另存为 CSV UTF-8"),
    ("检查记录\n张三,李四\n".encode(), "notes.csv", None),
])
def test_a_file_that_is_not_a_findings_workbook_is_refused_in_one_sentence(path, data, name, message_zh):
    result = imported(path, data, name)
    assert (result.status, result.error_count) == ("rejected", 1)
    if message_zh:
        assert result.problems[0].message_zh == message_zh
    else:
        assert result.problems[0].message.startswith("no header row found")
    assert counts(path)[:3] == (0, 0, 0) and kept(path) == []
