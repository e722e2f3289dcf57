"""The embedded pair (Tansu + Valkey): both answer on free ports and vanish when stopped."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis
from switchboard_devtools.embedded import EmbeddedStack
from switchboard_runtime.kafka import ensure_topics
from switchboard_runtime.settings import CommonSettings

pytestmark = pytest.mark.integration


async def start(stack: EmbeddedStack) -> tuple[str, str]:
    """Start both servers off the event loop (start-up polls with blocking sleeps)."""
    bootstrap = await asyncio.to_thread(stack.start_kafka)
    redis_url = await asyncio.to_thread(stack.start_redis)
    return bootstrap, redis_url


async def assert_both_answer(bootstrap: str, redis_url: str) -> None:
    topic = f"rt-embedded-{uuid.uuid4().hex[:12]}"
    await ensure_topics(CommonSettings(kafka_bootstrap_servers=bootstrap), [topic])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        assert topic in await admin.list_topics()
    finally:
        await admin.close()
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.ping()
        await redis.set("embedded-check", "yes")
        assert await redis.get("embedded-check") == b"yes"
    finally:
        await redis.aclose()


def children(stack: EmbeddedStack) -> list[subprocess.Popen[bytes]]:
    procs = [p.process for p in (stack.tansu, stack.valkey) if p is not None]
    assert len(procs) == 2
    return [p for p in procs if p is not None]


def assert_gone(procs: list[subprocess.Popen[bytes]], ports: list[int]) -> None:
    for proc in procs:
        assert proc.poll() is not None, f"pid {proc.pid} still runs"
        with pytest.raises(ProcessLookupError):  # nothing left in its process group either
            os.killpg(proc.pid, 0)
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


async def test_context_manager_starts_both_on_free_ports_and_stops_them(tmp_path: Path) -> None:
    with EmbeddedStack(log_dir=tmp_path) as stack:
        bootstrap, redis_url = await start(stack)
        assert bootstrap == f"127.0.0.1:{stack.kafka_port}"
        assert redis_url == f"redis://127.0.0.1:{stack.redis_port}/0"
        assert stack.kafka_port != stack.redis_port
        await assert_both_answer(bootstrap, redis_url)
        procs = children(stack)

    assert_gone(procs, [stack.kafka_port, stack.redis_port])


async def test_stop_ends_both_processes_and_frees_their_ports(tmp_path: Path) -> None:
    stack = EmbeddedStack(log_dir=tmp_path)
    try:
        bootstrap, redis_url = await start(stack)
        await assert_both_answer(bootstrap, redis_url)
        procs = children(stack)
    finally:
        stack.stop()

    assert_gone(procs, [stack.kafka_port, stack.redis_port])
    stack.stop()  # stopping twice is harmless
    assert (tmp_path / "tansu.log").exists()
    assert (tmp_path / "valkey.log").exists()
