"""The tests' Redis: which server answers, a Redis Cluster when asked, clients of either.

``SWITCHBOARD_REDIS_SERVER=cluster`` (and no ``REDIS_URL``) makes the test session start a
Redis Cluster of three Valkey masters (:mod:`switchboard_devtools.redis_cluster`) instead
of one server; ``REDIS_CLUSTER=true`` says a given ``REDIS_URL`` names a cluster node.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as ClusterClient

TRUE = ("1", "true", "yes", "on")


def server_name(url: str, cluster: bool = False) -> str:
    """``valkey 9.1.2`` or ``redis 7.0.15``: what answers at ``url`` (``a cluster of
    valkey 9.1.2``: a cluster node)."""
    import redis  # noqa: PLC0415

    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        info = client.info("server")
    finally:
        client.close()
    of = "a cluster of " if cluster else ""
    if "valkey_version" in info:
        return f"{of}valkey {info['valkey_version']}"
    return f"{of}{info.get('server_name', 'redis')} {info.get('redis_version', '?')}"


def cluster_redis(stack: contextlib.ExitStack, given: str | None) -> tuple[str | None, bool]:
    """The session's Redis URL (``given``: the environment's) and whether it is a cluster:
    one started here when SWITCHBOARD_REDIS_SERVER says ``cluster`` and none is given."""
    if given is None and os.environ.get("SWITCHBOARD_REDIS_SERVER") == "cluster":
        from switchboard_devtools.redis_cluster import RedisCluster  # noqa: PLC0415

        return stack.enter_context(RedisCluster()).start(), True
    return given, os.environ.get("REDIS_CLUSTER", "").lower() in TRUE


def client_of(url: str, cluster: bool, **options: Any) -> Redis:
    """An asyncio client of ``url``: a cluster client on a cluster (it answers the same
    commands; see switchboard_runtime.redis_client)."""
    if cluster:
        return cast(Redis, ClusterClient.from_url(url, **options))
    return Redis.from_url(url, **options)
