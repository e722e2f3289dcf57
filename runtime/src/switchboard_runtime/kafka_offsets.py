"""What Kafka says about one topic's partitions, for the deadline watermarks
(switchboard_runtime.watermarks): end offsets, a consumer group's committed offsets,
and how many partitions there are.

The offsets are read by a consumer of their own, which never subscribes and so never
joins the group. A broker answers the requests of one connection in order, and the
consumer that applies the records keeps a long-polling fetch waiting on its connection
(up to ``fetch_max_wait_ms`` when nothing arrives): an end-offset request sent there
would wait behind it, and deadlines would fire that much later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

log = structlog.get_logger(__name__)

ConsumerRef = Callable[[], AIOKafkaConsumer | None]


class ConsumerOffsets:
    """``watermarks.Offsets`` of ``topic`` for a consumer group. ``use`` names the group
    and the consumer that applies the topic (whose metadata gives the partition count);
    the reader starts at the first request and stops in ``close``."""

    def __init__(self, topic: str, bootstrap_servers: str, *, client_id: str) -> None:
        self.topic = topic
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._applying: ConsumerRef = lambda: None
        self._group_id: str | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    def use(self, applying: ConsumerRef, group_id: str) -> None:
        self._applying = applying
        self._group_id = group_id

    def partition_count(self) -> int | None:
        """How many partitions the topic has, as the applying consumer's metadata says
        (None before it has any)."""
        consumer = self._applying()
        partitions = consumer.partitions_for_topic(self.topic) if consumer else None
        return len(partitions) if partitions else None

    async def _started(self) -> AIOKafkaConsumer:
        async with self._starting:
            if self._closed or self._group_id is None:
                raise KafkaError("the offsets reader is closed, or has no group yet")
            if self._reader is None:
                reader = AIOKafkaConsumer(
                    bootstrap_servers=self._bootstrap,
                    group_id=self._group_id,  # to read its commits; never subscribes
                    client_id=self._client_id,
                    enable_auto_commit=False,
                )
                try:
                    await reader.start()
                    await reader.topics()  # the cluster's metadata, before any request
                except BaseException:
                    await reader.stop()
                    raise
                self._reader = reader
                log.info("offsets_reader_started", topic=self.topic, group_id=self._group_id)
        return self._reader

    async def end_offsets(self, partitions: Sequence[int]) -> dict[int, int]:
        tps = [TopicPartition(self.topic, p) for p in partitions]
        ends = await (await self._started()).end_offsets(tps)
        return {tp.partition: int(end) for tp, end in ends.items()}

    async def committed(self, partitions: Sequence[int]) -> dict[int, int]:
        reader = await self._started()
        tps = [TopicPartition(self.topic, p) for p in partitions]
        found = await asyncio.gather(*(reader.committed(tp) for tp in tps))
        missing = [tp for tp, offset in zip(tps, found, strict=True) if offset is None]
        starts = await reader.beginning_offsets(missing) if missing else {}
        return {
            tp.partition: int(starts[tp] if offset is None else offset)
            for tp, offset in zip(tps, found, strict=True)
        }

    async def close(self) -> None:
        async with self._starting:
            self._closed = True
            if self._reader is not None:
                await self._reader.stop()
                self._reader = None
