"""A full disk for real: small tmpfs folders (tests/conftest.py `small_disk`) and filling one to the last byte."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

PAGE = 4096
"""tmpfs hands out space in pages: a file of 1 byte takes one."""


def mount_tmpfs(folder: Path, size: str) -> None:
    """Mount a tmpfs of `size` on `folder`, or skip the test saying why (mounting needs root, as in CI)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                              check=False, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no `mount` command here: cannot make a small disk to fill")
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}): a test needs root "
                    f"to fill a disk for real")


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True, timeout=30)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the disk of `folder` with one file, then give back `leave` bytes (whole pages); returns the file."""
    filler = folder / "filler.bin"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    with filler.open("r+b") as handle:  # the last partial block may have been written after all
        size = os.fstat(handle.fileno()).st_size
        handle.truncate(max(0, size - leave))
    return filler


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize
