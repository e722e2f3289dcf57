"""The callback service's gauges, read from Redis when ``/metrics`` is scraped.

Its deadline sets (switchboard_runtime.deadline_gauges) hold a ``due`` member for each
scheduled callback (one waiting for its due time) and a ``window`` member for each open
callback with a window end: pending ``due`` deadlines are the scheduled callbacks,
overdue ones are callbacks late to be offered. Open callbacks per status are counts the
commit script keeps with every status change (``Keys.open_callbacks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from prometheus_client.metrics_core import Metric
from redis.asyncio import Redis
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.deadline_gauges import DeadlineGauges
from switchboard_runtime.live_metrics import LiveMetrics, gauges
from switchboard_runtime.partitioned_deadlines import DeadlineSets
from switchboard_runtime.redis_keys import Keys

from callback.model import OPEN

DEADLINE_KINDS = {"due": "due|", "window": "window|"}


class OpenCallbackGauges:
    """``switchboard_callbacks_open``: open callbacks by status."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.open_callbacks()

    async def read(self) -> list[Metric]:
        counts = cast(dict[bytes, bytes], await self._redis.hgetall(self._key))
        samples: dict[tuple[str, ...], float] = {(str(s),): 0.0 for s in sorted(OPEN)}
        samples |= {(k.decode(),): float(v) for k, v in counts.items()}
        help_text = "Open callbacks by status (scheduled, waiting, in_progress)."
        return [gauges("switchboard_callbacks_open", help_text, ("status",), samples)]


def callback_gauges(
    redis: Redis, keys: Keys, partition_count: Callable[[], int | None], clock_ms: ClockMs
) -> list[LiveMetrics]:
    """Every gauge of the callback service read at scrape time."""
    sets = DeadlineSets(keys.callback_deadlines(), keys.callback_deadlines_of)
    return [
        OpenCallbackGauges(redis, keys),
        DeadlineGauges(redis, sets, DEADLINE_KINDS, partition_count, clock_ms),
    ]
