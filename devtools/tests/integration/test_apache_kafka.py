"""Real Apache Kafka (from Maven Central) with the project's two clients: aiokafka and
confluent-kafka create, produce, consume in a group, commit and read offsets back, on one
node and on a three-node cluster that loses a broker and gets it back."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from switchboard_devtools.apache_kafka import ApacheKafka, ApacheKafkaCluster, broker_ids
from switchboard_devtools.apache_kafka_fetch import (
    fetch_kafka,
    is_fetched,
)
from switchboard_devtools.testing import eventually
from switchboard_devtools.testing_env import apache_kafka_version, require_java_and_maven
from switchboard_runtime.kafka import ensure_topics, make_producer
from switchboard_runtime.settings import CommonSettings

pytestmark = pytest.mark.integration

VERSION = apache_kafka_version()
Placed = dict[int, list[str]]  # partition -> values in offset order


def new_topic() -> str:
    return f"ak-{uuid.uuid4().hex[:12]}"


def merge(*parts: Placed) -> Placed:
    """Values per partition in offset order, of parts produced one after the other."""
    merged: Placed = {}
    for part in parts:
        for partition, values in part.items():
            merged.setdefault(partition, []).extend(values)
    return merged


def by_partition(placed: list[tuple[int, int, str]]) -> Placed:
    """(partition, offset, value) triples as values per partition in offset order."""
    return merge(*({p: [v]} for p, _, v in sorted(placed)))


async def produce_aiokafka(producer: AIOKafkaProducer, topic: str, count: int) -> Placed:
    placed = []
    for i in range(count):
        value = f"aiokafka-{i}"
        meta = await producer.send_and_wait(topic, value.encode(), key=f"k{i % 7}".encode())
        placed.append((meta.partition, meta.offset, value))
    return by_partition(placed)


def produce_confluent(bootstrap: str, topic: str, count: int) -> Placed:
    """An idempotent acks=all confluent-kafka producer; every delivery must succeed."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    placed: list[tuple[int, int, str]] = []
    errors: list[str] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            placed.append((msg.partition(), msg.offset(), msg.value().decode()))

    for i in range(count):
        producer.produce(
            topic, f"confluent-{i}".encode(), f"c{i % 5}".encode(), on_delivery=on_delivery
        )
        producer.poll(0)
    assert producer.flush(30) == 0, "confluent-kafka did not deliver everything within 30 s"
    assert not errors, errors
    return by_partition(placed)


async def consume_and_commit(bootstrap: str, topic: str, group: str, expected: int) -> Placed:
    """A group member that reads until it has ``expected`` records, committing each batch."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: Placed = {}
    try:
        async with asyncio.timeout(60):
            while sum(map(len, seen.values())) < expected:
                batches = await consumer.getmany(timeout_ms=500)
                for tp, records in batches.items():
                    seen.setdefault(tp.partition, []).extend(r.value.decode() for r in records)
                if batches:
                    await consumer.commit()
    finally:
        await consumer.stop()
    return seen


async def committed_and_end(
    bootstrap: str, topic: str, group: str, partitions: int
) -> tuple[dict[int, int | None], dict[int, int]]:
    """The group's committed offsets and the log end offsets, read by a non-member."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        committed = {tp.partition: await consumer.committed(tp) for tp in tps}
        ends = await consumer.end_offsets(tps)
        return committed, {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def test_one_node_serves_both_clients_exactly_once_in_order(kafka: ApacheKafka) -> None:
    bootstrap, topic, group = kafka.bootstrap_servers, new_topic(), f"g-{uuid.uuid4().hex[:8]}"
    settings = CommonSettings(
        kafka_bootstrap_servers=bootstrap,
        kafka_topic_partitions=3,
        kafka_replication_factor=1,
        kafka_enable_idempotence=True,
    )
    assert await ensure_topics(settings, [topic]) == [topic]  # AIOKafkaAdminClient
    assert await ensure_topics(settings, [topic]) == []  # listed, not created twice

    producer = make_producer(settings, "apache-kafka-test")  # acks=all, idempotent
    await producer.start()
    try:
        from_aiokafka = await produce_aiokafka(producer, topic, 100)
    finally:
        await producer.stop()
    from_confluent = await asyncio.to_thread(produce_confluent, bootstrap, topic, 60)
    expected = merge(from_aiokafka, from_confluent)
    assert sorted(expected) == [0, 1, 2]

    seen = await consume_and_commit(bootstrap, topic, group, 160)
    assert seen == expected  # each record once, each partition in offset order

    committed, ends = await committed_and_end(bootstrap, topic, group, 3)
    assert committed == ends
    assert sum(ends.values()) == 160
    assert await read_assigned(bootstrap, topic, 3, 160) == expected


async def read_assigned(bootstrap: str, topic: str, partitions: int, expected: int) -> Placed:
    """What an assigned consumer outside any group reads from the beginning (as the
    services' replays do: assign, seek_to_beginning, getmany)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    seen: Placed = {}
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        async with asyncio.timeout(30):
            while sum(map(len, seen.values())) < expected:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    seen.setdefault(tp.partition, []).extend(r.value.decode() for r in records)
    finally:
        await consumer.stop()
    return seen


async def replicas_in_sync(bootstrap: str, topic: str) -> dict[int, list[int]]:
    """Partition -> its in-sync replicas, as confluent-kafka's AdminClient sees them."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    metadata = await asyncio.to_thread(admin.list_topics, topic, 10)
    return {p: sorted(m.isrs) for p, m in metadata.topics[topic].partitions.items()}


async def wait_for_isr(bootstrap: str, topic: str, size: int, timeout: float = 60) -> None:
    """Until every partition of ``topic`` has ``size`` in-sync replicas."""

    async def all_of_size() -> bool:
        isrs = await replicas_in_sync(bootstrap, topic)
        return all(len(isr) == size for isr in isrs.values())

    await eventually(all_of_size, timeout, interval=0.2)


async def create_replicated(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})
        response = await admin.create_topics([new])
        assert [code for _, code, _ in response.topic_errors] == [0]
    finally:
        await admin.close()


