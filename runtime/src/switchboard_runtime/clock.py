"""Wall-clock time in epoch milliseconds: what deadlines, watermarks and gauges compare
(Redis scores, Kafka timestamps); code that uses it takes a ``ClockMs`` to be testable."""

from __future__ import annotations

import time
from collections.abc import Callable

ClockMs = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
