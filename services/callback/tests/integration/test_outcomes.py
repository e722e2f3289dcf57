"""Dial outcomes and retries: the router is simulated with its lifecycle events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_devtools.testing import KafkaTap, cloud_event, eventually, of_type
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_EVENTS

from .conftest import MAX_ATTEMPTS, RETRY_DELAY_S, RunningCallback, command, encode

pytestmark = pytest.mark.integration


def tap(service: RunningCallback) -> KafkaTap:
    return KafkaTap(service.settings.kafka_bootstrap_servers, WORKITEM_EVENTS)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def asap(service: RunningCallback, phone: str, queue: str, **body: Any) -> str:
    response = await service.http.post(
        "/v1/callbacks", json={"customer_phone": phone, "queue": queue, **body}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["callback_id"])


async def record(service: RunningCallback, cid: str) -> dict[str, Any]:
    found: dict[str, Any] = (await service.http.get(f"/v1/callbacks/{cid}")).json()
    return found


async def test_no_answer_schedules_a_retry_and_a_connected_call_completes(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        cid = await asap(service, phone, queue)
        await events.wait_for(of_type("workitem.created", f"{cid}-1"))
        await service.dialed(f"{cid}-1", "agent-1")
        await service.completed(f"{cid}-1", "no_answer", "agent-1")
        [retry] = await events.wait_for(of_type("callback.retry_scheduled", cid))
        [second] = await events.wait_for(of_type("workitem.created", f"{cid}-2"))
        await service.dialed(f"{cid}-2", "agent-2")
        await service.completed(f"{cid}-2", "connected", "agent-2")
        [done] = await events.wait_for(of_type("callback.completed", cid))

    retry_data = cloud_event(retry)["data"]
    assert (retry_data["attempt"], retry_data["reason"]) == (2, "no_answer")
    delay = parse(cloud_event(second)["data"]["created_at"]) - parse(cloud_event(retry)["time"])
    assert timedelta(seconds=RETRY_DELAY_S) <= delay < timedelta(seconds=RETRY_DELAY_S + 0.5)
    assert cloud_event(second)["data"]["attributes"]["attempt"] == "2"
    assert cloud_event(done)["data"] == {
        "callback_id": cid,
        "work_item_id": f"{cid}-2",
        "attempt": 2,
        "reason": "connected",
    }
    found = await record(service, cid)
    assert (found["status"], found["close_reason"]) == ("completed", "connected")
    first, last = found["attempts"]
    assert (first["work_item_id"], first["agent_id"]) == (f"{cid}-1", "agent-1")
    assert (first["disposition_code"], first["result"]) == ("no_answer", "retry")
    assert (last["work_item_id"], last["agent_id"]) == (f"{cid}-2", "agent-2")
    assert (last["disposition_code"], last["result"]) == ("connected", "completed")
    for attempt in (first, last):
        assert {"scheduled_at", "queued_at", "started_at", "ended_at"} <= set(attempt)


async def test_attempts_exhausted_close_the_callback_as_failed(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        cid = await asap(service, phone, queue)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wid = f"{cid}-{attempt}"
            await events.wait_for(of_type("workitem.created", wid))
            await service.dialed(wid)
            await service.completed(wid, "busy")
        [failed] = await events.wait_for(of_type("callback.failed", cid))

    assert cloud_event(failed)["data"]["reason"] == "attempts_exhausted"
    assert cloud_event(failed)["data"]["attempt"] == MAX_ATTEMPTS
    found = await record(service, cid)
    assert found["status"] == "failed"
    assert [a["result"] for a in found["attempts"]] == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]


async def test_a_dialed_callback_outlives_its_window_but_is_not_retried_after_it(
    service: RunningCallback, phone: str, queue: str
) -> None:
    window_end = datetime.now(UTC) + timedelta(seconds=1)
    async with tap(service) as events:
        cid = await asap(service, phone, queue, window_end=window_end.isoformat())
        await service.dialed(f"{cid}-1")
        await eventually(lambda: _status(service, cid, "in_progress"))
        await eventually(lambda: datetime.now(UTC) > window_end + timedelta(seconds=0.2))
        assert await service.status_of(cid) == "in_progress"  # dialed: the window let it be
        await service.completed(f"{cid}-1", "voicemail")
        [missed] = await events.wait_for(of_type("callback.missed", cid))
        records = await events.read_to_end()

    assert cloud_event(missed)["data"]["reason"] == "window_end_passed"
    assert not [r for r in records if of_type("workitem.cancel_requested", f"{cid}-1")(r)]
    assert not [r for r in records if of_type("workitem.created", f"{cid}-2")(r)]


async def test_an_item_cancelled_upstream_cancels_its_callback(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        cid = await asap(service, phone, queue)
        await service.router_event(
            "workitem.cancelled", {"work_item_id": f"{cid}-1", "reason": "duplicate"}
        )
        [cancelled] = await events.wait_for(of_type("callback.cancelled", cid))

    assert cloud_event(cancelled)["data"]["reason"] == "duplicate"
    assert (await record(service, cid))["attempts"][0]["result"] == "cancelled"


async def test_a_replayed_lifecycle_event_is_applied_once(
    service: RunningCallback, phone: str, queue: str
) -> None:
    async with tap(service) as events:
        cid = await asap(service, phone, queue)
        completed = command(
            "workitem.completed",
            {"work_item_id": f"{cid}-1", "agent_id": "a-1", "disposition_code": "no_answer"},
            source="switchboard/router",
        )
        for _ in range(2):
            await service.producer.send_and_wait(
                WORKITEM_EVENTS, encode(completed), key=f"{cid}-1".encode()
            )
        await events.wait_for(of_type("workitem.created", f"{cid}-2"))
        records = await events.read_to_end()

    retries = [r for r in records if of_type("callback.retry_scheduled", cid)(r)]
    assert len(retries) == 1
    assert len((await record(service, cid))["attempts"]) == 2


async def test_a_dial_outcome_command_is_recorded_on_the_attempt(
    service: RunningCallback, phone: str, queue: str
) -> None:
    cid = await asap(service, phone, queue)
    outcome = command(
        "callback.dial_outcome",
        {"callback_id": cid, "work_item_id": f"{cid}-1", "outcome": "no_answer", "agent_id": "d"},
        source="tests/dialer",
    )
    await service.producer.send_and_wait(CALLBACK_COMMANDS, encode(outcome), key=cid.encode())

    async def recorded() -> dict[str, Any] | None:
        attempt: dict[str, Any] = (await record(service, cid))["attempts"][0]
        return attempt if attempt.get("outcome") else None

    attempt = await eventually(recorded)
    assert (attempt["outcome"], attempt["agent_id"]) == ("no_answer", "d")


async def test_events_of_other_work_items_are_ignored(
    service: RunningCallback, phone: str, queue: str
) -> None:
    cid = await asap(service, phone, queue)
    await service.dialed(f"{cid}-1")
    await eventually(lambda: _status(service, cid, "in_progress"))
    before = await record(service, cid)
    # a completion of an item no callback created, then the callback's own, on one
    # partition (same key): once the second is applied, the first was too
    key = f"other-{cid}".encode()
    for wid, code in ((f"not-a-callback-{cid}", "no_answer"), (f"{cid}-1", "resolved")):
        data = {"work_item_id": wid, "agent_id": "agent-7", "disposition_code": code}
        event = command("workitem.completed", data, source="switchboard/router", subject=wid)
        await service.producer.send_and_wait(WORKITEM_EVENTS, encode(event), key=key)
    await eventually(lambda: _status(service, cid, "completed"))
    after = await record(service, cid)

    assert [a["work_item_id"] for a in after["attempts"]] == [f"{cid}-1"]
    assert after["attempts"][0]["disposition_code"] == "resolved"
    assert after["attempts"][0]["started_at"] == before["attempts"][0]["started_at"]


async def _status(service: RunningCallback, cid: str, status: str) -> bool:
    return await service.status_of(cid) == status
