"""Benchmark processes: load generator, desktop listener, simulated agents, baselines.

Each runs in its own process (``multiprocessing`` spawn) so it never shares the
router's event loop or CPU time slice accounting with the measuring side.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bench.common import agent_event, created_event, producer, tail_consumer, wall_ms

Row = tuple[str, str, float, dict[str, Any]]  # (type, subject/wid, received ms, data)


def _run(coro: Coroutine[Any, Any, Any], out: Any) -> None:
    out.put(asyncio.run(coro))


CTX = mp.get_context("spawn")


def spawn(target: Callable[..., None], *args: Any) -> tuple[mp.process.BaseProcess, Any]:
    """Start ``target(*args, out)`` in a new process; its result arrives on ``out``."""
    ctx = CTX
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out), daemon=True)
    proc.start()
    return proc, out


@dataclass(frozen=True)
class ListenSpec:
    """What a listener collects: ``count`` events of ``types`` about items ``prefix``-*."""

    bootstrap: str
    topic: str
    tenant: str
    types: list[str]
    count: int
    timeout: float
    prefix: str

    def wants(self, event: dict[str, Any], seen: set[str]) -> bool:
        wid = event.get("data", {}).get("work_item_id", "")
        return (
            event.get("tenantid") == self.tenant
            and event["type"] in self.types
            and wid.startswith(self.prefix)
            and event["id"] not in seen
        )


async def _listen(spec: ListenSpec, ready: Any) -> list[Row]:
    consumer = await tail_consumer(spec.bootstrap, spec.topic)
    ready.set()
    rows: list[Row] = []
    seen: set[str] = set()  # consumers de-duplicate by CloudEvents id (docs/architecture.md)
    deadline = time.monotonic() + spec.timeout
    try:
        while len(rows) < spec.count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100, max_records=5000)
            received = wall_ms()
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if spec.wants(event, seen):
                        seen.add(event["id"])
                        data = event["data"]
                        rows.append(
                            (
                                event["type"],
                                data["work_item_id"],
                                received,
                                {"time": event["time"], **_keep(data)},
                            )
                        )
    finally:
        await consumer.stop()
    return rows


def _keep(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("offer_id", "agent_id", "expires_at") if k in data}


def listen(spec: ListenSpec, ready: Any, out: Any) -> None:
    _run(_listen(spec, ready), out)


async def _publish(
    bootstrap: str, tenant: str, queue: str, ids: list[str], rate: float | None
) -> dict[str, float]:
    kafka = await producer(bootstrap)
    sent: dict[str, float] = {}
    start = time.perf_counter()
    pending = []
    try:
        for n, wid in enumerate(ids):
            if rate is not None:
                delay = start + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent[wid] = wall_ms()
            pending.append(
                await kafka.send(
                    "workitem.events", created_event(tenant, wid, queue), key=wid.encode()
                )
            )
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await kafka.stop()
    return sent


def publish(
    bootstrap: str, tenant: str, queue: str, ids: list[str], rate: float | None, out: Any
) -> None:
    """Publish ``workitem.created`` for ``ids``: flat out, or ``rate`` per second."""
    _run(_publish(bootstrap, tenant, queue, ids, rate), out)


async def _agents(bootstrap: str, tenant: str, count: int, timeout: float, ready: Any) -> int:
    """Accept, end and complete every offer made to this tenant's agents."""
    consumer = await tail_consumer(bootstrap, "agent.events")
    kafka = await producer(bootstrap)
    ready.set()
    done = 0
    deadline = time.monotonic() + timeout
    try:
        while done < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100, max_records=2000)
            futures = []
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("tenantid") != tenant or event["type"] != "offer.made":
                        continue
                    futures += await _answer(kafka, tenant, event["data"])
                    done += 1
            await asyncio.gather(*futures)
    finally:
        await kafka.stop()
        await consumer.stop()
    return done


async def _answer(kafka: Any, tenant: str, offer: dict[str, Any]) -> list[Any]:
    base = {"agent_id": offer["agent_id"], "work_item_id": offer["work_item_id"]}
    steps = [
        ("offer.accept", {**base, "offer_id": offer["offer_id"]}),
        ("item.end", base),
        ("item.complete", {**base, "disposition_code": "resolved"}),
    ]
    key = offer["agent_id"].encode()
    return [
        await kafka.send("agent.commands", agent_event(tenant, t, d), key=key) for t, d in steps
    ]


def agents(bootstrap: str, tenant: str, count: int, timeout: float, ready: Any, out: Any) -> None:
    _run(_agents(bootstrap, tenant, count, timeout, ready), out)
