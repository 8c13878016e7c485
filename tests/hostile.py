"""Crafted upload files an attacker (or a broken exporter) might send, written at test time into a directory.

Issue 17: a file that eats memory or time, or ends in a traceback, takes the dashboard down for every signed-in
user. Each generator here writes one such file and returns its path; none is kept in the repository (the large
ones are hundreds of MB). They are aimed at the demo store (`init_store(with_demo=True, end_month=2026-10)`,
imported with today = 2026-11-23, as tests/corpus/make_corpus.py): units such as CM01 东峰煤矿 and LG02 铁运公司,
month 2026-10, the long shape `month,subsidiary,indicator,value` with indicator codes from data/catalog.toml.

Every file is written streaming, in chunks, so a 400 MB file never sits in memory. The .xlsx files are zips of
handwritten minimal SpreadsheetML (no styles, one sheet), so each size is exact and generation is fast; the two
controls (`csv_control`, `xlsx_control`) are valid files built the same way, to show that the packaging itself
is accepted and the others fail for their attack alone. Sizes are keyword parameters whose defaults match the
issue, so a test can ask for a smaller variant: `FILES["csv_huge_cell"](tmp_path)` or
`csv_huge_cell(tmp_path, cell_bytes=200_000)`.
"""
from __future__ import annotations

import csv
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from xml.sax.saxutils import escape

MB = 1_000_000
CHUNK = 1 << 20
ZIP_TIME = (2026, 11, 1, 0, 0, 0)
UNITS_CSV = Path(__file__).resolve().parents[1] / "data" / "demo" / "units.csv"
HEADER = "month,subsidiary,indicator,value"
NOTE = "本月隐患已全部复查闭环，培训按计划完成。"

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SHEET = "xl/worksheets/sheet1.xml"
SST = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"

Chunks = Iterable[bytes]


# --------------------------------------------------------------------------------------------------------------
# Demo data: real unit codes, real indicator codes, values that pass every check
# --------------------------------------------------------------------------------------------------------------

def demo_units() -> list[dict[str, str]]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def unit_values(unit: dict[str, str]) -> dict[str, float]:
    """One month of a unit's inputs, consistent with each other and with every month (the same each month, so no
    hours-jump or hours-per-head warning): rectified <= found, certified = required, hours = staff x hours."""
    employees = int(unit["employees"])
    hazards = int(unit["hazards_per_month"])
    planned = round(employees * 0.04, 1)
    return {
        "hours_worked": employees * int(unit["hours_per_employee"]), "avg_employees": employees,
        "injuries": 1, "fatalities": 0, "near_misses": 5, "hazards_found": hazards,
        "hazards_rectified": hazards - 1, "training_hours": employees * 2,
        "staff_requiring_cert": round(employees * 0.3), "staff_certified": round(employees * 0.3),
        "inspections_planned": 20, "inspections_done": 20, "emergency_drills": 1,
        "safety_investment_planned": planned, "safety_investment_actual": planned,
    }


def months_from(year: int, month: int, last: tuple[int, int] = (2026, 10)) -> Iterator[str]:
    while (year, month) <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"


def lg02_rows(month: str = "2026-10") -> list[str]:
    """LG02 铁运公司's inputs for one month as long rows (it has not reported 2026-10 in the demo store)."""
    unit = next(u for u in demo_units() if u["code"] == "LG02")
    return [f"{month},LG02,{code},{number(value)}" for code, value in unit_values(unit).items()]


# --------------------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------------------

def write(path: Path, chunks: Chunks) -> Path:
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return path


