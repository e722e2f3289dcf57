"""The callback service's gauges, read from Redis when ``/metrics`` is scraped.

Its deadline sets (switchboard_runtime.deadline_gauges) hold a ``due`` member for each
scheduled callback (one waiting for its due time) and a ``window`` member for each open
callback with a window end: pending ``due`` deadlines are the scheduled callbacks,
overdue ones are callbacks late to be offered.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.deadline_gauges import DeadlineGauges
from switchboard_runtime.live_metrics import LiveMetrics
from switchboard_runtime.partitioned_deadlines import DeadlineSets
from switchboard_runtime.redis_keys import Keys

DEADLINE_KINDS = {"due": "due|", "window": "window|"}


def callback_gauges(
    redis: Redis, keys: Keys, partition_count: Callable[[], int | None], clock_ms: ClockMs
) -> list[LiveMetrics]:
    """Every gauge of the callback service read at scrape time."""
    sets = DeadlineSets(keys.callback_deadlines(), keys.callback_deadlines_of)
    return [DeadlineGauges(redis, sets, DEADLINE_KINDS, partition_count, clock_ms)]
