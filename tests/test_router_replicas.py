"""Several router replicas, and a router killed mid-flight: nothing doubled, nothing lost."""

from __future__ import annotations

import collections
import functools
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from router.config import RouterSettings
from router.main import create_app as create_router
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import (
    KafkaTap,
    Match,
    answers_ready,
    cloud_event,
    eventually,
    serving,
)
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS, WORKITEM_EVENTS

from .conftest import Stack, agent_command, first_deliveries

pytestmark = pytest.mark.integration


def typed(ce_type: str) -> Match:
    return lambda r: cloud_event(r).get("type") == ce_type


def of_tenant(tenant: str) -> Match:
    return lambda r: cloud_event(r).get("tenantid") == tenant


def per_item(records: list[ConsumerRecord[bytes, bytes]], ce_type: str) -> collections.Counter[str]:
    """How many ``ce_type`` events each item had (events: a redelivery counts once)."""
    events = first_deliveries(records)
    return collections.Counter(
        cloud_event(r)["data"]["work_item_id"] for r in events if cloud_event(r)["type"] == ce_type
    )


async def test_two_replicas_share_the_load_without_double_offers_or_double_firing(
    stack: Stack, queue: str
) -> None:
    second = create_router(RouterSettings(**stack.router_env))
    agents = [f"{queue}-a{n}" for n in range(8)]
    desk = KafkaTap(stack.brokers.kafka_bootstrap_servers, AGENT_EVENTS)
    items = KafkaTap(stack.brokers.kafka_bootstrap_servers, WORKITEM_EVENTS)
    async with (
        serving(second) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
        desk,
        items,
    ):
        await eventually(functools.partial(answers_ready, http), timeout=60)
        created = [await stack.create(type="task", queue=queue) for _ in range(12)]
        for agent in agents:
            await stack.agent_available(agent, queue, capacity={"async": 1})
        offers = await desk.wait_for(
            lambda r: typed("offer.made")(r) and r.key.decode() in agents, count=8, timeout=40
        )
        # nobody answers: every offer expires once, whichever replica's timer gets there first
        await items.wait_for(
            lambda r: (
                typed("workitem.offer_expired")(r)
                and cloud_event(r)["subject"] in {c["work_item_id"] for c in created}
            ),
            count=8,
            timeout=40,
        )
        records = await items.read_to_end()

    offered_to = [json.loads(r.value or b"")["data"]["agent_id"] for r in offers]
    assert sorted(offered_to) == sorted(agents)  # one offer per agent (capacity 1)
    ours = {c["work_item_id"] for c in created}
    offered = per_item(
        [r for r in records if cloud_event(r).get("subject") in ours], "workitem.offered"
    )
    expired = per_item(
        [r for r in records if cloud_event(r).get("subject") in ours], "workitem.offer_expired"
    )
    assert len(offered) == 8
    assert set(offered.values()) == {1}
    assert expired == offered


def _created_event(tenant: str, wid: str, queue: str) -> bytes:
    data = {
        "work_item_id": wid,
        "type": "task",
        "priority": 5,
        "queue": queue,
        "created_at": datetime.now(UTC).isoformat(),
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "switchboard/workitem",
        "type": "workitem.created",
        "time": datetime.now(UTC).isoformat(),
        "subject": wid,
        "tenantid": tenant,
        "data": data,
    }
    return json.dumps(event).encode()


def _start_router(
    stack: Stack, tenant: str, port: int, log: Path, **overrides: str
) -> subprocess.Popen[bytes]:
    """A router process of ``tenant`` (its own consumer group); ``overrides``: more
    environment variables, e.g. ``OFFER_TIMEOUT_SECONDS="5"``."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.brokers.kafka_bootstrap_servers,
        "REDIS_URL": stack.brokers.redis_url,
        "TENANT_ID": tenant,
        "CONSUMER_GROUP_PREFIX": tenant,
        "ROUTER_HTTP_PORT": str(port),
        "OFFER_TIMEOUT_SECONDS": "2",
        "ROUTING_CONFIG": str(stack.router_env["routing_config"]),
        "LOG_FORMAT": "json",
        **overrides,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "router"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _agents_available(stack: Stack, tenant: str, agents: list[str], queue: str) -> None:
    for agent in agents:
        event = agent_command(
            "agent.status",
            {"agent_id": agent, "status": "available", "queues": [queue]},
            tenantid=tenant,
        )
        await stack.producer.send_and_wait(
            AGENT_COMMANDS, json.dumps(event).encode(), key=agent.encode()
        )


async def test_router_killed_and_restarted_loses_nothing_and_fires_every_deadline(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    tenant = f"kill{uuid.uuid4().hex[:8]}"
    port = free_port()
    wids = [f"{tenant}-item-{n}" for n in range(6)]
    agents = [f"{tenant}-agent-{n}" for n in range(3)]
    mine = of_tenant(tenant)
    bootstrap = stack.brokers.kafka_bootstrap_servers
    async with (
        KafkaTap(bootstrap, AGENT_EVENTS) as desk,
        KafkaTap(bootstrap, WORKITEM_EVENTS) as items,
        httpx.AsyncClient(headers=bearer(), base_url=f"http://127.0.0.1:{port}") as http,
    ):
        first = _start_router(stack, tenant, port, tmp_path / "router.log")
        try:
            await eventually(functools.partial(answers_ready, http), timeout=60)
            for wid in wids:
                value = _created_event(tenant, wid, queue)
                await stack.producer.send_and_wait(WORKITEM_EVENTS, value, key=wid.encode())
            await _agents_available(stack, tenant, agents, queue)
            await desk.wait_for(lambda r: mine(r) and typed("offer.made")(r), count=3, timeout=30)
        finally:
            first.kill()  # SIGKILL: no graceful shutdown, three offers pending
            first.wait(10)
        second = _start_router(stack, tenant, port, tmp_path / "router.log")
        try:
            expired = await items.wait_for(
                lambda r: mine(r) and typed("workitem.offer_expired")(r), count=3, timeout=60
            )
            await _agents_available(stack, tenant, agents, queue)  # back after missed offers
            await items.wait_for(
                lambda r: mine(r) and typed("workitem.offered")(r), count=6, timeout=60
            )
            records = await items.read_to_end()
        finally:
            second.terminate()
            second.wait(30)

    ours = [r for r in records if mine(r)]
    expired_per_offer = collections.Counter(
        cloud_event(r)["data"]["offer_id"] for r in ours if typed("workitem.offer_expired")(r)
    )
    pending_at_kill = {cloud_event(r)["data"]["offer_id"] for r in expired}
    assert len(pending_at_kill) == 3
    assert all(expired_per_offer[offer] == 1 for offer in pending_at_kill)
    assert max(expired_per_offer.values()) == 1  # no deadline fired twice
    assert set(per_item(ours, "workitem.offered")) == set(wids)  # every item reached an agent
