"""A router harness per test: its own tenant on the session's real Redis, a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from redis.asyncio import Redis
from router.routing_config import RoutingConfig
from switchboard_devtools.testing import Brokers

from .routerkit import Harness

MakeRouter = Callable[[RoutingConfig | None], Awaitable[Harness]]


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis(decode_responses=True)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def make_router(redis: Redis) -> AsyncIterator[MakeRouter]:
    """Harnesses with a given routing configuration (None: the default file)."""
    made: list[Harness] = []

    async def make(config: RoutingConfig | None = None) -> Harness:
        harness = await Harness(redis, config).setup()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.cleanup()


@pytest_asyncio.fixture
async def router(make_router: MakeRouter) -> Harness:
    return await make_router(None)
