"""Gauges of the deadline sets a service keeps (see switchboard_runtime.deadlines), read
at scrape time: how many deadlines of each kind are pending and how many are overdue,
per set (the set of each partition of the commands topic, and the single set).

A kind is named by its members' prefix: the router's offers (``o|``) and wrap-ups
(``w|``), the callback service's due times (``due|``) and window ends (``window|``). So
a pending offer deadline is a live offer, a pending due time a scheduled callback.

Counting kinds reads the members, in one read-only script per scrape, over at most
``COUNT_CAP`` members per set (the earliest due); what lies beyond is reported as
uncounted, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from prometheus_client.metrics_core import Metric
from redis.asyncio import Redis

from switchboard_runtime.clock import ClockMs
from switchboard_runtime.live_metrics import gauges
from switchboard_runtime.partitioned_deadlines import DeadlineSets

COUNT_CAP = 10_000
UNPARTITIONED = "none"  # the partition label of the single set

# KEYS: the sets; ARGV[1] now (epoch ms), ARGV[2] members read per set, ARGV[3..] prefixes.
# Returns per set: its size, then per prefix: pending, overdue (due at or before now).
_COUNT_LUA = """
local now, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for _, key in ipairs(KEYS) do
  local counts = {}
  for p = 3, #ARGV do counts[p] = {0, 0} end
  local rows = redis.call('ZRANGE', key, 0, cap - 1, 'WITHSCORES')
  for i = 1, #rows, 2 do
    for p = 3, #ARGV do
      if string.sub(rows[i], 1, #ARGV[p]) == ARGV[p] then
        counts[p][1] = counts[p][1] + 1
        if tonumber(rows[i + 1]) <= now then counts[p][2] = counts[p][2] + 1 end
        break
      end
    end
  end
  out[#out + 1] = redis.call('ZCARD', key)
  for p = 3, #ARGV do
    out[#out + 1] = counts[p][1]
    out[#out + 1] = counts[p][2]
  end
end
return out
"""


class DeadlineGauges:
    """``switchboard_deadlines_pending``, ``_overdue`` and ``_uncounted`` of the sets."""

    def __init__(
        self,
        redis: Redis,
        sets: DeadlineSets,
        kinds: Mapping[str, str],
        partition_count: Callable[[], int | None],
        clock_ms: ClockMs,
    ) -> None:
        """``kinds``: kind name -> member prefix; ``partition_count``: how many
        partition sets there are (None while not known: only the single set)."""
        self._redis = redis
        self._sets = sets
        self._kinds = dict(kinds)
        self._partition_count = partition_count
        self._clock_ms = clock_ms
        self._count = redis.register_script(_COUNT_LUA)

    def _keys(self) -> dict[str, str]:
        """Partition label -> set key."""
        keys = {UNPARTITIONED: self._sets.single}
        for partition in range(self._partition_count() or 0):
            keys[str(partition)] = self._sets.of(partition)
        return keys

    async def read(self) -> list[Metric]:
        keys = self._keys()
        args: list[str | int] = [self._clock_ms(), COUNT_CAP, *self._kinds.values()]
        flat = cast(list[int], await self._count(keys=list(keys.values()), args=args))
        width = 1 + 2 * len(self._kinds)
        pending: dict[tuple[str, ...], float] = {}
        overdue: dict[tuple[str, ...], float] = {}
        uncounted: dict[tuple[str, ...], float] = {}
        for index, partition in enumerate(keys):
            row = flat[index * width : (index + 1) * width]
            uncounted[(partition,)] = max(0, row[0] - COUNT_CAP)
            for k, kind in enumerate(self._kinds):
                pending[(partition, kind)] = row[1 + 2 * k]
                overdue[(partition, kind)] = row[2 + 2 * k]
        labels = ("partition", "kind")
        return [
            gauges(
                "switchboard_deadlines_pending",
                "Deadlines not yet fired, by partition of the commands topic and kind.",
                labels,
                pending,
            ),
            gauges(
                "switchboard_deadlines_overdue",
                "Deadlines whose due time has passed but that are not yet fired.",
                labels,
                overdue,
            ),
            gauges(
                "switchboard_deadlines_uncounted",
                f"Deadlines of a set beyond its first {COUNT_CAP}, left out of the "
                "pending and overdue counts (0 unless a set is that large).",
                ("partition",),
                uncounted,
            ),
        ]
