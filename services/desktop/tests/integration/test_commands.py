"""``POST /v1/desktop/commands`` on a running gateway: what reaches ``agent.commands``
(real Kafka-API broker and Valkey), and what never does."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.registry import AGENT_COMMAND_MODELS
from switchboard_schemas.topics import AGENT_COMMANDS

from .conftest import TENANT, RunningDesktop, agent, keyed, new_agent, with_id

pytestmark = pytest.mark.integration

PATH = "/v1/desktop/commands"
# the data of each command type, without agent_id (the gateway puts it in)
EVERY_COMMAND: dict[str, dict[str, Any]] = {
    "agent.status": {"status": "away", "reason": "lunch", "queues": ["task"]},
    "offer.accept": {"offer_id": "of-1", "work_item_id": "wi-1"},
    "offer.reject": {"offer_id": "of-1", "work_item_id": "wi-1", "reason": "busy"},
    "item.hold": {"work_item_id": "wi-1"},
    "item.resume": {"work_item_id": "wi-1"},
    "item.end": {"work_item_id": "wi-1"},
    "item.complete": {"work_item_id": "wi-1", "disposition_code": "resolved", "notes": "Done."},
    "outbound.dial": {"offer_id": "of-2", "work_item_id": "wi-2"},
    "outbound.skip": {"offer_id": "of-2", "work_item_id": "wi-2", "reason": "no time"},
}


def accept(work_item_id: str = "wi-42") -> dict[str, Any]:
    return {"type": "offer.accept", "data": {"offer_id": "of-9", "work_item_id": work_item_id}}


def errors(answer: httpx.Response) -> list[tuple[Any, ...]]:
    assert answer.status_code == 422, answer.text
    return [tuple(error["loc"]) for error in answer.json()["detail"]]


def test_every_agent_command_type_has_an_example() -> None:
    assert set(EVERY_COMMAND) == set(AGENT_COMMAND_MODELS)


async def test_a_command_is_published_once_as_the_agent_of_the_token(
    desktop: RunningDesktop,
) -> None:
    ada = new_agent()
    async with desktop.tap(AGENT_COMMANDS) as tap:
        answer = await desktop.http.post(
            PATH, json=accept(), headers={**agent(ada), "X-Correlation-Id": "corr-desk-1"}
        )
        assert answer.status_code == 202, answer.text
        command_id = answer.json()["command_id"]
        (record,) = await tap.wait_for(with_id(command_id))
        everything = await tap.read_to_end()

    assert answer.json() == {"command_id": command_id}
    assert record.key == ada.encode()
    event = keyed(ada, [record])[0]
    assert event["type"] == "offer.accept"
    assert event["source"] == "switchboard/desktop"
    assert event["subject"] == "wi-42"
    assert event["tenantid"] == TENANT
    assert event["correlationid"] == "corr-desk-1"
    assert event["data"] == {"agent_id": ada, "offer_id": "of-9", "work_item_id": "wi-42"}
    assert ("sb-type", b"offer.accept") in list(record.headers)
    assert len(keyed(ada, everything)) == 1


async def test_every_agent_command_type_is_handed_on(desktop: RunningDesktop) -> None:
    ada = new_agent()
    async with desktop.tap(AGENT_COMMANDS) as tap:
        for type_, data in EVERY_COMMAND.items():
            answer = await desktop.http.post(
                PATH, json={"type": type_, "data": data}, headers=agent(ada)
            )
            assert answer.status_code == 202, (type_, answer.text)
        await tap.wait_for(lambda r: r.key == ada.encode(), count=len(EVERY_COMMAND))
        published = keyed(ada, await tap.read_to_end())

    assert [e["type"] for e in published] == list(EVERY_COMMAND)  # one partition: in order
    for event in published:  # as sent, with the agent put in (and the model's defaults)
        sent = {"agent_id": ada, **EVERY_COMMAND[event["type"]]}
        assert event["data"] | sent == event["data"], event
    assert "subject" not in published[0]  # agent.status is about no item


async def test_a_retry_with_the_same_idempotency_key_publishes_once(
    desktop: RunningDesktop,
) -> None:
    ada, bob = new_agent(), new_agent()
    key = {"Idempotency-Key": f"click-{uuid.uuid4()}"}
    async with desktop.tap(AGENT_COMMANDS) as tap:
        first = await desktop.http.post(PATH, json=accept(), headers={**agent(ada), **key})
        again = await desktop.http.post(PATH, json=accept(), headers={**agent(ada), **key})
        other = await desktop.http.post(PATH, json=accept(), headers={**agent(bob), **key})
        changed = await desktop.http.post(PATH, json=accept("wi-43"), headers={**agent(ada), **key})
        await tap.wait_for(with_id(first.json()["command_id"]))
        records = await tap.read_to_end()

    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert other.json() != first.json()  # the key is the agent's own
    assert changed.status_code == 409, changed.text
    mine = keyed(ada, records)
    assert [e["id"] for e in mine] == [first.json()["command_id"]]
    assert len(keyed(bob, records)) == 1


async def test_acting_for_another_agent_is_403_and_nothing_is_published(
    desktop: RunningDesktop,
) -> None:
    ada, bob = new_agent(), new_agent()
    body = {"type": "item.hold", "data": {"agent_id": bob, "work_item_id": "wi-1"}}
    async with desktop.tap(AGENT_COMMANDS) as tap:
        answer = await desktop.http.post(PATH, json=body, headers=agent(ada))
        records = await tap.read_to_end()

    assert answer.status_code == 403
    assert f"may not act for agent {bob!r}" in answer.json()["detail"]
    assert keyed(ada, records) == keyed(bob, records) == []


async def test_only_an_agent_sends_commands(desktop: RunningDesktop) -> None:
    ada = new_agent()
    body = {"type": "item.end", "data": {"agent_id": ada, "work_item_id": "wi-1"}}
    async with (
        desktop.tap(AGENT_COMMANDS) as tap,
        httpx.AsyncClient(base_url=desktop.base_url) as anonymous,
    ):
        nobody = await anonymous.post(PATH, json=body)
        supervisor = await desktop.http.post(PATH, json=body, headers=bearer("sam", ["supervisor"]))
        ivr = await desktop.http.post(PATH, json=body, headers=bearer(ada, ["integration"]))
        records = await tap.read_to_end()

    assert nobody.status_code == 401
    assert nobody.headers["www-authenticate"] == "Bearer"
    assert supervisor.status_code == ivr.status_code == 403
    assert supervisor.json() == {"detail": "this needs the role agent"}
    assert keyed(ada, records) == keyed("sam", records) == []


async def test_an_invalid_command_is_422_naming_the_field_and_nothing_is_published(
    desktop: RunningDesktop,
) -> None:
    ada = new_agent()
    headers = agent(ada)
    async with desktop.tap(AGENT_COMMANDS) as tap:
        incomplete = {"type": "item.complete", "data": {"work_item_id": "wi-1"}}
        assert errors(await desktop.http.post(PATH, json=incomplete, headers=headers)) == [
            ("body", "data", "disposition_code")
        ]
        unknown = {"type": "offer.steal", "data": {}}
        assert errors(await desktop.http.post(PATH, json=unknown, headers=headers)) == [
            ("body", "type")
        ]
        available = {"type": "agent.status", "data": {"status": "available", "reason": "lunch"}}
        said = await desktop.http.post(PATH, json=available, headers=headers)
        assert errors(said) == [("body", "data")]
        assert "reason is given only with status away" in said.json()["detail"][0]["msg"]
        not_an_object = {"type": "item.end", "data": ["wi-1"]}
        assert errors(await desktop.http.post(PATH, json=not_an_object, headers=headers)) == [
            ("body", "data")
        ]
        extra = {**accept(), "agent_id": ada}
        assert errors(await desktop.http.post(PATH, json=extra, headers=headers)) == [
            ("body", "agent_id")
        ]
        bad_id = {"type": "item.end", "data": {"work_item_id": "wi:{other}"}}
        assert errors(await desktop.http.post(PATH, json=bad_id, headers=headers)) == [
            ("body", "data", "work_item_id")
        ]
        not_json = await desktop.http.post(PATH, content=b"{nope", headers=headers)
        assert errors(not_json) == [("body",)]
        records = await tap.read_to_end()

    assert keyed(ada, records) == []
