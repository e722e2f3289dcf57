"""The work item service, started once per session against the session's real brokers."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing import Brokers, serving_ready
from workitem.config import WorkItemSettings
from workitem.main import create_app

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class RunningWorkItem:
    base_url: str
    settings: WorkItemSettings
    http: httpx.AsyncClient


def workitem_settings(brokers: Brokers, **overrides: Any) -> WorkItemSettings:
    values: dict[str, Any] = {
        **brokers.settings(),
        "kafka_topic_partitions": 3,
        "default_phone_region": "US",
        "max_message_bytes": 16384,
        "log_format": "json",
        **overrides,
    }
    return WorkItemSettings(**values)


@pytest_asyncio.fixture(scope="session")
async def workitem(brokers: Brokers) -> AsyncIterator[RunningWorkItem]:
    settings = workitem_settings(brokers)
    async with serving_ready(create_app(settings)) as http:
        yield RunningWorkItem(str(http.base_url), settings, http)


@pytest_asyncio.fixture(scope="session")
async def producer(brokers: Brokers) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=brokers.kafka_bootstrap_servers, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


def command(type_: str, data: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    """A CloudEvents command as upstream would publish it."""
    return {
        "specversion": "1.0",
        "id": attrs.pop("id", str(uuid.uuid4())),
        "source": attrs.pop("source", "tests/upstream"),
        "type": type_,
        "time": datetime.now(UTC).isoformat(),
        "data": data,
        **attrs,
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def callback_service_item(wid: str, **fields: Any) -> dict[str, Any]:
    """``workitem.created`` as the callback service publishes it when a callback is due
    (the work item intake itself refuses ``type: callback``)."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "switchboard/callback",
        "type": "workitem.created",
        "time": datetime.now(UTC).isoformat(),
        "subject": wid,
        "tenantid": "default",
        "data": {
            "work_item_id": wid,
            "type": "callback",
            "customer_phone": "+14155552671",
            "channel": "phone",
            "reason": "Invoice",
            "outbound": True,
            "created_at": datetime.now(UTC).isoformat(),
            "attributes": {"callback_id": "cb-1", "attempt": "1", "source": "callback"},
            **fields,
        },
    }
