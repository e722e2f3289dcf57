"""Baselines on the same broker: a plain forwarder, and one produce -> consume hop."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from switchboard_runtime.kafka_metadata import topic_partitions

from bench.common import percentile, producer, tail_consumer, wall_ms
from bench.procs import _run


async def _fill(bootstrap: str, topic: str, n: int) -> None:
    kafka = await producer(bootstrap)
    payload = b"x" * 400  # about the size of a workitem.created event
    try:
        futures = [await kafka.send(topic, payload, key=str(i).encode()) for i in range(n)]
        await asyncio.gather(*futures)
    finally:
        await kafka.stop()


async def _forward(bootstrap: str, source: str, target: str, n: int) -> float:
    """Consume ``n`` records from ``source`` and produce them to ``target``; msgs/s."""
    await _fill(bootstrap, source, n)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    kafka = await producer(bootstrap)
    try:
        known = await topic_partitions(bootstrap, [source])
        parts = [TopicPartition(source, p) for p in known.get(source, [])]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        forwarded, start = 0, time.perf_counter()
        while forwarded < n:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            futures = [
                await kafka.send(target, r.value, key=r.key)
                for records in batches.values()
                for r in records
            ]
            await asyncio.gather(*futures)
            forwarded += len(futures)
        return forwarded / (time.perf_counter() - start)
    finally:
        await kafka.stop()
        await consumer.stop()


def forward(bootstrap: str, source: str, target: str, n: int, out: Any) -> None:
    _run(_forward(bootstrap, source, target, n), out)


async def _hop(bootstrap: str, topic: str, n: int, rate: float) -> dict[str, float]:
    consumer = await tail_consumer(bootstrap, topic)
    kafka = await producer(bootstrap)
    latencies: list[float] = []

    async def send() -> None:
        start = time.perf_counter()
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await kafka.send(topic, json.dumps({"sent": wall_ms()}).encode(), key=str(i).encode())

    sender = asyncio.create_task(send())
    try:
        deadline = time.monotonic() + n / rate + 30
        while len(latencies) < n and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=50)
            received = wall_ms()
            latencies += [
                received - json.loads(r.value)["sent"]
                for records in batches.values()
                for r in records
            ]
        await sender
    finally:
        await kafka.stop()
        await consumer.stop()
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def hop(bootstrap: str, topic: str, n: int, rate: float, out: Any) -> None:
    _run(_hop(bootstrap, topic, n, rate), out)
