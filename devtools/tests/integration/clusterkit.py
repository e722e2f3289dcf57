"""What the Redis Cluster tests share: tenants placed on chosen masters, a cluster client,
and waiting on the cluster's own word (its state, a node's flags, a replica's copy)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.crc import key_slot
from redis.exceptions import RedisError
from switchboard_devtools.redis_cluster import RedisCluster
from switchboard_runtime.pipeline import transient
from switchboard_runtime.redis_keys import Keys

INCR = "return redis.call('INCR', KEYS[1])"
LIBRARY = (
    "#!lua name=sbtest\n"
    "redis.register_function('sb_incr', function(keys) return redis.call('INCR', keys[1]) end)"
)


def tenants_on_masters(cluster: RedisCluster, count: int = 3) -> list[Keys]:
    """``count`` tenants whose hash tags are served by different masters."""
    found: dict[int, Keys] = {}
    for i in range(1000):
        keys = Keys(f"tenant-{i}")
        found.setdefault(cluster.slot_owner(key_slot(keys.tag.encode())), keys)
        if len(found) == count:
            return list(found.values())
    raise AssertionError("no tags on enough masters")


def master_index(cluster: RedisCluster, keys: Keys) -> int:
    port = cluster.slot_owner(key_slot(keys.tag.encode()))
    return cluster.ports().index(port)


async def client_of(cluster: RedisCluster) -> ClusterClient:
    client = ClusterClient.from_url(cluster.url)
    await client.initialize()
    return client


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)


async def state_is(cluster: RedisCluster, index: int, state: str) -> bool:
    info = await asyncio.to_thread(cluster.cluster_info, index)
    return info.get("cluster_state") == state


def _marked_failed(cluster: RedisCluster, viewer: int, index: int) -> bool:
    client = cluster.nodes[viewer].client()
    try:
        raw = client.execute_command("CLUSTER", "NODES")  # type: ignore[no-untyped-call]
    finally:
        client.close()
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    port = f":{cluster.ports()[index]}@"
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 2 and port in fields[1]:
            return "fail" in fields[2].split(",")  # "fail?" is only a suspicion
    return False


async def marked_failed(cluster: RedisCluster, viewer: int, index: int) -> bool:
    """Node ``viewer`` has marked node ``index`` failed (past the node timeout, agreed)."""
    return await asyncio.to_thread(_marked_failed, cluster, viewer, index)


def _replica_has(cluster: RedisCluster, master: int, key: str, value: bytes) -> bool:
    for node in cluster.nodes:
        if node.replica_of != master:
            continue
        client = node.client()
        try:
            client.execute_command("READONLY")  # type: ignore[no-untyped-call]
            return client.get(key) == value
        except RedisError:
            return False
        finally:
            client.close()
    return False


async def replica_has(cluster: RedisCluster, master: int, key: str, value: bytes) -> bool:
    """The replica of node ``master`` holds ``key`` = ``value`` (the write reached it)."""
    return await asyncio.to_thread(_replica_has, cluster, master, key, value)


async def until_it_works(call: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """``call`` retried through transient errors (as the services' consumers do)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except Exception as exc:
            if not transient(exc):
                raise
            assert time.monotonic() < deadline, "still failing"
            await asyncio.sleep(0.2)
