"""The end offsets the deadline watermarks rely on, read from a real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_runtime.kafka_offsets import ConsumerOffsets
from switchboard_runtime.settings import CommonSettings

from .conftest import NewTopic

pytestmark = pytest.mark.integration


async def _send_batches(producer: AIOKafkaProducer, topic: str, sizes: list[int]) -> None:
    """Records to partition 0, ``sizes[i]`` of them sent together (one batch each)."""
    for size in sizes:
        sent = [await producer.send(topic, b"answer", partition=0) for _ in range(size)]
        await asyncio.gather(*sent)


async def test_end_offsets_count_every_record_of_a_batch(
    settings: CommonSettings, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("ends")
    offsets = ConsumerOffsets(
        topic, settings.kafka_bootstrap_servers, client_id=f"rt-{uuid.uuid4().hex[:6]}"
    )
    offsets.use(lambda: None, f"rt-ends-{uuid.uuid4().hex[:6]}")
    try:
        empty = await offsets.end_offsets([0, 1])
        await _send_batches(producer, topic, [3, 40])
        after_batches = await offsets.end_offsets([0, 1])
        await _send_batches(producer, topic, [1])
        after_one_more = await offsets.end_offsets([0])
    finally:
        await offsets.close()

    assert empty == {0: 0, 1: 0}
    assert after_batches == {0: 43, 1: 0}
    assert after_one_more == {0: 44}
