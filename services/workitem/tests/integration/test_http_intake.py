"""HTTP intake through the real broker and Redis: POST → record → workitem.created."""

from __future__ import annotations

import uuid

import pytest
from switchboard_devtools.testing import KafkaTap, Match, cloud_event, of_type
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration

TASK = {
    "type": "task",
    "sub_type": "address_change",
    "channel": "form",
    "priority": 3,
    "description": "Customer moved; update the billing address.",
    "due_at": "2026-12-01T10:00:00+01:00",
}


def created_for(work_item_id: str) -> Match:
    return of_type("workitem.created", work_item_id)


async def test_http_create_emits_workitem_created_as_cloudevent(
    workitem: RunningWorkItem,
) -> None:
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        response = await workitem.http.post(
            "/v1/workitems", json=TASK, headers={"X-Correlation-Id": "corr-http-1"}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        work_item_id = body["work_item_id"]
        assert body["status"] == "created"
        assert body["priority"] == 3
        assert body["due_at"] == "2026-12-01T09:00:00Z"

        [record] = await tap.wait_for(created_for(work_item_id))

    event = cloud_event(record)
    assert record.key == work_item_id.encode()
    assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
    assert event["specversion"] == "1.0"
    assert event["source"] == "switchboard/workitem"
    assert event["tenantid"] == "default"
    assert event["correlationid"] == "corr-http-1"
    assert event["time"].endswith("Z")
    assert event["id"] == body["history"][0]["event_id"]
    assert event["data"]["work_item_id"] == work_item_id
    assert event["data"]["sub_type"] == "address_change"
    assert event["data"]["channel"] == "form"


async def test_get_returns_the_record_and_404_for_unknown(workitem: RunningWorkItem) -> None:
    created = (await workitem.http.post("/v1/workitems", json=TASK)).json()

    fetched = await workitem.http.get(f"/v1/workitems/{created['work_item_id']}")
    missing = await workitem.http.get(f"/v1/workitems/{uuid.uuid4()}")

    assert fetched.status_code == 200
    assert fetched.json() == created
    assert [h["status"] for h in fetched.json()["history"]] == ["created"]
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({"type": "task", "priority": 4}, {"priority"}),
        ({"type": "fax"}, {"type"}),
        ({"type": "task", "channel": "pigeon", "priority": 9}, {"channel", "priority"}),
        ({"type": "callback"}, {"type"}),
        ({"type": "callback", "customer_phone": "call me"}, {"type"}),
        ({"type": "task", "colour": "red"}, {"colour"}),
        ({"type": "task", "due_at": "2026-12-01T10:00:00"}, {"due_at"}),
    ],
)
async def test_invalid_body_is_422_naming_each_bad_field(
    workitem: RunningWorkItem, body: dict[str, object], bad_fields: set[str]
) -> None:
    response = await workitem.http.post("/v1/workitems", json=body)

    assert response.status_code == 422
    named = {tuple(error["loc"])[1] for error in response.json()["detail"]}
    assert named == bad_fields


async def test_body_that_is_not_json_is_422(workitem: RunningWorkItem) -> None:
    response = await workitem.http.post(
        "/v1/workitems", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422


async def test_oversized_body_is_413(workitem: RunningWorkItem) -> None:
    big = {**TASK, "attributes": {f"k{i}": "x" * 500 for i in range(60)}}

    response = await workitem.http.post("/v1/workitems", json=big)

    assert response.status_code == 413


async def test_idempotency_key_returns_the_same_item_and_emits_once(
    workitem: RunningWorkItem,
) -> None:
    key = f"idem-{uuid.uuid4()}"
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        first = await workitem.http.post(
            "/v1/workitems", json=TASK, headers={"Idempotency-Key": key}
        )
        retry = await workitem.http.post(
            "/v1/workitems", json=TASK, headers={"Idempotency-Key": key}
        )
        # A later item's event proves the relay got past anything the retry could have queued.
        marker = (await workitem.http.post("/v1/workitems", json=TASK)).json()["work_item_id"]
        await tap.wait_for(created_for(marker))
        records = await tap.read_to_end()

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    same = [r for r in records if created_for(first.json()["work_item_id"])(r)]
    assert len(same) == 1


async def test_idempotency_key_reused_for_another_body_is_409(workitem: RunningWorkItem) -> None:
    key = f"idem-{uuid.uuid4()}"
    first = await workitem.http.post("/v1/workitems", json=TASK, headers={"Idempotency-Key": key})
    other = await workitem.http.post(
        "/v1/workitems", json={**TASK, "priority": 1}, headers={"Idempotency-Key": key}
    )

    assert first.status_code == 201
    assert other.status_code == 409
    assert first.json()["work_item_id"] in other.json()["detail"]
