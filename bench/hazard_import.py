#!/usr/bin/env python
"""Importing a findings workbook (issue 14, "Aims": 10,000 rows ≤ 3 s): `.venv/bin/python bench/hazard_import.py
[--rows N] [--runs R] [--quick]`, written to bench/HAZARD_IMPORT.md.

The store: the demo's 12 units and their year of monthly data ending 2026-10 (metrics init --demo without the
demo's ledgers), and the same store with every unit keeping its ledger here from January 2026 (one hazard each
registered in January, then `hazards keep UNIT --from 2026-01`), so an import also rewrites the ledger's figures
of the ten months each unit submitted. The file: N rows (default 10,000) without a number, spread over the 12
units and over January to October 2026, each a distinct place, with its 五定 complete (so each is registered and
issued for rectification); 3 % major (a criterion, a clause, a contingency plan). Written as Excel writes them:
CSV UTF-8 with BOM and CRLF, and an .xlsx with date cells and numeric funds (openpyxl).

Measured, each the median of R runs (default 5) after one warm-up, every run on a fresh copy of the store (the
copy not timed), through metrics.ledger.figures.import_hazards as the command line and the page call it (the
child's read, the check, the write in one transaction, the ledger's figures):
a. the CSV, store without kept ledgers; b. the .xlsx, the same; c. the CSV imported again (unchanged);
d. the CSV on the store whose units keep their ledger (the import and the figures of every unit it touched);
e. the .xlsx on that store.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metrics import store  # noqa: E402
from metrics.ingest.initialise import init_store  # noqa: E402
from metrics.ledger import figures, hazards  # noqa: E402
from metrics.ledger.hazards import NewHazard  # noqa: E402
from metrics.store.raw_files import raw_dir  # noqa: E402

OUT = ROOT / "bench" / "HAZARD_IMPORT.md"
END = date(2026, 10, 1)
TODAY = "2026-11-20T10:00"
ACTOR = "bench"
HEADER = ["隐患编号", "单位编码", "单位名称", "检查类型", "隐患部位", "隐患描述", "隐患级别", "判定标准",
          "条款", "隐患类别", "可能导致的事故类型", "发现日期", "发现人", "整改责任人", "整改措施",
          "整改资金（万元）", "整改期限", "应急预案", "验收人"]
SOURCES = ["日常检查", "定期检查", "专项检查", "季节性检查", "上级督查", "第三方咨询"]
FACTORS = ["人的不安全行为", "物的不安全状态", "环境因素", "管理缺陷"]
ACCIDENTS = ["机械伤害", "触电", "高处坠落", "物体打击", "车辆伤害", "火灾", "坍塌", "中毒和窒息"]


def findings(units: list[str], count: int) -> list[list[str]]:
    """`count` rows of new hazards (deterministic), as the consultancy fills the template in."""
    rows = []
    for i in range(count):
        found = date(2026, 1, 1) + timedelta(days=i * 7 % 300)
        major = i % 33 == 0
        rows.append(["", units[i % len(units)], "", SOURCES[i % len(SOURCES)], f"{i // 10 + 1}号巷道第{i % 10 + 1}处",
                     f"{ACCIDENTS[i % 8]}隐患：防护设施缺失（第{i + 1}项）", "重大" if major else "一般",
                     "煤矿重大事故隐患判定标准" if major else "", "第十条" if major else "", FACTORS[i % 4],
                     ACCIDENTS[i % 8], found.isoformat(), "检查组", f"责任人{i % 9}", "加装防护并挂牌",
                     f"{i % 5 * 0.5}", (found + timedelta(days=7 + i % 24)).isoformat(),
                     "撤人、停产" if major else "", "验收人"])
    return rows


def csv_file(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(row) for row in [HEADER, *rows]).encode("utf-8-sig") + b"\r\n"


def xlsx_file(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        values: list[object] = []
        for name, text in zip(HEADER, row):
            if name in ("发现日期", "整改期限") and text:
                values.append(datetime.fromisoformat(text))
            elif name == "整改资金（万元）":
                values.append(float(text))
            else:
                values.append(text or None)
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build(path: Path, kept: bool) -> list[str]:
    """The demo store at `path` (kept: every unit keeping its ledger here from January 2026); its unit codes."""
    init_store(path, with_demo=True, end_month=END)
    with store.connect(path) as con:
        units = sorted(store.query(con, "SELECT code FROM subsidiaries")["code"])
        if kept:
            for unit in units:
                hazards.register(con, NewHazard(unit, "daily", "井口", "台账起始", "general", "thing", "machinery",
                                                date(2026, 1, 5), "检查组"), actor=ACTOR)
                figures.keep_ledger(con, unit, date(2026, 1, 1), actor=ACTOR)
    return units


def import_once(pristine: Path, work: Path, data: bytes, name: str, again: bool = False) -> tuple[float, str]:
    """Seconds of one import into a fresh copy of `pristine` (`again`: the file imported once before, untimed)."""
    path = work / "run.duckdb"
    shutil.copy(pristine, path)
    with store.connect(path) as con:
        if again:
            figures.import_hazards(con, data, name, actor=ACTOR, raw_directory=raw_dir(path))
        started = time.perf_counter()
        result = figures.import_hazards(con, data, name, actor=ACTOR, raw_directory=raw_dir(path))
        seconds = time.perf_counter() - started
    if result.error_count:
        raise RuntimeError(f"{name}: {result.errors[:3]}")
    return seconds, result.status


def median(job: Callable[[], tuple[float, str]], runs: int) -> tuple[float, list[float], str]:
    job()
    times, status = [], ""
    for _ in range(runs):
        seconds, status = job()
        times.append(seconds)
    return statistics.median(times), times, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1,000 rows, 1 run (a check that it runs)")
    args = parser.parse_args()
    rows, runs = (1000, 1) if args.quick else (args.rows, args.runs)
    os.environ["SAFETY_NOW"] = TODAY
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        plain, kept = work / "plain.duckdb", work / "kept.duckdb"
        units = build(plain, kept=False)
        build(kept, kept=True)
        lines = findings(units, rows)
        csv, xlsx = csv_file(lines), xlsx_file(lines)
        measures = [
            ("a. CSV, new hazards", plain, csv, "findings.csv", False),
            ("b. .xlsx, new hazards", plain, xlsx, "findings.xlsx", False),
            ("c. CSV imported again (unchanged)", plain, csv, "findings.csv", True),
            ("d. CSV, every unit keeping its ledger (with its figures)", kept, csv, "findings.csv", False),
            ("e. .xlsx, every unit keeping its ledger (with its figures)", kept, xlsx, "findings.xlsx", False),
        ]
        results = [(label, *median(partial(import_once, p, work, d, n, a), runs)) for label, p, d, n, a in measures]
    load_after = os.getloadavg()
    table = [
        "# Importing a findings workbook", "",
        f"Generated by `bench/hazard_import.py{' --quick' if args.quick else ''}` (see its docstring): {rows:,} rows "
        f"over {len(units)} units, CSV {len(csv) / 2**20:.1f} MiB, .xlsx {len(xlsx) / 2**20:.1f} MiB. Median of "
        f"{runs} runs after a warm-up, each on a fresh copy of the store. Load average "
        f"{' '.join(f'{x:.1f}' for x in load_before)} before, {' '.join(f'{x:.1f}' for x in load_after)} after "
        f"({len(os.sched_getaffinity(0))} cores).", "",
        "| measure | status | median s | runs s | aim |", "|---|---|---|---|---|",
        *[f"| {label} | {status} | {med:.2f} | {' '.join(f'{t:.2f}' for t in times)} | "
          f"{'≤ 3' if label[0] in 'ab' else '—'} |" for label, med, times, status in results],
    ]
    if not args.quick:
        OUT.write_text("\n".join(table) + "\n", encoding="utf-8")
    print("\n".join(table))


if __name__ == "__main__":
    main()
