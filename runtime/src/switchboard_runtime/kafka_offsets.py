"""What Kafka says about one topic's partitions, for the deadline watermarks
(switchboard_runtime.watermarks): end offsets, a consumer group's committed offsets,
and how many partitions there are.

The offsets are read by a consumer of their own, which never subscribes and so never
joins the group. A broker answers the requests of one connection in order, and the
consumer that applies the records keeps a long-polling fetch waiting on its connection
(up to ``fetch_max_wait_ms`` when nothing arrives): an end-offset request sent there
would wait behind it, and deadlines would fire that much later.

An end offset is confirmed by fetching the partition's last batch: the fetch answer's
high watermark is the end offset at the time the broker answered. Some brokers answer
ListOffsets with less: Tansu 0.6 gives the last batch's first offset plus one, so with
ListOffsets alone a batch of answers would look applied once its first record is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

log = structlog.get_logger(__name__)

ConsumerRef = Callable[[], AIOKafkaConsumer | None]
PROBE_WAIT_MS = 50  # longest a probing fetch waits for records (there is one at least)
PROBE_BYTES = 65_536  # a probe reads one batch (the broker returns one, however large)


class ConsumerOffsets:
    """``watermarks.Offsets`` of ``topic`` for a consumer group. ``use`` names the group
    and the consumer that applies the topic (whose metadata gives the partition count);
    its two consumers (a reader and a prober) start at the first request and stop in
    ``close``. ``access``: how they log in (``kafka_access.kafka_access``)."""

    def __init__(
        self,
        topic: str,
        bootstrap_servers: str,
        *,
        client_id: str,
        access: Mapping[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self._bootstrap = bootstrap_servers
        self._access = dict(access or {})
        self._client_id = client_id
        self._applying: ConsumerRef = lambda: None
        self._group_id: str | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._prober: AIOKafkaConsumer | None = None
        self._starting = asyncio.Lock()
        self._probing = asyncio.Lock()
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

    async def _started(self) -> tuple[AIOKafkaConsumer, AIOKafkaConsumer]:
        """The reader (of the group, to read its commits; it never subscribes) and the
        prober (of no group, assigned the partitions it probes)."""
        async with self._starting:
            if self._closed or self._group_id is None:
                raise KafkaError("the offsets reader is closed, or has no group yet")
            if self._reader is None:
                self._reader = await self._start(group_id=self._group_id)
                log.info("offsets_reader_started", topic=self.topic, group_id=self._group_id)
            if self._prober is None:
                self._prober = await self._start(
                    auto_offset_reset="none",  # a probe past the log fails, never moves
                    fetch_max_wait_ms=PROBE_WAIT_MS,
                    max_partition_fetch_bytes=PROBE_BYTES,
                )
        return self._reader, self._prober

    async def _start(self, **config: Any) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_auto_commit=False,
            **self._access,
            **config,
        )
        try:
            await consumer.start()
            await consumer.topics()  # the cluster's metadata, before any request
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def end_offsets(self, partitions: Sequence[int]) -> dict[int, int]:
        """The end offsets of ``partitions`` now, of those that could be confirmed."""
        reader, prober = await self._started()
        tps = [TopicPartition(self.topic, p) for p in partitions]
        listed = {tp: int(end) for tp, end in (await reader.end_offsets(tps)).items()}
        confirmed = await self._high_watermarks(prober, {t: e for t, e in listed.items() if e})
        ends = {tp: max(end, confirmed.get(tp, end)) for tp, end in listed.items()}
        return {tp.partition: end for tp, end in ends.items() if not end or tp in confirmed}

    async def _high_watermarks(
        self, prober: AIOKafkaConsumer, listed: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """Fetch from the last listed record of each partition (so the broker answers at
        once) and read the high watermarks the answers carry (the caller bounds the wait)."""
        if not listed:
            return {}
        async with self._probing:
            prober.assign(list(listed))
            try:
                for tp, end in listed.items():
                    prober.seek(tp, end - 1)
                found: dict[TopicPartition, int] = {}
                while len(found) < len(listed):
                    try:
                        await prober.getmany(*listed, timeout_ms=PROBE_WAIT_MS)
                    except KafkaError as exc:  # e.g. the log was truncated meanwhile
                        log.warning("end_offset_probe_failed", topic=self.topic, error=repr(exc))
                        break
                    found = {tp: hw for tp in listed if (hw := prober.highwater(tp)) is not None}
                return found
            finally:
                prober.assign([])

    async def committed(self, partitions: Sequence[int]) -> dict[int, int]:
        reader, _ = await self._started()
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
            for consumer in (self._reader, self._prober):
                if consumer is not None:
                    await consumer.stop()
            self._reader = self._prober = None
