"""The router's gauges, read from its Redis structures when ``/metrics`` is scraped.

- waiting items per queue and priority, and the age of each queue's oldest waiting
  item: the queue's sorted sets (one per kind), scored priority * 1e13 + created epoch
  ms (see lua/enqueue.lua), so a priority is a score band: ZCOUNT counts it and the
  band's first member is its oldest item;
- agents available with a free slot per queue and kind: the 'qa' sets' sizes;
- agents per status: counts the scripts keep with every status change;
- offers and wrap-ups, pending and overdue: the deadline sets
  (switchboard_runtime.deadline_gauges; a pending offer deadline is a live offer).

Reported queues: the configured ones, then those named after item types (where items
go when no rule matches), at most ``MAX_QUEUES``; ``switchboard_router_queues_unreported``
says how many were left out. Each scrape costs 33 pipelined O(log n) reads per queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

from prometheus_client.metrics_core import Metric
from redis.asyncio import Redis
from switchboard_runtime.clock import ClockMs
from switchboard_runtime.deadline_gauges import DeadlineGauges
from switchboard_runtime.live_metrics import LiveMetrics, gauge, gauges
from switchboard_runtime.partitioned_deadlines import DeadlineSets
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.enums import AgentStatus, Priority, WorkItemType

from router.routing_config import RoutingConfig

MAX_QUEUES = 100
KINDS = ("voice", "chat", "async")
BAND = 10**13  # the score of an item of priority p: p * BAND + its created epoch ms
DEADLINE_KINDS = {"offer": "o|", "wrapup": "w|"}
Samples = dict[tuple[str, ...], float]


def reported_queues(config: RoutingConfig) -> tuple[list[str], int]:
    """The queues to report (configured first, then type-named), and how many are not."""
    names = list(dict.fromkeys([*sorted(config.queues), *(str(t) for t in WorkItemType)]))
    return names[:MAX_QUEUES], max(0, len(names) - MAX_QUEUES)


class QueueGauges:
    """Waiting items and available agents of the reported queues."""

    def __init__(self, redis: Redis, keys: Keys, config: RoutingConfig, clock_ms: ClockMs) -> None:
        self._redis = redis
        self._keys = keys
        self._queues, self._unreported = reported_queues(config)
        self._clock_ms = clock_ms

    async def read(self) -> list[Metric]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for queue in self._queues:
                for kind in KINDS:
                    pipe.zcard(self._keys.queue_agents(queue, kind))
                    for p in Priority:
                        low, high = p * BAND, f"({(p + 1) * BAND}"
                        pipe.zcount(self._keys.queue(queue, kind), low, high)
                        pipe.zrangebyscore(
                            self._keys.queue(queue, kind),
                            low,
                            high,
                            start=0,
                            num=1,
                            withscores=True,
                        )
            replies = await pipe.execute()
        return self._families(iter(replies), self._clock_ms())

    def _families(self, replies: Iterator[Any], now_ms: int) -> list[Metric]:
        waiting: Samples = {}
        oldest: Samples = {}
        agents: Samples = {}
        for queue in self._queues:
            oldest_ms = now_ms
            for kind in KINDS:
                agents[(queue, kind)] = next(replies)
                for p in Priority:
                    count, first = next(replies), next(replies)
                    band = (queue, str(int(p)))
                    waiting[band] = waiting.get(band, 0) + count
                    if first:  # [(member, score)]: the band's oldest item
                        oldest_ms = min(oldest_ms, int(first[0][1]) - p * BAND)
            oldest[(queue,)] = max(0, now_ms - oldest_ms) / 1000
        return [
            gauges(
                "switchboard_router_waiting_items",
                "Items waiting in a queue for an agent, by queue and priority (1 = critical).",
                ("queue", "priority"),
                waiting,
            ),
            gauges(
                "switchboard_router_oldest_waiting_age_seconds",
                "How long the oldest item waiting in a queue has waited (0 when none waits).",
                ("queue",),
                oldest,
            ),
            gauges(
                "switchboard_router_agents_available",
                "Agents of a queue that are available and have a free slot of a kind.",
                ("queue", "kind"),
                agents,
            ),
            gauge(
                "switchboard_router_queues_unreported",
                f"Queues left out of the queue gauges (at most {MAX_QUEUES} are reported).",
                self._unreported,
            ),
        ]


class AgentGauges:
    """Agents per status, from the counts the scripts keep (see ``set_status`` in lib.lua)."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.agents_by_status()

    async def read(self) -> list[Metric]:
        counts = cast(dict[bytes, bytes], await self._redis.hgetall(self._key))
        samples: Samples = {(str(s),): 0 for s in AgentStatus}
        samples |= {(k.decode(),): float(v) for k, v in counts.items()}
        return [
            gauges(
                "switchboard_router_agents",
                "Agents by status (available, away, offline) as the router knows them.",
                ("status",),
                samples,
            )
        ]


def router_gauges(
    redis: Redis,
    keys: Keys,
    config: RoutingConfig,
    partition_count: Callable[[], int | None],
    clock_ms: ClockMs,
) -> list[LiveMetrics]:
    """Every gauge of the router read at scrape time."""
    sets = DeadlineSets(keys.deadlines(), keys.deadlines_of)
    return [
        QueueGauges(redis, keys, config, clock_ms),
        AgentGauges(redis, keys),
        DeadlineGauges(redis, sets, DEADLINE_KINDS, partition_count, clock_ms),
    ]
