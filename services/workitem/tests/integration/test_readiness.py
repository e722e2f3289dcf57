"""Readiness follows the brokers: it drops when Redis goes away and returns with it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from switchboard_runtime.embedded import EmbeddedStack
from switchboard_runtime.testing import Brokers, eventually, serving
from workitem.main import create_app

from .conftest import workitem_settings

pytestmark = pytest.mark.integration


async def test_ready_flips_when_redis_is_unreachable_and_back(brokers: Brokers) -> None:
    with EmbeddedStack() as own_redis:
        settings = workitem_settings(
            brokers,
            redis_url=own_redis.start_redis(),
            consumer_group_prefix=f"readiness-{uuid.uuid4().hex[:8]}",
        )
        async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:

            async def ready_is(code: int) -> bool:
                return (await http.get("/health/ready")).status_code == code

            await eventually(lambda: ready_is(200), timeout=60)

            own_redis.stop()
            await eventually(lambda: ready_is(503), timeout=10)
            body = (await http.get("/health/ready")).json()
            assert body["checks"]["redis"] == "failing"
            assert body["checks"]["kafka"] == "ok"
            assert (await http.get("/health/live")).status_code == 200
            create = await http.post("/v1/workitems", json={"type": "task"})
            assert create.status_code == 503
            assert create.headers["Retry-After"] == "1"

            own_redis.start_redis()  # same port: the service reconnects by itself
            await eventually(lambda: ready_is(200), timeout=15)
            create = await http.post("/v1/workitems", json={"type": "task"})
            assert create.status_code == 201
