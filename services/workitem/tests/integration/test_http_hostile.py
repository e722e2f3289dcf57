"""Hostile requests to POST /v1/workitems through the real server: each is a 4xx with a
JSON body naming the problem, never a 500, and a huge body is refused without reading it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from switchboard_devtools.testing import KafkaTap, cloud_event, of_type
from switchboard_devtools.testing_http import assert_huge_upload_refused
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration

LIMIT = 16384  # the max_message_bytes the conftest configures, named in a 413
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
        absent = await post_raw(workitem, '{"type": "task"}')
        assert response.status_code == absent.status_code == 201, response.text
        [record] = await tap.wait_for(of_type("workitem.created", response.json()["work_item_id"]))

    given = response.headers["x-correlation-id"]
    assert given.startswith("http-")
    assert absent.headers["x-correlation-id"].startswith("http-")
    assert absent.headers["x-correlation-id"] != given
    assert cloud_event(record)["correlationid"] == given


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


async def test_a_declared_600_mb_body_is_413_before_any_of_it_is_sent(
    workitem: RunningWorkItem,
) -> None:
    await assert_huge_upload_refused(workitem.base_url, "/v1/workitems", LIMIT, declare_length=True)


async def test_a_streamed_600_mb_body_is_413_once_past_the_limit(
    workitem: RunningWorkItem,
) -> None:
    assert workitem.settings.max_message_bytes == LIMIT

    await assert_huge_upload_refused(
        workitem.base_url, "/v1/workitems", LIMIT, declare_length=False
    )
