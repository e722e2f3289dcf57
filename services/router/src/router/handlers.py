"""FastStream subscriber of the router: batches of records, applied together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.commits import FinishBeforeRevoke, OffsetCommitter
from switchboard_runtime.service import source_record

from router.scripts import ScriptCall


async def _keep_raw(_msg: Any) -> None:
    """The pipeline decodes the raw records itself; FastStream's own decoding is skipped."""


def register(
    broker: KafkaBroker,
    pipeline: BatchPipeline[ScriptCall],
    committer: OffsetCommitter,
    topics: Sequence[str],
    group_id: str,
    *,
    max_records: int,
    batch_timeout_ms: int,
    fetch_max_wait_ms: int,
) -> None:
    """One consumer for all the router's topics. Each batch is planned here and applied by
    the pipeline's executor while the next batch is fetched and planned; its offsets are
    committed in the background once it is applied.

    A batch is whatever has arrived, up to ``max_records``: one record at low load (no
    added latency), hundreds at high load (one Redis round trip for all of them).
    """

    async def settle() -> None:
        """Before partitions move to another replica: apply what is planned, commit it."""
        await pipeline.drain()
        await committer.flush()

    @broker.subscriber(
        *topics,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        fetch_max_wait_ms=fetch_max_wait_ms,
        listener=FinishBeforeRevoke(settle),
        decoder=_keep_raw,
    )
    async def on_router_batch(msg: KafkaMessage) -> None:
        raws = msg.raw_message
        consumer = cast(AIOKafkaConsumer, msg.consumer)  # FastStream types it loosely
        await pipeline.submit(
            [source_record(raw) for raw in raws], lambda: committer.applied(consumer, raws)
        )