def repeat(piece: bytes, total: int) -> Iterator[bytes]:
    """`total` bytes of `piece` repeated (cut at the end), in chunks of about a MiB."""
    block = piece * max(1, CHUNK // len(piece))
    while total > 0:
        part = block[:total]
        total -= len(part)
        yield part


def batched(lines: Iterable[str], encoding: str = "utf-8") -> Iterator[bytes]:
    """Lines (each with its newline) joined into chunks of about a MiB."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(buffer).encode(encoding)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode(encoding)


def cell(ref: str, value: str | float, shared: bool = False) -> str:
    """One SpreadsheetML cell: a number, an inline string, or (shared=True) an index into the shared strings."""
    if shared:
        return f'<c r="{ref}" t="s"><v>{value}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{number(value)}</v></c>'


def row(r: int, values: Iterable[str | float], shared: Iterable[bool] | None = None) -> str:
    flags = list(shared) if shared is not None else None
    cells = "".join(cell(f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[c]}{r}", v, bool(flags and flags[c]))
                    for c, v in enumerate(values))
    return f'<row r="{r}">{cells}</row>'


def sheet_xml(rows: Iterable[str]) -> Iterator[bytes]:
    """A worksheet part around `rows` (each a <row> element), streamed."""
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    yield from batched(rows)
    yield b"</sheetData></worksheet>"


def sst_xml(strings: Iterable[str], count: int) -> Iterator[bytes]:
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<sst xmlns="{MAIN_NS}" count="{count}" uniqueCount="{count}">').encode()
    yield from batched(f"<si><t>{escape(s)}</t></si>" for s in strings)
    yield b"</sst>"


def package(sheet: Chunks, shared_strings: Chunks | None = None, *, workbook: bool = True) -> dict[str, Chunks]:
    """The parts of a one-sheet workbook (sheet named 月报), in the order Excel writes them."""
    has_sst = shared_strings is not None
    overrides = [("/" + WORKBOOK, WORKBOOK_TYPE), ("/" + SHEET, SHEET_TYPE)] + ([("/" + SST, SST_TYPE)] * has_sst)
    types = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
    rels = [("worksheet", "worksheets/sheet1.xml")] + ([("sharedStrings", "sharedStrings.xml")] * has_sst)
    workbook_rels = "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/{kind}" Target="{target}"/>'
                            for i, (kind, target) in enumerate(rels, start=1))
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts: dict[str, Chunks] = {
        "[Content_Types].xml": [(
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{types}</Types>').encode()],
        "_rels/.rels": [(f'{head}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                         f'Type="{REL_NS}/officeDocument" Target="{WORKBOOK}"/></Relationships>').encode()],
        WORKBOOK: [(f'{head}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
                    f'<sheet name="月报" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()],
        "xl/_rels/workbook.xml.rels": [f'{head}<Relationships xmlns="{PKG_REL_NS}">{workbook_rels}'
                                       f'</Relationships>'.encode()],
        SHEET: sheet,
    }
    if has_sst and shared_strings is not None:
        parts[SST] = shared_strings
    if not workbook:
        del parts[WORKBOOK]
    return parts


def write_zip(path: Path, parts: dict[str, Chunks]) -> Path:
    """Each part deflated as it streams in, with fixed timestamps (the same bytes on every run)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            with archive.open(info, "w") as member:
                for chunk in chunks:
                    member.write(chunk)
    return path


def long_rows(rows: Iterable[list[str | float]]) -> Iterator[str]:
    """A header row and `rows` as <row> elements, every cell inline."""
    yield row(1, HEADER.split(","))
    for r, values in enumerate(rows, start=2):
        yield row(r, values)


# --------------------------------------------------------------------------------------------------------------
# Controls: valid, to show the packaging is accepted
# --------------------------------------------------------------------------------------------------------------

def csv_control(directory: Path) -> Path:
    """Valid: LG02's fifteen inputs for 2026-10 (commits 15 new values)."""
    return write(directory / "csv_control.csv", batched(line + "\n" for line in [HEADER, *lg02_rows()]))


def xlsx_control(directory: Path) -> Path:
    """Valid: the same fifteen values as csv_control, as a handwritten minimal .xlsx (no styles part)."""
    rows = [line.split(",") for line in lg02_rows()]
    values: list[list[str | float]] = [[m, u, i, float(v)] for m, u, i, v in rows]
    return write_zip(directory / "xlsx_control.xlsx", package(sheet_xml(long_rows(values))))


# --------------------------------------------------------------------------------------------------------------
# .xlsx attacks
# --------------------------------------------------------------------------------------------------------------

def xlsx_million_rows(directory: Path, rows: int = 1_048_576) -> Path:
    """Every row Excel allows (header + 1,048,575 data rows of four cells, about 18 MB on disk and 160 MB of
    sheet XML): a reader that loads the whole sheet, or builds a frame of it, runs out of memory."""
    units = [u["code"] for u in demo_units()]
    codes = list(unit_values(demo_units()[0]))
    strings = HEADER.split(",") + ["2026-10"] + units + codes
    unit_at, code_at = 5, 5 + len(units)

    def body() -> Iterator[str]:
        yield row(1, range(4), [True] * 4)
        for r in range(2, rows + 1):
            yield (f'<row r="{r}"><c r="A{r}" t="s"><v>4</v></c><c r="B{r}" t="s"><v>{unit_at + r % len(units)}'
                   f'</v></c><c r="C{r}" t="s"><v>{code_at + r % len(codes)}</v></c><c r="D{r}"><v>{r % 997}</v>'
                   f'</c></row>')

    return write_zip(directory / "xlsx_million_rows.xlsx",
                     package(sheet_xml(body()), sst_xml(strings, len(strings))))


def xlsx_padding_bomb(directory: Path, rows: int = 150_000, column: str = "XFD") -> Path:
    """Under 1 MB on disk: `rows` rows of a 1 in column A and a 1 in `column` (XFD, the last, 16,384th). The
    sheet's used range is rows x 16,384 cells, so a reader that fills the grid (openpyxl's iter_rows pads every
    row to the widest; a frame of it) builds billions of cells from a few hundred KB. A narrower `column` (IV,
    the 256th) makes the widest grid a column limit of 256 lets through."""
    def body() -> Iterator[str]:
        yield row(1, HEADER.split(","))
        for r in range(2, rows + 1):
            yield f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="{column}{r}"><v>1</v></c></row>'

    return write_zip(directory / "xlsx_padding_bomb.xlsx", package(sheet_xml(body())))


def xlsx_huge_string_cell(directory: Path, cell_bytes: int = 400 * MB, shared: bool = False) -> Path:
    """One note cell of `cell_bytes` bytes beside a valid LG02 row, inline (or, shared=True, the only entry of
    the shared strings); deflate packs 400 MB of one letter into about 400 KB."""
    start = '<row r="2"><c r="A2" t="inlineStr"><is><t>2026-10</t></is></c>' \
            '<c r="B2" t="inlineStr"><is><t>LG02</t></is></c><c r="C2" t="inlineStr"><is><t>near_misses</t></is>' \
            '</c><c r="D2"><v>5</v></c>'
    header = row(1, [*HEADER.split(","), "note"])
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}"><sheetData>'
    if shared:
        sheet = [f'{head}{header}{start}<c r="E2" t="s"><v>0</v></c></row></sheetData></worksheet>'.encode()]
        strings = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN_NS}" count="1" '
                   f'uniqueCount="1"><si><t>'.encode(), *repeat(b"x", cell_bytes), b"</t></si></sst>"]
        return write_zip(directory / "xlsx_huge_string_cell.xlsx", package(sheet, strings))
    sheet = [f'{head}{header}{start}<c r="E2" t="inlineStr"><is><t>'.encode(), *repeat(b"x", cell_bytes),
             b"</t></is></c></row></sheetData></worksheet>"]
    return write_zip(directory / "xlsx_huge_string_cell.xlsx", package(sheet))


