"""Cross-service fixtures: the work item service and the router, running together.

Both run in this process against the session's real brokers, with short deadlines
(offer 2 s, wrap-up 3 s) and a routing config of their own, whose queues `e2e-NN`
are handed out one per test so that tests never see each other's items.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from callback.config import CallbackSettings
from callback.main import create_app as create_callback
from redis.asyncio import Redis
from router.config import RouterSettings
from router.main import create_app as create_router
from switchboard_devtools.testing import Brokers, cloud_event, serving_ready
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.topics import AGENT_COMMANDS
from workitem.config import WorkItemSettings
from workitem.main import create_app as create_workitem

from .snapshotkit import TENANT, ReadSide

OFFER_TIMEOUT_S = 2.0
WRAPUP_TIMEOUT_S = 3.0
QUEUES = [f"e2e-{n:02d}" for n in range(1, 61)]
_next_queue = itertools.count()


CALLBACK_RETRY_S = 2.0


@dataclass(frozen=True)
class Stack:
    http: httpx.AsyncClient
    producer: AIOKafkaProducer
    brokers: Brokers
    router_env: dict[str, Any]
    callbacks: httpx.AsyncClient

    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/workitems", json=fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def command(self, ce_type: str, data: dict[str, Any], **attrs: Any) -> str:
        """Publish an agent command as the desktop would; returns its CloudEvents id."""
        event = agent_command(ce_type, data, **attrs)
        await self.producer.send_and_wait(
            AGENT_COMMANDS, json.dumps(event).encode(), key=str(data["agent_id"]).encode()
        )
        return str(event["id"])

    async def agent_available(self, agent_id: str, queue: str, **extra: Any) -> None:
        await self.command(
            "agent.status",
            {"agent_id": agent_id, "status": "available", "queues": [queue], **extra},
        )


def agent_command(ce_type: str, data: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "tests/desktop",
        "type": ce_type,
        "time": datetime.now(UTC).isoformat(),
        "data": data,
        **attrs,
    }


def first_deliveries(
    records: list[ConsumerRecord[bytes, bytes]],
) -> list[ConsumerRecord[bytes, bytes]]:
    """Each CloudEvent once: the first record of each (topic, id). Delivery is at least
    once (a relay that paused may publish again what another relay published), and the
    consumers drop a repeated id; a repeat must carry the very same event."""
    first: dict[tuple[str, str], bytes] = {}
    out = []
    for record in records:
        ident = (record.topic, str(cloud_event(record).get("id")))
        if ident in first:
            assert first[ident] == record.value, f"two events share the id {ident}"
            continue
        first[ident] = record.value or b""
        out.append(record)
    return out


def routing_yaml(path: Path) -> Path:
    names = ["chat", "call", "task", "callback", "review", "approval", "email", *QUEUES]
    queues: dict[str, dict[str, str]] = {name: {} for name in names}
    path.write_text(json.dumps({"queues": queues}))  # JSON is valid YAML
    return path


@pytest.fixture
def queue() -> str:
    """A queue no other test uses."""
    return QUEUES[next(_next_queue)]


@pytest.fixture
def agent_id() -> str:
    return f"agent-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def e2e_env(brokers: Brokers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {
        "kafka_bootstrap_servers": brokers.kafka_bootstrap_servers,
        "redis_url": brokers.redis_url,
        "kafka_topic_partitions": 3,
        "consumer_group_prefix": "e2e",
        "log_format": "json",
    }


@pytest_asyncio.fixture(scope="session")
async def stack(
    brokers: Brokers, e2e_env: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    router_env = {
        **e2e_env,
        "offer_timeout_seconds": OFFER_TIMEOUT_S,
        "wrapup_timeout_seconds": WRAPUP_TIMEOUT_S,
        "routing_config": routing_yaml(tmp_path_factory.mktemp("routing") / "routing.yaml"),
    }
    callback_env = {
        **e2e_env,
        "callback_retry_delay_seconds": CALLBACK_RETRY_S,
        "default_phone_region": "US",
    }
    apps = [
        create_workitem(WorkItemSettings(**e2e_env)),
        create_router(RouterSettings(**router_env)),
        create_callback(CallbackSettings(**callback_env)),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=brokers.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        async with contextlib.AsyncExitStack() as running:
            clients = []
            for app in apps:
                clients.append(await running.enter_async_context(serving_ready(app)))
            yield Stack(clients[0], producer, brokers, router_env, clients[2])
    finally:
        await producer.stop()


# --- the snapshot's tests (test_desktop_snapshot*.py): Valkey, the work item read side ---


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = Redis.from_url(brokers.redis_url)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def read_side(redis: Redis) -> ReadSide:
    keys = Keys(TENANT)
    generation = Generation(redis, keys)

    async def new_deployment() -> bool:
        return True

    assert await generation.establish(new_deployment)
    return ReadSide(redis, keys, generation)
