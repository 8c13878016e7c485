"""Run every crafted file of tests/hostile.py through `python -m metrics import --json` and print what it cost.

    .venv/bin/python tools/hostile_run.py [--only NAME ...] [--param NAME.KEY=VALUE ...] [--limit-gib 3]
                                          [--timeout 120] [--keep DIR]

`--param csv_long_valid.size=66000000` writes that file with a generator argument other than its default (the
largest size the limits allow, say); a VALUE is a Python literal (an int, a float, True, a quoted string).

Each file goes into a fresh copy of a demo store (`init_store(with_demo=True, end_month=2026-10)`, today pinned
to 2026-11-23 by SAFETY_NOW), in a subprocess whose address space is capped (RLIMIT_AS) and which is killed after
the timeout. The table: file, size on disk, exit code (or "timeout" / a signal), wall seconds, peak RSS of the
child (os.wait4), whether "Traceback" appears in its output, and the first line of what it said (the JSON
status and first error when it printed JSON). Issue 17 is the contract these figures are held to.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import FILES

GIB = 1 << 30
NOW = "2026-11-23"
MAKE_STORE = ("import sys; from datetime import date; from metrics.ingest.initialise import init_store; "
              "init_store(sys.argv[1], with_demo=True, end_month=date(2026, 10, 1))")


@dataclass(frozen=True)
class Outcome:
    name: str
    size: int
    code: str
    seconds: float
    peak_mb: float
    traceback: bool
    said: str


def limited(address_space: int):
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    return preexec


def run_one(name: str, file: Path, pristine: Path, work: Path, address_space: int, timeout: float) -> Outcome:
    store = work / f"{name}.duckdb"
    shutil.copy(pristine, store)
    out, err = work / f"{name}.out", work / f"{name}.err"
    env = {**os.environ, "SAFETY_NOW": NOW, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "metrics", "import", "--db", str(store), str(file), "--json"]
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        # preexec_fn is safe here: this process runs no threads (DuckDB only ever runs in a child, make_store)
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
                                 preexec_fn=limited(address_space))  # noqa: PLW1509
        status, usage, timed_out = wait(child.pid, started + timeout)
    seconds = time.perf_counter() - started
    code = "timeout" if timed_out else (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                                        else str(os.WEXITSTATUS(status)))
    child.returncode = -1  # reaped by os.wait4; Popen must not wait for it again
    text = out.read_text(errors="replace") + "\n" + err.read_text(errors="replace")
    return Outcome(name, file.stat().st_size, code, seconds, usage.ru_maxrss / 1024, "Traceback" in text,
                   first_line(out, err))


def make_store(path: Path) -> Path:
    """The demo store, built in a child so that DuckDB's threads never run in this process."""
    subprocess.run([sys.executable, "-c", MAKE_STORE, str(path)], cwd=ROOT, check=True,
                   env={**os.environ, "SAFETY_NOW": NOW, "PYTHONPATH": str(ROOT)})
    return path


def wait(pid: int, deadline: float) -> tuple[int, resource.struct_rusage, bool]:
    """os.wait4 until the child ends (its rusage holds its peak RSS), killing it at `deadline`."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, False
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, True
        time.sleep(0.05)


def first_line(out: Path, err: Path) -> str:
    """The JSON's status and first error (or warning), else the first line of stderr, else of stdout."""
    try:
        doc = json.loads(out.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, dict):
        problems = doc.get("errors") or doc.get("warnings") or []
        detail = f" row {problems[0]['row']}: {problems[0]['message']}" if problems else ""
        return f"{doc.get('status')} ({doc.get('rows')} rows, {doc.get('error_count')} errors){detail}"
    for path in (err, out):
        with path.open(encoding="utf-8", errors="replace") as handle:
            line = handle.readline(2000).strip()
        if line:
            return line
    return ""


def parameters(given: list[str]) -> dict[str, dict[str, object]]:
    """["csv_huge_cell.cell_bytes=1000", ...] -> {"csv_huge_cell": {"cell_bytes": 1000}}."""
    found: dict[str, dict[str, object]] = {}
    for item in given:
        target, _, value = item.partition("=")
        name, _, key = target.partition(".")
        if name not in FILES or not key or not value:
            raise SystemExit(f"--param {item}: expected NAME.KEY=VALUE with NAME one of the files")
        found.setdefault(name, {})[key] = ast.literal_eval(value)
    return found


def table(outcomes: list[Outcome], width: int) -> str:
    lines = [f"{'file':30} {'size':>13} {'exit':>8} {'wall s':>7} {'peak MB':>8} {'trace':>5}  said",
             "-" * (78 + 2 + width)]
    for o in outcomes:
        said = o.said if len(o.said) <= width else o.said[:width - 1] + "…"
        lines.append(f"{o.name:30} {o.size:>13,} {o.code:>8} {o.seconds:>7.1f} {o.peak_mb:>8.0f} "
                     f"{'YES' if o.traceback else 'no':>5}  {said}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(FILES), help="these files only")
    parser.add_argument("--param", action="append", default=[], help="NAME.KEY=VALUE: a generator's argument")
    parser.add_argument("--limit-gib", type=float, default=3.0, help="the child's address space (RLIMIT_AS)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before the child is killed")
    parser.add_argument("--keep", type=Path, help="write the files and stores here and keep them")
    parser.add_argument("--width", type=int, default=110, help="characters of what the child said")
    args = parser.parse_args(argv)
    given = parameters(args.param)
    work = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        pristine = make_store(work / "pristine.duckdb")
        outcomes = []
        for name in args.only or FILES:
            file = FILES[name](work, **given.get(name, {}))
            outcomes.append(run_one(name, file, pristine, work, int(args.limit_gib * GIB), args.timeout))
            print(table(outcomes[-1:], args.width).splitlines()[-1], file=sys.stderr, flush=True)
            if not args.keep:
                file.unlink()
                (work / f"{name}.duckdb").unlink()
        print(table(outcomes, args.width))
    finally:
        if not args.keep:
            shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
