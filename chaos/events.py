"""Reading what the system wrote: every topic from the beginning, and the consumer lag.

A reader assigns itself every partition (listed with ``topic_partitions``: a consumer
that has not subscribed learns no topics on Apache Kafka), reads from offset 0 to the
end offsets taken when it started, and keeps each record with where it was.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from switchboard_runtime.kafka_metadata import topic_partitions
from switchboard_schemas.topics import ALL_TOPICS


@dataclass(frozen=True)
class Rec:
    """One Kafka record: where it was, its key, headers and (when it parses) CloudEvent."""

    topic: str
    partition: int
    offset: int
    key: str
    headers: dict[str, str]
    event: dict[str, Any] | None
    raw: bytes

    @property
    def tenant(self) -> str | None:
        return None if self.event is None else self.event.get("tenantid")

    @property
    def type(self) -> str:
        return "" if self.event is None else str(self.event.get("type", ""))

    @property
    def data(self) -> dict[str, Any]:
        data = {} if self.event is None else self.event.get("data")
        return data if isinstance(data, dict) else {}


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or b"")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _rec(record: Any) -> Rec:
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    key = (record.key or b"").decode(errors="replace")
    raw = record.value or b""
    return Rec(record.topic, record.partition, record.offset, key, headers, _parse(raw), raw)


async def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    return consumer


async def read_all(
    bootstrap: str, topics: tuple[str, ...] = ALL_TOPICS, timeout_s: float = 120.0
) -> list[Rec]:
    """Every record of ``topics`` from offset 0 up to the end offsets of now."""
    known = await topic_partitions(bootstrap, topics)
    parts = [TopicPartition(t, p) for t, ids in known.items() for p in ids]
    consumer = await _consumer(bootstrap)
    try:
        ends = await consumer.end_offsets(parts)
        todo = {tp for tp in parts if ends[tp] > 0}
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, 0)
        return await _drain(consumer, ends, todo, timeout_s)
    finally:
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer,
    ends: dict[TopicPartition, int],
    todo: set[TopicPartition],
    timeout_s: float,
) -> list[Rec]:
    out: list[Rec] = []
    deadline = time.monotonic() + timeout_s
    while todo:
        if time.monotonic() > deadline:
            raise TimeoutError(f"still reading {sorted(map(str, todo))[:4]}")
        batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
        for tp, records in batches.items():
            out += [_rec(r) for r in records if r.offset < ends[tp]]
        for tp in list(todo):
            if await consumer.position(tp) >= ends[tp]:
                todo.discard(tp)
    return out


async def group_lag(bootstrap: str, group: str, topics: tuple[str, ...]) -> dict[str, int]:
    """Per ``topic:partition``, records ``group`` has not committed (0s left out)."""
    known = await topic_partitions(bootstrap, topics)
    parts = [TopicPartition(t, p) for t, ids in known.items() for p in ids]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(parts)
        lag = {}
        for tp in parts:
            behind = ends[tp] - (await consumer.committed(tp) or 0)
            if behind > 0:
                lag[f"{tp.topic}:{tp.partition}"] = behind
        return lag
    finally:
        await consumer.stop()


async def start_at_end(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> None:
    """Commit each new group's offsets at its topics' ends: a scenario's tenant is new,
    so nothing before now is its own, and its services need not read the earlier
    scenarios' records first (by the last scenario, half a minute of start-up)."""
    for group, topics in groups.items():
        known = await topic_partitions(bootstrap, topics)
        parts = [TopicPartition(t, p) for t, ids in known.items() for p in ids]
        if not parts:
            continue
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(parts)
            ends = await consumer.end_offsets(parts)
            await consumer.commit({tp: ends[tp] for tp in parts})
        finally:
            await consumer.stop()


async def wait_drained(
    bootstrap: str, groups: dict[str, tuple[str, ...]], timeout_s: float
) -> dict[str, dict[str, int]]:
    """Wait until every group has committed up to the end; returns what is still behind."""
    deadline = time.monotonic() + timeout_s
    while True:
        behind = {g: await group_lag(bootstrap, g, t) for g, t in groups.items()}
        behind = {g: lag for g, lag in behind.items() if lag}
        if not behind or time.monotonic() > deadline:
            return behind
        await asyncio.sleep(1.0)  # polling interval of the wait above