def xlsx_shared_strings_bomb(directory: Path, entries: int = 2_800_000) -> Path:
    """A shared-string table of `entries` distinct strings (about 7.5 MB on disk, 90 MB of XML) behind a sheet
    of two rows that uses four of them: a reader that loads the table before the sheet pays for all of it."""
    strings = chain(HEADER.split(","), (f"说明{i:08d}" for i in range(entries - 4)))
    sheet = sheet_xml([row(1, range(4), [True] * 4), row(2, ["2026-10", "LG02", "near_misses", 5.0])])
    return write_zip(directory / "xlsx_shared_strings_bomb.xlsx", package(sheet, sst_xml(strings, entries)))


def xlsx_bad_shared_string_index(directory: Path, index: int = 999) -> Path:
    """Row 2's indicator cell is shared string number `index` of a table of three (openpyxl: IndexError)."""
    strings = ["2026-10", "LG02", "near_misses"]
    sheet = sheet_xml([row(1, HEADER.split(",")),
                       row(2, [0, 1, index, 5.0], [True, True, True, False])])
    return write_zip(directory / "xlsx_bad_shared_string_index.xlsx", package(sheet, sst_xml(strings, 3)))


def xlsx_lying_sizes(directory: Path, expands_to: int = 1 << 30, declared: int = 4096) -> Path:
    """The sheet part inflates to `expands_to` bytes of rows (about 3 MB on disk) while the local header and the
    central directory both say `declared` bytes, so a pre-check that sums the directory's sizes sees a tiny
    workbook. Python's zipfile stops at the declared size and raises "Bad CRC-32"; a reader that trusts neither
    and inflates the stream itself would get the full gigabyte."""
    piece = b'<row><c t="inlineStr"><is><t>2026-10</t></is></c></row>'
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}"><sheetData>'
    tail = b"</sheetData></worksheet>"
    sheet = [head.encode(), *repeat(piece, expands_to - len(head) - len(tail)), tail]
    path = write_zip(directory / "xlsx_lying_sizes.xlsx", package(sheet))
    _declare_size(path, SHEET, declared)
    return path


