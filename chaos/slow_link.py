"""Scenario 8: a slow Kafka link. Every Kafka connection (the services', the load's,
the agents') goes through a TCP proxy that adds 200 ms each way and throttles each
connection; the services must apply backpressure without unbounded memory and lose no
command.

A cluster's nodes all take the same ``properties`` (``ApacheKafkaCluster``), so no node
can advertise a proxy address of its own, and clients would bypass a proxy after
bootstrap. So this scenario runs on a single Apache Kafka node (replication factor 1)
that advertises the proxy's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from switchboard_devtools.apache_kafka import ApacheKafka
from switchboard_devtools.tcp_proxy import TcpProxy

from bench.stack import rss_mb
from chaos.harness import Run, Size, finish, started, summary
from chaos.stack import Brokers

LATENCY_S = 0.2
THROTTLE_BYTES_PER_S = 32 * 1024  # per connection and direction
MEMORY_GROWTH_MB = 300.0  # what counts as unbounded within one quick scenario


@contextlib.asynccontextmanager
async def _slow_kafka(brokers: Brokers) -> AsyncIterator[tuple[Brokers, TcpProxy]]:
    directory = Path(tempfile.mkdtemp(prefix="chaos-slow-kafka-"))
    kafka = ApacheKafka(directory, start_timeout=240)
    proxy = TcpProxy("127.0.0.1", kafka.nodes[0].port)
    proxy.start()
    kafka.properties["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{proxy.port}"
    try:
        await asyncio.to_thread(kafka.start)
        yield replace(brokers, kafka=kafka), proxy
    finally:
        await asyncio.to_thread(kafka.stop)
        proxy.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def _sample_memory(run: Run, peaks: dict[str, list[float]]) -> None:
    """Each service's resident memory every half second: first and highest seen."""
    while True:
        for service in run.deployment.services:
            if service.process is not None:
                mb = rss_mb(service.process.pid)
                seen = peaks.setdefault(f"{service.name}-{service.port}", [mb, mb])
                seen[1] = max(seen[1], mb)
        await asyncio.sleep(0.5)  # sampling interval


async def slow_kafka(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """8. The Kafka link slowed (200 ms each way) and throttled, under the load."""
    peaks: dict[str, list[float]] = {}
    async with (
        _slow_kafka(brokers) as (slow, proxy),
        started(slow, logs, size, ("workitem", "router"), KAFKA_REPLICATION_FACTOR="1") as run,
    ):
        sampler = asyncio.create_task(_sample_memory(run, peaks))
        proxy.set_latency(LATENCY_S)
        proxy.set_throttle(THROTTLE_BYTES_PER_S)
        try:
            await run.load()
        finally:
            proxy.set_latency(0.0)
            proxy.set_throttle(None)
        counts = await finish(run)
        sampler.cancel()
    growth = {name: round(high - low, 1) for name, (low, high) in peaks.items()}
    grew = [name for name, mb in growth.items() if mb > MEMORY_GROWTH_MB]
    extra: dict[str, Any] = {"memory_growth_mb": growth, "unbounded_memory": len(grew)}
    extra.update(faults=1, proxied_bytes=proxy.bytes_forwarded, proxied_links=proxy.accepted)
    extra["brokers_note"] = "1 Apache Kafka node behind the proxy (RF 1)"
    return summary(run, counts, extra)
