"""Scenarios with several router replicas (2, 3, 10) and the clock offsets (4); the slow
Kafka link (8) is in ``slow_link.py``."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from chaos.harness import Size, finish, started, summary
from chaos.stack import Brokers

SESSION_TIMEOUT_S = 10.0  # aiokafka's default session.timeout.ms, which the services keep


async def zombie(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """2. Two routers; one SIGSTOPped past the Kafka session timeout while the other
    takes its partitions over, then SIGCONT: the zombie must not act on stale state."""
    async with started(brokers, logs, size, ("workitem", "router", "router")) as run:
        paused = run.deployment.of("router")[0]

        async def fault() -> None:
            for _ in range(3 if long else 1):
                await asyncio.sleep(2.0)  # some load first
                paused.signal(signal.SIGSTOP)
                run.note("router 0 SIGSTOP")
                await asyncio.sleep(SESSION_TIMEOUT_S + 5)  # past the session timeout
                paused.signal(signal.SIGCONT)
                run.note("router 0 SIGCONT")

        await run.during(fault)
        counts = await finish(run)
    return summary(run, counts, {"faults": 3 if long else 1})


async def storm(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """3. A rebalance storm: router replicas 2 -> 5 -> 2 under load."""
    async with started(brokers, logs, size, ("workitem", "router", "router")) as run:

        async def fault() -> None:
            for _ in range(2 if long else 1):
                added = [run.deployment.add("router", wait=False) for _ in range(3)]
                run.note("routers 2 -> 5")
                await asyncio.gather(*[asyncio.to_thread(s.wait_ready) for s in added])
                await asyncio.sleep(2.0)  # five replicas under load for a moment
                for service in added:
                    await asyncio.to_thread(service.stop)
                run.note("routers 5 -> 2")

        await run.during(fault)
        counts = await finish(run)
    return summary(run, counts, {"faults": 2 if long else 1})


async def rough_agents(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """10. Accepts racing expiry, duplicated and reordered agent commands, at volume
    (twice the load, two routers)."""
    bigger = Size(size.items * 2, size.rate * 2, size.agents, size.capacity, size.settle_s)
    async with started(brokers, logs, bigger, ("workitem", "router", "router")) as run:
        run.agents.rough = True
        await run.load()
        counts = await finish(run)
    return summary(run, counts, {"commands_sent": run.agents.sent})


async def clocks(brokers: Brokers, logs: Path, size: Size, long: bool) -> dict[str, Any]:
    """4. Three routers whose wall clocks disagree by up to 2 s each way (the router's
    CLOCK_OFFSET_MS). Event times then disagree across replicas, so capacity is checked
    in Redis only."""
    async with started(brokers, logs, size, ("workitem",)) as run:
        for offset_ms in (-2000, 0, 2000):
            clock = {"CLOCK_OFFSET_MS": str(offset_ms)}
            await asyncio.to_thread(run.deployment.add, "router", True, **clock)
        run.note("routers at -2 s, 0 s, +2 s")
        run.known.replay_capacity = False
        await run.load()
        counts = await finish(run)
    return summary(run, counts, {"faults": 3})
