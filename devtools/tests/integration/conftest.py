"""Apache Kafka fixtures: one node, or three, started from the jars Maven fetched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from switchboard_devtools.apache_kafka import ApacheKafka, ApacheKafkaCluster
from switchboard_devtools.testing_env import apache_kafka_version, require_java_and_maven

VERSION = apache_kafka_version()


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[ApacheKafka]:
    """One node, its files (logs included) kept in ``tmp_path`` for a look afterwards."""
    require_java_and_maven(VERSION)
    with ApacheKafka(tmp_path, version=VERSION) as broker:
        started = time.monotonic()
        broker.start()
        print(f"Apache Kafka {VERSION}: one node answered in {time.monotonic() - started:.1f} s")
        yield broker


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ApacheKafkaCluster]:
    require_java_and_maven(VERSION)
    with ApacheKafkaCluster(tmp_path, version=VERSION) as nodes:
        started = time.monotonic()
        nodes.start()
        print(f"Apache Kafka {VERSION}: three nodes answered in {time.monotonic() - started:.1f} s")
        yield nodes
