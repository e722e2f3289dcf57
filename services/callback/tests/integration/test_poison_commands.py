"""A callback command with a date that overflows when converted to UTC is dead-lettered,
and costs nothing else: the valid request right behind it on the same partition is applied.

Issue 9: before d11cc26 the OverflowError escaped validation; the service logged it and
went on, so the command was skipped without ever reaching the dead-letter topic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.testing import KafkaTap, eventually
from switchboard_schemas.topics import CALLBACK_COMMANDS, dlq_topic

from .conftest import RunningCallback, command, encode

pytestmark = pytest.mark.integration

DLQ = dlq_topic(CALLBACK_COMMANDS)
END_OF_TIME = "9999-12-31T23:59:59-01:00"  # 10000-01-01T00:59:59Z: no datetime holds it
START_OF_TIME = "0001-01-01T00:00:00+01:00"  # 0000-12-31T23:00:00Z: nor this one


def from_key(key: bytes) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        return bool(record.key == key)

    return match


@pytest.mark.parametrize(
    ("poison", "error", "field"),
    [
        ({"time": END_OF_TIME}, "not_cloudevent", "time"),
        ({"time": START_OF_TIME}, "not_cloudevent", "time"),
        ({"data": {"scheduled_at": END_OF_TIME}}, "schema_violation", "data.scheduled_at"),
    ],
    ids=["time-9999", "time-0001", "scheduled_at-9999"],
)
async def test_a_command_past_the_calendar_is_dead_lettered_and_the_next_one_applied(
    service: RunningCallback,
    phone: str,
    queue: str,
    poison: dict[str, Any],
    error: str,
    field: str,
) -> None:
    tag = uuid.uuid4().hex[:10]
    poison_id, valid_id = f"poison-{tag}", f"good-{tag}"
    data = {"customer_phone": phone, "queue": queue}
    attrs = {name: value for name, value in poison.items() if name != "data"}
    bad = {**data, "callback_id": poison_id, **poison.get("data", {})}
    value = encode(command("callback.request", bad, **attrs))
    valid = encode(command("callback.request", {**data, "callback_id": valid_id}))
    async with KafkaTap(service.settings.kafka_bootstrap_servers, DLQ) as dlq:
        sent = await service.producer.send_and_wait(CALLBACK_COMMANDS, value, key=phone.encode())
        await service.producer.send_and_wait(CALLBACK_COMMANDS, valid, key=phone.encode())

        async def valid_applied() -> bool:  # the phone is the key: one partition, in order
            return (await service.http.get(f"/v1/callbacks/{valid_id}")).status_code == 200

        await eventually(valid_applied, timeout=15)
        [dead] = await dlq.wait_for(from_key(phone.encode()))

    headers = {name: header.decode() for name, header in dead.headers}
    assert dead.value == value
    assert headers["sb-error"] == error
    assert headers["sb-error-detail"].startswith(f"{field}: must lie between")
    assert headers["sb-source-topic"] == CALLBACK_COMMANDS
    assert headers["sb-source-partition"] == str(sent.partition)
    assert headers["sb-source-offset"] == str(sent.offset)
    assert headers["sb-service"] == "callback"
    assert (await service.http.get(f"/v1/callbacks/{poison_id}")).status_code == 404
