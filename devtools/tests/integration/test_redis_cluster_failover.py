"""A Redis Cluster with a master down, failed over or restarted, as redis-py's asyncio
cluster client and the services' transient-error rule see it: a connection error for the
lost master's slots, then ``ClusterDownError`` for all (both waited out); without full
coverage the other masters keep serving; a promoted replica has the data and the function
libraries but not the script cache; with the append-only file a restarted master keeps
its data.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from redis.crc import key_slot
from redis.exceptions import ClusterDownError, NoScriptError, RedisError
from switchboard_devtools.redis_cluster import RedisCluster
from switchboard_runtime.pipeline import transient

from .clusterkit import (
    INCR,
    LIBRARY,
    client_of,
    eventually,
    marked_failed,
    master_index,
    replica_has,
    state_is,
    tenants_on_masters,
    until_it_works,
)

pytestmark = pytest.mark.integration


# -- a master down -----------------------------------------------------------------------


async def test_a_master_down_fails_its_tenants_then_every_tenant(tmp_path: Path) -> None:
    """Its slots: a connection error (transient). Once the others mark it failed (the
    node timeout, 2 s), ``cluster_state:fail``: every tenant gets ``ClusterDownError``,
    a ResponseError the services take as transient (waited out, not dead-lettered)."""
    with RedisCluster(tmp_path) as cluster:
        await asyncio.to_thread(cluster.start)
        down, live = tenants_on_masters(cluster, 2)
        client = await client_of(cluster)
        try:
            await client.set(live.work_item("w"), "1")
            await client.set(down.work_item("w"), "1")
            index = master_index(cluster, down)
            cluster.stop_node(index, kill=True)
            with pytest.raises(Exception) as lost:  # noqa: PT011 - any transient one
                await client.get(down.work_item("w"))
            assert transient(lost.value), repr(lost.value)
            await eventually(lambda: state_is(cluster, master_index(cluster, live), "fail"))
            with pytest.raises(ClusterDownError) as raised:
                await client.get(live.work_item("w"))
            assert transient(raised.value)
            cluster.start_node(index)  # empty: no append-only file
            await asyncio.to_thread(cluster.wait_ok)
            assert await until_it_works(lambda: client.get(live.work_item("w"))) == b"1"
            assert await until_it_works(lambda: client.get(down.work_item("w"))) is None
        finally:
            await client.aclose()


async def test_without_full_coverage_the_other_masters_keep_serving(tmp_path: Path) -> None:
    args = ["--cluster-require-full-coverage", "no"]
    with RedisCluster(tmp_path, server_args=args) as cluster:
        await asyncio.to_thread(cluster.start)
        down, live = tenants_on_masters(cluster, 2)
        client = await client_of(cluster)
        try:
            await client.set(live.work_item("w"), "1")
            index = master_index(cluster, down)
            cluster.stop_node(index, kill=True)
            viewer = master_index(cluster, live)
            await eventually(lambda: marked_failed(cluster, viewer, index))
            assert await state_is(cluster, viewer, "ok")  # the others still serve
            assert await client.get(live.work_item("w")) == b"1"
            with pytest.raises(RedisError):
                await client.get(down.work_item("w"))
        finally:
            await client.aclose()


async def test_a_promoted_replica_has_the_data_and_functions_but_not_the_scripts(
    tmp_path: Path,
) -> None:
    """Failover keeps the data and the function libraries (both replicated) but not the
    script cache: SCRIPT LOAD reaches only the primaries, so a queued EVALSHA answers
    NOSCRIPT until loaded again, while a queued FCALL just works."""
    with RedisCluster(tmp_path, replicas=True) as cluster:
        await asyncio.to_thread(cluster.start)
        keys = tenants_on_masters(cluster, 3)[1]
        slot = key_slot(keys.tag.encode())
        client = await client_of(cluster)
        try:
            script = client.register_script(INCR)
            await client.script_load(script.script)
            await client.function_load(LIBRARY)  # on every primary
            assert await script(keys=[keys.offer_sequence()]) == 1
            old = cluster.slot_owner(slot)
            master = cluster.ports().index(old)
            await eventually(lambda: replica_has(cluster, master, keys.offer_sequence(), b"1"))
            cluster.stop_node(master, kill=True)
            await eventually(lambda: asyncio.to_thread(lambda: cluster.slot_owner(slot) != old))
            assert await until_it_works(lambda: client.get(keys.offer_sequence())) == b"1"
            async with client.pipeline(transaction=False) as pipe:
                pipe.execute_command("EVALSHA", script.sha, 1, keys.offer_sequence())
                with pytest.raises(NoScriptError):
                    await pipe.execute()
            async with client.pipeline(transaction=False) as pipe:
                pipe.fcall("sb_incr", 1, keys.offer_sequence())
                pipe.fcall("sb_incr", 1, keys.offer_sequence())
                assert await pipe.execute() == [2, 3]
        finally:
            await client.aclose()


async def test_with_appendonly_a_restarted_master_keeps_its_data(tmp_path: Path) -> None:
    with RedisCluster(tmp_path, appendonly=True) as cluster:
        await asyncio.to_thread(cluster.start)
        keys = tenants_on_masters(cluster, 1)[0]
        client = await client_of(cluster)
        try:
            await client.set(keys.generation(), "init:kept")
            index = master_index(cluster, keys)
            cluster.stop_node(index)
            cluster.start_node(index)
            await asyncio.to_thread(cluster.wait_ok)
            assert await until_it_works(lambda: client.get(keys.generation())) == b"init:kept"
        finally:
            await client.aclose()
        ports = cluster.ports()
    for port in ports:  # the harness stopped every node
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
