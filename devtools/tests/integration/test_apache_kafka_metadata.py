"""What the services and tools learn of topics on Apache Kafka, which (unlike Tansu)
tells a client that tracks no topic of none: partitions, committed offsets, a tap."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.apache_kafka import ApacheKafka
from switchboard_devtools.testing import KafkaTap
from switchboard_runtime.kafka import ensure_topics, has_committed_offsets
from switchboard_runtime.kafka_metadata import topic_partitions
from switchboard_runtime.settings import CommonSettings

from .test_apache_kafka import consume_and_commit, produce_aiokafka

pytestmark = pytest.mark.integration


def settings_for(kafka: ApacheKafka) -> CommonSettings:
    return CommonSettings(
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        kafka_topic_partitions=3,
        kafka_replication_factor=1,
    )


async def test_partitions_are_listed_and_a_missing_topic_is_not_made(kafka: ApacheKafka) -> None:
    topic, absent = f"meta-{uuid.uuid4().hex[:8]}", f"absent-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings_for(kafka), [topic])
    found = await topic_partitions(kafka.bootstrap_servers, [topic, absent])
    assert found == {topic: [0, 1, 2]}
    assert absent not in await topic_partitions(kafka.bootstrap_servers, [absent])


async def test_a_group_that_committed_is_told_apart_from_a_new_one(kafka: ApacheKafka) -> None:
    """How a service whose Redis came back empty knows it is not a new deployment."""
    settings, topic = settings_for(kafka), f"meta-{uuid.uuid4().hex[:8]}"
    group = f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    assert not await has_committed_offsets(settings, group, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        await produce_aiokafka(producer, topic, 12)
    finally:
        await producer.stop()
    await consume_and_commit(kafka.bootstrap_servers, topic, group, 12)
    assert await has_committed_offsets(settings, group, [topic])
    assert not await has_committed_offsets(settings, f"other-{group}", [topic])


async def test_a_tap_sees_what_is_produced_after_it_opened(kafka: ApacheKafka) -> None:
    topic = f"meta-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings_for(kafka), [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        await produce_aiokafka(producer, topic, 5)  # before: not seen
        async with KafkaTap(kafka.bootstrap_servers, topic) as tap:
            after = await produce_aiokafka(producer, topic, 7)
            records = await tap.wait_for(lambda _: True, timeout=20, count=7)
            assert len(await tap.read_to_end()) == 7  # and the five before it, never
            seen = {r.value.decode() for r in records if r.value is not None}
    finally:
        await producer.stop()
    assert seen == {value for values in after.values() for value in values}
