"""Dead-letter publishing: the original bytes, with headers saying what went wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from switchboard_schemas.topics import dlq_topic

ERROR_HEADER = "sb-error"
DETAIL_HEADER = "sb-error-detail"
SOURCE_TOPIC_HEADER = "sb-source-topic"
SOURCE_PARTITION_HEADER = "sb-source-partition"
SOURCE_OFFSET_HEADER = "sb-source-offset"
SERVICE_HEADER = "sb-service"
FAILED_AT_HEADER = "sb-failed-at"
MAX_DETAIL_BYTES = 2000


@dataclass(frozen=True)
class SourceRecord:
    """Where a consumed record came from, and its raw bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int | None = None  # Kafka's, epoch ms (CreateTime or LogAppendTime)


async def dead_letter(
    producer: AIOKafkaProducer, record: SourceRecord, *, error: str, detail: str, service: str
) -> None:
    """Publish ``record`` byte for byte to ``<topic>.dlq`` and wait for Kafka's ack."""
    headers = [
        *record.headers,
        (ERROR_HEADER, error.encode()),
        (DETAIL_HEADER, detail.encode()[:MAX_DETAIL_BYTES]),
        (SOURCE_TOPIC_HEADER, record.topic.encode()),
        (SOURCE_PARTITION_HEADER, str(record.partition).encode()),
        (SOURCE_OFFSET_HEADER, str(record.offset).encode()),
        (SERVICE_HEADER, service.encode()),
        (FAILED_AT_HEADER, datetime.now(UTC).isoformat().encode()),
    ]
    await producer.send_and_wait(
        dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
    )
