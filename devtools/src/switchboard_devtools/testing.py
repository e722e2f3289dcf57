"""pytest plugin: real brokers for the test session, plus helpers to drive services.

Brokers, in order of preference: those named by ``KAFKA_BOOTSTRAP_SERVERS`` /
``REDIS_URL``; else testcontainers (Kafka in KRaft mode, Redis) when a Docker engine
answers; else the embedded Tansu + Valkey on free ports. ``SWITCHBOARD_TEST_BROKERS``
= ``embedded``, ``containers`` or ``apache`` (Apache Kafka from Maven Central, with the
embedded Valkey) forces a choice; ``SWITCHBOARD_REDIS_SERVER=cluster``: a Redis Cluster
(testing_redis.py; services' settings from ``Brokers.settings()``, clients ``.redis()``).
What the machine offers for the choice (Docker, Java and Maven) is asked in testing_env.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI
from redis.asyncio import Redis
from switchboard_runtime.gaps import OffsetGaps
from switchboard_runtime.kafka_metadata import topic_partitions

from switchboard_devtools.apache_kafka_fetch import KAFKA_VERSION
from switchboard_devtools.embedded import EmbeddedStack, free_port
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_env import docker_answers, require_java_and_maven
from switchboard_devtools.testing_redis import client_of, cluster_redis, server_name


@dataclass(frozen=True)
class Brokers:
    kafka_bootstrap_servers: str
    redis_url: str
    origin: str
    redis_cluster: bool = False  # redis_url names one node of a Redis Cluster

    def settings(self) -> dict[str, Any]:
        """The brokers as every service's settings take them."""
        names = ("kafka_bootstrap_servers", "redis_url", "redis_cluster")
        return {name: getattr(self, name) for name in names}

    def redis(self, **options: Any) -> Redis:
        """An asyncio client of the session's Redis (a cluster client on a cluster)."""
        return client_of(self.redis_url, self.redis_cluster, **options)


def _containers(stack: contextlib.ExitStack) -> tuple[str, str]:
    from testcontainers.community.kafka import KafkaContainer  # noqa: PLC0415
    from testcontainers.community.redis import RedisContainer  # noqa: PLC0415

    kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft())
    redis = stack.enter_context(RedisContainer("redis:7.4"))
    host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
    return str(kafka.get_bootstrap_server()), f"redis://{host}:{port}/0"


USED: list[str] = []  # the brokers this session used, said at its end


def _choose(stack: contextlib.ExitStack) -> Brokers:
    redis, cluster = cluster_redis(stack, os.environ.get("REDIS_URL"))
    return replace(_choose_stack(stack, redis), redis_cluster=cluster)


def _choose_stack(stack: contextlib.ExitStack, redis: str | None) -> Brokers:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    choice = os.environ.get("SWITCHBOARD_TEST_BROKERS", "auto")
    if kafka and redis:
        return Brokers(kafka, redis, "environment")
    if choice == "containers" or (choice == "auto" and docker_answers()):
        kafka_c, redis_c = _containers(stack)
        return Brokers(kafka or kafka_c, redis or redis_c, "testcontainers")
    embedded = stack.enter_context(EmbeddedStack())
    if choice == "apache":  # Apache Kafka from Maven Central (one KRaft node)
        from switchboard_devtools.apache_kafka import ApacheKafka  # noqa: PLC0415

        require_java_and_maven()
        apache = stack.enter_context(ApacheKafka())
        origin = f"apache kafka {KAFKA_VERSION}"
        return Brokers(kafka or apache.start(), redis or embedded.start_redis(), origin)
    return Brokers(kafka or embedded.start_kafka(), redis or embedded.start_redis(), "embedded")


