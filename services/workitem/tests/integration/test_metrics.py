"""What an operator scraping the work item service's /metrics sees."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client.metrics_core import Metric
from redis.asyncio import Redis
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import Brokers, eventually, serving
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_metrics import (
    COMMAND_FAMILIES,
    COMMON_FAMILIES,
    OUTBOX_FAMILIES,
    label_values,
    scrape,
    service_families,
    value,
)
from switchboard_runtime.redis_keys import Keys
from workitem.main import create_app

from .conftest import RunningWorkItem, workitem_settings

pytestmark = pytest.mark.integration

TASK = {"type": "task", "sub_type": "metrics", "channel": "form", "description": "Scraped."}


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis()
    yield client
    await client.aclose()


async def create(workitem: RunningWorkItem) -> str:
    response = await workitem.http.post("/v1/workitems", json=TASK)
    assert response.status_code == 201, response.text
    return str(response.json()["work_item_id"])


async def test_only_the_work_item_families_are_exported(workitem: RunningWorkItem) -> None:
    families = await scrape(workitem.http)

    assert service_families(families) == COMMON_FAMILIES | COMMAND_FAMILIES | OUTBOX_FAMILIES
    assert "python_info" in families
    assert value(families, "switchboard_redis_up") == 1.0


async def test_http_requests_are_counted_by_route_template(workitem: RunningWorkItem) -> None:
    work_item_id = await create(workitem)
    assert (await workitem.http.get(f"/v1/workitems/{work_item_id}")).status_code == 200
    assert (await workitem.http.get(f"/no/such/{uuid.uuid4()}")).status_code == 404

    families = await scrape(workitem.http)

    read = {"method": "GET", "route": "/v1/workitems/{work_item_id}", "status": "200"}
    assert (value(families, "switchboard_http_requests_total", **read) or 0) >= 1
    created = {"method": "POST", "route": "/v1/workitems", "status": "201"}
    assert (value(families, "switchboard_http_requests_total", **created) or 0) >= 1
    assert value(families, "switchboard_http_request_duration_seconds_count", **read)
    routes = label_values(families, "switchboard_http_requests", "route")
    assert "unmatched" in routes
    assert not any(work_item_id in route or "/no/such" in route for route in routes)


async def test_outbox_pending_returns_to_zero_once_drained(
    workitem: RunningWorkItem, redis: Redis
) -> None:
    """Another holder of the relay's lease keeps events waiting; once it lets go, the
    relay drains them and the gauge reads 0 again (it used to stick)."""
    keys = Keys(workitem.settings.tenant_id)
    await redis.set(keys.outbox_lease("workitem"), "someone-else", px=60_000)
    try:

        async def stuck() -> bool:  # the relay drains in milliseconds while it relays
            await create(workitem)
            age = value(await scrape(workitem.http), "switchboard_outbox_oldest_age_seconds")
            return (age or 0) > 1.0

        await eventually(stuck, timeout=15, interval=0.2)
        families = await scrape(workitem.http)
        assert (value(families, "switchboard_outbox_pending") or 0) > 0
        published = value(families, "switchboard_outbox_published_total") or 0
    finally:
        await redis.delete(keys.outbox_lease("workitem"))

    async def drained() -> dict[str, Metric] | None:
        families = await scrape(workitem.http)
        return families if value(families, "switchboard_outbox_pending") == 0 else None

    families = await eventually(drained, timeout=15)
    assert value(families, "switchboard_outbox_oldest_age_seconds") == 0
    assert (value(families, "switchboard_outbox_published_total") or 0) > published


async def test_without_redis_metrics_still_answer_and_say_so(brokers: Brokers) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}"
    settings = workitem_settings(brokers, redis_url=nowhere, redis_cluster=False)
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        families = await scrape(http)

    assert value(families, "switchboard_redis_up") == 0.0
    assert "switchboard_outbox_pending" not in families
    assert "switchboard_http_requests" in families
