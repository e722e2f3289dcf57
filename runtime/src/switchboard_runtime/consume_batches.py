"""The batch consumer (router, desktop gateway): records fetched in batches, each batch
applied together by a :class:`~switchboard_runtime.batch.BatchPipeline`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.clock import wall_clock_ms
from switchboard_runtime.commits import OffsetCommitter
from switchboard_runtime.consume import partition_listener, source_record, the_message, undecoded
from switchboard_runtime.gaps import OffsetGaps
from switchboard_runtime.settings import BatchSettings
from switchboard_runtime.watermarks import Watermarks


@dataclass(frozen=True)
class Batching:
    """How the consumer gathers batches (see ``register``)."""

    max_records: int
    batch_timeout_ms: int
    fetch_max_wait_ms: int

    @classmethod
    def of(cls, settings: BatchSettings) -> Batching:
        return cls(
            settings.consume_batch_max, settings.consume_wait_ms, settings.kafka_fetch_max_wait_ms
        )


def _on_batch(
    pipeline: BatchPipeline[Any],
    committer: OffsetCommitter,
    watermarks: Watermarks | None,
    gaps: OffsetGaps,
) -> Callable[[Any], Awaitable[None]]:
    async def on_batch(body: Any) -> None:
        msg = the_message(body)
        consumer = cast(AIOKafkaConsumer, msg.consumer)  # FastStream types it loosely
        raws, seeks = gaps.admit(msg.raw_message)
        for (topic, partition), offset in seeks.items():
            consumer.seek(TopicPartition(topic, partition), offset)
        if not raws:
            return
        records = [source_record(raw) for raw in raws]

        def applied() -> None:
            committer.applied(consumer, raws)
            if watermarks is not None:
                watermarks.applied(records)

        await pipeline.submit(records, applied)

    return on_batch


def subscribe_batches(
    broker: KafkaBroker,
    pipeline: BatchPipeline[Any],
    committer: OffsetCommitter,
    topics: Sequence[str],
    group_id: str,
    *,
    batching: Batching,
    watermarks: Watermarks | None = None,
) -> Callable[[], AIOKafkaConsumer | None]:
    """One consumer for all of ``topics``. Each batch is planned here and applied by
    the pipeline's executor while the next batch is fetched and planned; its offsets are
    committed in the background once it is applied.

    A batch is whatever has arrived, up to ``max_records``: one record at low load (no
    added latency), hundreds at high load (one Redis round trip for all of them).
    The deadline ``watermarks``, if any, learn the partitions it owns and the records it
    applied. Returns the consumer (None until it runs)."""

    async def settle() -> None:
        """Before partitions move to another replica: apply what is planned, commit it."""
        await pipeline.drain()
        await committer.flush()

    gaps = OffsetGaps(wall_clock_ms)
    listener = partition_listener(settle, gaps, watermarks)
    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=batching.max_records,
        batch_timeout_ms=batching.batch_timeout_ms,
        fetch_max_wait_ms=batching.fetch_max_wait_ms,
        listener=listener,
        decoder=undecoded,
    )
    subscriber(_on_batch(pipeline, committer, watermarks, gaps))
    return lambda: subscriber.consumer
