"""Retention (RETENTION_DAYS): a record that closes expires with its history; open ones stay.

Lifecycle events are published as the router would, for items created over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers, eventually, serving_ready
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.topics import WORKITEM_EVENTS
from workitem.main import create_app

from .conftest import RunningWorkItem, encode, workitem_settings

pytestmark = pytest.mark.integration

TINY_RETENTION_S = 2
OFFER = {"offer_id": "of-1", "expires_at": "2030-01-01T00:00:00Z"}


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis()
    yield client
    await client.aclose()


class Items:
    """Creates items over HTTP and moves them through their lifecycle, for one tenant."""

    def __init__(self, http: httpx.AsyncClient, producer: AIOKafkaProducer, tenant: str) -> None:
        self.http = http
        self.producer = producer
        self.tenant = tenant
        self.keys = Keys(tenant)

    async def create(self) -> str:
        response = await self.http.post("/v1/workitems", json={"type": "task"})
        assert response.status_code == 201, response.text
        return str(response.json()["work_item_id"])

    async def send(self, ce_type: str, wid: str, **data: Any) -> None:
        event = {
            "specversion": "1.0",
            "id": f"{uuid.uuid4()}-1",
            "source": "switchboard/router",
            "type": f"workitem.{ce_type}",
            "time": datetime.now(UTC).isoformat(),
            "subject": wid,
            "tenantid": self.tenant,
            "data": {"work_item_id": wid, **data},
        }
        await self.producer.send_and_wait(WORKITEM_EVENTS, encode(event), key=wid.encode())

    async def three(self, agent: str) -> tuple[str, str, str]:
        """An item completed, one cancelled and one still open (accepted by ``agent``),
        all created together."""
        completed, cancelled, still_open = [await self.create() for _ in range(3)]
        await self.send("offered", still_open, agent_id=agent, **OFFER)
        await self.send("accepted", still_open, agent_id=agent, offer_id="of-1")
        await self.send("completed", completed, agent_id=agent, disposition_code="resolved")
        await self.send("cancelled", cancelled, reason="duplicate")
        return completed, cancelled, still_open

    async def status(self, wid: str) -> str | None:
        response = await self.http.get(f"/v1/workitems/{wid}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    async def reaches(self, wid: str, status: str) -> None:
        async def probe() -> bool:
            return await self.status(wid) == status

        await eventually(probe, timeout=30)

    def record_keys(self, wid: str) -> tuple[str, str]:
        return self.keys.work_item(wid), self.keys.work_item_history(wid)


async def test_closed_records_expire_with_their_history_and_open_ones_stay(
    brokers: Brokers,
    producer: AIOKafkaProducer,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = f"retention-{uuid.uuid4().hex[:8]}"  # its own records and consumer group
    monkeypatch.setenv("RETENTION_DAYS", str(TINY_RETENTION_S / 86400))
    settings = workitem_settings(brokers, tenant_id=tenant, consumer_group_prefix=tenant)
    assert settings.retention_seconds == TINY_RETENTION_S
    agent = f"agent-{uuid.uuid4().hex[:10]}"

    async with serving_ready(create_app(settings)) as http:
        items = Items(http, producer, tenant)
        completed, cancelled, still_open = await items.three(agent)
        await items.reaches(still_open, "active")
        closed_keys = [*items.record_keys(completed), *items.record_keys(cancelled)]

        async def closed_are_gone() -> bool:
            return await redis.exists(*closed_keys) == 0

        await eventually(closed_are_gone, timeout=30)

        assert [await redis.ttl(k) for k in items.record_keys(still_open)] == [-1, -1]
        record = (await http.get(f"/v1/workitems/{still_open}")).json()
        assert (record["status"], len(record["history"])) == ("active", 3)
        inbox = (await http.get(f"/v1/agents/{agent}/inbox")).json()
        assert [row["work_item_id"] for row in inbox["items"]] == [still_open]
        assert await items.status(completed) is None
        assert await items.status(cancelled) is None


async def test_a_closed_record_is_kept_for_the_retention_and_an_open_one_has_no_ttl(
    workitem: RunningWorkItem, producer: AIOKafkaProducer, redis: Redis
) -> None:
    retention = workitem.settings.retention_seconds
    items = Items(workitem.http, producer, workitem.settings.tenant_id)

    completed, cancelled, still_open = await items.three(f"agent-{uuid.uuid4().hex[:10]}")
    await items.reaches(completed, "archived")
    await items.reaches(cancelled, "cancelled")
    await items.reaches(still_open, "active")

    for wid in (completed, cancelled):
        for key in items.record_keys(wid):
            assert retention - 60 <= await redis.ttl(key) <= retention, key
    assert [await redis.ttl(k) for k in items.record_keys(still_open)] == [-1, -1]
