"""Callbacks are created through the callbacks API: the work item intake refuses
``type: callback`` (HTTP 422, a dead-lettered command) and creates nothing, while the
callback service's own outbound items still show up."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import KafkaTap, eventually, of_type
from switchboard_schemas.topics import WORKITEM_COMMANDS, WORKITEM_EVENTS, dlq_topic

from .conftest import RunningWorkItem, callback_service_item, command, encode

pytestmark = pytest.mark.integration

DLQ = dlq_topic(WORKITEM_COMMANDS)
PHONE = "+14155552671"


def callback(work_item_id: str, **fields: object) -> dict[str, object]:
    return {"work_item_id": work_item_id, "type": "callback", "customer_phone": PHONE, **fields}


@pytest.mark.parametrize(
    "body",
    [
        callback("ignored", customer_name="Ada", reason="Invoice"),
        {"type": "callback"},  # no phone either: the type is what is wrong
        {"type": "callback", "description": "call her back"},
    ],
)
async def test_http_callback_is_422_on_type_pointing_at_the_callbacks_api(
    workitem: RunningWorkItem, body: dict[str, object]
) -> None:
    wid = f"cb-{uuid.uuid4()}"
    body = {**body, "work_item_id": wid}
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        response = await workitem.http.post("/v1/workitems", json=body)
        records = await tap.read_to_end()

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "type"]
    assert "POST /v1/callbacks" in error["msg"]
    assert (await workitem.http.get(f"/v1/workitems/{wid}")).status_code == 404
    assert [r for r in records if of_type("workitem.created", wid)(r)] == []


async def test_openapi_leaves_callback_out_of_the_create_body(workitem: RunningWorkItem) -> None:
    document = (await workitem.http.get("/openapi.json")).json()
    content = document["paths"]["/v1/workitems"]["post"]["requestBody"]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    item_type = body["properties"]["type"]
    assert "callback" not in item_type["enum"]
    assert {"task", "chat", "email"} <= set(item_type["enum"])
    assert "POST /v1/callbacks" in item_type["description"]


async def test_kafka_callback_create_is_dead_lettered_and_creates_nothing(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    wid, marker = f"cb-{uuid.uuid4()}", f"up-{uuid.uuid4()}"
    refused = encode(command("workitem.create", callback(wid)))
    bootstrap = workitem.settings.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, DLQ) as dlq, KafkaTap(bootstrap, WORKITEM_EVENTS) as events:
        await producer.send_and_wait(WORKITEM_COMMANDS, refused, key=wid.encode())
        after = command("workitem.create", {"work_item_id": marker, "type": "task"})
        await producer.send_and_wait(WORKITEM_COMMANDS, encode(after), key=wid.encode())
        await events.wait_for(of_type("workitem.created", marker))
        [dead] = await dlq.wait_for(lambda r: r.key == wid.encode())
        records = await events.read_to_end()

    headers = dict(dead.headers)
    detail = headers["sb-error-detail"].decode()
    assert dead.value == refused
    assert headers["sb-error"] == b"schema_violation"
    assert detail.startswith("data.type:")
    assert "POST /v1/callbacks" in detail
    assert [r for r in records if of_type("workitem.created", wid)(r)] == []
    assert (await workitem.http.get(f"/v1/workitems/{wid}")).status_code == 404


async def test_the_callback_services_outbound_items_are_still_recorded(
    workitem: RunningWorkItem, producer: AIOKafkaProducer
) -> None:
    wid = f"cb-{uuid.uuid4()}-1"
    await producer.send_and_wait(
        WORKITEM_EVENTS, encode(callback_service_item(wid)), key=wid.encode()
    )

    async def recorded() -> dict[str, Any] | None:
        response = await workitem.http.get(f"/v1/workitems/{wid}")
        return response.json() if response.status_code == 200 else None

    item = await eventually(recorded)
    assert item["type"] == "callback"
    assert item["outbound"] is True
    assert item["customer_phone"] == PHONE
