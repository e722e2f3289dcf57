"""Building blocks shared by the benchmark processes."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from switchboard_runtime.kafka_metadata import topic_partitions


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def created_event(tenant: str, wid: str, queue: str, priority: int = 5) -> bytes:
    """``workitem.created`` as the work item service publishes it."""
    data = {
        "work_item_id": wid,
        "type": "task",
        "priority": priority,
        "channel": "api",
        "queue": queue,
        "skills": [],
        "created_at": now_iso(),
        "outbound": False,
    }
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "switchboard/workitem",
            "type": "workitem.created",
            "time": now_iso(),
            "subject": wid,
            "tenantid": tenant,
            "data": data,
        }
    ).encode()


def agent_event(tenant: str, ce_type: str, data: dict[str, Any]) -> bytes:
    """An agent command as the desktop sends it."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "bench/desktop",
            "type": ce_type,
            "time": now_iso(),
            "tenantid": tenant,
            "data": data,
        }
    ).encode()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def parse_ms(text: str) -> float:
    """Epoch milliseconds of an RFC 3339 time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def wall_ms() -> float:
    return time.time() * 1000


async def producer(bootstrap: str) -> AIOKafkaProducer:
    p = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=2, max_batch_size=512 * 1024, acks=1
    )
    await p.start()
    return p


async def tail_consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer assigned to every partition of ``topic``, positioned at its end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=5,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    partitions = (await topic_partitions(bootstrap, [topic])).get(topic, [])
    assigned = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(assigned)
    await consumer.seek_to_end(*assigned)
    for tp in assigned:
        await consumer.position(tp)
    return consumer
