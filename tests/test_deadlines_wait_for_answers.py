"""Deadlines wait for the answers agents sent in time (issue 9, part 5).

A router that crashed or paused comes back to a backlog of agent commands on Kafka and
to deadlines that lapsed meanwhile in Redis. The answers were sent before the deadlines,
so the deadlines must not fire: a deadline fires only once every command that could have
answered it in time is applied. And with two replicas, one of them paused while the
group moved its partitions, every deadline nobody answered still fires exactly once.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import KafkaTap, answers_ready, cloud_event, eventually
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS, WORKITEM_EVENTS

from .conftest import Stack, agent_command, first_deliveries
from .test_router_replicas import _created_event, _start_router, of_tenant, per_item

pytestmark = pytest.mark.integration

AGENTS = 100
OFFER_S = 5  # long enough that answers sent right after the crash are surely in time
WRAPUP_S = 5
Record: TypeAlias = ConsumerRecord[bytes, bytes]
Command = tuple[str, dict[str, Any]]
Offers = dict[str, dict[str, Any]]  # agent id -> the data of its offer.made


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _data(record: Record) -> dict[str, Any]:
    data: dict[str, Any] = cloud_event(record)["data"]
    return data


@dataclass
class Scenario:
    """One tenant's agents and items, and what its routers publish."""

    stack: Stack
    tenant: str
    desk: KafkaTap  # agent.events
    items: KafkaTap  # workitem.events

    def mine(self, record: Record, *types: str) -> bool:
        return of_tenant(self.tenant)(record) and cloud_event(record)["type"] in types

    async def events(self, *types: str, count: int = AGENTS) -> list[Record]:
        """The first ``count`` events of ``types`` (work item or agent events)."""
        tap = self.desk if types[0].split(".")[0] in ("offer", "agent") else self.items
        return await tap.wait_for(lambda r: self.mine(r, *types), count=count, timeout=90)

    async def everything(self) -> list[Record]:
        """All the tenant's events so far (reading both topics to their end), each once."""
        records = [*await self.items.read_to_end(), *await self.desk.read_to_end()]
        return first_deliveries([r for r in records if of_tenant(self.tenant)(r)])

    async def send(self, commands: list[Command]) -> list[int]:
        """Publish agent commands (keyed by agent id) at once; their Kafka timestamps."""
        pending = []
        for ce_type, data in commands:
            event = json.dumps(agent_command(ce_type, data, tenantid=self.tenant)).encode()
            key = str(data["agent_id"]).encode()
            pending.append(await self.stack.producer.send(AGENT_COMMANDS, event, key=key))
        return [int((await sent).timestamp) for sent in pending]

    async def offer_to_every_agent(self, queue: str) -> Offers:
        """AGENTS items, AGENTS available agents with room for one each: agent -> offer."""
        for n in range(AGENTS):
            wid = f"{self.tenant}-item-{n}".encode()
            event = _created_event(self.tenant, wid.decode(), queue)
            await self.stack.producer.send(WORKITEM_EVENTS, event, key=wid)
        status = {"status": "available", "queues": [queue], "capacity": {"async": 1}}
        agents = [f"{self.tenant}-agent-{n}" for n in range(AGENTS)]
        await self.send([("agent.status", {"agent_id": a, **status}) for a in agents])
        offers = {_data(r)["agent_id"]: _data(r) for r in await self.events("offer.made")}
        assert sorted(offers) == sorted(agents)
        return offers

    async def accepted_in_time(self, offers: Offers) -> None:
        """Every agent of ``offers`` accepts its offer, in time; wait for the deadlines."""
        await self.answered_in_time(
            _accepts(offers), [_ms(o["expires_at"]) for o in offers.values()]
        )

    async def answered_in_time(self, commands: list[Command], due_ms: list[int]) -> None:
        """Send the answers, check each reached Kafka before its deadline, then wait
        until every deadline has passed."""
        sent = await self.send(commands)
        late = [(at, due) for at, due in zip(sent, due_ms, strict=True) if at >= due]
        assert not late, f"answers not in time: {late[:5]}"
        wait_s = max(due_ms) / 1000 - time.time() + 5
        await eventually(lambda: _now_ms() > max(due_ms), timeout=max(wait_s, 1.0))


@contextlib.asynccontextmanager
async def _scenario(stack: Stack, prefix: str) -> AsyncIterator[Scenario]:
    bootstrap = stack.brokers.kafka_bootstrap_servers
    tenant = f"{prefix}{uuid.uuid4().hex[:8]}"
    async with (
        KafkaTap(bootstrap, AGENT_EVENTS) as desk,
        KafkaTap(bootstrap, WORKITEM_EVENTS) as items,
    ):
        yield Scenario(stack, tenant, desk, items)


def _accepts(offers: Offers) -> list[Command]:
    keys = ("work_item_id", "offer_id")
    return [("offer.accept", {"agent_id": a, **{k: o[k] for k in keys}}) for a, o in offers.items()]


def _set_away(records: list[Record]) -> collections.Counter[str]:
    away = [r for r in records if cloud_event(r)["type"] == "agent.status_changed"]
    return collections.Counter(_data(r)["agent_id"] for r in away if _data(r)["status"] == "away")