def _declare_size(path: Path, name: str, size: int) -> None:
    """Overwrite the uncompressed size of member `name` in its local header and its central directory entry."""
    with zipfile.ZipFile(path) as archive:
        local, directory = archive.getinfo(name).header_offset, archive.start_dir
    data = path.read_bytes()
    while data[directory + 46:directory + 46 + len(name)] != name.encode():
        names, extra, comment = struct.unpack("<HHH", data[directory + 28:directory + 34])
        directory += 46 + names + extra + comment
    with path.open("r+b") as handle:
        for offset in (local + 22, directory + 24):
            handle.seek(offset)
            handle.write(struct.pack("<I", size))


def xlsx_missing_workbook(directory: Path) -> Path:
    """A valid sheet, but no xl/workbook.xml (the relationships still point at it)."""
    rows: list[list[str | float]] = [[m, u, i, float(v)] for m, u, i, v in (line.split(",") for line in lg02_rows())]
    return write_zip(directory / "xlsx_missing_workbook.xlsx",
                     package(sheet_xml(long_rows(rows)), workbook=False))


def xlsx_truncated_sheet(directory: Path) -> Path:
    """The sheet XML stops in the middle of a cell of row 9 (an export cut off), every other part intact."""
    rows: list[list[str | float]] = [[m, u, i, float(v)] for m, u, i, v in (line.split(",") for line in lg02_rows())]
    xml = b"".join(sheet_xml(long_rows(rows)))
    cut = xml.index(b'<c r="C9"') + len(b'<c r="C9" t="inl')
    return write_zip(directory / "xlsx_truncated_sheet.xlsx", package([xml[:cut]]))


def xlsx_not_a_zip(directory: Path) -> Path:
    """A CSV renamed .xlsx (as a user does to get past a file-type check): no zip at all."""
    return write(directory / "xlsx_not_a_zip.xlsx", batched(line + "\n" for line in [HEADER, *lg02_rows()]))


# --------------------------------------------------------------------------------------------------------------
# CSV attacks
# --------------------------------------------------------------------------------------------------------------

def csv_huge_cell(directory: Path, cell_bytes: int = 50 * MB) -> Path:
    """A valid LG02 row whose note is one cell of `cell_bytes` bytes (Python's csv refuses a field over 128 KiB
    with `_csv.Error: field larger than field limit`)."""
    first = f"{HEADER},note\n{lg02_rows()[0]},".encode()
    rest = "".join(line + ",\n" for line in lg02_rows()[1:]).encode()
    return write(directory / "csv_huge_cell.csv", [first, *repeat(b"x", cell_bytes), b"\n", rest])


def csv_unterminated_quote(directory: Path, rows: int = 200_000) -> Path:
    """Row 3's note opens a quote that is never closed, and `rows` valid rows follow: the quote swallows them
    all into one field."""
    lines = lg02_rows()

    def body() -> Iterator[str]:
        yield f"{HEADER},note\n{lines[0]},\n{lines[1]},\"已整改，见附件\n"
        for i in range(rows):
            yield f"{lines[i % len(lines)]},\n"

    return write(directory / "csv_unterminated_quote.csv", batched(body()))


