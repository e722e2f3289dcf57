"""Hostile requests to POST /v1/workitems through the real server: each is a 4xx with a
JSON body naming the problem, never a 500, and a huge body is refused without reading it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from switchboard_runtime.testing import KafkaTap, cloud_event, of_type
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration

HUGE = 600 * 1024 * 1024
CHUNK = 64 * 1024
# What loopback socket buffers can hold beyond what the server read (a few MB on Linux).
SLACK = 32 * 1024 * 1024
DEEP = "[" * 1000 + "]" * 1000


async def post_raw(workitem: RunningWorkItem, body: str, **headers: str) -> httpx.Response:
    return await workitem.http.post(
        "/v1/workitems",
        content=body.encode(),
        headers={"content-type": "application/json", **headers},
    )


def locs(response: httpx.Response) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        (DEEP, ["body"], "recursion"),
        ('{"type": "task", "attributes": {"a": ' + DEEP + "}}", ["body"], "recursion"),
        ('{"type": "task", "description": "\\ud800"}', ["body"], "lone surrogate"),
        ('{"type": "task", "description": "\\udc00\\ud800x"}', ["body"], "surrogate"),
        ('{"type": "task", "priority": 1e400}', ["body", "priority"], "priority"),
        ('{"type": "task", "priority": -1e400}', ["body", "priority"], "priority"),
        ('{"type": "task", "priority": NaN}', ["body"], "NaN and Infinity"),
        ('{"type": "task", "priority": -Infinity}', ["body"], "NaN and Infinity"),
        ('{"type": "task", "due_at": "9999-12-31T23:59:59-01:00"}', ["body", "due_at"], ""),
        ('{"type": "task", "due_at": "0001-01-01T00:00:00+01:00"}', ["body", "due_at"], ""),
        ('{"type": "task", "priority": 1' + "0" * 5000 + "}", ["body"], "invalid JSON"),
    ],
)
async def test_hostile_bodies_are_422_naming_the_problem(
    workitem: RunningWorkItem, body: str, loc: list[str], says: str
) -> None:
    response = await post_raw(workitem, body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    assert locs(response) == [loc]
    assert says in response.json()["detail"][0]["msg"]


async def test_an_input_echoed_in_a_422_is_valid_json(workitem: RunningWorkItem) -> None:
    nested: Any = "leaf"
    for _ in range(150):  # deep, but within what the JSON parser takes
        nested = [nested]
    body = {"type": "task", "priority": 1.5, "colour": nested, "channel": "x" * 7000}

    response = await post_raw(workitem, json.dumps(body))

    assert response.status_code == 422
    assert {tuple(loc) for loc in locs(response)} == {
        ("body", "priority"),
        ("body", "colour"),
        ("body", "channel"),
    }


async def test_an_empty_correlation_id_is_treated_as_absent(workitem: RunningWorkItem) -> None:
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        response = await post_raw(workitem, '{"type": "task"}', **{"X-Correlation-Id": ""})
        assert response.status_code == 201, response.text
        created = of_type("workitem.created", response.json()["work_item_id"])
        [record] = await tap.wait_for(created)

    assert "correlationid" not in cloud_event(record)


async def test_a_correlation_id_of_256_printable_characters_is_kept(
    workitem: RunningWorkItem,
) -> None:
    value = "c" * 200 + "-._~:/ ?=&+!#$%'*;@[]" + "d" * 35
    assert len(value) == 256
    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        response = await post_raw(workitem, '{"type": "task"}', **{"X-Correlation-Id": value})
        assert response.status_code == 201, response.text
        [record] = await tap.wait_for(of_type("workitem.created", response.json()["work_item_id"]))

    assert cloud_event(record)["correlationid"] == value


@pytest.mark.parametrize(
    "value",
    [b"c" * 257, b"tab\there", b"caf\xe9", b"\xff\xfe"],
    ids=["long", "tab", "latin1", "bytes"],
)
async def test_a_bad_correlation_id_is_422_naming_the_header(
    workitem: RunningWorkItem, value: bytes
) -> None:
    response = await workitem.http.post(
        "/v1/workitems", json={"type": "task"}, headers=[(b"X-Correlation-Id", value)]
    )

    assert response.status_code == 422, response.text
    assert locs(response) == [["header", "x-correlation-id"]]


async def upload(
    workitem: RunningWorkItem, total: int, *, declare_length: bool
) -> tuple[int, dict[str, Any], int]:
    """POST ``total`` bytes as raw HTTP/1.1 while reading the answer; returns its status,
    its JSON body and how many bytes had been sent when it arrived."""
    url = httpx.URL(workitem.base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    framing = f"Content-Length: {total}" if declare_length else "Transfer-Encoding: chunked"
    writer.write(
        f"POST /v1/workitems HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    sent = 0

    async def send_chunks() -> None:
        nonlocal sent
        frame = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        while sent < total:
            writer.write(frame)
            sent += CHUNK
            await writer.drain()

    sender = None if declare_length else asyncio.create_task(send_chunks())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
        at_answer = sent
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length"))
        body = json.loads(await asyncio.wait_for(reader.readexactly(length), timeout=10))
    finally:
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return int(lines[0].split()[1]), body, at_answer


async def test_a_declared_600_mb_body_is_413_before_any_of_it_is_sent(
    workitem: RunningWorkItem,
) -> None:
    status, body, sent = await upload(workitem, HUGE, declare_length=True)

    assert status == 413
    assert "16384 bytes" in body["detail"]
    assert sent == 0


async def test_a_streamed_600_mb_body_is_413_once_past_the_limit(
    workitem: RunningWorkItem,
) -> None:
    status, body, sent = await upload(workitem, HUGE, declare_length=False)

    assert status == 413
    assert "16384 bytes" in body["detail"]
    assert sent < workitem.settings.max_message_bytes + SLACK