async def _router(s: Scenario, port: int, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """A router process of the scenario's tenant, once it answers ready."""
    process = _start_router(s.stack, s.tenant, port, log, **env)
    async with httpx.AsyncClient(headers=bearer(), base_url=f"http://127.0.0.1:{port}") as http:
        await eventually(functools.partial(answers_ready, http), timeout=60)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGCONT)  # should it still be paused
    process.terminate()
    process.wait(30)


async def test_offers_accepted_while_the_router_was_down_are_not_revoked(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    env = {"OFFER_TIMEOUT_SECONDS": str(OFFER_S)}
    port, log = free_port(), tmp_path / "router.log"
    async with _scenario(stack, "dlk") as s:
        first = await _router(s, port, log, **env)
        try:
            offers = await s.offer_to_every_agent(queue)
        finally:
            first.kill()  # SIGKILL: AGENTS offers pending
            first.wait(10)
        await s.accepted_in_time(offers)
        second = _start_router(stack, s.tenant, port, log, **env)
        try:
            # each offer ends one way or the other: accepted, or expired (and the accept refused)
            await s.events("workitem.accepted", "workitem.offer_expired")
            records = await s.everything()
        finally:
            _stop(second)

    assert per_item(records, "workitem.offer_expired") == {}
    assert _set_away(records) == {}
    assert per_item(records, "workitem.accepted") == {o["work_item_id"]: 1 for o in offers.values()}


async def test_completions_sent_while_the_router_was_paused_keep_their_disposition(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    env = {"OFFER_TIMEOUT_SECONDS": "120", "WRAPUP_TIMEOUT_SECONDS": str(WRAPUP_S)}
    async with _scenario(stack, "dls") as s:
        router = await _router(s, free_port(), tmp_path / "router.log", **env)
        try:
            offers = await s.offer_to_every_agent(queue)
            await s.send(_accepts(offers))
            await s.events("workitem.accepted")
            await s.send([("item.end", {"agent_id": a, **o}) for a, o in _items(offers).items()])
            started = await s.events("workitem.wrapup_started")
            due = {_data(r)["work_item_id"]: _ms(_data(r)["expires_at"]) for r in started}
            completes = [
                (
                    "item.complete",
                    {"agent_id": a, **o, "disposition_code": f"code-{o['work_item_id']}"},
                )
                for a, o in _items(offers).items()
            ]
            router.send_signal(signal.SIGSTOP)
            try:
                await s.answered_in_time(completes, [due[c["work_item_id"]] for _, c in completes])
            finally:
                router.send_signal(signal.SIGCONT)
            completed = await s.events("workitem.completed")
            records = await s.everything()
        finally:
            _stop(router)

    assert per_item(records, "workitem.wrapup_expired") == {}
    assert {
        _data(r)["work_item_id"]: (_data(r)["disposition_code"], _data(r)["auto"])
        for r in completed
    } == {wid: (f"code-{wid}", False) for wid in due}
    assert per_item(records, "workitem.completed") == dict.fromkeys(due, 1)


def _items(offers: Offers) -> dict[str, dict[str, str]]:
    return {a: {"work_item_id": o["work_item_id"]} for a, o in offers.items()}


def _assignments(log: Path) -> int:
    """How often the router's consumer was given partitions (FastStream's debug line)."""
    if not log.exists():
        return 0
    return log.read_text(errors="replace").count("assigned to partitions")


async def _zombie(
    s: Scenario, zombie: subprocess.Popen[bytes], logs: list[Path], offers: Offers
) -> None:
    """Pause the first replica; agents answer ``offers`` in time; the group gives its
    partitions to the second, which fires what nobody answered; then it wakes up,
    believing it still owns its partitions, until it rejoins the group."""
    zombie_seen, second_seen = _assignments(logs[0]), _assignments(logs[1])
    zombie.send_signal(signal.SIGSTOP)
    try:
        await s.accepted_in_time(offers)
        await eventually(lambda: _assignments(logs[1]) > second_seen, timeout=60)
        await s.events("workitem.offer_expired", count=AGENTS - len(offers))
    finally:
        zombie.send_signal(signal.SIGCONT)
    await eventually(lambda: _assignments(logs[0]) > zombie_seen, timeout=60)


async def test_a_paused_replica_whose_partitions_moved_fires_each_unanswered_deadline_once(
    stack: Stack, queue: str, tmp_path: Path
) -> None:
    env = {"OFFER_TIMEOUT_SECONDS": str(OFFER_S), "LOG_LEVEL": "DEBUG"}
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes: list[subprocess.Popen[bytes]] = []
    async with _scenario(stack, "dlz") as s:
        try:
            for log in logs:
                processes.append(await _router(s, free_port(), log, **env))
            # the group split its partitions between the two: the first was assigned again
            await eventually(
                lambda: _assignments(logs[0]) >= 2 and _assignments(logs[1]) >= 1, timeout=60
            )
            offers = await s.offer_to_every_agent(queue)
            answered = dict(list(offers.items())[::2])
            unanswered = {a: o for a, o in offers.items() if a not in answered}
            await _zombie(s, processes[0], logs, answered)
            records = await s.everything()
        finally:
            for process in processes:
                _stop(process)

    expired = collections.Counter(
        _data(r)["offer_id"] for r in records if cloud_event(r)["type"] == "workitem.offer_expired"
    )
    assert expired == {o["offer_id"]: 1 for o in unanswered.values()}
    assert per_item(records, "workitem.accepted") == {
        o["work_item_id"]: 1 for o in answered.values()
    }
    assert _set_away(records) == dict.fromkeys(unanswered, 1)
