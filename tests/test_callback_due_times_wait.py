"""A callback's due time waits for the commands sent before it (issue 9, part 5).

A customer cancels a scheduled callback while the callback service is down. The cancel
reached Kafka before the due time, so when the service comes back after the due time it
must apply the cancel first: the callback ends cancelled and no outbound item is ever
created (no agent is asked to dial a customer who said no).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import KafkaTap, answers_ready, cloud_event, eventually
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_EVENTS

from .conftest import Stack, agent_command
from .test_router_replicas import of_tenant

pytestmark = pytest.mark.integration

Record: TypeAlias = ConsumerRecord[bytes, bytes]
CALLBACKS = 50
DUE_S = 6  # long enough that the cancels sent right after the crash are surely in time


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _start(stack: Stack, tenant: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """A callback service process of ``tenant`` (its own consumer group)."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.brokers.kafka_bootstrap_servers,
        "REDIS_URL": stack.brokers.redis_url,
        "TENANT_ID": tenant,
        "CONSUMER_GROUP_PREFIX": tenant,
        "CALLBACK_HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "callback"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _send(stack: Stack, tenant: str, commands: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """Publish callback commands (keyed by callback id) at once; their Kafka timestamps."""
    pending = []
    for ce_type, data in commands:
        event = json.dumps(agent_command(ce_type, data, tenantid=tenant)).encode()
        key = str(data["callback_id"]).encode()
        pending.append(await stack.producer.send(CALLBACK_COMMANDS, event, key=key))
    return [int((await sent).timestamp) for sent in pending]


def _requests(ids: list[str], queue: str, due: datetime) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "callback.request",
            {
                "callback_id": cid,
                "customer_phone": f"+1415555{1000 + n}",
                "queue": queue,
                "scheduled_at": due.isoformat(),
            },
        )
        for n, cid in enumerate(ids)
    ]


def _of(tenant: str, ce_type: str) -> Callable[[Record], bool]:
    return lambda r: of_tenant(tenant)(r) and cloud_event(r)["type"] == ce_type


async def _ready_at(port: int) -> None:
    async with httpx.AsyncClient(headers=bearer(), base_url=f"http://127.0.0.1:{port}") as http:
        await eventually(functools.partial(answers_ready, http), timeout=60)


async def _scheduled_then_killed(
    stack: Stack, tenant: str, ids: list[str], queue: str, items: KafkaTap, log: Path
) -> tuple[int, int]:
    """A service schedules a callback per id, due DUE_S from now, and is SIGKILLed
    before any is due. Returns its port and the due time (epoch ms)."""
    port = free_port()
    process = _start(stack, tenant, port, log)
    try:
        await _ready_at(port)
        due = datetime.now(UTC) + timedelta(seconds=DUE_S)
        await _send(stack, tenant, _requests(ids, queue, due))
        await items.wait_for(_of(tenant, "callback.scheduled"), count=len(ids), timeout=60)
    finally:
        process.kill()
        process.wait(10)
    return port, int(due.timestamp() * 1000)


async def test_callbacks_cancelled_while_the_service_was_down_are_never_dialed(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    tenant, log = f"cbw{uuid.uuid4().hex[:8]}", tmp_path / "callback.log"
    ids = [f"{tenant}-cb-{n}" for n in range(CALLBACKS)]
    async with KafkaTap(stack.brokers.kafka_bootstrap_servers, WORKITEM_EVENTS) as items:
        port, due_ms = await _scheduled_then_killed(stack, tenant, ids, queue, items, log)
        cancels = [("callback.cancel", {"callback_id": cid, "reason": "called in"}) for cid in ids]
        sent = await _send(stack, tenant, cancels)
        assert max(sent) < due_ms, "the cancels were not in time"
        await eventually(lambda: _now_ms() > due_ms + 1000, timeout=DUE_S + 30)

        second = _start(stack, tenant, port, log)
        try:
            cancelled = await items.wait_for(
                _of(tenant, "callback.cancelled"), count=CALLBACKS, timeout=90
            )
            await _ready_at(port)
            async with httpx.AsyncClient(
                headers=bearer(), base_url=f"http://127.0.0.1:{port}"
            ) as http:
                records = [(await http.get(f"/v1/callbacks/{cid}")).json() for cid in ids]
            events = [r for r in await items.read_to_end() if of_tenant(tenant)(r)]
        finally:
            second.terminate()
            second.wait(30)

    assert sorted(cloud_event(r)["subject"] for r in cancelled) == sorted(ids)
    assert {r["status"] for r in records} == {"cancelled"}
    assert [a.get("work_item_id") for r in records for a in r["attempts"]] == [None] * CALLBACKS
    assert [cloud_event(r)["type"] for r in events if "workitem" in cloud_event(r)["type"]] == []
