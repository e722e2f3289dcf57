"""The per-record consumer of the work item and callback services, and how a consumed
aiokafka record becomes the pipeline's ``SourceRecord``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage

from switchboard_runtime.commits import FinishBeforeRevoke, Partitions
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.gaps import OffsetGaps
from switchboard_runtime.kafka_offsets import ConsumerRef
from switchboard_runtime.pipeline import CommandPipeline
from switchboard_runtime.watermarks import Watermarks


def source_record(raw: ConsumerRecord[bytes, bytes]) -> SourceRecord:
    """The parts of a consumed aiokafka record the pipeline and the DLQ need."""
    stamp = raw.timestamp if raw.timestamp is not None and raw.timestamp >= 0 else None
    headers = tuple(raw.headers or ())
    return SourceRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value, headers, stamp)


async def undecoded(message: KafkaMessage) -> KafkaMessage:
    """FastStream's decoder hook for every consumer here: the handler is given the message
    itself. The pipelines parse the raw record, so FastStream's own decoding would parse it
    twice; and a handler that took the message from FastStream's context instead
    (``faststream.kafka.annotations.KafkaMessage``) would have it looked up on a worker
    thread, one thread hand-over per message."""
    return message


def the_message(body: Any) -> KafkaMessage:
    """What a handler of a consumer decoded by :func:`undecoded` is given."""
    return cast(KafkaMessage, body)


async def _nothing_to_finish() -> None:
    """Each record is committed as soon as it is handled: nothing is left to finish."""


def partition_listener(
    settle: Callable[[], Awaitable[None]], gaps: OffsetGaps, watermarks: Watermarks | None
) -> FinishBeforeRevoke:
    """What a consumer does as partitions move: ``settle`` before they go, and the gap
    tracker (and the deadline ``watermarks``, if any) told of those revoked and assigned."""
    revoked: list[Partitions] = [gaps.forget]
    assigned: list[Partitions] = [gaps.forget]
    if watermarks is not None:
        revoked.append(watermarks.revoked)
        assigned.append(watermarks.assigned)
    return FinishBeforeRevoke(settle, revoked=revoked, assigned=assigned)


def subscribe_per_topic(
    broker: KafkaBroker,
    pipelines: Mapping[str, CommandPipeline],
    group_id: str,
    *,
    fetch_max_wait_ms: int,
    watermarks: Watermarks | None = None,
) -> ConsumerRef:
    """One consumer over several topics (one group join), each record through its topic's
    pipeline and committed once it is applied, ignored or dead-lettered; records the
    broker let it skip are fetched again first (see switchboard_runtime.gaps).

    ``watermarks`` (of deadlines answered on one of the topics) learn the partitions the
    consumer owns and every record it handled. Returns the consumer (None until it runs).
    """
    gaps = OffsetGaps()
    listener = partition_listener(_nothing_to_finish, gaps, watermarks)
    subscriber = broker.subscriber(
        *pipelines,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        fetch_max_wait_ms=fetch_max_wait_ms,
        listener=listener,
        decoder=undecoded,
    )

    @subscriber
    async def on_record(body: Any) -> None:
        msg = the_message(body)
        record = source_record(msg.raw_message)
        admitted, seeks = gaps.admit([record])
        for (topic, partition), offset in seeks.items():  # not acked: it comes again
            cast(AIOKafkaConsumer, msg.consumer).seek(TopicPartition(topic, partition), offset)
        if not admitted:
            return
        await pipelines[record.topic].handle(record)
        await msg.ack()
        if watermarks is not None:
            watermarks.applied((record,))

    def consumer() -> AIOKafkaConsumer | None:
        return subscriber.consumer

    return consumer
