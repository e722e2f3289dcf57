"""The Redis Cluster harness (three masters on free ports), and what redis-py's asyncio
cluster client can do with Switchboard's ways of using Redis, at the installed version.

These tests document the client as much as the harness: a registered script runs on the
cluster but cannot be queued on a cluster pipeline (``EVALSHA`` is a blocked pipeline
method), ``EVALSHA`` queued with ``execute_command`` works once the script is loaded on the
primary (a promoted replica has no scripts; function libraries are replicated), a
tenant's pipelined commands share one slot, sharded and classic pub/sub reach a
subscriber, and while a master is down the client raises a connection error for its slots
and, once the cluster is marked failed, ``ClusterDownError`` (a ``ResponseError``, which
the services count as transient) for all.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.crc import key_slot
from redis.exceptions import (
    MovedError,
    NoScriptError,
    RedisClusterException,
)
from switchboard_devtools.redis_cluster import RedisCluster, slot_ranges
from switchboard_runtime.redis_keys import Keys

from .clusterkit import INCR, client_of, master_index, tenants_on_masters

pytestmark = pytest.mark.integration

APPEND = (
    "local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], 60000)\n"
    "return redis.call('XLEN', KEYS[1])"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(tmp_path_factory.mktemp("cluster")) as running:
        running.start()
        yield running


@pytest_asyncio.fixture
async def client(cluster: RedisCluster) -> AsyncIterator[ClusterClient]:
    rc = await client_of(cluster)
    yield rc
    await rc.aclose()


# -- the harness -------------------------------------------------------------------------


def test_three_masters_share_the_slots_and_say_ok(cluster: RedisCluster) -> None:
    assert cluster.url == f"redis://127.0.0.1:{cluster.ports()[0]}/0"
    assert cluster.startup_nodes == [("127.0.0.1", port) for port in cluster.ports()]
    for index in range(3):
        info = cluster.cluster_info(index)
        assert info["cluster_state"] == "ok"
        assert info["cluster_slots_assigned"] == "16384"
        assert info["cluster_size"] == "3"
    owners = [cluster.slot_owner(low) for low, _ in slot_ranges(3)]
    assert owners == cluster.ports()
    assert all(port + 10000 <= 65535 for port in cluster.ports())


async def test_each_tenant_tag_lives_in_one_slot_of_one_master(
    cluster: RedisCluster, client: ClusterClient
) -> None:
    tenants = tenants_on_masters(cluster, 2)
    for keys in tenants:
        names = [keys.work_item("w1"), keys.outbox("router"), keys.desktop_log("ag1")]
        for name in names:
            await client.set(name, keys.tenant)
            assert await client.get(name) == keys.tenant.encode()
        slots = {await client.cluster_keyslot(name) for name in names}
        assert slots == {key_slot(keys.tag.encode())}  # the server agrees with redis.crc
        owner = Redis(port=cluster.slot_owner(slots.pop()))
        try:
            assert await owner.get(names[0]) == keys.tenant.encode()  # stored on that master
        finally:
            await owner.aclose()
    a, b = tenants
    assert master_index(cluster, a) != master_index(cluster, b)
    elsewhere = Redis(port=cluster.ports()[master_index(cluster, b)])
    try:
        with pytest.raises(MovedError):  # a plain client on another master is redirected
            await elsewhere.get(a.work_item("w1"))
    finally:
        await elsewhere.aclose()


# -- scripts -----------------------------------------------------------------------------


async def test_a_registered_script_runs_and_reloads_itself(client: ClusterClient) -> None:
    script = client.register_script(INCR)
    key = Keys("scripts-direct").offer_sequence()
    assert await script(keys=[key]) == 1
    await client.script_flush()  # every primary forgets it: NOSCRIPT, loaded, run again
    assert await script(keys=[key]) == 2


async def test_a_registered_script_cannot_be_queued_on_a_cluster_pipeline(
    client: ClusterClient,
) -> None:
    """What ``AtomicScript.queue(pipe, ...)`` does (``script(..., client=pipe)``)."""
    script = client.register_script(INCR)
    async with client.pipeline(transaction=False) as pipe:
        with pytest.raises(RedisClusterException, match="evalsha is blocked"):
            await script(keys=[Keys("scripts-pipe").offer_sequence()], client=pipe)  # type: ignore[arg-type]


async def test_evalsha_queued_by_execute_command_runs_once_loaded(
    cluster: RedisCluster, client: ClusterClient
) -> None:
    script = client.register_script(APPEND + " -- queued")
    logs = [keys.desktop_log("ag-queued") for keys in tenants_on_masters(cluster)]
    async with client.pipeline(transaction=False) as pipe:
        pipe.execute_command("EVALSHA", script.sha, 1, logs[0], "x")
        with pytest.raises(NoScriptError):
            await pipe.execute()
    assert await client.script_load(script.script) == script.sha  # on every primary
    async with client.pipeline(transaction=False) as pipe:
        for n in range(2):  # one pipeline, three tenants on three masters, in order
            for log in logs:
                pipe.execute_command("EVALSHA", script.sha, 1, log, f"e{n}")
        assert await pipe.execute() == [1, 1, 1, 2, 2, 2]


# -- pipelined commands and transactions -------------------------------------------------


async def test_a_tenants_pipelined_commands_work(client: ClusterClient) -> None:
    keys = Keys("pipelined")
    log, agent = keys.desktop_log("ag1"), keys.agent("ag1")
    async with client.pipeline(transaction=False) as pipe:
        pipe.xadd(log, {"e": "1"})
        pipe.xtrim(log, minid="0", approximate=False)
        pipe.xtrim(log, maxlen=1000, approximate=True)
        pipe.pexpire(log, 60_000)
        pipe.hset(agent, mapping={"status": "available", "reason": "-"})
        pipe.hmget(agent, "status", "reason")
        pipe.sadd(keys.agent_items("ag1"), "w1")
        pipe.smembers(keys.agent_items("ag1"))
        pipe.zadd(keys.queue("task", "async"), {"w1": 1})
        pipe.xrange(log, count=1)
        pipe.execute_command("PUBLISH", keys.desktop_channel(), "ag1")
        pipe.execute_command("SPUBLISH", keys.desktop_channel(), "ag1")
        replies = await pipe.execute()
    assert replies[1:9] == [0, 0, True, 2, [b"available", b"-"], 1, {b"w1"}, 1]
    assert replies[10:] == [0, 0]  # nobody listens
    async with client.pipeline(transaction=False) as pipe:
        with pytest.raises(RedisClusterException, match="publish is blocked"):
            pipe.publish(keys.desktop_channel(), "ag1")


async def test_a_transaction_needs_one_slot(cluster: RedisCluster, client: ClusterClient) -> None:
    a, b = tenants_on_masters(cluster, 2)
    async with client.pipeline(transaction=True) as pipe:
        pipe.hsetnx(a.campaign("c1"), "queue", "q")
        pipe.hgetall(a.campaign("c1"))
        assert await pipe.execute() == [1, {b"queue": b"q"}]
    async with client.pipeline(transaction=True) as pipe:
        pipe.set(a.offer_sequence(), 1)
        pipe.set(b.offer_sequence(), 1)
        with pytest.raises(RedisClusterException, match="same slot"):
            await pipe.execute()


# -- pub/sub -----------------------------------------------------------------------------


async def received(get: Callable[[], Awaitable[Any]], count: int) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + 5
    while len(got) < count and time.monotonic() < deadline:
        message = await get()
        if message is not None:
            got.append(message["data"])
    return got


async def test_sharded_news_reach_a_sharded_subscriber(client: ClusterClient) -> None:
    """SSUBSCRIBE on the master of the channel's slot, SPUBLISH from a pipeline."""
    channel = Keys("news-sharded").desktop_channel()
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.ssubscribe(channel)
        async with client.pipeline(transaction=False) as pipe:
            pipe.xadd(Keys("news-sharded").desktop_log("ag1"), {"e": "1"})
            pipe.execute_command("SPUBLISH", channel, "ag1\nag2")
            assert (await pipe.execute())[1] == 1  # one subscriber, on that shard
        assert await received(lambda: pubsub.get_sharded_message(timeout=1.0), 1) == [b"ag1\nag2"]
    finally:
        await pubsub.aclose()


async def test_classic_news_reach_a_subscriber_on_any_node(
    cluster: RedisCluster, client: ClusterClient
) -> None:
    """The desktop hub's own calls (``pubsub()``, ``subscribe``, ``get_message``) work on
    the cluster client; a classic PUBLISH reaches subscribers on every node."""
    channel = Keys("news-classic").desktop_channel()
    owner = cluster.slot_owner(key_slot(channel.encode()))
    elsewhere = Redis(port=next(p for p in cluster.ports() if p != owner))
    try:
        async with (
            client.pubsub(ignore_subscribe_messages=True) as pubsub,
            elsewhere.pubsub(ignore_subscribe_messages=True) as other,
        ):
            await pubsub.subscribe(channel)
            await other.subscribe(channel)
            await client.publish(channel, "ag1")
            assert await received(lambda: pubsub.get_message(timeout=1.0), 1) == [b"ag1"]
            assert await received(lambda: other.get_message(timeout=1.0), 1) == [b"ag1"]
    finally:
        await elsewhere.aclose()
