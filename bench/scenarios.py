"""The benchmark scenarios. Each returns its figures; run.py assembles the report."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from router.scripts import RouterScripts, Timing
from switchboard_runtime.atomic import FixedGeneration
from switchboard_runtime.kafka_metadata import topic_partitions
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.topics import AGENT_COMMANDS, WORKITEM_EVENTS

from bench import baseline, procs
from bench.common import parse_ms, percentile
from bench.stack import Brokers, RouterProcess

LISTEN_TIMEOUT_S = 240.0


@dataclass
class Run:
    """Where a scenario runs: brokers, the router, and the series for the plot."""

    brokers: Brokers
    router: RouterProcess
    series: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> Keys:
        return Keys(self.router.tenant)

    @property
    def pids(self) -> dict[str, int]:
        router = {"router": self.router.process.pid} if self.router.process else {}
        return {**self.brokers.pids, **router}


def _ids(n: int) -> list[str]:
    prefix = uuid.uuid4().hex[:6]
    return [f"{prefix}-{i}" for i in range(n)]


def publish_and_listen(
    run: Run,
    queue: str,
    ids: list[str],
    rate: float | None,
    topic: str,
    types: list[str],
    count: int,
) -> tuple[dict[str, float], list[procs.Row]]:
    """Publish ``workitem.created`` for ``ids`` and collect ``count`` answers, in 2 processes."""
    ready = procs.CTX.Event()
    spec = procs.ListenSpec(
        run.brokers.kafka,
        topic,
        run.router.tenant,
        types,
        count,
        LISTEN_TIMEOUT_S,
        ids[0].split("-")[0] + "-",
    )
    listener, rows_out = procs.spawn(procs.listen, spec, ready)
    ready.wait(60)
    publisher, sent_out = procs.spawn(
        procs.publish, run.brokers.kafka, run.router.tenant, queue, ids, rate
    )
    sent: dict[str, float] = sent_out.get(timeout=LISTEN_TIMEOUT_S)
    rows: list[procs.Row] = rows_out.get(timeout=LISTEN_TIMEOUT_S)
    publisher.join(10)
    listener.join(10)
    return sent, rows


async def agents_available(run: Run, queue: str, n: int, capacity: int) -> list[str]:
    """Make ``n`` agents available in ``queue`` through the router's own script."""
    agents = [f"{queue}-agent-{i}" for i in range(n)]
    scripts = _scripts(run)
    for chunk in range(0, n, 1000):
        await scripts.run_many(
            "agent_status",
            [
                (
                    {
                        "agent": a,
                        "status": "available",
                        "queues": [queue],
                        "skills": [],
                        "capacity": {"voice": 1, "chat": 3, "async": capacity},
                    },
                    None,
                )
                for a in agents[chunk : chunk + 1000]
            ],
        )
    return agents


def _scripts(run: Run) -> RouterScripts:
    redis = Redis.from_url(run.brokers.redis)
    timing = Timing(
        offer_timeout_ms=int(run.router.offer_timeout_s * 1000), wrapup_timeout_ms=600_000
    )
    generation = FixedGeneration(run.keys.generation(), _marker(run))
    return RouterScripts(redis, run.keys, timing, lambda: int(time.time() * 1000), generation)


def _marker(run: Run) -> str | None:
    """The generation the running router established."""
    client = SyncRedis.from_url(run.brokers.redis, decode_responses=True)
    try:
        value = client.get(run.keys.generation())
        return value if isinstance(value, str) else None
    finally:
        client.close()


