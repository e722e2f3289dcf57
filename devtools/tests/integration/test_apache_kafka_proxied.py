"""A three-node Apache Kafka with a TCP proxy in front of each node (the chaos suite's
slow link): clients that bootstrap on the proxies are told the proxies' addresses, so
every connection they open goes through one, while the direct listener, and the
replication between the brokers, do not."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.apache_kafka import ApacheKafkaCluster, broker_ids
from switchboard_devtools.apache_kafka_config import HOST
from switchboard_devtools.tcp_proxy import TcpProxy
from switchboard_devtools.testing_env import apache_kafka_version, require_java_and_maven

from .test_apache_kafka import create_replicated, read_assigned, wait_for_isr

pytestmark = pytest.mark.integration

VERSION = apache_kafka_version()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[ApacheKafkaCluster, list[TcpProxy]]]:
    require_java_and_maven(VERSION)
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(ApacheKafkaCluster(tmp_path, version=VERSION))
        proxies = [stack.enter_context(TcpProxy(HOST, n.proxied_port)) for n in cluster.nodes]
        cluster.advertise_proxies([proxy.port for proxy in proxies])
        cluster.start()
        yield cluster, proxies


def advertised_ports(producer: AIOKafkaProducer) -> set[int]:
    return {broker.port for broker in producer.client.cluster.brokers()}


async def test_clients_bootstrapped_on_the_proxies_stay_behind_them(
    proxied: tuple[ApacheKafkaCluster, list[TcpProxy]],
) -> None:
    cluster, proxies = proxied
    slow, topic = cluster.proxied_bootstrap_servers, f"px-{uuid.uuid4().hex[:12]}"
    assert slow == ",".join(f"{HOST}:{proxy.port}" for proxy in proxies)
    await create_replicated(slow, topic)
    await wait_for_isr(cluster.bootstrap_servers, topic, 3)  # replication: direct
    producer = AIOKafkaProducer(bootstrap_servers=slow, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for n in range(30):
            await producer.send_and_wait(topic, str(n).encode(), partition=n % 3)
        assert advertised_ports(producer) == {proxy.port for proxy in proxies}
    finally:
        await producer.stop()
    assert all(proxy.accepted >= 1 for proxy in proxies)  # each leader reached through one
    before = sum(proxy.bytes_forwarded for proxy in proxies)

    seen = await read_assigned(cluster.bootstrap_servers, topic, 3, 30)  # direct
    assert sorted(int(v) for values in seen.values() for v in values) == list(range(30))
    assert sum(proxy.bytes_forwarded for proxy in proxies) == before
    assert broker_ids(cluster.bootstrap_servers) == {1, 2, 3}
