"""FastStream subscribers of the work item service: hand each record to the pipeline."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from switchboard_runtime.pipeline import CommandPipeline
from switchboard_runtime.service import source_record
from switchboard_schemas.topics import WORKITEM_COMMANDS


def register(broker: KafkaBroker, pipeline: CommandPipeline, group_id: str) -> None:
    """Consume ``workitem.commands``; commit each record once it is applied or dead-lettered."""

    @broker.subscriber(
        WORKITEM_COMMANDS,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
    )
    async def on_workitem_command(msg: KafkaMessage) -> None:
        await pipeline.handle(source_record(msg.raw_message))
        await msg.ack()
