"""Where a callback's due times live: the set of the partition its commands arrive on,
and the single set of services before that, which is still fired and still cleaned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers, eventually
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.watermarks import default_partition

from .conftest import TENANT, RunningCallback

pytestmark = pytest.mark.integration

KEYS = Keys(TENANT)


def _due(callback_id: str) -> str:
    return f"due|{callback_id}|1"


async def _schedule(service: RunningCallback, phone: str, queue: str, in_s: float) -> str:
    at = datetime.now(UTC) + timedelta(seconds=in_s)
    body = {"customer_phone": phone, "queue": queue, "scheduled_at": at.isoformat()}
    response = await service.http.post("/v1/callbacks", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["callback_id"])


async def _as_before_partitions(redis: Redis, callback_id: str) -> None:
    """Move the callback's due time to the single set, as a service before 2026-12-01
    (or one that did not know the partition count yet) kept it."""
    home = KEYS.callback_deadlines_of(default_partition(callback_id, 3))
    score = await redis.zscore(home, _due(callback_id))
    assert score is not None, "the due time is not in its partition's set"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(home, _due(callback_id))
        pipe.zadd(KEYS.callback_deadlines(), {_due(callback_id): score})
        await pipe.execute()


async def test_a_due_time_in_the_single_set_still_fires(
    service: RunningCallback, brokers: Brokers, phone: str, queue: str
) -> None:
    async with brokers.redis() as redis:
        callback_id = await _schedule(service, phone, queue, in_s=2)
        await _as_before_partitions(redis, callback_id)

        async def dialing() -> bool:
            record = (await service.http.get(f"/v1/callbacks/{callback_id}")).json()
            return bool(record["status"] == "waiting")

        await eventually(dialing, timeout=30)
        left = await redis.zscore(KEYS.callback_deadlines(), _due(callback_id))

    assert left is None


async def test_a_cancel_removes_a_due_time_from_the_single_set_too(
    service: RunningCallback, brokers: Brokers, phone: str, queue: str
) -> None:
    async with brokers.redis() as redis:
        callback_id = await _schedule(service, phone, queue, in_s=600)
        await _as_before_partitions(redis, callback_id)
        cancelled = await service.http.delete(f"/v1/callbacks/{callback_id}")
        left = await redis.zscore(KEYS.callback_deadlines(), _due(callback_id))

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert left is None
