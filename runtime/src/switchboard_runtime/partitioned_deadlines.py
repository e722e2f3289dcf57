"""The wiring shared by the services whose deadlines are answered by commands on one
topic (the router's on agent.commands, the callback service's on callback.commands):
each deadline is kept in the sorted set of the partition its answers arrive on, and
fires only up to that partition's watermark (see switchboard_runtime.watermarks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from switchboard_runtime.clock import ClockMs
from switchboard_runtime.deadlines import DeadlineTimer, Fire, FireBatch, FireSets
from switchboard_runtime.deadlines import Partitioned as PartitionedSets
from switchboard_runtime.kafka_access import kafka_access
from switchboard_runtime.kafka_offsets import ConsumerOffsets, ConsumerRef
from switchboard_runtime.settings import DeadlineSettings
from switchboard_runtime.watermarks import Watermarks, default_partition


@dataclass(frozen=True)
class DeadlineSets:
    """The sorted sets a timer fires: ``single`` (of deadlines written while the partition
    count was not known, fired as ever) and ``of(partition)``."""

    single: str
    of: Callable[[int], str]


@dataclass(frozen=True)
class PartitionedDeadlines:
    """What a service needs to keep its deadlines per partition of ``topic``: the broker's
    offsets, the watermarks its consumer feeds, and the timer that fires them."""

    offsets: ConsumerOffsets
    watermarks: Watermarks
    clock_ms: ClockMs

    @classmethod
    def of(
        cls, topic: str, settings: DeadlineSettings, clock_ms: ClockMs, *, service: str
    ) -> PartitionedDeadlines:
        offsets = ConsumerOffsets(
            topic,
            settings.kafka_bootstrap_servers,
            client_id=f"{service}-offsets",
            access=kafka_access(settings),
        )
        timeout_s = settings.deadline_broker_timeout_ms / 1000
        watermarks = Watermarks(topic, offsets, clock_ms, broker_timeout_s=timeout_s)
        return cls(offsets, watermarks, clock_ms)

    def partition_of(self, key: str) -> int | None:
        """The partition of the topic the commands keyed ``key`` arrive on (Kafka's
        default partitioner), or None while the partition count is not known."""
        count = self.offsets.partition_count()
        return default_partition(key, count) if count else None

    def consumed_by(self, consumer: ConsumerRef, group_id: str) -> None:
        """The consumer (of ``group_id``) that applies the topic, once it is subscribed."""
        self.offsets.use(consumer, group_id)

    def timer(
        self,
        redis: Redis,
        sets: DeadlineSets,
        fire_sets: FireSets,
        *,
        fire: Fire,
        poll_ms: int,
        fire_batch: FireBatch | None = None,
    ) -> DeadlineTimer:
        """The timer over ``sets``; woken when a held deadline's watermark passes it."""
        timer = DeadlineTimer(
            redis,
            sets.single,
            fire,
            self.clock_ms,
            poll_ms=poll_ms,
            fire_batch=fire_batch,
            partitioned=PartitionedSets(sets.of, self.watermarks, fire_sets),
        )
        self.watermarks.wake = timer.poke
        return timer

    async def close(self) -> None:
        await self.watermarks.close()
        await self.offsets.close()
