"""One scenario's run: its deployment, load, agents, and the check at the end.

A scenario starts its services, starts the agents and the load, injects its fault while
the load runs, then ``finish()`` drains: agents accept and complete everything, the
consumers catch up, the outboxes empty; then every topic is read from the beginning,
Redis is read, and the checker counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.topics import WORKITEM_EVENTS

from bench.common import tail_consumer
from chaos.agents import Agents
from chaos.checker import Counts, Known, check
from chaos.events import Rec, read_all, start_at_end, wait_drained
from chaos.load import Intake
from chaos.stack import Brokers, Deployment
from chaos.streams import Streams, desktop_logs

STREAMS_CATCH_UP_S = 30.0  # how long the streams may take to deliver their logs at the end


@dataclass
class Size:
    """How much load a scenario puts on: ``items`` over HTTP and as many over Kafka."""

    items: int = 100
    rate: float = 15.0
    agents: int = 10
    capacity: int = 2
    settle_s: float = 120.0


@dataclass
class Run:
    brokers: Brokers
    deployment: Deployment
    size: Size
    known: Known
    agents: Agents
    intake: Intake
    streams: Streams | None = None  # the agents' desktop streams, with a desktop gateway
    completed: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    _phase_began: float = field(default_factory=time.monotonic)

    @property
    def keys(self) -> Keys:
        return Keys(self.known.tenant)

    def workitem_url(self) -> str:
        return self.deployment.of("workitem")[0].url

    async def load(self) -> None:
        """The scenario's load, over HTTP and Kafka at once."""
        await self.intake.run(self.size.items, self.size.rate)

    async def during(self, fault: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run the load and ``fault`` together, until both are done."""
        loading = asyncio.create_task(self.load())
        faulting = asyncio.create_task(fault())
        await asyncio.gather(loading, faulting)

    def phase(self, name: str) -> None:
        """Mark the end of phase ``name``: its seconds go into the row's ``phases``."""
        now = time.monotonic()
        self.phases[name] = round(now - self._phase_began, 1)
        self._phase_began = now

    def note(self, text: str) -> None:
        self.notes.append(f"{time.strftime('%H:%M:%S')} {text}")


async def _follow(run: Run) -> None:
    """Collect the ids of the tenant's completed items from ``workitem.events``."""
    consumer = await tail_consumer(run.brokers.bootstrap, WORKITEM_EVENTS)

    try:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("tenantid") == run.known.tenant and event.get("type") in (
                        "workitem.completed",
                        "workitem.cancelled",
                    ):
                        run.completed.add(str(event["data"]["work_item_id"]))
    finally:
        await consumer.stop()


async def _sample_capacity(run: Run) -> None:
    """Every half second, each agent's items in Redis against its capacity (a Redis
    that is restarting, scenario 5, is sampled again next time)."""
    redis = Redis.from_url(run.brokers.redis_url)
    try:
        while True:
            with contextlib.suppress(OSError, RedisError):
                await _sample_once(run, redis)
            await asyncio.sleep(0.5)  # sampling interval
    finally:
        await redis.aclose()


async def _sample_once(run: Run, redis: Redis) -> None:
    agents = run.agents.ids
    async with redis.pipeline(transaction=False) as pipe:
        for agent in agents:
            pipe.scard(run.keys.agent_items(agent))
        sizes = await pipe.execute()
    for agent, held in zip(agents, sizes, strict=True):
        if int(held) > run.agents.capacity:
            seen = run.known.sampled_over.get(agent, 0)
            run.known.sampled_over[agent] = max(seen, int(held))


async def _start_all(deployment: Deployment, services: tuple[str, ...]) -> None:
    """Start ``services`` at once and wait until each is ready."""
    started = [deployment.add(name, wait=False) for name in services]
    await asyncio.gather(*[asyncio.to_thread(s.wait_ready) for s in started])


async def _onboard(brokers: Brokers, deployment: Deployment, services: tuple[str, ...]) -> None:
    """The scenario's new tenant set up as on a cluster that has run for a while: its
    state initialised in Redis (the generation marker its services would write) and its
    consumer groups committed at the topics' ends, since nothing before now is its own.
    Its services then start at once instead of first reading every earlier scenario's
    records (by the last scenario, half a minute)."""
    redis = Redis.from_url(brokers.redis_url)
    try:

        async def new_deployment() -> bool:
            return True

        await Generation(redis, Keys(deployment.tenant)).establish(new_deployment)
    finally:
        await redis.aclose()
    await start_at_end(brokers.bootstrap, deployment.groups(services))


@contextlib.asynccontextmanager
async def started(
    brokers: Brokers, logs: Path, size: Size, services: tuple[str, ...], **env: str
) -> AsyncIterator[Run]:
    """A deployment of ``services`` (started, ready), the agents and the intake; stopped
    at the end whatever happens. With a ``desktop`` among them, the agents send their
    commands through it and keep their streams open on it."""
    deployment = Deployment(brokers, logs, env=dict(env))
    known = Known(deployment.tenant)
    agents = Agents(known, brokers.bootstrap, size.agents, size.capacity)
    run = Run(brokers, deployment, size, known, agents, Intake(known, brokers.bootstrap, str))
    run.intake.url = run.workitem_url
    tasks: list[asyncio.Task[None]] = []
    try:
        await _onboard(brokers, deployment, services)
        await _start_all(deployment, services)
        run.phase("start")
        behind = await wait_drained(brokers.bootstrap, deployment.groups(), size.settle_s)
        if behind:
            run.note(f"consumers not caught up before the load: {behind}")
        run.phase("catch_up")
        tasks += [asyncio.create_task(_follow(run)), asyncio.create_task(_sample_capacity(run))]
        if "desktop" in services:
            agents.gateway = lambda: deployment.of("desktop")[0].url
            run.streams = Streams(agents.ids, agents.gateway)
            run.streams.start()
        await agents.start()
        yield run
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await agents.stop()
        if run.streams is not None:
            await run.streams.stop()
        await asyncio.to_thread(deployment.stop)


async def _outboxes(run: Run) -> int:
    redis = Redis.from_url(run.brokers.redis_url)
    try:
        names = {s.name for s in run.deployment.services}
        return sum([int(await redis.xlen(run.keys.outbox(n))) for n in names])
    finally:
        await redis.aclose()


async def _wait(check_ok: Callable[[], Awaitable[bool]], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check_ok():
            return True
        await asyncio.sleep(0.5)  # polling interval
    return False


async def settle(run: Run) -> None:
    """Agents take everything; wait until every accepted item is closed, every consumer
    caught up and every outbox empty (each up to its timeout: what is left is counted)."""
    run.agents.drain()

    async def all_closed() -> bool:
        return run.known.accepted <= run.completed

    if not await _wait(all_closed, run.size.settle_s):
        run.note(f"{len(run.known.accepted - run.completed)} items still open after settling")

    async def outboxes_empty() -> bool:
        return await _outboxes(run) == 0

    await _wait(outboxes_empty, 60)
    groups = run.deployment.groups()
    run.known.lag = await wait_drained(run.brokers.bootstrap, groups, 60)


async def _redis_status(run: Run) -> dict[str, str | None]:
    redis = Redis.from_url(run.brokers.redis_url, decode_responses=True)
    try:
        out: dict[str, str | None] = {}
        for wid in sorted(run.known.accepted):
            status = await redis.hget(run.keys.router_item(wid), "status")
            out[wid] = None if status is None else str(status)
        return out
    finally:
        await redis.aclose()


async def _streams_caught_up(run: Run, logs: dict[str, set[str]]) -> None:
    """Give the agents' streams time to deliver their logs, then keep what they did."""
    if run.streams is None:
        return
    if not await run.streams.caught_up(logs, STREAMS_CATCH_UP_S):
        run.note(f"desktop streams behind their logs after {STREAMS_CATCH_UP_S} s")
    run.known.stream_seen = run.streams.seen
    run.known.stream_snapshot_offers = run.streams.snapshot_offers


async def finish(run: Run) -> Counts:
    """Settle, then read every topic from the beginning and Redis, and count."""
    run.phase("load")
    await settle(run)
    run.phase("settle")
    run.known.end_ms = int(time.time() * 1000)
    run.known.redis_status = await _redis_status(run)
    if run.deployment.of("desktop"):
        run.known.desktop_logs = await desktop_logs(run.brokers.redis_url, run.keys, run.agents.ids)
        await _streams_caught_up(run, run.known.desktop_logs)
    records = await read_all(run.brokers.bootstrap)
    await asyncio.to_thread(_keep, run, records)
    run.phase("read")
    return check(records, run.known)


def _keep(run: Run, records: list[Rec]) -> None:
    """The tenant's records, as evidence: ``<logs>/<tenant>-records.jsonl``."""
    path = run.deployment.logs / f"{run.known.tenant}-records.jsonl"
    with path.open("w") as out:
        for rec in records:
            if rec.tenant == run.known.tenant:
                where = {"topic": rec.topic, "partition": rec.partition, "offset": rec.offset}
                out.write(json.dumps({**where, "event": rec.event}) + "\n")


def summary(run: Run, counts: Counts, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    row = counts.row()
    row["tenant"] = run.known.tenant
    row["notes"] = run.notes + run.intake.errors[:5] + run.agents.errors[:5]
    row["phases"] = dict(run.phases)
    row.update(extra or {})
    return row
