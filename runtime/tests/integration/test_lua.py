"""The Lua convention against a real Redis: the generated ``key.<builder>`` functions build
exactly the names the Python builders do, and a failing script's error names the file and
line of the command that failed."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers
from switchboard_runtime.atomic import AtomicScript, FixedGeneration, ScriptFailed
from switchboard_runtime.lua import LuaFile
from switchboard_runtime.redis_keys import Keys

pytestmark = pytest.mark.integration

GENERATION = "init:lua-tests"
# every builder with sample arguments (a partition is a number in Lua as in Python)
SAMPLES = {"partition": 7}
NAMES = """
local out = {}
for _, call in ipairs(A.calls) do
  out[#out + 1] = key[call.name](unpack(call.args))
end
return out
"""


def builders() -> list[tuple[str, list[object]]]:
    found: list[tuple[str, list[object]]] = []
    for name, member in vars(Keys).items():
        if inspect.isfunction(member) and not name.startswith("_"):
            params = list(inspect.signature(member).parameters)[1:]
            found.append((name, [SAMPLES.get(p, f"{p}-x:1") for p in params]))
    return found


@pytest.fixture
async def tenant(brokers: Brokers) -> AsyncIterator[tuple[Redis, Keys]]:
    redis = brokers.redis()
    keys = Keys(f"t{uuid.uuid4().hex[:12]}")
    await redis.set(keys.generation(), GENERATION)
    yield redis, keys
    await redis.aclose()


def script(redis: Redis, keys: Keys, body: str) -> AtomicScript:
    generation = FixedGeneration(keys.generation(), GENERATION)
    return AtomicScript(redis, keys, [LuaFile("probe.lua", body)], generation)


async def test_every_lua_key_builder_builds_the_python_name(tenant: tuple[Redis, Keys]) -> None:
    redis, keys = tenant
    calls = builders()
    assert len(calls) > 20  # the builders were found
    built = await script(redis, keys, NAMES)(
        {"calls": [{"name": n, "args": args} for n, args in calls]}
    )
    expected = [getattr(keys, name)(*args) for name, args in calls]
    assert [b.decode() for b in built] == expected


async def test_a_failing_command_is_reported_at_its_file_and_line(
    tenant: tuple[Redis, Keys],
) -> None:
    redis, keys = tenant
    await redis.set(f"{keys.tag}:a-string", "x")
    body = "local s = TAG .. ':a-string'\n-- a comment\nwrite('HSET', s, 'f', 'v')\n"
    with pytest.raises(ScriptFailed, match=r"probe\.lua:3: WRONGTYPE"):
        await script(redis, keys, body)({})
    read = "local s = TAG .. ':a-string'\ncall('HGET', s, 'f')\n"
    with pytest.raises(ScriptFailed, match=r"probe\.lua:2: WRONGTYPE"):
        await script(redis, keys, read)({})
    with pytest.raises(ScriptFailed, match=r"probe\.lua:1: no such thing"):
        await script(redis, keys, "error('no such thing')")({})