async def test_cluster_survives_a_dead_broker_and_takes_it_back(
    cluster: ApacheKafkaCluster,
) -> None:
    bootstrap, topic = cluster.bootstrap_servers, new_topic()
    await create_replicated(bootstrap, topic)
    await wait_for_isr(bootstrap, topic, 3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        before = await produce_aiokafka(producer, topic, 50)
        admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
        leader = admin.list_topics(topic, 10).topics[topic].partitions[0].leader
        cluster.kill_broker(leader - 1)  # the leader of partition 0 dies
        async with asyncio.timeout(60):
            after = await produce_aiokafka(producer, topic, 50)  # 2 replicas suffice
    finally:
        await producer.stop()
    await wait_for_isr(bootstrap, topic, 2)  # the controller fenced the dead broker
    assert broker_ids(bootstrap) == {1, 2, 3} - {leader}

    seen = await consume_and_commit(bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}", 100)
    assert seen == merge(before, after)

    await asyncio.to_thread(cluster.start_broker, leader - 1)
    await wait_for_isr(bootstrap, topic, 3)
    assert broker_ids(bootstrap) == {1, 2, 3}


def test_stop_leaves_no_jvm_and_no_files_behind() -> None:
    require_java_and_maven(VERSION)
    broker = ApacheKafka(version=VERSION)
    with broker:
        broker.start()
        [pid] = broker.pids()
        directory, port = broker.directory, broker.port
        assert broker_ids(broker.bootstrap_servers) == {1}
    with pytest.raises(ProcessLookupError):  # nothing left in its process group
        os.killpg(pid, 0)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not directory.exists()


def test_a_broker_that_dies_at_start_up_says_why(tmp_path: Path) -> None:
    require_java_and_maven(VERSION)
    broker = ApacheKafka(tmp_path, version=VERSION)
    with socket.socket() as squatter:  # its port is taken between choosing and binding
        squatter.bind(("127.0.0.1", broker.port))
        squatter.listen()
        with pytest.raises(RuntimeError, match="exited during start-up") as failure:
            broker.start()
    assert "bind" in str(failure.value).lower()  # the tail of the broker's log
    [pid] = broker.pids()
    with pytest.raises(ProcessLookupError):  # stopped, its process group with it
        os.killpg(pid, 0)


def test_an_unfinished_fetch_is_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_java_and_maven(VERSION, fetching=True)
    monkeypatch.setenv("SWITCHBOARD_CACHE", str(tmp_path))
    libs = tmp_path / "apache-kafka" / VERSION / "libs"
    libs.mkdir(parents=True)
    (libs / "half-downloaded.jar").write_bytes(b"PK")
    assert not is_fetched(VERSION)
    assert fetch_kafka(VERSION) == libs
    assert is_fetched(VERSION)
    assert not (libs / "half-downloaded.jar").exists()
    assert (libs / f"kafka_2.13-{VERSION}.jar").is_file()
