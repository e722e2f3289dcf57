"""CPU use of the processes under test, read from /proc, so a report can show who was busy."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (NaN once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextlib.contextmanager
def cpu_share(pids: Mapping[str, int], into: dict[str, float]) -> Iterator[None]:
    """Fill ``into`` with each process's CPU use during the block, in % of one core."""
    start = {name: cpu_seconds(pid) for name, pid in pids.items()}
    began = time.monotonic()
    try:
        yield
    finally:
        elapsed = max(time.monotonic() - began, 1e-9)
        for name, pid in pids.items():
            into[name] = round(100 * (cpu_seconds(pid) - start[name]) / elapsed, 1)
