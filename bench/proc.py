"""Readings of a process tree from /proc, for the bench scripts and for the small launcher process that
bench/limits.py starts each measured command from. Standard library only: the launcher imports this module, and
anything heavier it loaded would be inherited by the command it forks (Linux keeps the pre-exec high-water mark
in ru_maxrss)."""
from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s children, over all its threads ([] once it has gone)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def status_bytes(pid: int, key: str) -> int:
    """A kB field of /proc/PID/status (VmRSS, VmHWM...) in bytes; 0 once the process has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """The resident set of `pid` and all its descendants, in bytes."""
    return status_bytes(pid, "VmRSS") + sum(tree_rss(child) for child in children(pid))
