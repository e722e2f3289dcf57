"""Retention (RETENTION_DAYS): a closed callback's record and the links of its work items
expire; an open callback never does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from callback.main import create_app
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers, KafkaTap, eventually, of_type, serving_ready
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.topics import WORKITEM_EVENTS

from .conftest import RunningCallback, callback_settings, command, encode, new_phone

pytestmark = pytest.mark.integration

RETENTION_S = 2
DAY_S = 86_400
# A tenant of its own: this service keeps closed callbacks for seconds only, so it must
# never commit a change to the callbacks of the shared service.
SHORT_TENANT = f"cbret{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(scope="module")
async def short_lived(
    brokers: Brokers, producer: AIOKafkaProducer
) -> AsyncIterator[RunningCallback]:
    """A callback service that keeps closed callbacks for RETENTION_S seconds."""
    settings = callback_settings(
        brokers, tenant_id=SHORT_TENANT, retention_days=RETENTION_S / DAY_S
    )
    assert settings.retention_seconds == RETENTION_S
    async with serving_ready(create_app(settings), client_timeout=30) as http:
        yield RunningCallback(str(http.base_url), settings, http, producer)


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    async with brokers.redis() as client:
        yield client


async def _post(service: RunningCallback, **body: Any) -> str:
    queue = f"cbq-{uuid.uuid4().hex[:12]}"
    body = {"customer_phone": new_phone(), "queue": queue, **body}
    response = await service.http.post("/v1/callbacks", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["callback_id"])


async def _later(service: RunningCallback) -> str:
    """A callback due in ten minutes: it stays open (scheduled) throughout a test."""
    at = datetime.now(UTC) + timedelta(minutes=10)
    return await _post(service, scheduled_at=at.isoformat())


async def _cancel(service: RunningCallback, callback_id: str) -> None:
    response = await service.http.delete(f"/v1/callbacks/{callback_id}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


async def _router_event(service: RunningCallback, ce_type: str, data: dict[str, Any]) -> None:
    """A lifecycle event as the router of the service's tenant would publish it."""
    wid = data["work_item_id"]
    event = command(
        ce_type,
        data,
        source="switchboard/router",
        subject=wid,
        tenantid=service.settings.tenant_id,
    )
    await service.producer.send_and_wait(WORKITEM_EVENTS, encode(event), key=wid.encode())


async def _no_answer(service: RunningCallback, work_item_id: str) -> None:
    data = {"work_item_id": work_item_id, "agent_id": "agent-7"}
    await _router_event(service, "workitem.dialed", {**data, "offer_id": "of-1"})
    await _router_event(service, "workitem.completed", {**data, "disposition_code": "no_answer"})


async def _status(service: RunningCallback, callback_id: str) -> int:
    return (await service.http.get(f"/v1/callbacks/{callback_id}")).status_code


async def test_a_closed_callback_expires_while_an_open_one_stays(
    short_lived: RunningCallback, redis: Redis
) -> None:
    keys = Keys(short_lived.settings.tenant_id)
    open_id, closed_id = await _later(short_lived), await _post(short_lived)
    open_linked = await _post(short_lived)  # due now: its first item exists and links to it
    await _cancel(short_lived, closed_id)

    assert 0 < await redis.ttl(keys.callback(closed_id)) <= RETENTION_S
    assert 0 < await redis.ttl(keys.callback_of_item(f"{closed_id}-1")) <= RETENTION_S

    async def gone() -> bool:
        return await redis.exists(keys.callback(closed_id)) == 0

    await eventually(gone, timeout=15)
    assert await redis.exists(keys.callback_of_item(f"{closed_id}-1")) == 0
    assert await _status(short_lived, closed_id) == 404
    assert await redis.ttl(keys.callback(open_id)) == -1
    assert await redis.ttl(keys.callback(open_linked)) == -1
    assert await redis.ttl(keys.callback_of_item(f"{open_linked}-1")) == -1
    assert await _status(short_lived, open_id) == 200
    assert await _status(short_lived, open_linked) == 200


async def test_a_callback_that_fails_after_its_attempts_expires_with_every_item_link(
    short_lived: RunningCallback, redis: Redis
) -> None:
    keys = Keys(short_lived.settings.tenant_id)
    async with KafkaTap(short_lived.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as events:
        callback_id = await _post(short_lived)
        await events.wait_for(of_type("workitem.created", f"{callback_id}-1"))
        await _no_answer(short_lived, f"{callback_id}-1")
        await events.wait_for(of_type("workitem.created", f"{callback_id}-2"), timeout=30)
        assert await redis.ttl(keys.callback(callback_id)) == -1  # retrying: still open
        assert await redis.ttl(keys.callback_of_item(f"{callback_id}-1")) == -1
        await _no_answer(short_lived, f"{callback_id}-2")
        await events.wait_for(of_type("callback.failed", callback_id))

    links = [keys.callback_of_item(f"{callback_id}-{n}") for n in (1, 2)]

    async def all_gone() -> bool:
        return await redis.exists(keys.callback(callback_id), *links) == 0

    await eventually(all_gone, timeout=15)
    assert await _status(short_lived, callback_id) == 404


async def test_by_default_a_closed_callback_is_kept_for_thirty_days(
    service: RunningCallback, redis: Redis
) -> None:
    keys = Keys(service.settings.tenant_id)
    assert service.settings.retention_days == 30
    open_id, closed_id = await _later(service), await _post(service)
    await _cancel(service, closed_id)

    for key in (keys.callback(closed_id), keys.callback_of_item(f"{closed_id}-1")):
        assert 30 * DAY_S - 60 < await redis.ttl(key) <= 30 * DAY_S
    assert await redis.ttl(keys.callback(open_id)) == -1
    assert await _status(service, closed_id) == 200