def throughput(run: Run, n: int) -> float:
    """Items per second from the first workitem.created published to the last offer.made."""
    asyncio.run(agents_available(run, "task", max(1, n // 100), 100))
    sent, rows = publish_and_listen(run, "task", _ids(n), None, "agent.events", ["offer.made"], n)
    _check_one_offer_each(rows, n)
    run.series["throughput_offers_ms"] = [r[2] for r in rows]
    return n / ((max(r[2] for r in rows) - min(sent.values())) / 1000)


def _check_one_offer_each(rows: list[procs.Row], n: int) -> None:
    items = {r[1] for r in rows}
    if len(rows) != n or len(items) != n:
        raise RuntimeError(f"{len(rows)} offers for {len(items)} items, expected {n} and {n}")


def offer_latency(run: Run, n: int, rate: float) -> dict[str, float]:
    """Upstream publish -> desktop receives offer.made, at a steady ``rate``."""
    asyncio.run(agents_available(run, "chat", max(1, n // 100), 100))
    ids = _ids(n)
    sent, rows = publish_and_listen(run, "chat", ids, rate, "agent.events", ["offer.made"], n)
    latencies = [r[2] - sent[r[1]] for r in rows if r[1] in sent]
    run.series["offer_latency_ms"] = latencies
    return _summary(latencies, ("p50", "p95", "p99", "max"))


def _summary(values: list[float], keys: tuple[str, ...]) -> dict[str, float]:
    out = {k: round(percentile(values, float(k[1:])), 2) for k in keys if k != "max"}
    if "max" in keys:
        out["max"] = round(max(values), 2) if values else float("nan")
    return out


def deadline_lateness(run: Run, n: int) -> dict[str, float]:
    """Offers nobody answers: how late workitem.offer_expired is against expires_at."""
    asyncio.run(agents_available(run, "email", max(1, n // 100), 100))
    _, rows = publish_and_listen(
        run, "email", _ids(n), None, "workitem.events", ["workitem.offer_expired"], n
    )
    lateness = [parse_ms(r[3]["time"]) - parse_ms(r[3]["expires_at"]) for r in rows]
    run.series["deadline_lateness_ms"] = lateness
    return _summary(lateness, ("p50", "p99", "max"))


def lifecycle(run: Run, n: int) -> float:
    """Completions per second with simulated agents accepting, ending and completing."""
    asyncio.run(agents_available(run, "review", 200, 5))
    ready = procs.CTX.Event()
    sim, _ = procs.spawn(
        procs.agents, run.brokers.kafka, run.router.tenant, n, LISTEN_TIMEOUT_S, ready
    )
    ready.wait(60)
    sent, rows = publish_and_listen(
        run, "review", _ids(n), None, "workitem.events", ["workitem.completed"], n
    )
    sim.join(30)
    return len(rows) / ((max(r[2] for r in rows) - min(sent.values())) / 1000)


def forward_baseline(brokers: Brokers, n: int) -> float:
    proc, out = procs.spawn(baseline.forward, brokers.kafka, "bench.in", "bench.out", n)
    result: float = out.get(timeout=LISTEN_TIMEOUT_S)
    proc.join(10)
    return result


def hop_baseline(brokers: Brokers, n: int, rate: float) -> dict[str, float]:
    proc, out = procs.spawn(baseline.hop, brokers.kafka, "bench.hop", n, rate)
    result: dict[str, float] = out.get(timeout=LISTEN_TIMEOUT_S)
    proc.join(10)
    return {k: round(v, 2) for k, v in result.items()}


async def _memory(redis: Redis) -> int:
    info = await redis.info("memory")
    return int(info["used_memory"])


async def preload(run: Run, backlog: int, agents: int, queue: str) -> dict[str, float]:
    """Queue ``backlog`` items nobody serves and make ``agents`` available in ``queue``."""
    scripts = _scripts(run)
    redis = Redis.from_url(run.brokers.redis)
    before = await _memory(redis)
    ids = _ids(backlog)
    summary = '{"type": "task", "priority": 5, "channel": "api", "queue": "backlog"}'
    for chunk in range(0, backlog, 1000):
        await scripts.run_many(
            "enqueue",
            [
                (
                    {
                        "wid": w,
                        "queue": "backlog",
                        "priority": 5,
                        "created_ms": int(time.time() * 1000),
                        "kind": "async",
                        "skills": [],
                        "summary": summary,
                        "outbound": False,
                    },
                    None,
                )
                for w in ids[chunk : chunk + 1000]
            ],
        )
    middle = await _memory(redis)
    await agents_available(run, queue, agents, 100)
    after = await _memory(redis)
    await redis.aclose()
    return {
        "per_item": (middle - before) / max(1, backlog),
        "per_agent": (after - middle) / max(1, agents),
    }


def scale_throughput(
    run: Run, backlog: int, agents: int, n: int, queue: str
) -> tuple[float, dict[str, float]]:
    memory = asyncio.run(preload(run, backlog, agents, queue))
    sent, rows = publish_and_listen(run, queue, _ids(n), None, "agent.events", ["offer.made"], n)
    _check_one_offer_each(rows, n)
    return n / ((max(r[2] for r in rows) - min(sent.values())) / 1000), memory


def new_router(brokers: Brokers, offer_timeout_s: float, results: Path) -> RouterProcess:
    return RouterProcess(brokers, offer_timeout_s, results / "router.log").start()


async def _lag(run: Run) -> int:
    """Records the router has not committed yet, plus events still in its outbox."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=run.brokers.kafka,
        group_id=f"{run.router.tenant}-router",
        enable_auto_commit=False,
    )
    await consumer.start()
    redis = Redis.from_url(run.brokers.redis)
    try:
        known = await topic_partitions(run.brokers.kafka, [WORKITEM_EVENTS, AGENT_COMMANDS])
        parts = [TopicPartition(topic, p) for topic, ids in known.items() for p in ids]
        ends = await consumer.end_offsets(parts)
        behind = 0
        for tp in parts:
            behind += ends[tp] - (await consumer.committed(tp) or 0)
        return behind + int(await redis.xlen(run.keys.outbox("router")))
    finally:
        await consumer.stop()
        await redis.aclose()


def settle(run: Run, timeout_s: float = 120.0) -> float:
    """Wait until the router has applied every record and relayed every event, so the
    next scenario starts from an idle router; returns the seconds waited."""
    start = time.monotonic()
    while asyncio.run(_lag(run)) > 0:
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"router still behind after {timeout_s:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - start
