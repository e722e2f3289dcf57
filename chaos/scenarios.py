"""The fault scenarios, numbered as in the issue. Each runs a deployment of its own
tenant under load, injects its fault while the load runs, and returns its row of counts.
Replica and clock scenarios (2, 3, 4, 10) and the slow link (8) are in
``scenarios_more.py``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from switchboard_schemas.topics import AGENT_COMMANDS, CALLBACK_COMMANDS, WORKITEM_COMMANDS

from chaos.harness import Run, Size, finish, started, summary
from chaos.load import command, item, producer
from chaos.stack import Brokers

Scenario = Callable[[Brokers, Path, Size, bool], Awaitable[dict[str, Any]]]
SERVICES = ("workitem", "router", "callback")
CORE = ("workitem", "router")  # where the callback service adds nothing but start-up time


async def poison(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """9. Poison records on every command topic, and records whose handler always fails
    (a key of the wrong type planted where the script writes): each to its DLQ."""
    async with started(brokers, logs, size, SERVICES) as run:
        sent = await _send_poison(run, 30 if long else 8)
        run.known.poison = sent
        await run.load()
        counts = await finish(run)
    return summary(run, counts)


def _poison_bodies(tenant: str, n: int) -> list[bytes]:
    bad_dates = command(tenant, "workitem.create", {"type": "task", "due_at": "1e400"})
    kinds = [b"\xff\xfe not json", b"[1, 2]", b'{"specversion": "1.0"}', bad_dates]
    kinds.append(command(tenant, "no.such.type", {"x": 1}))
    kinds.append(command("no-such-tenant", "workitem.create", item("x-1")))
    return [kinds[i % len(kinds)] for i in range(n)]


async def _send_poison(run: Run, n: int) -> dict[str, set[str]]:
    """``n`` undecodable or invalid records per command topic, and ``n`` valid commands
    whose scripts always fail; returns the keys sent per topic."""
    tenant, sent = run.known.tenant, {}
    kafka = await producer(run.brokers.bootstrap)
    redis = Redis.from_url(run.brokers.redis_url)
    try:
        for topic in (WORKITEM_COMMANDS, CALLBACK_COMMANDS, AGENT_COMMANDS):
            keys = [f"{tenant}-poison-{topic.split('.')[0]}-{i}" for i in range(n)]
            for key, body in zip(keys, _poison_bodies(tenant, n), strict=True):
                await (await kafka.send(topic, body, key=key.encode()))
            sent[topic] = set(keys)
        for i in range(n):  # always failing: WRONGTYPE in the script, every attempt
            agent, wid = f"{tenant}-broken-agent-{i}", f"{tenant}-broken-item-{i}"
            await redis.set(run.keys.agent(agent), "not a hash")
            await redis.rpush(run.keys.work_item(wid), "not a hash")
            status = {"agent_id": agent, "status": "available", "queues": ["task"]}
            await kafka.send(
                AGENT_COMMANDS, command(tenant, "agent.status", status), key=agent.encode()
            )
            await kafka.send(
                WORKITEM_COMMANDS, command(tenant, "workitem.create", item(wid)), key=wid.encode()
            )
            sent[AGENT_COMMANDS].add(agent)
            sent[WORKITEM_COMMANDS].add(wid)
        await kafka.flush()
    finally:
        await kafka.stop()
        await redis.aclose()
    return sent


async def sigkill(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """1. SIGKILL of each service at random moments, many times, restarted each time; the
    agents act through the desktop gateway, so it is killed under their commands too."""
    rng = random.Random(1)  # noqa: S311 - reproducible moments
    kills: list[str] = []
    every = ("desktop", *SERVICES)  # the gateway first, while offers are being made
    async with started(brokers, logs, size, every) as run:

        async def fault() -> None:
            for n in range(24 if long else len(every)):
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # a random moment under load
                service = run.deployment.of(every[n % len(every)])[0]
                service.kill()
                kills.append(service.name)
                run.note(f"SIGKILL {service.name}")
                await asyncio.to_thread(service.start)

        await run.during(fault)
        counts = await finish(run)
    streams = run.streams
    assert streams is not None  # the agents follow their streams on the gateway
    return summary(
        run,
        counts,
        {
            "faults": len(kills),
            "desktop_commands": len(run.known.handed_on),
            "stream_connects": sum(streams.connects.values()),
            "stream_repeats": streams.repeats,
            "stream_refusals": streams.refusals[:5],
        },
    )


async def broker_kill(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """7. One Kafka broker of three SIGKILLed under load, then started again (node 1
    first: the services bootstrap from all three)."""
    async with started(brokers, logs, size, CORE) as run:

        async def fault() -> None:
            for n in range(3 if long else 1):
                await asyncio.sleep(2.0)  # some load first
                index = n % 3
                await asyncio.to_thread(brokers.cluster.kill_broker, index)
                run.note(f"broker {index + 1} killed")
                await asyncio.sleep(6.0)  # down for a while, past the broker session
                await asyncio.to_thread(brokers.cluster.start_broker, index)
                run.note(f"broker {index + 1} back")

        await run.during(fault)
        counts = await finish(run)
    return summary(run, counts, {"faults": 3 if long else 1})


async def redis_cut(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """6. The Redis link cut in the middle of scripts: every connection reset, often;
    once, new connections refused for two seconds too."""
    rng = random.Random(6)  # noqa: S311 - reproducible moments
    cuts = 0
    async with started(brokers, logs, size, CORE) as run:

        async def fault() -> None:
            nonlocal cuts
            for n in range(30 if long else 8):
                await asyncio.sleep(rng.uniform(0.3, 1.5))  # a random moment under load
                cuts += brokers.redis_proxy.cut()
                if n == 3:
                    brokers.redis_proxy.refuse(True)
                    await asyncio.sleep(2.0)  # the refusal window
                    brokers.redis_proxy.refuse(False)

        await run.during(fault)
        counts = await finish(run)
    return summary(run, counts, {"faults": cuts})


async def redis_aof(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """5a. Redis restarted with its append-only file under load: nothing lost."""
    async with started(brokers, logs, size, CORE) as run:

        async def fault() -> None:
            for _ in range(3 if long else 1):
                await asyncio.sleep(3.0)  # some load first
                await asyncio.to_thread(brokers.restart_redis, True)
                run.note("Redis restarted with its AOF")

        await run.during(fault)
        counts = await finish(run)
    return summary(run, counts, {"faults": 3 if long else 1})


async def redis_empty(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """5b. Redis restarted empty: each service must report not ready, log
    ``redis_state_lost`` and apply nothing (``half_initialised`` counts those that
    don't). Counts of the run before the wipe are kept; the wipe wipes every tenant."""
    async with started(brokers, logs, size, SERVICES) as run:
        await run.load()
        counts = await finish(run)
        await asyncio.to_thread(brokers.restart_redis, False)
        run.note("Redis restarted empty")
        bad = [s.name for s in run.deployment.services if not await _noticed(s.url, s.log)]
        for name in bad:
            run.note(f"{name} did not notice the empty store")
    return summary(run, counts, {"half_initialised": len(bad), "faults": 1})


async def _noticed(url: str, log: Path, timeout_s: float = 20.0) -> bool:
    """The service answers /health/ready 503 and its log has ``redis_state_lost``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await client.get(f"{url}/health/ready")
                not_ready = answer.status_code == 503
            except httpx.HTTPError:
                not_ready = False
            if not_ready and "redis_state_lost" in await asyncio.to_thread(_text, log):
                return True
            await asyncio.sleep(0.5)  # polling interval
    return False


def _text(log: Path) -> str:
    return log.read_text(errors="replace")
