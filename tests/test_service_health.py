"""Each service starts, connects to the real brokers and answers its health checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from callback.config import CallbackSettings
from callback.main import create_app as create_callback
from fastapi import FastAPI
from router.config import RouterSettings
from router.main import create_app as create_router
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import Brokers, serving, serving_ready
from switchboard_devtools.testing_auth import bearer
from workitem.config import WorkItemSettings
from workitem.main import create_app as create_workitem

pytestmark = pytest.mark.integration

AppFactory = Callable[[dict[str, Any]], FastAPI]
SERVICES: dict[str, AppFactory] = {
    "workitem": lambda env: create_workitem(WorkItemSettings(**env)),
    "router": lambda env: create_router(RouterSettings(**env)),
    "callback": lambda env: create_callback(CallbackSettings(**env)),
}


def _env(kafka: str, redis: str) -> dict[str, Any]:
    return {
        "kafka_bootstrap_servers": kafka,
        "redis_url": redis,
        "kafka_topic_partitions": 3,
        "consumer_group_prefix": f"health-{uuid.uuid4().hex[:8]}",
    }


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_service_becomes_ready_and_serves_metrics(brokers: Brokers, service: str) -> None:
    app = SERVICES[service](_env(brokers.kafka_bootstrap_servers, brokers.redis_url))
    async with serving_ready(app) as http:
        assert (await http.get("/health/live")).json() == {"status": "live"}
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        assert "python_info" in metrics.text


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_service_without_kafka_is_live_but_not_ready(brokers: Brokers, service: str) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    app = SERVICES[service](_env(nobody, brokers.redis_url))
    async with serving(app) as url, httpx.AsyncClient(headers=bearer(), base_url=url) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["kafka"] == "failing"
