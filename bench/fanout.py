"""The desktop_fanout scenario: many agents' streams on one desktop gateway process.

``STREAMS`` agents each hold an open ``GET /v1/desktop/events`` (from a process of its
own); offers are published on ``agent.events`` as the router publishes them, ``RATE`` a
second spread over the agents. Figures: delivery latency from the offer's CloudEvents
``time`` (stamped as it is sent to Kafka) to the client reading it (p50/p99), streams
dropped, and the gateway's CPU and resident memory per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from switchboard_runtime.auth import Role, issue_token

from bench import procs
from bench.common import now_iso, parse_ms, percentile, producer, wall_ms
from bench.cpu import cpu_share
from bench.stack import Brokers, ServiceProcess

SECRET = os.environ.setdefault("SWITCHBOARD_BENCH_SECRET", secrets.token_urlsafe(32))
READ = 64 * 1024


def offer_event(tenant: str, agent: str, n: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "bench/router",
            "type": "offer.made",
            "time": now_iso(),
            "tenantid": tenant,
            "data": {
                "offer_id": f"of-{n}",
                "work_item_id": f"w-{n}",
                "agent_id": agent,
                "expires_at": now_iso(),
                "actions": ["accept", "reject"],
                "item": {"type": "task", "priority": 5, "channel": "api"},
            },
        }
    ).encode()


async def _open(port: int, agent: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024 * 1024)
    token = issue_token(SECRET, agent, [Role.AGENT])
    writer.write(
        f"GET /v1/desktop/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace"))
    return reader, writer


class Received:
    """The latencies the streams saw, and whether all that were expected arrived."""

    def __init__(self, expected: int) -> None:
        self.latencies: list[float] = []
        self.expected = expected
        self.all_in = asyncio.Event()

    def add(self, ms: float) -> None:
        self.latencies.append(ms)
        if len(self.latencies) >= self.expected:
            self.all_in.set()


async def _read(reader: asyncio.StreamReader, snapshot: asyncio.Event, got: Received) -> None:
    """Read one stream (chunked SSE) until it ends; latency of every offer.made."""
    async for raw in reader:
        line = raw.strip()
        if line.startswith(b"event: snapshot"):
            snapshot.set()
        elif line.startswith(b"data: ") and b'"offer.made"' in line:
            got.add(wall_ms() - parse_ms(json.loads(line[6:])["time"]))


async def _clients(port: int, agents: list[str], expected: int, ready: Any) -> dict[str, Any]:
    got = Received(expected)
    snapshots = [asyncio.Event() for _ in agents]
    opened = [await _open(port, agent) for agent in agents]
    tasks = [
        asyncio.create_task(_read(r, seen, got))
        for (r, _), seen in zip(opened, snapshots, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in snapshots)), 120)
    ready.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(got.all_in.wait(), 180)
    latencies = got.latencies
    dropped = sum(1 for t in tasks if t.done())
    for t in tasks:
        t.cancel()
    for _, writer in opened:
        writer.close()
    return {"latencies": latencies, "dropped": dropped}


def clients(port: int, agents: list[str], expected: int, ready: Any, out: Any) -> None:
    """The streams' process (see ``procs``)."""
    procs._run(_clients(port, agents, expected, ready), out)


async def _publish(brokers: Brokers, tenant: str, agents: list[str], n: int, rate: float) -> None:
    kafka = await producer(brokers.kafka)
    try:
        start = time.monotonic()
        for i in range(n):
            agent = agents[i % len(agents)]
            lag = start + i / rate - time.monotonic()
            if lag > 0:
                await asyncio.sleep(lag)  # the send schedule, not a wait for a result
            await kafka.send("agent.events", offer_event(tenant, agent, i), key=agent.encode())
        await kafka.flush()
    finally:
        await kafka.stop()


def fanout(
    brokers: Brokers, streams: int, offers: int, rate: float, results: Path
) -> dict[str, Any]:
    """Run the scenario; its figures."""
    gateway = ServiceProcess(
        "desktop",
        "DESKTOP_HTTP_PORT",
        brokers,
        results / "desktop.log",
        {"AUTH_JWT_SECRET": SECRET},
    ).start()
    try:
        agents = [f"fan-{i:05d}" for i in range(streams)]
        rss_before = gateway.rss_mb()
        ready = procs.CTX.Event()
        proc, out = procs.spawn(clients, gateway.port, agents, offers, ready)
        if not ready.wait(180):
            raise TimeoutError("the streams did not all open")
        rss_open = gateway.rss_mb()
        cpu: dict[str, float] = {}
        with cpu_share({"desktop": gateway.pid, **brokers.pids}, cpu):
            asyncio.run(_publish(brokers, gateway.tenant, agents, offers, rate))
            got = out.get(timeout=300)
        proc.join(10)
    finally:
        gateway.stop()
    lat = got["latencies"]
    return {
        "streams": streams,
        "offers": offers,
        "rate_per_s": rate,
        "delivered": len(lat),
        "dropped_streams": got["dropped"],
        "latency_ms": {"p50": round(percentile(lat, 50), 1), "p99": round(percentile(lat, 99), 1)},
        "gateway_cpu_pct": cpu,
        "gateway_kib_per_stream": round((rss_open - rss_before) * 1024 / streams, 1),
        "gateway_rss_mb": round(rss_open, 1),
    }
