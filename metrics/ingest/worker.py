"""Reading an uploaded file in a child process, bounded in time and memory (data/limits.toml: `seconds`,
`memory_mb`), so that no file can take the dashboard's own process, and every signed-in user with it, down.

The counts of metrics/core/limits.py refuse most files before they cost anything; the child bounds what no count
foresees (a sheet that parses slowly, an allocation no check predicted). It only reads the file into text cells
(metrics/ingest/reader.py), the part whose cost the file's bytes decide; shaping, checking against the store and
committing stay in the caller, bounded by the counts the child enforced. While the child works the caller's thread
only waits, so the dashboard's other sessions keep answering.

The child is `python -m metrics.ingest.worker`, a fresh interpreter (about 0.06 s to start, 0.2 s with openpyxl for an
.xlsx), not a fork: forking the dashboard's threaded process is unsafe, and multiprocessing's own start methods
re-run the `__main__` module in the child, which under Streamlit is the page being drawn. Request and answer
travel as `marshal` data (bytes, text, numbers, lists), which cannot carry code, over the child's stdin and stdout;
its stderr is the caller's, so an unexpected error's trace reaches the server log and never the user.
"""
from __future__ import annotations

import gc
import marshal
import resource
import subprocess
import sys
import traceback
from dataclasses import asdict

from metrics.core.limits import MB, Limits, few_malloc_arenas
from metrics.core.paths import ROOT
from metrics.ingest.reader import Formula, Grid, UnreadableFile, read_grid


def read_grid_isolated(data: bytes, file_name: str, limits: Limits, *, days: bool = False) -> Grid:
    """read_grid in a child process (`days`: as read_grid's); UnreadableFile also when reading takes longer or more
    memory than `limits` allow (the child is then stopped)."""
    request = marshal.dumps((data, file_name, asdict(limits), days))
    child = subprocess.Popen([sys.executable, "-m", "metrics.ingest.worker"], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    try:
        answer, _ = child.communicate(request, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise _too_slow(limits) from None
    try:
        outcome = marshal.loads(answer)
    except (EOFError, ValueError, TypeError):  # no whole answer: the kernel stopped the child, or it died
        outcome = ("memory",) if child.returncode in (-9, 1) else ("failed",)
    return _answer(outcome, limits)


def _answer(outcome: tuple, limits: Limits) -> Grid:
    kind, *rest = outcome
    if kind == "read":
        rows, encoding, delimiter, formulas = rest
        return Grid(rows=rows, encoding=encoding, delimiter=delimiter,
                    formulas=tuple(Formula(*formula) for formula in formulas))
    if kind == "refused":
        raise UnreadableFile(*rest)
    if kind == "memory":
        raise out_of_memory(limits)
    raise UnreadableFile(
        "the file could not be read (an unexpected error, recorded in the server log); save it again from Excel as "
        ".xlsx or CSV UTF-8 and upload it again, and if that does not help send the file to the group safety "
        "department",
        "读取该文件时发生意外错误（已记入服务器日志）：请用 Excel 重新保存为 .xlsx 或 CSV UTF-8 后再上传；"
        "仍不成功请将文件发给集团安全部")


def out_of_memory(limits: Limits) -> UnreadableFile:
    """The refusal of a file whose reading or checking needed more memory than there is for it."""
    return UnreadableFile(
        f"reading the file needed more than the {limits.memory_mb:,} MB of memory allowed and was stopped; split "
        f"it into several files (a year or a few months each) and upload them one by one",
        f"读取该文件所需内存超过允许的 {limits.memory_mb:,} MB，已中止：请按年或按几个月拆分成几个文件，分别上传")


def _too_slow(limits: Limits) -> UnreadableFile:
    return UnreadableFile(
        f"reading the file took longer than the {limits.seconds:,} s allowed and was stopped; split it into several "
        f"files (a year or a few months each), or save it as CSV UTF-8, which reads faster than .xlsx",
        f"读取该文件超过允许的 {limits.seconds:,} 秒，已中止：请按年或按几个月拆分成几个文件，"
        f"或另存为读取更快的 CSV UTF-8")


def _outcome(data: bytes, file_name: str, limits: Limits, days: bool) -> tuple:
    try:
        grid = read_grid(data, file_name, limits, days=days)
    except UnreadableFile as exc:
        return "refused", str(exc), exc.message_zh, exc.row
    except MemoryError:
        return ("memory",)
    except Exception:  # noqa: BLE001 a fault of the product, not of the file: the trace goes to the server log
        traceback.print_exc()
        return ("failed",)
    formulas = [(f.row, f.column, f.cell, f.text) for f in grid.formulas]
    return "read", grid.rows, grid.encoding, grid.delimiter, formulas


def main() -> None:
    """The child: its address space limited to `memory_mb`, and no cycle collection (the rows of a large file are
    millions of small lists without cycles, which the collector would rescan over and over)."""
    few_malloc_arenas()
    data, file_name, values, days = marshal.loads(sys.stdin.buffer.read())
    limits = Limits(**values)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (ceiling if hard == resource.RLIM_INFINITY else min(ceiling, hard), hard))
    gc.disable()
    outcome = _outcome(data, file_name, limits, days)
    del data
    try:
        answer = marshal.dumps(outcome)
    except MemoryError:
        answer = marshal.dumps(("memory",))
    sys.stdout.buffer.write(answer)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
