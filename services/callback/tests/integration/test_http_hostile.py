"""Hostile requests to the callback and campaign routes through the real server: each
is a 4xx with a JSON body naming the problem, never a 500, and a huge body is refused
without reading it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from switchboard_devtools.testing_http import assert_huge_upload_refused

from .conftest import RunningCallback, new_phone

pytestmark = pytest.mark.integration

DEEP = "[" * 1000 + "]" * 1000
JSON = {"content-type": "application/json"}


def locs(response: httpx.Response) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


def contacts_path() -> str:
    return f"/v1/campaigns/camp-{uuid.uuid4().hex[:10]}/contacts"


@pytest.mark.parametrize(
    ("fields", "loc", "says"),
    [
        (f'"reason": {DEEP}', ["body"], "200 levels"),
        ('"reason": "\\ud800"', ["body"], "lone surrogate"),
        ('"customer_name": "Ada \\udfff"', ["body"], "lone surrogate"),
        ('"priority": 1e400', ["body", "priority"], "priority"),
        ('"priority": NaN', ["body"], "NaN and Infinity"),
        ('"scheduled_at": "9999-12-31T23:59:59-01:00"', ["body", "scheduled_at"], ""),
        ('"window_end": "9999-12-31T23:59:59-01:00"', ["body", "window_end"], ""),
    ],
)
async def test_hostile_callback_requests_are_422_naming_the_problem(
    service: RunningCallback, fields: str, loc: list[str], says: str
) -> None:
    body = f'{{"customer_phone": "{new_phone()}", {fields}}}'

    response = await service.http.post("/v1/callbacks", content=body.encode(), headers=JSON)

    assert response.status_code == 422, response.text
    assert locs(response) == [loc]
    assert says in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, "200 levels"),
        ('[{"customer_phone": "+14155552671", "customer_name": "\\ud800"}]', "lone surrogate"),
        ('[{"customer_phone": "+14155552671", "priority": NaN}]', "NaN and Infinity"),
    ],
)
async def test_hostile_contact_uploads_are_422_naming_the_problem(
    service: RunningCallback, body: str, says: str
) -> None:
    response = await service.http.post(contacts_path(), content=body.encode(), headers=JSON)

    assert response.status_code == 422, response.text
    assert locs(response) == [["body"]]
    assert says in response.json()["detail"][0]["msg"]


async def test_an_empty_correlation_id_is_treated_as_absent(service: RunningCallback) -> None:
    response = await service.http.post(
        "/v1/callbacks", json={"customer_phone": new_phone()}, headers={"X-Correlation-Id": ""}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("value", [b"c" * 257, b"tab\there", b"caf\xe9"])
async def test_a_bad_correlation_id_is_422_naming_the_header(
    service: RunningCallback, value: bytes
) -> None:
    response = await service.http.post(
        "/v1/callbacks",
        json={"customer_phone": new_phone()},
        headers=[(b"X-Correlation-Id", value)],
    )

    assert response.status_code == 422, response.text
    assert locs(response) == [["header", "x-correlation-id"]]


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "streamed"])
async def test_a_600_mb_callback_request_is_413_once_past_the_limit(
    service: RunningCallback, declare_length: bool
) -> None:
    limit = service.settings.max_message_bytes

    await assert_huge_upload_refused(
        service.base_url, "/v1/callbacks", limit, declare_length=declare_length
    )


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "streamed"])
async def test_a_600_mb_contact_upload_is_413_once_past_the_limit(
    service: RunningCallback, declare_length: bool
) -> None:
    limit = service.settings.campaign_max_body_bytes

    await assert_huge_upload_refused(
        service.base_url, contacts_path(), limit, declare_length=declare_length
    )
