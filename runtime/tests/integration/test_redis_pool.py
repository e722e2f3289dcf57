"""The services' Redis client: a burst past its pool waits for a connection, and only an
unreachable Redis fails (within the pool and connect timeouts)."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import Brokers
from switchboard_runtime.redis_client import redis_client
from switchboard_runtime.settings import CommonSettings

from .conftest import runtime_settings

pytestmark = pytest.mark.integration


def test_the_pool_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_MAX_CONNECTIONS", "7")
    monkeypatch.setenv("REDIS_POOL_TIMEOUT_SECONDS", "0.5")

    settings = CommonSettings()

    assert (settings.redis_max_connections, settings.redis_pool_timeout_seconds) == (7, 0.5)
    assert CommonSettings.model_fields["redis_max_connections"].default == 100
    assert CommonSettings.model_fields["redis_pool_timeout_seconds"].default == 5


async def test_commands_past_the_pool_size_wait_for_a_connection(brokers: Brokers) -> None:
    settings = runtime_settings(brokers, redis_max_connections=10, redis_pool_timeout_seconds=5)
    client = redis_client(settings)
    try:
        # each holds its connection for 50 ms: 150 of them need the pool 15 times over
        answers = await asyncio.gather(
            *(client.blpop([f"pool-test-{i}"], timeout=0.05) for i in range(150))
        )
    finally:
        await client.aclose()

    assert answers == [None] * 150


async def test_an_unreachable_redis_fails_within_the_timeouts() -> None:
    settings = CommonSettings(
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        redis_max_connections=2,
        redis_pool_timeout_seconds=0.5,
    )
    client = redis_client(settings)
    start = time.monotonic()
    try:
        results = await asyncio.gather(*(client.ping() for _ in range(10)), return_exceptions=True)
    finally:
        await client.aclose()

    assert all(isinstance(r, RedisConnectionError) for r in results), results
    assert time.monotonic() - start < 10
