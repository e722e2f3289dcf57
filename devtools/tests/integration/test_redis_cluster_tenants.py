"""The services' Redis client on a Redis Cluster (REDIS_CLUSTER=true): two tenants' keys
land on different masters while each tenant's keys (a script's included) are in one slot;
scripts queued on a cluster pipeline run where their keys are, and after a failover
(simulated: the scripts flushed from every primary) the batch is reloaded and retried;
start-up refuses a setting that disagrees with the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.crc import key_slot
from structlog.testing import capture_logs
from switchboard_devtools.embedded import EmbeddedStack
from switchboard_devtools.redis_cluster import RedisCluster
from switchboard_runtime.atomic import AtomicScript, FixedGeneration, ScriptsReloaded, executed
from switchboard_runtime.lua import LuaFile
from switchboard_runtime.pipeline import transient
from switchboard_runtime.redis_client import (
    RedisModeMismatch,
    check_redis_mode,
    is_cluster,
    redis_client,
)
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.settings import CommonSettings

from .clusterkit import master_index, tenants_on_masters

pytestmark = pytest.mark.integration

GENERATION = "init:cluster-tenants"
# A.agent, A.event: one event appended to the agent's log once (a replay: 'duplicate')
APPEND = LuaFile(
    "<append once>",
    "local seen = key.seen_event('t', A.event)\n"
    "if call('EXISTS', seen) == 1 then return 'duplicate' end\n"
    "write('SET', seen, '1', 'EX', 600)\n"
    "write('XADD', key.desktop_log(A.agent), '*', 'e', A.event)\n"
    "return 'appended'",
)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(tmp_path_factory.mktemp("tenants")) as running:
        running.start()
        yield running


@pytest_asyncio.fixture
async def client(nodes: RedisCluster) -> AsyncIterator[Redis]:
    service = redis_client(CommonSettings(redis_url=nodes.url, redis_cluster=True))
    yield service
    await service.aclose()


async def scripts_of(client: Redis, tenants: list[Keys]) -> list[AtomicScript]:
    """The append script of each tenant, over its generation (written here)."""
    made = []
    for keys in tenants:
        await client.set(keys.generation(), GENERATION)
        made.append(
            AtomicScript(client, keys, [APPEND], FixedGeneration(keys.generation(), GENERATION))
        )
    return made


async def append_all(client: Redis, scripts: list[AtomicScript], events: list[str]) -> list[str]:
    """Each event appended for every tenant, in one pipeline (tenants interleaved)."""
    async with client.pipeline(transaction=False) as pipe:
        for event in events:
            for script in scripts:
                await script.queue(pipe, {"agent": "ag1", "event": event})
        return [r.decode() for r in await executed(pipe)]


async def keys_by_master(nodes: RedisCluster) -> dict[bytes, int]:
    """Every key the cluster holds, and the port of the master that stores it."""
    found: dict[bytes, int] = {}
    for port in nodes.ports():
        async with Redis(port=port) as master:
            found.update({key: port async for key in master.scan_iter(count=1000)})
    return found


async def test_two_tenants_keys_land_on_two_masters_each_in_one_slot(
    nodes: RedisCluster, client: Redis
) -> None:
    assert is_cluster(client)
    tenants = tenants_on_masters(nodes, 2)
    scripts = await scripts_of(client, tenants)
    assert await append_all(client, scripts, ["e1", "e2"]) == ["appended"] * 4

    stored = await keys_by_master(nodes)
    ports = []
    for keys in tenants:
        mine = {key: port for key, port in stored.items() if key.startswith(keys.tag.encode())}
        written = [keys.generation(), keys.desktop_log("ag1")]
        written += [keys.seen_event("t", event) for event in ("e1", "e2")]
        assert {name.encode() for name in written} <= set(mine)
        assert {key_slot(key) for key in mine} == {key_slot(keys.tag.encode())}
        assert len(set(mine.values())) == 1  # so one master
        ports.append(next(iter(mine.values())))
    assert ports[0] != ports[1]
    assert ports == [nodes.ports()[master_index(nodes, keys)] for keys in tenants]


async def test_after_the_scripts_are_lost_the_batch_is_reloaded_and_retried(
    nodes: RedisCluster, client: Redis
) -> None:
    """What a promoted replica does (it has no scripts): NOSCRIPT, then ScriptsReloaded,
    a transient error; the retried batch runs, and what did run is recognised."""
    scripts = await scripts_of(client, tenants_on_masters(nodes, 3))
    assert await append_all(client, scripts, ["r1"]) == ["appended"] * 3
    await client.script_flush()  # on every primary
    with pytest.raises(ScriptsReloaded) as raised:
        await append_all(client, scripts, ["r1", "r2"])
    assert transient(raised.value)
    retried = await append_all(client, scripts, ["r1", "r2"])
    assert retried == ["duplicate"] * 3 + ["appended"] * 3


async def test_start_up_refuses_a_setting_the_server_disagrees_with(nodes: RedisCluster) -> None:
    await check_redis_mode(CommonSettings(redis_url=nodes.url, redis_cluster=True))
    as_scheme = nodes.url.replace("redis://", "redis+cluster://")
    await check_redis_mode(CommonSettings(redis_url=as_scheme))
    with pytest.raises(RedisModeMismatch, match="set REDIS_CLUSTER=true"):
        await check_redis_mode(CommonSettings(redis_url=nodes.url))
    with EmbeddedStack() as plain:
        url = await asyncio.to_thread(plain.start_redis)
        with pytest.raises(RedisModeMismatch, match="set REDIS_CLUSTER=false"):
            await check_redis_mode(CommonSettings(redis_url=url, redis_cluster=True))
        await check_redis_mode(CommonSettings(redis_url=url))


async def test_a_user_without_info_is_taken_at_the_setting() -> None:
    """A least-privilege ACL user (no @dangerous, so no INFO) still starts the services:
    the mode cannot be checked, so it is logged and REDIS_CLUSTER is believed."""
    with EmbeddedStack() as plain:
        url = await asyncio.to_thread(plain.start_redis)
        admin = Redis.from_url(url)
        try:
            await admin.acl_setuser(
                "narrow", enabled=True, passwords=["+narrow-pw"], keys=["*"],
                channels=["*"], commands=["+@all", "-@dangerous"],
            )  # fmt: skip
        finally:
            await admin.aclose()
        narrow = CommonSettings(redis_url=url, redis_username="narrow", redis_password="narrow-pw")
        with capture_logs() as logs:
            await check_redis_mode(narrow)
    assert [e["event"] for e in logs] == ["redis_mode_unchecked"]
    assert "permission" in logs[0]["error"].lower()
