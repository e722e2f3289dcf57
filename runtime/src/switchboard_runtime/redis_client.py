"""The services' Redis client: one server, or a Redis Cluster (REDIS_CLUSTER=true).

On a cluster every key of a tenant carries the tenant's hash tag (see redis_keys.py), so
all of a tenant's keys and scripts are served by the one master that holds its slot; the
cluster client follows MOVED/ASK redirections and failovers. The services keep typing the
client as ``Redis``: the cluster client answers every command they send, and the few
places that must speak differently to it (scripts queued on a pipeline, the desktop
news) check ``is_cluster``. docs/redis-cluster.md says how to run one.
"""

from __future__ import annotations

from typing import Any, cast

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import (
    ClusterError,
    RedisClusterException,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)

from switchboard_runtime.settings import CommonSettings

log = structlog.get_logger(__name__)

# What a cluster answers while it moves or loses a slot: a master down (CLUSTERDOWN,
# MASTERDOWN), a slot being migrated (TRYAGAIN), a slot nobody serves. All pass once the
# cluster is whole again, so they are waited out, never dead-lettered. (Past the per-node
# REDIS_MAX_CONNECTIONS the cluster client raises MaxConnectionsError at once: a
# ConnectionError, transient already.)
CLUSTER_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ClusterError,
    TryAgainError,
    SlotNotCoveredError,
)
# The cluster client also raises a bare RedisClusterException when it cannot reach or
# agree on the nodes (redis-py 8 words these so): transient too. Every other bare one is
# a call no cluster can serve (keys of two slots, a db other than 0, a pipeline misused):
# a bug, which the record that met it pays for (dead-lettered), not a consumer stuck
# retrying it.
_CLUSTER_UNREACHABLE = (
    "Redis Cluster cannot be connected",
    "startup_nodes could not agree",
    "All slots are not covered",
    "No targets were found",
)


def cluster_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a Redis Cluster healing or out of reach (wait, try again)."""
    if isinstance(exc, CLUSTER_TRANSIENT_ERRORS):
        return True
    return type(exc) is RedisClusterException and str(exc).startswith(_CLUSTER_UNREACHABLE)


class RedisModeMismatch(Exception):  # noqa: N818 - reads as "the mode mismatches"
    """REDIS_CLUSTER says one thing and the server at REDIS_URL (``INFO cluster``) another."""


def redis_access(settings: CommonSettings) -> dict[str, Any]:
    """Who the service is to Redis and which CA it trusts (those set of REDIS_USERNAME,
    REDIS_PASSWORD, REDIS_TLS_CA_FILE), as redis-py connection arguments."""
    access: dict[str, Any] = {}
    if settings.redis_username:
        access["username"] = settings.redis_username
    if settings.redis_password:
        access["password"] = settings.redis_password.get_secret_value()
    if settings.redis_tls_ca_file:
        access["ssl_ca_certs"] = settings.redis_tls_ca_file
    return access


def redis_client(settings: CommonSettings) -> Redis:
    """A Redis client for the service (connects lazily, on first use). A burst past
    REDIS_MAX_CONNECTIONS waits (up to REDIS_POOL_TIMEOUT_SECONDS) for a free connection.
    A ``rediss://`` URL speaks TLS, checking the server's certificate.

    With REDIS_CLUSTER, a cluster client that discovers the cluster from the node
    REDIS_URL names, with the same TLS and ACL options and REDIS_MAX_CONNECTIONS per
    node (past that it raises MaxConnectionsError at once: it has no blocking pool)."""
    if settings.redis_cluster:
        cluster = RedisCluster.from_url(
            settings.redis_url,
            **redis_access(settings),
            max_connections=settings.redis_max_connections,
            socket_timeout=5,
            socket_connect_timeout=2,
            health_check_interval=10,
        )
        return cast(Redis, cluster)  # answers the same commands (see the module's doc)
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        **redis_access(settings),
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_seconds,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=10,
    )
    return Redis.from_pool(pool)


def is_cluster(client: object) -> bool:
    """Whether ``client`` (a client or a pipeline) speaks to a Redis Cluster."""
    return isinstance(client, RedisCluster | ClusterPipeline)


async def cluster_enabled(settings: CommonSettings) -> bool:
    """``cluster_enabled`` of ``INFO cluster`` of the node REDIS_URL names."""
    probe = Redis.from_url(
        settings.redis_url, **redis_access(settings), socket_timeout=5, socket_connect_timeout=2
    )
    try:
        info = await probe.info("cluster")
    finally:
        await probe.aclose()
    return str(info.get("cluster_enabled", 0)) == "1"


async def check_redis_mode(settings: CommonSettings) -> None:
    """Hold the start (RedisModeMismatch, logged as ``redis_cluster_mismatch``; the
    start is retried) while REDIS_CLUSTER disagrees with what the server at REDIS_URL
    is: a plain client on a cluster node would be redirected (MOVED) for every tenant
    other masters serve, a cluster client cannot discover a plain server. A server that
    refuses INFO (an ACL user without @dangerous, a proxy) is taken at the setting."""
    try:
        enabled = await cluster_enabled(settings)
    except ResponseError as exc:
        log.warning("redis_mode_unchecked", error=str(exc), redis_cluster=settings.redis_cluster)
        return
    if enabled == settings.redis_cluster:
        return
    if enabled:
        why = "the server is a Redis Cluster node (cluster_enabled:1): set REDIS_CLUSTER=true"
    else:
        why = "the server is not a cluster node (cluster_enabled:0): set REDIS_CLUSTER=false"
    log.error("redis_cluster_mismatch", redis_cluster=settings.redis_cluster, why=why)
    raise RedisModeMismatch(f"REDIS_CLUSTER={str(settings.redis_cluster).lower()}, but {why}")
