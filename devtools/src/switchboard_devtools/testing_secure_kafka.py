"""Test helpers for the SCRAM+TLS Apache Kafka (``secure_kafka``): started with the
shipped ACL layout applied, and a topic read to its end as the admin."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from switchboard_runtime.kafka_metadata import topic_partitions

from switchboard_devtools.kafka_acls import LAYOUT, apply, grants
from switchboard_devtools.secure_kafka import ADMIN, SecureKafka
from switchboard_devtools.testing import eventually
from switchboard_devtools.testing_env import apache_kafka_version, require_java_and_maven


@contextlib.contextmanager
def secure_kafka_with_layout(directory: Path, prefix: str) -> Iterator[SecureKafka]:
    """A started SecureKafka with one user per service and the layout's grants for the
    consumer groups ``<prefix>-<service>``; skipped (failed under CI) without Java."""
    version = apache_kafka_version()
    require_java_and_maven(version)
    users = [access.service for access in LAYOUT]
    with SecureKafka(directory, users=users, version=version) as broker:
        broker.start()
        apply(grants(prefix), broker.librdkafka_config(ADMIN))
        yield broker


async def values_on(kafka: SecureKafka, topic: str) -> list[bytes]:
    """Every record value on ``topic`` up to its end offsets, read as the admin."""
    access = kafka.aiokafka_config(ADMIN)
    servers = access.pop("bootstrap_servers")

    async def partitions_known() -> list[int]:  # a topic just made may not be listed yet
        return list((await topic_partitions(servers, [topic], access)).get(topic, []))

    partitions = await eventually(partitions_known, timeout=15)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, **access, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        found: list[bytes] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                found += [r.value or b"" for r in records]
        return found
    finally:
        await consumer.stop()
