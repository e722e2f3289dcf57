"""The callback service, started once per session against the session's real brokers.

Tests share the service and the brokers: each uses its own phone numbers and queue.
The router is simulated by publishing its lifecycle events (source switchboard/router).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import phonenumbers
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from callback.config import CallbackSettings
from callback.main import create_app
from switchboard_devtools.testing import Brokers, serving_ready
from switchboard_schemas.topics import WORKITEM_EVENTS

pytestmark = pytest.mark.integration

RETRY_DELAY_S = 1.0
# A tenant of its own: the cross-service tests run a callback service with other
# settings against the same brokers, and each must only see its own callbacks.
TENANT = "cbtests"
MAX_ATTEMPTS = 2


@dataclass(frozen=True)
class RunningCallback:
    base_url: str
    settings: CallbackSettings
    http: httpx.AsyncClient
    producer: AIOKafkaProducer

    async def router_event(self, ce_type: str, data: dict[str, Any]) -> None:
        """Publish a lifecycle event as the router would (keyed by work item id)."""
        event = command(ce_type, data, source="switchboard/router", subject=data["work_item_id"])
        key = data["work_item_id"].encode()
        await self.producer.send_and_wait(WORKITEM_EVENTS, encode(event), key=key)

    async def dialed(self, work_item_id: str, agent_id: str = "agent-7") -> None:
        await self.router_event(
            "workitem.dialed",
            {"work_item_id": work_item_id, "offer_id": "of-1", "agent_id": agent_id},
        )

    async def completed(self, work_item_id: str, code: str, agent_id: str = "agent-7") -> None:
        await self.router_event(
            "workitem.completed",
            {"work_item_id": work_item_id, "agent_id": agent_id, "disposition_code": code},
        )

    async def status_of(self, callback_id: str) -> str:
        return str((await self.http.get(f"/v1/callbacks/{callback_id}")).json()["status"])


def callback_settings(brokers: Brokers, **overrides: Any) -> CallbackSettings:
    values: dict[str, Any] = {
        **brokers.settings(),
        "kafka_topic_partitions": 3,
        "default_phone_region": "US",
        "max_message_bytes": 16384,
        "log_format": "json",
        "consumer_group_prefix": f"callback-tests-{uuid.uuid4().hex[:8]}",
        "tenant_id": TENANT,
        "callback_retry_delay_seconds": RETRY_DELAY_S,
        "callback_max_attempts": MAX_ATTEMPTS,
        "deadline_poll_ms": 50,
        **overrides,
    }
    return CallbackSettings(**values)


@pytest_asyncio.fixture(scope="session")
async def producer(brokers: Brokers) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=brokers.kafka_bootstrap_servers, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest_asyncio.fixture(scope="session")
async def service(brokers: Brokers, producer: AIOKafkaProducer) -> AsyncIterator[RunningCallback]:
    settings = callback_settings(brokers)
    async with serving_ready(create_app(settings), client_timeout=30) as http:
        yield RunningCallback(str(http.base_url), settings, http, producer)


def new_phone() -> str:
    """A valid US number nobody else in the session uses (E.164)."""
    rng = random.SystemRandom()
    while True:
        digits = f"+1415{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(digits)):
            return digits


@pytest.fixture
def phone() -> str:
    return new_phone()


@pytest.fixture
def queue() -> str:
    return f"cbq-{uuid.uuid4().hex[:12]}"


def command(type_: str, data: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    """A CloudEvent as an upstream system would publish it."""
    return {
        "specversion": "1.0",
        "id": attrs.pop("id", str(uuid.uuid4())),
        "source": attrs.pop("source", "tests/ivr"),
        "type": type_,
        "time": attrs.pop("time", datetime.now(UTC).isoformat()),
        "tenantid": attrs.pop("tenantid", TENANT),
        "data": data,
        **attrs,
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()
