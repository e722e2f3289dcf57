"""One poison record among hundreds costs only itself (issue 9, part 1).

Everything is published before the router of a fresh tenant starts, so its first fetch
holds every record of every partition in one batch: the case where one record that
failed to decode used to abort the whole batch and the next commit passed it.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import KafkaTap, answers_ready, cloud_event, eventually
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS, WORKITEM_EVENTS, dlq_topic

from .conftest import Stack, agent_command
from .test_router_replicas import _created_event, _start_router, of_tenant, typed

pytestmark = pytest.mark.integration

OUT_OF_RANGE = ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")


def _cancel_requested(tenant: str, wid: str, time: str) -> bytes:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "switchboard/workitem",
        "type": "workitem.cancel_requested",
        "time": time,
        "subject": wid,
        "tenantid": tenant,
        "data": {"work_item_id": wid},
    }
    return json.dumps(event).encode()


def _from(tenant: str, raw: bytes | None) -> bool:
    try:
        return bool(json.loads(raw or b"").get("tenantid") == tenant)
    except ValueError:
        return False


Position = tuple[int, int]


async def _publish_with_poison(
    stack: Stack, tenant: str, queue: str
) -> tuple[list[str], set[Position], set[Position]]:
    """200 valid items, one poison cancel per partition of workitem.events; 20 agents behind
    a poison status each on agent.commands. Returns the item ids and where the poison is."""
    producer = stack.producer
    wids = [f"{tenant}-item-{n}" for n in range(200)]
    partitions = sorted(await producer.partitions_for(WORKITEM_EVENTS))
    poison_items: set[Position] = set()
    for n, partition in enumerate(partitions):
        poison = _cancel_requested(tenant, f"{tenant}-poison-{n}", OUT_OF_RANGE[n % 2])
        sent = await producer.send_and_wait(WORKITEM_EVENTS, poison, partition=partition)
        poison_items.add((sent.partition, sent.offset))
    for wid in wids:
        await producer.send(WORKITEM_EVENTS, _created_event(tenant, wid, queue), key=wid.encode())
    poison_commands: set[Position] = set()
    for n in range(20):
        agent = f"{tenant}-agent-{n}"
        data = {"agent_id": agent, "status": "available", "queues": [queue]}
        bad = agent_command("agent.status", data, tenantid=tenant, time=OUT_OF_RANGE[n % 2])
        good = agent_command("agent.status", {**data, "status": "away"}, tenantid=tenant)
        sent = await producer.send_and_wait(AGENT_COMMANDS, _json(bad), key=agent.encode())
        poison_commands.add((sent.partition, sent.offset))
        await producer.send(AGENT_COMMANDS, _json(good), key=agent.encode())
    await producer.flush()
    return wids, poison_items, poison_commands


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def _dead_lettered(records: list[ConsumerRecord[bytes, bytes]]) -> set[Position]:
    """Where the records dead-lettered for an out-of-range time came from."""
    found = set()
    for record in records:
        headers = dict(record.headers)
        detail = headers.get("sb-error-detail", b"")
        if headers.get("sb-error") == b"not_cloudevent" and b"time: must lie between" in detail:
            found.add((int(headers["sb-source-partition"]), int(headers["sb-source-offset"])))
    return found


async def _all_dead_lettered(tap: KafkaTap, poison: set[Position]) -> bool:
    return poison <= _dead_lettered(await tap.read_to_end())


async def test_a_poison_record_in_every_partition_costs_only_itself(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    tenant = f"poison{uuid.uuid4().hex[:8]}"
    port = free_port()
    bootstrap = stack.brokers.kafka_bootstrap_servers
    mine = of_tenant(tenant)
    async with (
        KafkaTap(bootstrap, WORKITEM_EVENTS) as items,
        KafkaTap(bootstrap, AGENT_EVENTS) as desk,
        KafkaTap(bootstrap, dlq_topic(WORKITEM_EVENTS)) as item_dlq,
        KafkaTap(bootstrap, dlq_topic(AGENT_COMMANDS)) as command_dlq,
        httpx.AsyncClient(headers=bearer(), base_url=f"http://127.0.0.1:{port}") as http,
    ):
        wids, poison_items, poison_commands = await _publish_with_poison(stack, tenant, queue)
        router = _start_router(stack, tenant, port, tmp_path / "router.log")
        try:
            await eventually(functools.partial(answers_ready, http), timeout=60)
            queued = await items.wait_for(
                lambda r: mine(r) and typed("workitem.queued")(r), count=200, timeout=60
            )
            changed = await desk.wait_for(
                lambda r: mine(r) and typed("agent.status_changed")(r), count=20, timeout=60
            )
            await eventually(functools.partial(_all_dead_lettered, item_dlq, poison_items), 30)
            await eventually(
                functools.partial(_all_dead_lettered, command_dlq, poison_commands), 30
            )
        finally:
            router.terminate()
            router.wait(30)

    assert {cloud_event(r)["subject"] for r in queued} == set(wids)
    assert all(cloud_event(r)["data"]["status"] == "away" for r in changed)
    assert len({p for p, _ in poison_items}) == len(poison_items)  # one in every partition


def test_out_of_range_events_are_what_the_test_publishes() -> None:
    """The poison really is out of range once converted to UTC (guards the fixture)."""
    for text in OUT_OF_RANGE:
        with pytest.raises(OverflowError):
            datetime.fromisoformat(text).astimezone(UTC)
