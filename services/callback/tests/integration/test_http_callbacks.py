"""POST / GET / DELETE /v1/callbacks through the real brokers: validation, items, time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_devtools.testing import KafkaTap, cloud_event, eventually, of_type
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import RunningCallback

pytestmark = pytest.mark.integration


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tap(service: RunningCallback) -> KafkaTap:
    return KafkaTap(service.settings.kafka_bootstrap_servers, WORKITEM_EVENTS)


async def post(service: RunningCallback, **body: Any) -> dict[str, Any]:
    response = await service.http.post("/v1/callbacks", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bad_fields(response: Any) -> list[tuple[str, ...]]:
    return [tuple(error["loc"]) for error in response.json()["detail"]]


async def test_a_missing_or_invalid_phone_is_a_422_naming_customer_phone(
    service: RunningCallback,
) -> None:
    missing = await service.http.post("/v1/callbacks", json={"reason": "no number"})
    letters = await service.http.post("/v1/callbacks", json={"customer_phone": "call me"})

    assert missing.status_code == letters.status_code == 422
    assert bad_fields(missing) == [("body", "customer_phone")]
    assert bad_fields(letters) == [("body", "customer_phone")]


async def test_times_in_the_past_are_422_naming_the_field(
    service: RunningCallback, phone: str
) -> None:
    past = await service.http.post(
        "/v1/callbacks", json={"customer_phone": phone, "scheduled_at": iso(later(-60))}
    )
    window = await service.http.post(
        "/v1/callbacks", json={"customer_phone": phone, "window_end": iso(later(-1))}
    )
    order = await service.http.post(
        "/v1/callbacks",
        json={
            "customer_phone": phone,
            "scheduled_at": iso(later(600)),
            "window_end": iso(later(300)),
        },
    )

    assert [r.status_code for r in (past, window, order)] == [422, 422, 422]
    assert bad_fields(past) == [("body", "scheduled_at")]
    assert bad_fields(window) == [("body", "window_end")]
    assert bad_fields(order) == [("body", "window_end")]


async def test_an_asap_callback_becomes_an_outbound_work_item_at_once(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        body = await post(
            service,
            customer_phone=phone,
            customer_name="Ada Lovelace",
            reason="Billing question",
            priority=2,
            queue=queue,
        )
        cid = body["callback_id"]
        [scheduled] = await events.wait_for(of_type("callback.scheduled", cid))
        [created] = await events.wait_for(of_type("workitem.created", f"{cid}-1"))

    assert body["status"] == "waiting"
    assert body["attempts"][0]["work_item_id"] == f"{cid}-1"
    assert scheduled.key == cid.encode()
    assert created.key == f"{cid}-1".encode()
    event = cloud_event(created)
    assert event["source"] == "switchboard/callback"
    item = event["data"]
    assert item["type"] == "callback"
    assert item["outbound"] is True
    assert item["channel"] == "phone"
    assert (item["priority"], item["queue"]) == (2, queue)
    assert (item["customer_phone"], item["customer_name"]) == (phone, "Ada Lovelace")
    assert item["reason"] == "Billing question"
    assert item["attributes"] == {"callback_id": cid, "attempt": "1", "source": "callback"}


async def test_a_scheduled_callback_is_queued_at_its_time_not_before(
    service: RunningCallback, phone: str, queue: str
) -> None:
    at = later(2)
    async with tap(service) as events:
        body = await post(service, customer_phone=phone, queue=queue, scheduled_at=iso(at))
        cid = body["callback_id"]
        assert body["status"] == "scheduled"
        [created] = await events.wait_for(of_type("workitem.created", f"{cid}-1"))

    created_at = parse(cloud_event(created)["data"]["created_at"])
    assert created.timestamp >= int(at.timestamp() * 1000)  # published no earlier than that
    assert timedelta(0) <= created_at - at < timedelta(seconds=0.5)
    assert await service.status_of(cid) == "waiting"


async def test_a_callback_not_dialed_by_window_end_is_missed_and_its_item_cancelled(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        body = await post(service, customer_phone=phone, queue=queue, window_end=iso(later(1.5)))
        cid = body["callback_id"]
        [missed] = await events.wait_for(of_type("callback.missed", cid))
        [cancel] = await events.wait_for(of_type("workitem.cancel_requested", f"{cid}-1"))

    assert cloud_event(missed)["data"]["reason"] == "window_end_passed"
    assert cloud_event(cancel)["data"]["work_item_id"] == f"{cid}-1"
    record = (await service.http.get(f"/v1/callbacks/{cid}")).json()
    assert (record["status"], record["close_reason"]) == ("missed", "window_end_passed")


async def test_a_window_shortened_by_a_merge_misses_a_scheduled_callback_without_an_item(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        body = await post(service, customer_phone=phone, queue=queue, scheduled_at=iso(later(60)))
        cid = body["callback_id"]
        merged = await service.http.post(
            "/v1/callbacks",
            json={"customer_phone": phone, "queue": queue, "window_end": iso(later(0.5))},
        )
        assert merged.status_code == 200
        await events.wait_for(of_type("callback.missed", cid))
        records = await events.read_to_end()

    assert not [r for r in records if of_type("workitem.created", f"{cid}-1")(r)]
    assert await service.status_of(cid) == "missed"


async def test_a_second_request_for_the_same_number_merges_into_the_open_callback(
    service: RunningCallback, phone: str, queue: str
) -> None:
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"  # same number, US national format
    async with tap(service) as events:
        first = await post(service, customer_phone=phone, queue=queue, reason="first")
        cid = first["callback_id"]
        second = await service.http.post(
            "/v1/callbacks", json={"customer_phone": national, "queue": queue, "reason": "again"}
        )
        await events.wait_for(of_type("workitem.created", f"{cid}-1"))
        other_queue = await post(service, customer_phone=phone, queue=f"{queue}-b")
        records = await events.read_to_end()

    assert second.status_code == 200
    assert second.headers["Callback-Merged"] == "true"
    assert second.json()["callback_id"] == cid
    assert second.json()["reason"] == "again"
    assert (await service.http.get(f"/v1/callbacks/{cid}")).json()["reason"] == "again"
    created = [r for r in records if cloud_event(r).get("type") == "workitem.created"]
    mine = [r for r in created if cloud_event(r)["data"]["attributes"]["callback_id"] == cid]
    assert len(mine) == 1
    assert other_queue["callback_id"] != cid  # another queue: another callback


async def test_an_idempotency_key_replays_the_first_answer(
    service: RunningCallback, phone: str, queue: str
) -> None:
    headers = {"Idempotency-Key": f"k-{phone}"}
    body = {"customer_phone": phone, "queue": queue}
    first = await service.http.post("/v1/callbacks", json=body, headers=headers)
    again = await service.http.post("/v1/callbacks", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["callback_id"] == first.json()["callback_id"]


async def test_delete_of_a_scheduled_callback_cancels_it_without_an_item(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        body = await post(service, customer_phone=phone, queue=queue, scheduled_at=iso(later(1)))
        cid = body["callback_id"]
        deleted = await service.http.delete(f"/v1/callbacks/{cid}", params={"reason": "resolved"})
        [cancelled] = await events.wait_for(of_type("callback.cancelled", cid))
        again = await service.http.delete(f"/v1/callbacks/{cid}")
        unknown = await service.http.delete("/v1/callbacks/no-such-callback")
        other = await post(service, customer_phone=phone, queue=queue, scheduled_at=iso(later(1)))
        await events.wait_for(of_type("workitem.created", f"{other['callback_id']}-1"))
        records = await events.read_to_end()

    assert deleted.status_code == 200
    assert deleted.json()["status"] == "cancelled"
    assert cloud_event(cancelled)["data"]["reason"] == "resolved"
    assert (again.status_code, unknown.status_code) == (409, 404)
    assert (await service.http.get("/v1/callbacks/no-such-callback")).status_code == 404
    assert other["callback_id"] != cid  # the number is free again once closed
    assert not [r for r in records if of_type("workitem.created", f"{cid}-1")(r)]


@pytest.mark.parametrize("dialed", [False, True], ids=["waiting", "in_progress"])
async def test_delete_of_a_callback_with_a_live_item_asks_to_cancel_the_item(
    service: RunningCallback, phone: str, queue: str, dialed: bool
) -> None:
    async with tap(service) as events:
        cid = (await post(service, customer_phone=phone, queue=queue))["callback_id"]
        wid = f"{cid}-1"
        if dialed:
            await service.dialed(wid)
            await eventually(lambda: _status_is(service, cid, "in_progress"))
        deleted = await service.http.delete(f"/v1/callbacks/{cid}")
        [request] = await events.wait_for(of_type("workitem.cancel_requested", wid))
        await events.wait_for(of_type("callback.cancelled", cid))
        await service.router_event("workitem.cancelled", {"work_item_id": wid})

        async def attempt_ended() -> bool:
            record = (await service.http.get(f"/v1/callbacks/{cid}")).json()
            return "ended_at" in record["attempts"][0]

        await eventually(attempt_ended)

    assert deleted.json()["status"] == "cancelled"
    assert request.key == wid.encode()
    assert cloud_event(request)["data"]["reason"] == "callback_cancelled"
    record = (await service.http.get(f"/v1/callbacks/{cid}")).json()
    assert record["status"] == "cancelled"
    assert record["attempts"][0]["result"] == "cancelled"


async def _status_is(service: RunningCallback, cid: str, status: str) -> bool:
    return await service.status_of(cid) == status
