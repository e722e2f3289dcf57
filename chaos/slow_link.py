"""Scenario 8: a slow Kafka link. Every Kafka connection (the services', the load's,
the agents') goes through the TCP proxy in front of its broker (``Brokers.slow``), which
adds 200 ms each way and throttles each connection; the brokers replicate to each other
directly. The services must apply backpressure without unbounded memory and lose no
command.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from switchboard_devtools.tcp_proxy import TcpProxy

from bench.stack import rss_mb
from chaos.harness import Run, Size, finish, started, summary
from chaos.stack import Brokers

LATENCY_S = 0.2
THROTTLE_BYTES_PER_S = 32 * 1024  # per connection and direction
MEMORY_GROWTH_MB = 300.0  # what counts as unbounded within one quick scenario


def _traffic(proxies: list[TcpProxy]) -> tuple[int, int]:
    """Bytes forwarded and connections accepted so far, over every proxy."""
    return sum(p.bytes_forwarded for p in proxies), sum(p.accepted for p in proxies)


@contextlib.contextmanager
def _shaped(proxies: list[TcpProxy]) -> Iterator[None]:
    """Every proxy slowed and throttled, and set back however the block ends."""
    for proxy in proxies:
        proxy.set_latency(LATENCY_S)
        proxy.set_throttle(THROTTLE_BYTES_PER_S)
    try:
        yield
    finally:
        for proxy in proxies:
            proxy.set_latency(0.0)
            proxy.set_throttle(None)


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
    proxies = brokers.kafka_proxies
    forwarded, links = _traffic(proxies)
    async with started(replace(brokers, slow=True), logs, size, ("workitem", "router")) as run:
        sampler = asyncio.create_task(_sample_memory(run, peaks))
        with _shaped(proxies):
            await run.load()
        counts = await finish(run)
        sampler.cancel()
    growth = {name: round(high - low, 1) for name, (low, high) in peaks.items()}
    grew = [name for name, mb in growth.items() if mb > MEMORY_GROWTH_MB]
    extra: dict[str, Any] = {"memory_growth_mb": growth, "unbounded_memory": len(grew)}
    now_forwarded, now_links = _traffic(proxies)
    extra.update(faults=1, proxied_bytes=now_forwarded - forwarded, proxied_links=now_links - links)
    return summary(run, counts, extra)
