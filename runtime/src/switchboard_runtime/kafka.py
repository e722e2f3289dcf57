"""Kafka plumbing: topic creation at start-up, producer settings, liveness checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from switchboard_runtime.kafka_access import kafka_access
from switchboard_runtime.kafka_metadata import topic_partitions
from switchboard_runtime.settings import CommonSettings

log = structlog.get_logger(__name__)

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(settings: CommonSettings, topics: Iterable[str]) -> list[str]:
    """Create the topics that don't exist yet; returns the names it created.

    Production clusters often disable auto-creation, and Tansu auto-creates topics
    with its own partition count on the first metadata request, so every service
    creates what it uses before it produces or consumes anything.
    """
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, **kafka_access(settings)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(t, settings.kafka_topic_partitions, settings.kafka_replication_factor)
                for t in missing
            ]
        )
        created = []
        for topic, code, message in response.topic_errors:
            if code == 0:
                created.append(topic)
            elif code != TOPIC_ALREADY_EXISTS:  # a racing replica may have created it first
                raise RuntimeError(f"cannot create topic {topic}: {code} {message}")
        log.info("topics_created", topics=created, partitions=settings.kafka_topic_partitions)
        return created
    finally:
        await admin.close()


def make_producer(settings: CommonSettings, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas; idempotence is a setting."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        **kafka_access(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=256 * 1024,
        max_request_size=max(1_048_576, settings.max_message_bytes * 2),
    )


async def kafka_answers(producer: AIOKafkaProducer, timeout: float = 2.0) -> bool:
    """True when the producer can fetch cluster metadata from a broker right now."""
    try:
        async with asyncio.timeout(timeout):
            metadata = await producer.client.fetch_all_metadata()
    except Exception:
        return False
    return bool(metadata.brokers())


async def has_committed_offsets(
    settings: CommonSettings, group_id: str, topics: Iterable[str]
) -> bool:
    """Whether ``group_id`` has committed an offset on any partition of ``topics``."""
    access = kafka_access(settings)
    partitions = await topic_partitions(settings.kafka_bootstrap_servers, topics, access)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        **access,
        group_id=group_id,
        enable_auto_commit=False,
    )
    await consumer.start()  # no subscription: it never joins the group
    try:
        for topic, ids in sorted(partitions.items()):
            for partition in ids:
                if await consumer.committed(TopicPartition(topic, partition)) is not None:
                    return True
        return False
    finally:
        await consumer.stop()
