"""The outbox relay against real Redis and Kafka: order, one relay at a time, outages, hand-over."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord
from redis.asyncio import Redis
from structlog.testing import capture_logs
from switchboard_devtools.testing import Brokers, KafkaTap, Match, cloud_event, eventually
from switchboard_runtime.atomic import AtomicScript, FixedGeneration
from switchboard_runtime.kafka import make_producer
from switchboard_runtime.lua import LuaFile
from switchboard_runtime.outbox import OutboxRelay
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.settings import CommonSettings

from .conftest import NewTopic

pytestmark = pytest.mark.integration

SERVICE = "rt-outbox"
CONTENT_TYPE = ("content-type", b"application/cloudevents+json")
# What a service script does: outbox_add(...) after the state change.
APPEND_LUA = LuaFile(
    "append.lua", "outbox_add(key.outbox(A.service), A.topic, A.key, A.value, A.type)"
)
GENERATION = "init:outbox-tests"


@dataclass(frozen=True)
class Outbox:
    stream: str
    lease: str
    generation: str
    keys: Keys


@dataclass(frozen=True)
class Written:
    key: str
    seq: int
    event_id: str
    value: bytes


def fresh_outbox() -> Outbox:
    """The outbox stream and lease of a tenant nobody else uses."""
    keys = Keys(f"t{uuid.uuid4().hex[:16]}")
    return Outbox(keys.outbox(SERVICE), keys.outbox_lease(SERVICE), keys.generation(), keys)


async def append(
    redis: Redis, outbox: Outbox, topic: str, key: str, seq: int, *, typed: bool = False
) -> Written:
    """Append one CloudEvent to the outbox exactly as a service's Lua script would
    (``typed``: naming its type for the ``sb-type`` header)."""
    event_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "tests/outbox",
        "type": "test.happened",
        "time": datetime.now(UTC).isoformat(),
        "subject": key,
        "data": {"seq": seq},
    }
    value = json.dumps(event).encode()
    args = {"service": SERVICE, "topic": topic, "key": key, "value": value.decode()}
    if typed:
        args["type"] = "test.happened"
    await redis.set(outbox.generation, GENERATION)
    generation = FixedGeneration(outbox.generation, GENERATION)
    await AtomicScript(redis, outbox.keys, [APPEND_LUA], generation)(args)
    return Written(key, seq, event_id, value)


def has_id(event_id: str) -> Match:
    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        return cloud_event(record).get("id") == event_id

    return match


def anything(_record: ConsumerRecord[bytes, bytes]) -> bool:
    return True


async def drained(redis: Redis, outbox: Outbox) -> None:
    async def empty() -> bool:
        return await redis.xlen(outbox.stream) == 0

    await eventually(empty, timeout=10)


@contextlib.asynccontextmanager
async def relaying(
    redis: Redis, producer: AIOKafkaProducer, outbox: Outbox, lease_ms: int = 3000
) -> AsyncIterator[OutboxRelay]:
    """A relay running in the background; stopped (lease released) when the block ends."""
    relay = OutboxRelay(
        redis,
        producer,
        stream=outbox.stream,
        lease_key=outbox.lease,
        service=SERVICE,
        lease_ms=lease_ms,
    )
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        await relay.stop()
        await asyncio.wait_for(task, 10)


async def test_backlog_written_before_the_relay_starts_is_published_in_order(
    brokers: Brokers, redis_client: Redis, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("outbox-backlog")
    outbox = fresh_outbox()
    keys = [f"item-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    written = [
        await append(redis_client, outbox, topic, keys[i % 3], i, typed=i % 2 == 0)
        for i in range(30)
    ]
    assert await redis_client.xlen(outbox.stream) == 30

    async with KafkaTap(brokers.kafka_bootstrap_servers, topic) as tap:
        async with relaying(redis_client, producer, outbox) as relay:
            await tap.wait_for(anything, count=30)
            await drained(redis_client, outbox)
        records = await tap.read_to_end()

    assert len(records) == 30
    assert relay.published == 30
    assert {cloud_event(r)["id"] for r in records} == {w.event_id for w in written}
    typed = {w.event_id for w in written if w.seq % 2 == 0}
    for record in records:
        headers = list(record.headers)
        assert CONTENT_TYPE in headers
        named_type = ("sb-type", b"test.happened") in headers
        assert named_type == (cloud_event(record)["id"] in typed)
    partitions = sorted(await producer.partitions_for(topic))
    for key in keys:
        mine = sorted((r for r in records if r.key == key.encode()), key=lambda r: r.offset)
        # the partition any Kafka client's default partitioner picks for this key
        assert {r.partition for r in mine} == {
            DefaultPartitioner()(key.encode(), partitions, partitions)
        }
        assert [r.value for r in mine] == [w.value for w in written if w.key == key]


async def test_two_relays_on_one_stream_publish_every_entry_once(
    brokers: Brokers, redis_client: Redis, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("outbox-pair")
    outbox = fresh_outbox()
    key = f"item-{uuid.uuid4().hex[:8]}"
    written = [await append(redis_client, outbox, topic, key, i) for i in range(10)]

    async with KafkaTap(brokers.kafka_bootstrap_servers, topic) as tap:
        async with (
            relaying(redis_client, producer, outbox) as first,
            relaying(redis_client, producer, outbox) as second,
        ):
            written += [await append(redis_client, outbox, topic, key, i) for i in range(10, 20)]
            await tap.wait_for(anything, count=20)
            await eventually(lambda: first.published + second.published == 20)
            holder = await redis_client.get(outbox.lease)
        records = await tap.read_to_end()
    await drained(redis_client, outbox)

    assert [r.value for r in records] == [w.value for w in written]
    assert sorted([first.published, second.published]) == [0, 20]
    assert isinstance(holder, bytes)
    assert holder.decode().startswith(f"{SERVICE}-")


async def test_entries_survive_a_producer_that_cannot_publish(
    brokers: Brokers,
    settings: CommonSettings,
    redis_client: Redis,
    producer: AIOKafkaProducer,
    new_topic: NewTopic,
) -> None:
    topic = await new_topic("outbox-outage")
    outbox = fresh_outbox()
    key = f"item-{uuid.uuid4().hex[:8]}"
    written = [await append(redis_client, outbox, topic, key, i) for i in range(5)]
    broken = make_producer(settings, client_id="rt-broken")
    await broken.start()
    # knowing the topic (as a producer that has published does), it is refused at once;
    # not knowing it, Apache Kafka would have it wait for metadata that never comes
    await broken.partitions_for(topic)
    await broken.stop()  # a real producer that no longer reaches Kafka

    async with KafkaTap(brokers.kafka_bootstrap_servers, topic) as tap:
        with capture_logs() as logs:
            async with relaying(redis_client, broken, outbox) as stuck:

                def failures() -> list[str]:
                    return [e["error"] for e in logs if e["event"] == "outbox_publish_failed"]

                await eventually(lambda: len(failures()) >= 2)
                assert await redis_client.xlen(outbox.stream) == 5
        assert stuck.published == 0
        assert "ProducerClosed" in failures()[0]
        assert await redis_client.xlen(outbox.stream) == 5
        assert await tap.read_to_end() == []

        async with relaying(redis_client, producer, outbox) as healthy:
            await tap.wait_for(anything, count=5)
            await drained(redis_client, outbox)
        records = await tap.read_to_end()

    assert healthy.published == 5
    assert [r.value for r in records] == [w.value for w in written]


async def test_a_stopped_relay_hands_the_lease_over_without_waiting_for_its_ttl(
    brokers: Brokers, redis_client: Redis, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("outbox-handover")
    outbox = fresh_outbox()
    key = f"item-{uuid.uuid4().hex[:8]}"
    loop = asyncio.get_running_loop()

    async with KafkaTap(brokers.kafka_bootstrap_servers, topic) as tap:
        async with relaying(redis_client, producer, outbox, lease_ms=60_000):
            first = await append(redis_client, outbox, topic, key, 0)
            await tap.wait_for(has_id(first.event_id))
            assert await redis_client.pttl(outbox.lease) > 30_000  # held for a minute
        assert await redis_client.get(outbox.lease) is None

        started = loop.time()
        async with relaying(redis_client, producer, outbox, lease_ms=60_000) as successor:
            second = await append(redis_client, outbox, topic, key, 1)
            await tap.wait_for(has_id(second.event_id), timeout=20)
            took = loop.time() - started
            await drained(redis_client, outbox)

    assert took < 10, f"the successor waited {took:.1f} s for a lease that was released"
    assert successor.published == 1


async def test_a_standby_relay_takes_over_soon_after_the_holder_stops(
    brokers: Brokers, redis_client: Redis, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    """A standby retries every lease_ms/3: 3 s here, against a 9 s lease it would outwait."""
    topic = await new_topic("outbox-standby")
    outbox = fresh_outbox()
    key = f"item-{uuid.uuid4().hex[:8]}"
    loop = asyncio.get_running_loop()

    async with (
        KafkaTap(brokers.kafka_bootstrap_servers, topic) as tap,
        contextlib.AsyncExitStack() as holding,
    ):
        holder = await holding.enter_async_context(
            relaying(redis_client, producer, outbox, lease_ms=9_000)
        )
        first = await append(redis_client, outbox, topic, key, 0)
        await tap.wait_for(has_id(first.event_id))
        async with relaying(redis_client, producer, outbox, lease_ms=9_000) as standby:
            await holding.aclose()  # the holder stops (e.g. a rolling restart)
            stopped = loop.time()
            second = await append(redis_client, outbox, topic, key, 1)
            await tap.wait_for(has_id(second.event_id), timeout=20)
            took = loop.time() - stopped

    assert holder.published == 1
    assert standby.published == 1
    assert took < 6, f"the standby took {took:.1f} s to take over a released lease"
