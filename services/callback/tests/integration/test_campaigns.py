"""Progressive-dial campaigns: contact uploads (CSV and JSON) and campaign counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from switchboard_devtools.testing import KafkaTap, cloud_event, eventually

from .conftest import RunningCallback, new_phone

pytestmark = pytest.mark.integration

CSV = {"content-type": "text/csv"}


def campaign() -> str:
    return f"camp-{uuid.uuid4().hex[:10]}"


def created_for(campaign_id: str) -> Any:
    def match(record: Any) -> bool:
        event = cloud_event(record)
        attributes = (event.get("data") or {}).get("attributes") or {}
        return event.get("type") == "workitem.created" and (
            attributes.get("campaign_id") == campaign_id
        )

    return match


async def counts(service: RunningCallback, campaign_id: str) -> dict[str, Any]:
    response = await service.http.get(f"/v1/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_csv_upload_loads_good_rows_and_reports_bad_ones(
    service: RunningCallback, queue: str
) -> None:
    cid = campaign()
    ada, grace = new_phone(), new_phone()
    national = f"({grace[2:5]}) {grace[5:8]}-{grace[8:]}"
    body = (
        "customer_phone,customer_name,reason,priority\n"
        f"{ada},Ada,Renewal,3\n"
        "call me,Bob,,\n"
        ",Nobody,No number,\n"
        f"{national},Grace,,\n"
        f"{new_phone()},Eve,,4\n"
    )
    async with KafkaTap(service.settings.kafka_bootstrap_servers, "workitem.events") as events:
        response = await service.http.post(
            f"/v1/campaigns/{cid}/contacts", params={"queue": queue}, content=body, headers=CSV
        )
        created = await events.wait_for(created_for(cid), count=2)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["campaign_id"], answer["queue"]) == (cid, queue)
    assert (answer["loaded"], answer["merged"]) == (2, 0)
    assert [r["row"] for r in answer["rejected"]] == [2, 3, 5]
    assert "customer_phone" in answer["rejected"][0]["errors"][0]
    assert "customer_phone" in answer["rejected"][1]["errors"][0]
    assert "priority" in answer["rejected"][2]["errors"][0]
    items = {cloud_event(r)["data"]["customer_phone"]: cloud_event(r)["data"] for r in created}
    assert set(items) == {ada, grace}
    assert items[ada]["priority"] == 3
    assert items[ada]["queue"] == queue
    assert items[ada]["attributes"]["source"] == "progressive_dial"
    assert items[ada]["attributes"]["campaign_id"] == cid
    found = await counts(service, cid)
    assert found["counts"]["waiting"] == 2
    assert (found["total"], found["open"], found["loaded"], found["rejected"]) == (2, 2, 2, 3)


async def test_campaign_counts_follow_the_callbacks(service: RunningCallback, queue: str) -> None:
    cid = campaign()
    phones = [new_phone() for _ in range(3)]
    contacts = [{"customer_phone": p, "customer_name": f"c{i}"} for i, p in enumerate(phones)]
    async with KafkaTap(service.settings.kafka_bootstrap_servers, "workitem.events") as events:
        response = await service.http.post(
            f"/v1/campaigns/{cid}/contacts", params={"queue": queue}, json=contacts
        )
        created = await events.wait_for(created_for(cid), count=3)
    callback_of = {
        cloud_event(r)["data"]["customer_phone"]: cloud_event(r)["data"]["attributes"][
            "callback_id"
        ]
        for r in created
    }
    again = await service.http.post(
        f"/v1/campaigns/{cid}/contacts", params={"queue": queue}, json=contacts[:1]
    )

    await service.dialed(f"{callback_of[phones[0]]}-1")
    await service.http.delete(f"/v1/callbacks/{callback_of[phones[1]]}")

    async def settled() -> dict[str, Any] | None:
        found = await counts(service, cid)
        return found if found["counts"]["in_progress"] == 1 else None

    found = await eventually(settled)
    assert response.json()["loaded"] == 3
    assert (again.json()["loaded"], again.json()["merged"]) == (0, 1)
    assert found["counts"] == {
        "scheduled": 0,
        "waiting": 1,
        "in_progress": 1,
        "completed": 0,
        "failed": 0,
        "missed": 0,
        "cancelled": 1,
    }
    assert (found["total"], found["open"], found["merged"]) == (3, 2, 1)


async def test_bad_uploads_are_refused_as_a_whole(service: RunningCallback) -> None:
    cid = campaign()
    no_phone_column = await service.http.post(
        f"/v1/campaigns/{cid}/contacts", content="name\nAda\n", headers=CSV
    )
    not_a_list = await service.http.post(f"/v1/campaigns/{cid}/contacts", json={"a": 1})
    wrong_type = await service.http.post(
        f"/v1/campaigns/{cid}/contacts", content="x", headers={"content-type": "text/plain"}
    )
    unknown = await service.http.get(f"/v1/campaigns/{campaign()}")

    assert (no_phone_column.status_code, not_a_list.status_code) == (422, 422)
    assert wrong_type.status_code == 415
    assert unknown.status_code == 404
