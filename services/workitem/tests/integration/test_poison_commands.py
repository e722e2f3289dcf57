"""A command with a date that overflows when converted to UTC is dead-lettered, and costs
nothing else: the valid command right behind it on the same partition is applied.

Issue 9: before d11cc26 the OverflowError escaped validation; the service logged it and
went on, so the command was skipped without ever reaching the dead-letter topic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.testing import KafkaTap, of_type
from switchboard_schemas.topics import WORKITEM_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningWorkItem, command, encode

pytestmark = pytest.mark.integration

DLQ = dlq_topic(WORKITEM_COMMANDS)
END_OF_TIME = "9999-12-31T23:59:59-01:00"  # 10000-01-01T00:59:59Z: no datetime holds it
START_OF_TIME = "0001-01-01T00:00:00+01:00"  # 0000-12-31T23:00:00Z: nor this one


def create(work_item_id: str, **attrs: Any) -> bytes:
    data = {"work_item_id": work_item_id, "type": "task", "description": "from upstream"}
    return encode(command("workitem.create", data | attrs.pop("data", {}), **attrs))


def from_key(key: bytes) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        return bool(record.key == key)

    return match


@pytest.mark.parametrize(
    ("poison", "error", "field"),
    [
        ({"time": END_OF_TIME}, "not_cloudevent", "time"),
        ({"time": START_OF_TIME}, "not_cloudevent", "time"),
        ({"data": {"due_at": END_OF_TIME}}, "schema_violation", "data.due_at"),
    ],
    ids=["time-9999", "time-0001", "due_at-9999"],
)
async def test_a_command_past_the_calendar_is_dead_lettered_and_the_next_one_applied(
    workitem: RunningWorkItem,
    producer: AIOKafkaProducer,
    poison: dict[str, Any],
    error: str,
    field: str,
) -> None:
    key = f"poison-{uuid.uuid4()}".encode()  # one key: one partition, in this order
    poison_id, valid_id = f"up-{uuid.uuid4()}", f"up-{uuid.uuid4()}"
    value = create(poison_id, **poison)
    bootstrap = workitem.settings.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, DLQ) as dlq, KafkaTap(bootstrap, WORKITEM_EVENTS) as events:
        sent = await producer.send_and_wait(WORKITEM_COMMANDS, value, key=key)
        await producer.send_and_wait(WORKITEM_COMMANDS, create(valid_id), key=key)
        await events.wait_for(of_type("workitem.created", valid_id))
        [dead] = await dlq.wait_for(from_key(key))

    headers = {name: header.decode() for name, header in dead.headers}
    assert dead.value == value
    assert headers["sb-error"] == error
    assert headers["sb-error-detail"].startswith(f"{field}: must lie between")
    assert headers["sb-source-topic"] == WORKITEM_COMMANDS
    assert headers["sb-source-partition"] == str(sent.partition)
    assert headers["sb-source-offset"] == str(sent.offset)
    assert (await workitem.http.get(f"/v1/workitems/{poison_id}")).status_code == 404
    assert (await workitem.http.get(f"/v1/workitems/{valid_id}")).status_code == 200
