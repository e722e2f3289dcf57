"""Ids that could spell another Redis key are refused over HTTP and over Kafka, naming
the field (issue 9, part 2: item ``T-1:history`` once made item ``T-1`` unreadable)."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import KafkaTap, of_type
from switchboard_schemas.topics import WORKITEM_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningWorkItem, command, encode

pytestmark = pytest.mark.integration

FORBIDDEN = [":", "{", "}", " ", "\t", "\n", "\x00", "\x7f", "/"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=repr)
async def test_http_refuses_an_id_with_a_forbidden_character(
    workitem: RunningWorkItem, char: str
) -> None:
    base = f"T-{uuid.uuid4().hex[:8]}"
    response = await workitem.http.post(
        "/v1/workitems", json={"type": "task", "work_item_id": f"{base}{char}history"}
    )
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "work_item_id"]]
    plain = await workitem.http.post("/v1/workitems", json={"type": "task", "work_item_id": base})
    assert plain.status_code == 201
    assert (await workitem.http.get(f"/v1/workitems/{base}")).status_code == 200


async def test_kafka_dead_letters_an_id_with_each_forbidden_character(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    key = f"ids-{uuid.uuid4()}".encode()
    marker = f"ids-marker-{uuid.uuid4().hex[:8]}"
    bootstrap = workitem.settings.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, dlq_topic(WORKITEM_COMMANDS)) as dlq:
        async with KafkaTap(bootstrap, WORKITEM_EVENTS) as events:
            for char in FORBIDDEN:
                data = {"type": "task", "work_item_id": f"T-1{char}history"}
                await producer.send_and_wait(
                    WORKITEM_COMMANDS, encode(command("workitem.create", data)), key=key
                )
            created = command("workitem.create", {"type": "task", "work_item_id": marker})
            await producer.send_and_wait(WORKITEM_COMMANDS, encode(created), key=key)
            await events.wait_for(of_type("workitem.created", marker))
        dead = await dlq.wait_for(lambda r: r.key == key, count=len(FORBIDDEN))

    for record in dead:
        headers = dict(record.headers)
        assert headers["sb-error"] == b"schema_violation"
        assert headers["sb-error-detail"].startswith(b"data.work_item_id: String should match")


async def test_reading_an_id_that_spells_another_key_is_a_422(workitem: RunningWorkItem) -> None:
    base = f"T-{uuid.uuid4().hex[:8]}"
    assert (
        await workitem.http.post("/v1/workitems", json={"type": "task", "work_item_id": base})
    ).status_code == 201
    # {tag}:wi:<base>:history is the item's history list: reading it as a record failed (503)
    for path in [f"/v1/workitems/{base}:history", f"/v1/agents/{base}:items/inbox"]:
        response = await workitem.http.get(path)
        assert response.status_code == 422, path
    assert (await workitem.http.get(f"/v1/workitems/{base}")).status_code == 200
