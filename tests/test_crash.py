"""Crash safety of uploads: SIGKILL at random points of a run of uploads, trial after trial on one store.

"No acknowledged upload lost, nothing partial, the store opens." In each trial a driver process imports a
sequence of distinct files one after the other, each through a short-lived connection as the pages and the
command line do (alternately through `upload.import_file` and through the command line's `main` in process),
and prints `ACK <batch_id> <sha256>` once an import has returned `committed`. It also prints markers: `START i`
before file i is read, `TX i` when a transaction begins and `COMMITTED i` when its COMMIT has returned (the
driver wraps `store.transaction`). The test kills the driver with SIGKILL at a seeded random moment: each
trial aims at one phase of one file (reading and validating, inside the write transaction, or after the
commit: acknowledging, closing the connection and checkpointing, starting the next file), at a random offset
within that phase's duration as measured by a first run that is not killed. Then it opens the store
read-write (DuckDB replays its write-ahead log, which must be gone once that connection has closed) and checks:

- every acknowledged upload is there: its batch is `committed` with the file's sha256, and its history rows
  are exactly the values the file changed (with the values they replaced), and batches acknowledged in
  earlier trials are unchanged;
- nothing is partial: each batch has as many history rows as its `rows`, no history row or observation
  names a missing batch, and the file not acknowledged when the driver died is either wholly committed
  (one batch, every value) or wholly absent: the observations equal the model of what was acknowledged,
  plus that file or not;
- each committed upload has exactly one audit row (written in its transaction), no upload audit row names a
  missing batch, and the audit trail's hash chain is whole;
- every kept raw file is complete (its name is the sha256 of its bytes).

The next trial continues on the same store, so damage would accumulate.
"""
from __future__ import annotations

import functools
import hashlib
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from metrics import store
from metrics.core import catalog
from metrics.store import audit
from metrics.store.raw_files import raw_dir
from tests.test_upload import ROOT, TODAY, big_history_file, full_history_file

PHASES = ("reading", "transaction", "after commit")
MARKER = {"reading": "START", "transaction": "TX", "after commit": "COMMITTED"}
DRIVER_TIMEOUT = 120  # seconds; a driver still running then is killed and the trial fails

# Run with `python -c DRIVER DB TODAY FILE...` in the project directory, SAFETY_DB naming the store.
DRIVER = r"""
import contextlib, hashlib, io, json, sys
from datetime import date
from pathlib import Path

from metrics.cli import main as cli
from metrics import store
from metrics.ingest import upload
from metrics.store.raw_files import raw_dir

out = sys.stdout  # the command line's own output is captured below; markers always go to the real stdout
db, today, files = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), sys.argv[3:]
current = [None]


def say(*words):
    print(*words, file=out, flush=True)


original = store.transaction


@contextlib.contextmanager
def marked(con):
    say("TX", current[0])
    with original(con) as c:
        yield c
    say("COMMITTED", current[0])


store.transaction = marked
say("READY")
for index, name in enumerate(files):
    current[0] = index
    say("START", index)
    if index % 2 == 0:  # the programming interface, acknowledged before the connection closes (no checkpoint yet)
        with store.connect(db) as con:
            result = upload.import_file(con, Path(name).read_bytes(), Path(name).name, actor="crash-test",
                                        today=today, raw_directory=raw_dir(db))
            if result.status != "committed":
                say("FAIL", index, result.status, [str(p) for p in result.problems][:5])
                sys.exit(3)
            say("ACK", result.batch_id, result.sha256)
    else:  # the command line, in this process: acknowledged once it has returned
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = cli.main(["import", name, "--json", "--actor", "crash-test"])
        try:
            doc = json.loads(captured.getvalue())
        except ValueError:
            doc = {}
        if code != 0 or doc.get("status") != "committed":
            say("FAIL", index, code, captured.getvalue()[:500].replace("\n", " "))
            sys.exit(3)
        say("ACK", doc["batch"], hashlib.sha256(Path(name).read_bytes()).hexdigest())
say("DONE")
"""

Key = tuple[str, str, str]  # (month as YYYY-MM-DD, subsidiary, indicator)


@dataclass
class UploadFile:
    path: Path
    sha256: str
    values: dict[Key, float]


@dataclass
class Aim:
    phase: str
    file: int
    offset: float

    @property
    def marker(self) -> list[str]:
        return [MARKER[self.phase], str(self.file)]


