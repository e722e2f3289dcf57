"""The burst scenario: 200 concurrent ``POST /v1/workitems`` against a running work item
service, beside 200 concurrent ``GET /health/live`` on the same server (the HTTP stack
alone) as its baseline. Every create must be answered 201: ``errors`` must be 0."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from switchboard_runtime.auth import Role, issue_token

from bench import procs
from bench.common import percentile
from bench.cpu import cpu_share
from bench.stack import Brokers, ServiceProcess

# the work item service under test checks tokens; the load process (spawned, so it imports
# this module again) inherits the environment and with it the same secret
BENCH_SECRET = os.environ.setdefault("SWITCHBOARD_BENCH_SECRET", secrets.token_urlsafe(32))
BURST = 200
TASK = {"type": "task", "channel": "api", "priority": 5, "description": "bench burst"}


def _request(method: str, path: str, port: int) -> bytes:
    body = json.dumps(TASK).encode() if method == "POST" else b""
    token = issue_token(BENCH_SECRET, "bench", [Role.INTEGRATION])
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[float, int]:
    """Send ``request`` on an open connection; ms until the whole answer, and its status."""
    reader, writer = connection
    start = time.perf_counter()
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        status = int(head[9:12])
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status = 0
    return (time.perf_counter() - start) * 1000, status


async def _round(port: int, request: bytes) -> tuple[float, list[tuple[float, int]]]:
    """One burst: 200 connections opened first, then one request on each at once."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(BURST))
    )
    try:
        start = time.perf_counter()
        answers = await asyncio.gather(*(_exchange(c, request) for c in connections))
        return time.perf_counter() - start, answers
    finally:
        for _, writer in connections:
            writer.close()


async def _bursts(port: int, method: str, path: str, rounds: int) -> dict[str, float]:
    """``rounds`` bursts of 200 concurrent requests, after one unmeasured warm-up burst:
    requests/s over the bursts, p99 latency (ms), and answers other than 2xx."""
    request = _request(method, path, port)
    latencies: list[float] = []
    errors, elapsed = 0, 0.0
    for round_ in range(rounds + 1):
        took, answers = await _round(port, request)
        if round_ == 0:
            continue
        elapsed += took
        latencies += [ms for ms, _ in answers]
        errors += sum(1 for _, status in answers if not 200 <= status < 300)
    return {
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p99_ms": round(percentile(latencies, 99), 2),
        "errors": errors,
    }


def load(port: int, method: str, path: str, rounds: int, out: Any) -> None:
    """The load generator, in a process of its own (see ``procs``)."""
    procs._run(_bursts(port, method, path, rounds), out)


def _spawned(port: int, method: str, path: str, rounds: int) -> dict[str, float]:
    proc, out = procs.spawn(load, port, method, path, rounds)
    result: dict[str, float] = out.get(timeout=300)
    proc.join(10)
    return result


def burst(brokers: Brokers, rounds: int, results: Path, out: dict[str, Any]) -> None:
    """Fill ``out`` with the burst figures, their baseline, and who was busy meanwhile."""
    env = {"AUTH_JWT_SECRET": BENCH_SECRET}
    service = ServiceProcess(
        "workitem", "WORKITEM_HTTP_PORT", brokers, results / "workitem.log", env
    )
    service.start()
    try:
        assert service.process is not None
        out["baseline_burst_live"] = _spawned(service.port, "GET", "/health/live", rounds)
        pids = {**brokers.pids, "workitem": service.process.pid}
        with cpu_share(pids, out.setdefault("cpu_pct", {}).setdefault("burst", {})):
            out["burst_creates"] = _spawned(service.port, "POST", "/v1/workitems", rounds)
    finally:
        service.stop()
