"""A burst of creates through the real server: each waits for a Redis connection rather
than being refused one, so none is answered 503 while Redis is up. On a Redis Cluster
(whose client has no waiting pool) those past REDIS_MAX_CONNECTIONS are answered 503 with
Retry-After at once, and a retry creates them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest
from switchboard_devtools.testing_auth import bearer

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration

BURST = 200


async def test_200_concurrent_creates_are_all_created(workitem: RunningWorkItem) -> None:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(
        headers=bearer(), base_url=workitem.base_url, timeout=30, limits=limits
    ) as http:
        responses = await asyncio.gather(
            *(
                http.post("/v1/workitems", json={"type": "task", "description": f"burst {i}"})
                for i in range(BURST)
            )
        )

        if workitem.settings.redis_cluster:
            responses = await _retried_after_503(http, responses)

    assert Counter(r.status_code for r in responses) == {201: BURST}
    assert len({r.json()["work_item_id"] for r in responses}) == BURST


async def _retried_after_503(
    http: httpx.AsyncClient, responses: list[httpx.Response]
) -> list[httpx.Response]:
    """Each 503 (it says Retry-After) sent again, one at a time, as a client would."""
    answered = []
    for first in responses:
        if first.status_code != 503:
            answered.append(first)
            continue
        assert first.headers["Retry-After"] == "1"
        answered.append(await http.post("/v1/workitems", json=json.loads(first.request.content)))
    return answered
