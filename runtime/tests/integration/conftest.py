"""Real brokers for the runtime's own tests: settings, a started producer, Redis, topics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers
from switchboard_runtime.kafka import ensure_topics, make_producer
from switchboard_runtime.settings import CommonSettings

pytestmark = pytest.mark.integration

NewTopic = Callable[[str], Awaitable[str]]


def runtime_settings(brokers: Brokers, **overrides: Any) -> CommonSettings:
    values: dict[str, Any] = {
        **brokers.settings(),
        "kafka_topic_partitions": 3,
        **overrides,
    }
    return CommonSettings(**values)


@pytest.fixture(scope="session")
def settings(brokers: Brokers) -> CommonSettings:
    return runtime_settings(brokers)


@pytest_asyncio.fixture(scope="session")
async def producer(settings: CommonSettings) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer built exactly as the services build theirs."""
    kafka = make_producer(settings, client_id="runtime-tests")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest_asyncio.fixture(scope="session")
async def redis_client(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis()
    yield client
    await client.aclose()


@pytest.fixture
def new_topic(settings: CommonSettings) -> NewTopic:
    """Creates a topic with a unique name (and its ``.dlq``) before anything touches it."""

    async def create(prefix: str) -> str:
        topic = f"rt-{prefix}-{uuid.uuid4().hex[:12]}"
        await ensure_topics(settings, [topic, f"{topic}.dlq"])
        return topic

    return create