@pytest.fixture(scope="session")
def brokers() -> Iterator[Brokers]:
    """A real Kafka-API broker and a real Redis-API server for the whole session."""
    with contextlib.ExitStack() as stack:
        chosen = _choose(stack)
        USED.append(
            f"{chosen.origin}: Kafka API at {chosen.kafka_bootstrap_servers}, "
            f"{server_name(chosen.redis_url, chosen.redis_cluster)} at {chosen.redis_url}"
        )
        yield chosen


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which brokers the session's tests ran on (none: no test needed them)."""
    terminalreporter.write_line(f"brokers: {'; '.join(USED) or 'none started'}")


async def eventually(
    probe: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Await ``probe()`` (sync or async) until it returns something truthy, or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {last!r})")


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the test process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Run ``app`` with uvicorn on a free port in this event loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), timeout=30)
        if task.done():
            task.result()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def answers_ready(http: httpx.AsyncClient) -> bool:
    """Whether the service behind ``http`` answers ``/health/ready`` with 200 (an
    unreachable one is not ready yet)."""
    try:
        return (await http.get("/health/ready")).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.asynccontextmanager
async def serving_ready(
    app: FastAPI, *, timeout: float = 60.0, client_timeout: float = 10.0
) -> AsyncIterator[httpx.AsyncClient]:
    """Serve ``app`` (see ``serving``) and yield a client of it once it is ready."""
    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, timeout=client_timeout, headers=bearer()) as http,
    ):
        await eventually(functools.partial(answers_ready, http), timeout=timeout)
        yield http


class KafkaTap:
    """Reads a topic from the moment it was opened: assign (no group join), seek to end."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._bootstrap = bootstrap
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._gaps = OffsetGaps()  # what the embedded broker let it skip is read again
        self.records: list[ConsumerRecord[bytes, bytes]] = []

    async def __aenter__(self) -> KafkaTap:
        await self._consumer.start()
        found = await eventually(
            lambda: topic_partitions(self._bootstrap, [self._topic]), timeout=10
        )
        assigned = [TopicPartition(self._topic, p) for p in found[self._topic]]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the end offsets now, not lazily at first fetch
            await self._consumer.position(tp)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._consumer.stop()

    async def _poll(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=100)
        admitted, seeks = self._gaps.admit([r for batch in batches.values() for r in batch])
        for (topic, partition), offset in seeks.items():
            self._consumer.seek(TopicPartition(topic, partition), offset)
        self.records.extend(admitted)

    async def wait_for(
        self,
        match: Callable[[ConsumerRecord[bytes, bytes]], bool],
        timeout: float = 15.0,
        count: int = 1,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """The first ``count`` records that ``match``, waiting up to ``timeout`` seconds."""

        async def found() -> list[ConsumerRecord[bytes, bytes]]:
            await self._poll()
            hits = [r for r in self.records if match(r)]
            return hits if len(hits) >= count else []

        hits: list[ConsumerRecord[bytes, bytes]] = await eventually(found, timeout=timeout)
        return hits[:count]

    async def read_to_end(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Read all the topic holds right now: a deterministic check that nothing else came.

        The end is the high watermark of a fetch answered after this call (ListOffsets
        alone can answer less on the embedded broker, see switchboard_runtime.kafka_offsets)."""
        assigned = list(self._consumer.assignment())
        ends = await self._consumer.end_offsets(assigned)
        asked_ms = time.time_ns() // 1_000_000

        async def caught_up() -> bool:
            await self._poll()
            for tp in assigned:
                fetched_ms = self._consumer.last_poll_timestamp(tp) or 0
                end = max(ends[tp], self._consumer.highwater(tp) or 0)
                if fetched_ms <= asked_ms or await self._consumer.position(tp) < end:
                    return False
            return True

        await eventually(caught_up, timeout=15)
        return self.records


def cloud_event(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """The record's value as a JSON object, or {} when it is not JSON."""
    try:
        value = json.loads(record.value or b"")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


Match = Callable[[ConsumerRecord[bytes, bytes]], bool]


def of_type(ce_type: str, subject: str) -> Match:
    """Matches CloudEvents of ``ce_type`` about ``subject`` (usually a work item id)."""

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        event = cloud_event(record)
        return event.get("type") == ce_type and event.get("subject") == subject

    return match
