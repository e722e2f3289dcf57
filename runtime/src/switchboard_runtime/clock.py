"""Wall-clock time in epoch milliseconds: what deadlines, watermarks and gauges compare
(Redis scores, Kafka timestamps); code that uses it takes a ``ClockMs`` to be testable."""

from __future__ import annotations

import time
from collections.abc import Callable

ClockMs = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def shifted_clock_ms(offset_ms: int) -> ClockMs:
    """The wall clock moved by ``offset_ms`` (the wall clock itself when 0)."""
    if offset_ms == 0:
        return wall_clock_ms
    return lambda: wall_clock_ms() + offset_ms
