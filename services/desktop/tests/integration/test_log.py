"""The desktop log applying a batch (real Valkey): each event appended once to its
agent's log, in order, and one news message naming every agent whose log grew."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from desktop.log import DesktopLog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub
from switchboard_devtools.testing import Brokers
from switchboard_runtime.atomic import PIPELINE_CALLS, FixedGeneration
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.agent_events import AgentStatusChanged
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemCancelled

pytestmark = pytest.mark.integration

NOW_MS = 1_790_000_000_000


@pytest.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis()
    yield client
    await client.aclose()


async def logged_ids(redis: Redis, log_key: str) -> list[str]:
    """The CloudEvents ids in an agent's log, oldest first."""
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrange(log_key))
    return [CloudEvent.model_validate_json(fields[b"e"]).id for _, fields in entries]


async def a_log(redis: Redis) -> tuple[DesktopLog, Keys]:
    keys = Keys(f"log{uuid.uuid4().hex[:8]}")
    generation = FixedGeneration(keys.generation(), "test:gen")
    await redis.set(generation.key, "test:gen")
    log = DesktopLog(
        redis,
        keys,
        generation,
        seen_ttl=60,
        resume_ms=600_000,
        max_entries=100,
        clock_ms=lambda: NOW_MS,
    )
    return log, keys


def event(ce_type: str, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent.model_validate(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "switchboard/router",
            "type": ce_type,
            "time": "2026-12-01T10:00:00Z",
            "tenantid": "t",
            "data": data,
        }
    )


def status(agent: str) -> tuple[CloudEvent, AgentStatusChanged]:
    data = {"agent_id": agent, "status": "available"}
    return event("agent.status_changed", data), AgentStatusChanged.model_validate(data)


@pytest.fixture
async def subscribed(redis: Redis) -> AsyncIterator[PubSub]:
    async with redis.pubsub() as pubsub:
        yield pubsub


async def next_message(pubsub: PubSub, kind: str) -> dict[str, Any]:
    """The next message of ``kind`` (subscribe, message) within 10 s; on a cluster the
    news are sharded (ssubscribe, smessage), as the gateway's hub reads them."""
    sharded = isinstance(pubsub, ClusterPubSub)
    get = pubsub.get_sharded_message if isinstance(pubsub, ClusterPubSub) else pubsub.get_message
    async with asyncio.timeout(10):
        while True:
            message = await get(timeout=1.0)
            if message is not None and message["type"] == ("s" if sharded else "") + kind:
                return dict(message)


async def test_a_batch_appends_once_in_order_and_names_every_agent_in_one_message(
    redis: Redis, subscribed: PubSub
) -> None:
    log, keys = await a_log(redis)
    ada, bo = status("ada"), status("bo")
    ada_again = status("ada")
    nobody_data = {"work_item_id": "w-1", "reason": "duplicate"}  # cancelled, held by nobody
    nobody = (
        event("workitem.cancelled", nobody_data),
        WorkItemCancelled.model_validate(nobody_data),
    )
    plans = [log.plan(e, p) for e, p in (ada, nobody, bo, ada_again, ada)]  # ada's first twice
    if isinstance(subscribed, ClusterPubSub):
        await subscribed.ssubscribe(keys.desktop_channel())
    else:
        await subscribed.subscribe(keys.desktop_channel())
    await next_message(subscribed, "subscribe")

    outcomes = await log.execute(plans)

    assert outcomes == ["appended", "not_for_an_agent", "appended", "appended", "duplicate"]
    assert await logged_ids(redis, keys.desktop_log("ada")) == [ada[0].id, ada_again[0].id]
    assert await logged_ids(redis, keys.desktop_log("bo")) == [bo[0].id]
    news = await next_message(subscribed, "message")
    assert news["data"].decode().split("\n") == ["ada", "bo"]


async def test_a_batch_longer_than_one_round_trip_keeps_its_order(redis: Redis) -> None:
    log, keys = await a_log(redis)
    events = [status("ada") for _ in range(PIPELINE_CALLS * 2 + 3)]

    outcomes = await log.execute([log.plan(e, p) for e, p in events])

    assert outcomes == ["appended"] * len(events)
    assert await logged_ids(redis, keys.desktop_log("ada")) == [e.id for e, _ in events]