@dataclass
class Trial:
    number: int
    aim: Aim | None
    lines: list[list[str]] = field(default_factory=list)
    returncode: int | None = None
    landed: str = ""
    wal_found: bool = False
    inflight: str = "none"  # the file not acknowledged when the driver died: none, absent or committed
    problems: list[str] = field(default_factory=list)
    times: dict[tuple[str, int], float] = field(default_factory=dict)

    def describe(self) -> str:
        aim = f"aimed at {self.aim.phase} of file {self.aim.file} +{self.aim.offset * 1000:.0f} ms" if self.aim \
            else "not killed (calibration)"
        acks = sum(1 for words in self.lines if words[:1] == ["ACK"])
        return (f"trial {self.number}: {aim}; landed: {self.landed}; {acks} acknowledged; file in flight: "
                f"{self.inflight}; exit {self.returncode}; WAL {'found' if self.wal_found else 'absent'}")


def _read_values(path: Path) -> dict[Key, float]:
    """The values of a long-shaped file written by the helpers of test_upload (month, subsidiary, indicator,
    value)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        month, unit, indicator, value = line.split(",")
        values[(f"{month}-01", unit, indicator)] = float(value)
    return values


def _landed(lines: list[list[str]], returncode: int | None) -> str:
    """Where the driver was when it died, from the markers it printed."""
    if returncode == 0:
        return "finished"  # not killed, or the kill came after the last file
    started = [int(w[1]) for w in lines if w[:1] == ["START"]]
    if not started:
        return "starting up"
    index = str(started[-1])
    seen = {w[0] for w in lines[max(i for i, w in enumerate(lines) if w == ["START", index]):]}
    if "COMMITTED" in seen:
        return "after commit"
    return "transaction" if "TX" in seen else "reading"


class Crasher:
    """Runs trials on one store and keeps a model of what it must hold."""

    def __init__(self, path: Path, workdir: Path, seed: int):
        self.db, self.workdir, self.rng = path, workdir, random.Random(seed)
        self.files_made = 0
        self.full_text: str | None = None
        self.durations: list[dict[str, float]] = []
        with store.connect(path) as con:
            self.state = _observations(con)
            self.known = set(_batches(con))
        self.verified: dict[int, tuple[str, int, int]] = {}  # batch -> (sha256, rows, history fingerprint)
        self.raw_checked: set[Path] = set()
        self.damaged: set[int] = set()  # batches found damaged (reported once)
        self.orphans = (0, 0)  # rows naming a missing batch (0 unless an earlier trial reported some)
        self.unbacked: set[int] = set()  # batches named by audit rows but missing (reported once)
        self.chain: list[str] = []  # breaks of the audit trail's chain (reported once)

    # -- files ---------------------------------------------------------------------------------------------
    def make_files(self) -> list[UploadFile]:
        """Four files, all values new: two of every base indicator of every unit for 36 months (about 12,000
        values), two of 8 indicators of 4 random units for 30 months (960 values)."""
        made = []
        for kind in ("full", "full", "part", "part"):
            self.files_made += 1
            number = self.files_made
            path = self.workdir / f"upload-{number:04d}.csv"
            if kind == "full":  # full_history_file writes 7 everywhere, and takes seconds: written once
                if self.full_text is None:
                    with pytest.MonkeyPatch.context() as patch:  # it reads the catalog once per unit and month
                        patch.setattr(catalog, "load_catalog", functools.cache(catalog.load_catalog))
                        full_history_file(path)
                    self.full_text = path.read_text(encoding="utf-8")
                path.write_text(self.full_text.replace(",7\n", f",{100 + number}\n"), encoding="utf-8")
            else:
                units = self.rng.sample(["CM01", "CM02", "CM03", "CM04", "CH01", "CH02", "CH03", "PW01", "LG01",
                                         "LG02", "CN01", "CN02"], 4)
                big_history_file(path, units=tuple(units), value=5000 + 20 * number)
            made.append(UploadFile(path, hashlib.sha256(path.read_bytes()).hexdigest(), _read_values(path)))
        return made

    # -- one run of the driver -------------------------------------------------------------------------------
    def drive(self, number: int, aim: Aim | None) -> tuple[Trial, list[UploadFile]]:
        files = self.make_files()
        trial = Trial(number, aim)
        stderr = self.workdir / f"driver-{number:03d}.err"
        with stderr.open("w") as err:
            process = subprocess.Popen([sys.executable, "-c", DRIVER, str(self.db), TODAY.isoformat(),
                                        *(str(f.path) for f in files)], cwd=ROOT,
                                       env={**os.environ, "SAFETY_DB": str(self.db)}, stdout=subprocess.PIPE,
                                       stderr=err, text=True)
            timed_out = threading.Event()

            def expire():
                timed_out.set()
                process.kill()

            watchdog = threading.Timer(DRIVER_TIMEOUT, expire)
            watchdog.start()
            try:
                while line := process.stdout.readline():
                    words = line.split()
                    trial.lines.append(words)
                    if len(words) == 2 and words[0] in MARKER.values():
                        trial.times.setdefault((words[0], int(words[1])), time.monotonic())
                    elif words == ["DONE"]:
                        trial.times[("DONE", 0)] = time.monotonic()
                    if aim is not None and words == aim.marker:
                        time.sleep(aim.offset)
                        process.kill()  # SIGKILL
                        break
                trial.lines += [line.split() for line in process.stdout.read().splitlines()]
                trial.returncode = process.wait(timeout=60)
            finally:
                watchdog.cancel()
                process.stdout.close()
        trial.landed = _landed(trial.lines, trial.returncode)
        if timed_out.is_set():
            trial.problems.append(f"the driver was still running after {DRIVER_TIMEOUT} s: {trial.lines}")
        failed = [w for w in trial.lines if w[:1] == ["FAIL"]]
        if failed or (aim is None and trial.returncode != 0) or trial.returncode not in (0, -9):
            trial.problems.append(f"the driver failed (exit {trial.returncode}): {failed} "
                                  f"{stderr.read_text()[-2000:]}")
        return trial, files

    def calibrate(self) -> Trial:
        """A run that is not killed: checks the driver and the checks, and measures each phase of each file."""
        trial, files = self.drive(0, None)
        self.check(trial, files)
        if not trial.problems:
            t = trial.times
            for index in range(len(files)):
                end = t.get(("START", index + 1), t.get(("DONE", 0)))
                if None in (t.get(("START", index)), t.get(("TX", index)), t.get(("COMMITTED", index)), end):
                    trial.problems.append(f"the driver's markers are missing for file {index}: {trial.lines} "
                                          f"(does the upload still commit through store.transaction?)")
                    break
                self.durations.append({"reading": t[("TX", index)] - t[("START", index)],
                                       "transaction": t[("COMMITTED", index)] - t[("TX", index)],
                                       "after commit": end - t[("COMMITTED", index)]})
        return trial

    def crash(self, number: int) -> Trial:
        """A killed run: aims at one phase (in turn) of a random file, at a random moment within it."""
        phase = PHASES[number % len(PHASES)]
        index = self.rng.randrange(len(self.durations))
        trial, files = self.drive(number, Aim(phase, index, self.rng.uniform(0, self.durations[index][phase])))
        self.check(trial, files)
        return trial

    # -- what the store must hold ------------------------------------------------------------------------------
    def check(self, trial: Trial, files: list[UploadFile]) -> None:
        problems = trial.problems
        wal = self.db.with_name(self.db.name + ".wal")
        trial.wal_found = wal.exists()
        try:
            with store.connect(self.db, timeout=30) as con:  # read-write: replays the write-ahead log
                con.execute("SELECT count(*) FROM observations").fetchall()
        except Exception as exc:  # noqa: BLE001 (a store that does not open is the failure to report)
            problems.append(f"the store does not open read-write after the kill: {exc!r}")
            return
        if wal.exists():
            problems.append("the write-ahead log is still there after the store was opened and closed: "
                            "recovery did not complete")
        with store.connect(self.db, timeout=30) as con:
            observed = _observations(con)
            batches = _batches(con)
            summary = _history_summary(con)
            orphans = con.execute("SELECT count(*) FROM observations WHERE batch_id NOT IN "
                                  "(SELECT id FROM batches)").fetchall()[0][0]
            history_orphans = con.execute("SELECT count(*) FROM observation_history WHERE batch_id NOT IN "
                                          "(SELECT id FROM batches)").fetchall()[0][0]
            acks = [w for w in trial.lines if w[:1] == ["ACK"]]
            expected = dict(self.state)
            committed: list[tuple[int, UploadFile, str]] = []
            for position, words in enumerate(acks):
                if len(words) != 3 or position >= len(files) or words[2] != files[position].sha256:
                    problems.append(f"acknowledgement {position} does not name file {position}: {words}")
                    continue
                committed.append((int(words[1]), files[position], "acknowledged"))
            inflight = files[len(acks)] if len(acks) < len(files) else None
            new = sorted(set(batches) - self.known - {batch for batch, _, _ in committed})
            if inflight is not None:
                trial.inflight = "absent"
            if new and inflight is not None and len(new) == 1 and batches[new[0]][2] == inflight.sha256:
                committed.append((new[0], inflight, "in flight, not acknowledged"))
                trial.inflight, new = "committed", []
            if new:
                problems.append(f"batches {new} belong to no acknowledged file nor the one in flight: "
                                f"{[batches[b] for b in new]}")
            for batch, file, how in committed:
                problems += _check_batch(con, batch, file, how, batches, expected)
                for key, value in file.values.items():
                    expected[key] = (value, batch)
            audited, chain = _audit(con)
        if audited is not None:  # the upload's audit row is written in its transaction: one per batch, no other
            for batch, _file, how in committed:
                if batch in batches and audited.get(batch, 0) != 1:
                    problems.append(f"batch {batch} ({how}) has {audited.get(batch, 0)} upload audit rows, not 1")
            unbacked = sorted(set(audited) - set(batches) - self.unbacked)
            if unbacked:
                problems.append(f"upload audit rows name batches that are not in the store: {unbacked}")
                self.unbacked |= set(unbacked)
            if chain and chain != self.chain:
                problems.append(f"the audit trail's chain is broken: {chain[:5]}")
            self.chain = chain
        # Damage is reported once, by the trial that found it.
        for batch, (sha, rows, fingerprint) in self.verified.items():
            now = (batches[batch][2], batches[batch][3], summary.get(batch, (0, None))[1]) if batch in batches \
                else None
            if batch not in self.damaged and (now is None or batches[batch][1] != "committed"
                                              or now != (sha, rows, fingerprint)):
                problems.append(f"batch {batch}, verified in an earlier trial, changed or vanished: "
                                f"{batches.get(batch)} history {summary.get(batch)}")
                self.damaged.add(batch)
        partial = {b: (row[3], summary.get(b, (0, None))[0]) for b, row in batches.items()
                   if row[3] != summary.get(b, (0, None))[0] and b not in self.damaged}
        if partial:
            problems.append(f"partial batches (batch: (rows, history rows)): {partial}")
            self.damaged |= set(partial)
        if (orphans, history_orphans) != self.orphans:
            problems.append(f"{orphans} observations and {history_orphans} history rows name a missing batch")
            self.orphans = (orphans, history_orphans)
        if observed != expected:
            absent = inflight is not None and not any(f is inflight for _, f, _ in committed)
            problems.append(_difference(observed, expected, inflight if absent else None))
        problems += self._check_raw_files()
        # The next trial starts from what the store holds (after a failure too, so that one failure is not
        # reported again by every later trial).
        self.state, self.known = observed, set(batches)
        for batch, _, _ in committed:
            if batch in batches and batch in summary:
                self.verified[batch] = (batches[batch][2], batches[batch][3], summary[batch][1])

    def _check_raw_files(self) -> list[str]:
        problems = []
        for path in sorted(raw_dir(self.db).rglob("*")):
            if not path.is_file() or path.name.startswith(".") or path in self.raw_checked:
                continue  # a dot file is a copy being written; it is never read
            if hashlib.sha256(path.read_bytes()).hexdigest() != path.name.split(".")[0]:
                problems.append(f"raw file {path} is not the file its name says (partial copy?)")
            self.raw_checked.add(path)
        return problems


def _observations(con) -> dict[Key, tuple[float, int]]:
    rows = con.execute("SELECT strftime(month, '%Y-%m-%d'), subsidiary, indicator, value, batch_id "
                       "FROM observations").fetchall()
    return {(m, s, i): (v, b) for m, s, i, v, b in rows}


def _batches(con) -> dict[int, tuple]:
    """batch -> (source, status, sha256, rows, file_name)."""
    rows = con.execute("SELECT id, source, status, sha256, rows, file_name FROM batches").fetchall()
    return {row[0]: row[1:] for row in rows}


def _history_summary(con) -> dict[int, tuple[int, int]]:
    """batch -> (history rows, a fingerprint of its rows)."""
    rows = con.execute("SELECT batch_id, count(*), bit_xor(hash(month, subsidiary, indicator, value, "
                       "previous_value, previous_batch_id)) FROM observation_history GROUP BY batch_id").fetchall()
    return {b: (n, fingerprint) for b, n, fingerprint in rows}


def _audit(con) -> tuple[dict[int, int] | None, list[str]]:
    """batch -> number of upload audit rows naming it, and the breaks of the audit chain (None, [] when the
    store keeps no audit trail)."""
    if not store.scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'"):
        return None, []
    rows = con.execute("SELECT CAST(json_extract_string(detail, '$.batch') AS BIGINT) AS batch, count(*) "
                       "FROM audit_log WHERE action IN ('upload', 'replace') GROUP BY ALL").fetchall()
    return {batch: n for batch, n in rows if batch is not None}, audit.verify(con)


def _check_batch(con, batch: int, file: UploadFile, how: str, batches: dict, before: dict) -> list[str]:
    """The batch of a committed file: its row, and history rows that are exactly what the file changed."""
    changes = {key: (value, *(before[key] if key in before else (None, None))) for key, value in file.values.items()
               if key not in before or before[key][0] != value}
    if batch not in batches:
        return [f"batch {batch} ({how}, {file.path.name}) is lost: no such batch in the store"]
    source, status, sha, rows, name = batches[batch]
    problems = []
    if (source, status, sha, rows, name) != ("upload", "committed", file.sha256, len(changes), file.path.name):
        problems.append(f"batch {batch} ({how}) is {batches[batch]}, expected ('upload', 'committed', "
                        f"{file.sha256!r}, {len(changes)}, {file.path.name!r})")
    history = con.execute("SELECT strftime(month, '%Y-%m-%d'), subsidiary, indicator, value, previous_value, "
                          "previous_batch_id FROM observation_history WHERE batch_id = $b", {"b": batch}).fetchall()
    found = {(m, s, i): (v, pv, pb) for m, s, i, v, pv, pb in history}
    if len(history) != len(found) or found != changes:
        missing = len(set(changes) - set(found))
        wrong = sum(1 for k in set(changes) & set(found) if changes[k] != found[k])
        problems.append(f"history of batch {batch} ({how}, {file.path.name}): {len(history)} rows, "
                        f"{len(changes)} expected; {missing} missing, {len(set(found) - set(changes))} extra, "
                        f"{wrong} wrong")
    return problems


def _difference(observed: dict, expected: dict, inflight: UploadFile | None) -> str:
    differing = sorted(k for k in observed.keys() | expected.keys() if observed.get(k) != expected.get(k))
    text = (f"observations differ from the acknowledged uploads at {len(differing)} keys, e.g. "
            f"{[(k, observed.get(k), expected.get(k)) for k in differing[:3]]}")
    if inflight is not None:
        present = sum(1 for k, v in inflight.values.items() if observed.get(k, (None,))[0] == v)
        text += f"; {present} of {len(inflight.values)} values of the file in flight ({inflight.path.name}) are there"
    return text


def run_trials(path: Path, workdir: Path, seed: int, trials: int) -> tuple[list[Trial], float]:
    started = time.monotonic()
    crasher = Crasher(path, workdir, seed)
    done = [crasher.calibrate()]
    if not done[0].problems:
        done += [crasher.crash(number) for number in range(1, trials + 1)]
    for trial in done:
        print(trial.describe())
    return done, time.monotonic() - started


def report(done: list[Trial]) -> str:
    failed = [t for t in done if t.problems]
    lines = [f"{len(failed)} of {len(done)} trials failed:"]
    for trial in failed:
        lines.append(trial.describe())
        lines += [f"    - {problem}" for problem in trial.problems]
    return "\n".join(lines)


def test_sigkill_during_uploads_loses_nothing_acknowledged_and_leaves_nothing_partial(db, tmp_path):
    done, _ = run_trials(db, tmp_path, seed=20261123, trials=3)  # one aimed at each phase
    assert not any(t.problems for t in done), report(done)
    assert sum(1 for t in done if t.returncode == -9) >= 2, [t.describe() for t in done]


@pytest.mark.slow
def test_sigkill_during_uploads_fifty_trials(db, tmp_path):
    done, seconds = run_trials(db, tmp_path, seed=7, trials=50)
    landed = Counter(t.landed for t in done[1:])
    print(f"{len(done) - 1} trials in {seconds:.0f} s; landed: {dict(landed)}; file in flight: "
          f"{dict(Counter(t.inflight for t in done[1:]))}; WAL found after {sum(t.wal_found for t in done[1:])} kills")
    assert not any(t.problems for t in done), report(done)
    assert len(done) == 51
    # the trials did reach every phase (if not, the aiming no longer works and the test proves less)
    assert all(landed[phase] for phase in PHASES), dict(landed)
