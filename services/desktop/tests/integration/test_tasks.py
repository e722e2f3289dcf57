"""``POST /v1/desktop/workitems`` (the Create Task form) on a running gateway: a work item
reaches ``workitem.commands``, a callback ``callback.commands`` (real Kafka-API broker and
Valkey), an invalid form neither."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from desktop.main import create_app
from switchboard_devtools.testing import Brokers, serving_ready
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_COMMANDS

from .conftest import TENANT, RunningDesktop, agent, desktop_settings, keyed, new_agent

pytestmark = pytest.mark.integration

PATH = "/v1/desktop/workitems"
TASK = {"type": "task", "sub_type": "address_change", "priority": 3, "description": "Move."}
CALLBACK = {"type": "callback", "customer_phone": "(415) 555-2671", "reason": "Invoice"}


def errors(answer: httpx.Response) -> list[tuple[Any, ...]]:
    assert answer.status_code == 422, answer.text
    return [tuple(error["loc"]) for error in answer.json()["detail"]]


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


async def test_a_task_is_handed_on_as_workitem_create_with_the_id_answered(
    desktop: RunningDesktop,
) -> None:
    ada = new_agent()
    async with desktop.tap(WORKITEM_COMMANDS) as tap:
        answer = await desktop.http.post(
            PATH, json=TASK, headers={**agent(ada), "X-Correlation-Id": "corr-task-1"}
        )
        assert answer.status_code == 202, answer.text
        wid = answer.json()["work_item_id"]
        await tap.wait_for(lambda r: r.key == wid.encode())
        (event,) = keyed(wid, await tap.read_to_end())

    assert answer.json() == {"work_item_id": wid}
    assert event["type"] == "workitem.create"
    assert event["source"] == "switchboard/desktop"
    assert (event["subject"], event["tenantid"]) == (wid, TENANT)
    assert event["correlationid"] == "corr-task-1"
    assert event["data"] == {**TASK, "work_item_id": wid, "channel": "api", "skills": []}


async def test_a_supervisor_creates_tasks_and_its_own_id_is_kept(desktop: RunningDesktop) -> None:
    wid = f"desk-{uuid.uuid4().hex[:8]}"
    async with desktop.tap(WORKITEM_COMMANDS) as tap:
        answer = await desktop.http.post(
            PATH, json={**TASK, "work_item_id": wid}, headers=bearer("sam", ["supervisor"])
        )
        assert answer.status_code == 202, answer.text
        await tap.wait_for(lambda r: r.key == wid.encode())

    assert answer.json() == {"work_item_id": wid}


async def test_a_callback_is_handed_on_as_callback_request(desktop: RunningDesktop) -> None:
    body = {**CALLBACK, "window_end": in_an_hour()}
    async with desktop.tap(CALLBACK_COMMANDS) as tap:
        answer = await desktop.http.post(PATH, json=body, headers=agent(new_agent()))
        assert answer.status_code == 202, answer.text
        cid = answer.json()["callback_id"]
        await tap.wait_for(lambda r: r.key == cid.encode())
        (event,) = keyed(cid, await tap.read_to_end())

    assert answer.json() == {"callback_id": cid}
    assert event["type"] == "callback.request"
    assert (event["subject"], event["tenantid"]) == (cid, TENANT)
    data = event["data"]
    assert "type" not in data
    assert data["callback_id"] == cid
    assert data["customer_phone"] == "+14155552671"  # read with DEFAULT_PHONE_REGION=US
    assert data["reason"] == "Invoice"


async def test_a_retried_form_is_handed_on_once(desktop: RunningDesktop) -> None:
    ada = new_agent()
    headers = {**agent(ada), "Idempotency-Key": f"form-{uuid.uuid4()}"}
    async with desktop.tap(WORKITEM_COMMANDS) as tap:
        first = await desktop.http.post(PATH, json=TASK, headers=headers)
        again = await desktop.http.post(PATH, json=TASK, headers=headers)
        wid = first.json()["work_item_id"]
        await tap.wait_for(lambda r: r.key == wid.encode())
        records = await tap.read_to_end()

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(keyed(wid, records)) == 1


async def test_an_invalid_form_is_422_naming_the_field_and_nothing_is_published(
    desktop: RunningDesktop,
) -> None:
    headers = agent(new_agent())
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    async with desktop.tap(CALLBACK_COMMANDS) as callbacks, desktop.tap(WORKITEM_COMMANDS) as items:
        no_phone = {"type": "callback", "reason": "Invoice"}
        assert errors(await desktop.http.post(PATH, json=no_phone, headers=headers)) == [
            ("body", "customer_phone")
        ]
        bad_phone = {**CALLBACK, "customer_phone": "not-a-phone"}
        assert errors(await desktop.http.post(PATH, json=bad_phone, headers=headers)) == [
            ("body", "customer_phone")
        ]
        for body in ({**TASK, "priority": 4}, {**CALLBACK, "priority": 4}):
            assert errors(await desktop.http.post(PATH, json=body, headers=headers)) == [
                ("body", "priority")
            ]
        described = {**CALLBACK, "description": "not on callbacks"}
        assert errors(await desktop.http.post(PATH, json=described, headers=headers)) == [
            ("body", "description")
        ]
        late = {**CALLBACK, "scheduled_at": past}
        assert errors(await desktop.http.post(PATH, json=late, headers=headers)) == [
            ("body", "scheduled_at")
        ]
        unknown = {**TASK, "type": "fax"}
        assert errors(await desktop.http.post(PATH, json=unknown, headers=headers)) == [
            ("body", "type")
        ]
        assert errors(await desktop.http.post(PATH, json=[TASK], headers=headers)) == [("body",)]
        nothing = [*await callbacks.read_to_end(), *await items.read_to_end()]

    assert not [r for r in nothing if f'"tenantid":"{TENANT}"'.encode() in (r.value or b"")]


async def test_only_agents_and_supervisors_create_tasks(desktop: RunningDesktop) -> None:
    async with httpx.AsyncClient(base_url=desktop.base_url) as anonymous:
        nobody = await anonymous.post(PATH, json=TASK)
    ivr = await desktop.http.post(PATH, json=TASK, headers=bearer("ivr", ["integration"]))

    assert nobody.status_code == 401
    assert ivr.status_code == 403
    assert ivr.json() == {"detail": "this needs the role agent or supervisor"}


async def test_the_gateway_takes_the_callback_services_schedule_tolerance(
    brokers: Brokers,
) -> None:
    settings = desktop_settings(brokers, callback_schedule_tolerance_seconds=120)
    a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    async with serving_ready(create_app(settings)) as http:
        lenient = await http.post(
            PATH, json={**CALLBACK, "scheduled_at": a_minute_ago}, headers=agent(new_agent())
        )
    assert lenient.status_code == 202, lenient.text  # as soon as possible, not refused
