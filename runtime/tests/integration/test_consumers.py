"""The two consumers every service is built on (switchboard_runtime.consume and
consume_batches) hand their pipelines the records exactly as the broker holds them,
on the event loop: FastStream neither decodes a body nor looks the message up on a
worker thread (before, each message cost one thread hand-over, about a sixth of the
router's CPU at 1,000 items/s)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

import anyio.to_thread
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from switchboard_devtools.testing import eventually
from switchboard_runtime.batch import BatchPipeline
from switchboard_runtime.commits import OffsetCommitter
from switchboard_runtime.consume import subscribe_per_topic
from switchboard_runtime.consume_batches import Batching, subscribe_batches
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.pipeline import CommandPipeline
from switchboard_runtime.settings import CommonSettings

from .conftest import NewTopic

pytestmark = pytest.mark.integration

# what a consumer is given verbatim, JSON or not: a pipeline parses and judges it itself
VALUES = [b'{"type": "x", "id": "1"}', b"\xff\xfe not json", b"", b'["a", 1]']


class Seen:
    """A pipeline of either kind that only keeps what it was handed."""

    def __init__(self) -> None:
        self.values: list[bytes | None] = []

    async def handle(self, record: SourceRecord) -> None:
        self.values.append(record.value)

    async def submit(self, records: Sequence[SourceRecord], applied: Callable[[], None]) -> None:
        self.values.extend(record.value for record in records)
        applied()

    async def drain(self) -> None:
        """What a batch pipeline does before its partitions go: nothing is pending here."""


@pytest.fixture
def worker_threads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call handed to a worker thread while the test runs."""
    calls: list[object] = []
    original = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return calls


async def _send_all(producer: AIOKafkaProducer, topic: str) -> None:
    for value in VALUES:
        await producer.send_and_wait(topic, value, key=b"k")


async def _consume(
    settings: CommonSettings, producer: AIOKafkaProducer, topic: str, subscribe: Callable[..., Any]
) -> Seen:
    seen = Seen()
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    subscribe(broker, seen)
    await broker.start()
    try:
        await _send_all(producer, topic)
        await eventually(lambda: len(seen.values) >= len(VALUES) or None, timeout=30)
    finally:
        await broker.stop()
    return seen


async def test_the_per_record_consumer_hands_over_each_record_untouched_on_the_loop(
    settings: CommonSettings,
    producer: AIOKafkaProducer,
    new_topic: NewTopic,
    worker_threads: list[object],
) -> None:
    topic = await new_topic("per-record")

    def subscribe(broker: KafkaBroker, seen: Seen) -> None:
        pipelines = {topic: cast(CommandPipeline, seen)}
        subscribe_per_topic(broker, pipelines, f"{topic}-group", fetch_max_wait_ms=5)

    seen = await _consume(settings, producer, topic, subscribe)

    assert seen.values == VALUES
    assert worker_threads == []


async def test_the_batch_consumer_hands_over_each_record_untouched_on_the_loop(
    settings: CommonSettings,
    producer: AIOKafkaProducer,
    new_topic: NewTopic,
    worker_threads: list[object],
) -> None:
    topic = await new_topic("batches")
    group = f"{topic}-{uuid.uuid4().hex[:6]}"

    def subscribe(broker: KafkaBroker, seen: Seen) -> None:
        pipeline = cast(BatchPipeline[Any], seen)
        batching = Batching(max_records=500, batch_timeout_ms=5, fetch_max_wait_ms=5)
        subscribe_batches(broker, pipeline, OffsetCommitter(), [topic], group, batching=batching)

    seen = await _consume(settings, producer, topic, subscribe)

    assert seen.values == VALUES
    assert worker_threads == []
