"""FastStream subscriber of the router: batches of records, applied together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.service import source_record

from router.scripts import ScriptCall


async def _keep_raw(_msg: Any) -> None:
    """The pipeline decodes the raw records itself; FastStream's own decoding is skipped."""


def register(
    broker: KafkaBroker,
    pipeline: BatchPipeline[ScriptCall],
    topics: Sequence[str],
    group_id: str,
    *,
    max_records: int,
    batch_timeout_ms: int,
) -> None:
    """One consumer for all the router's topics; one commit per applied batch.

    A batch is whatever has arrived, up to ``max_records``: one record at low load (no
    added latency), hundreds at high load (one Redis round trip for all of them).
    """

    @broker.subscriber(
        *topics,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        decoder=_keep_raw,
    )
    async def on_router_batch(msg: KafkaMessage) -> None:
        await pipeline.handle_batch([source_record(raw) for raw in msg.raw_message])
        await msg.ack()
