"""The desktop gateway, started once per session against the session's real brokers.

It serves a tenant of its own, so the commands and tasks it hands on are not applied by
the other services the session may run (they dead-letter another tenant's commands).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.structs import ConsumerRecord
from desktop.config import DesktopSettings
from desktop.main import create_app
from switchboard_devtools.testing import Brokers, KafkaTap, cloud_event, serving_ready
from switchboard_devtools.testing_auth import bearer

pytestmark = pytest.mark.integration

TENANT = f"deskcmd{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunningDesktop:
    base_url: str
    settings: DesktopSettings
    http: httpx.AsyncClient

    def tap(self, topic: str) -> KafkaTap:
        return KafkaTap(self.settings.kafka_bootstrap_servers, topic)


def desktop_settings(brokers: Brokers, **overrides: Any) -> DesktopSettings:
    values: dict[str, Any] = {
        **brokers.settings(),
        "tenant_id": TENANT,
        "consumer_group_prefix": TENANT,
        "kafka_topic_partitions": 3,
        "kafka_fetch_max_wait_ms": 20,
        "default_phone_region": "US",
        "max_message_bytes": 16384,
        "log_format": "json",
        **overrides,
    }
    return DesktopSettings(**values)


@pytest_asyncio.fixture(scope="session")
async def desktop(brokers: Brokers) -> AsyncIterator[RunningDesktop]:
    settings = desktop_settings(brokers)
    async with serving_ready(create_app(settings)) as http:
        yield RunningDesktop(str(http.base_url), settings, http)


def agent(name: str) -> dict[str, str]:
    """The Authorization header of agent ``name``'s token."""
    return bearer(name, ["agent"])


def new_agent() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


def with_id(ce_id: str) -> Any:
    """Matches the record whose CloudEvents id is ``ce_id``."""

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        return cloud_event(record).get("id") == ce_id

    return match


def keyed(key: str, records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, Any]]:
    """The CloudEvents of ``records`` whose Kafka key is ``key``."""
    return [cloud_event(r) for r in records if r.key == key.encode()]