def csv_long_valid(directory: Path, values: int | None = None, size: int = 200 * MB) -> Path:
    """A valid long file: `values` distinct values (default every one: 12 demo units x 15 inputs x every month
    2000-01..2026-10, 57,960), each row's note padded with a plain Chinese remark so the file is about `size`
    bytes. It must commit, within the memory bound."""
    units = demo_units()
    keys = [(month, unit["code"], code, value) for month in months_from(2000, 1) for unit in units
            for code, value in unit_values(unit).items()]
    keys = keys[:values] if values is not None else keys
    header = f"{HEADER},note\n"
    plain = sum(len(f"{m},{u},{c},{number(v)},\n") for m, u, c, v in keys)
    note_bytes = max(0, (size - len(header) - plain) // max(1, len(keys)))
    note = (NOTE * (note_bytes // len(NOTE.encode()) + 1)).encode()[:note_bytes].decode(errors="ignore")
    lines = (f"{m},{u},{c},{number(v)},{note}\n" for m, u, c, v in keys)
    return write(directory / "csv_long_valid.csv", batched(chain([header], lines)))


def csv_duplicates_then_bad(directory: Path, size: int = 200 * MB) -> Path:
    """About `size` bytes of LG02's fifteen 2026-10 rows repeated (same values: each a duplicate warning), ending
    in one row for the month 2026-13: the file is rejected, but only after every duplicate has been read."""
    block = "".join(line + "\n" for line in lg02_rows())

    def body() -> Iterator[str]:
        yield HEADER + "\n"
        for _ in range(max(1, size // len(block.encode()))):
            yield block
        yield "2026-13,LG02,near_misses,5\n"

    return write(directory / "csv_duplicates_then_bad.csv", batched(body()))


def csv_month_1900(directory: Path) -> Path:
    """A valid LG02 file for the month 1900-01, a year no unit has ever reported in (to be refused: before the
    earliest month)."""
    return write(directory / "csv_month_1900.csv",
                 batched(line + "\n" for line in [HEADER, *lg02_rows("1900-01")]))


def csv_month_column_twice(directory: Path, second: str = "月份") -> Path:
    """Two month columns (month, and `second` at the end) that disagree: 2026-10 and 2026-09. Which one is read
    must not be a silent choice; the header is to be refused, naming both columns."""
    lines = [f"{line},2026-09" for line in lg02_rows()]
    return write(directory / "csv_month_column_twice.csv",
                 batched(line + "\n" for line in [f"{HEADER},{second}", *lines]))


def csv_many_columns(directory: Path, columns: int = 100_000) -> Path:
    """A header of `columns` columns (the four of the long shape, then extra_5, extra_6, ...) over one valid row."""
    extra = (f",extra_{i}" for i in range(5, columns + 1))
    return write(directory / "csv_many_columns.csv",
                 batched(chain([HEADER], extra, ["\n", lg02_rows()[0], "\n"])))


def csv_many_rows_empty(directory: Path, empty: int = 10_000_000) -> Path:
    """The header, `empty` empty lines, then one valid row (on row `empty` + 2)."""
    return write(directory / "csv_many_rows_empty.csv",
                 [(HEADER + "\n").encode(), *repeat(b"\n", empty), (lg02_rows()[0] + "\n").encode()])


FILES: dict[str, Callable[[Path], Path]] = {function.__name__: function for function in (
    csv_control, xlsx_control,
    xlsx_million_rows, xlsx_padding_bomb, xlsx_huge_string_cell, xlsx_shared_strings_bomb,
    xlsx_bad_shared_string_index, xlsx_lying_sizes, xlsx_missing_workbook, xlsx_truncated_sheet, xlsx_not_a_zip,
    csv_huge_cell, csv_unterminated_quote, csv_long_valid, csv_duplicates_then_bad, csv_month_1900,
    csv_month_column_twice, csv_many_columns, csv_many_rows_empty,
)}
