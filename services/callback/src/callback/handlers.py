"""FastStream subscriber of the callback service: hand each record to its topic's pipeline."""

from __future__ import annotations

from collections.abc import Mapping

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from switchboard_runtime.pipeline import CommandPipeline
from switchboard_runtime.service import source_record


def register(broker: KafkaBroker, pipelines: Mapping[str, CommandPipeline], group_id: str) -> None:
    """One consumer for ``callback.commands`` and ``workitem.events`` (one group join).

    Each record is committed once it is applied, ignored or dead-lettered.
    """

    @broker.subscriber(
        *pipelines,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
    )
    async def on_callback_record(msg: KafkaMessage) -> None:
        record = source_record(msg.raw_message)
        await pipelines[record.topic].handle(record)
        await msg.ack()
