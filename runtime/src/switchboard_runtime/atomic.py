"""State-changing Lua scripts that apply all or nothing, over a store that still holds
the state they expect.

Every service script is registered through :class:`AtomicScript`, written as
:mod:`switchboard_runtime.lua` describes (named arguments, keys from ``key.<builder>``).
Its body reads with ``call(...)`` and writes with ``write(...)`` (never ``redis.call``);
``write`` notes how
to undo each write before making it and, should the script fail half-way (a key of the
wrong type, a bug), the wrapper (``atomic.lua``) undoes them in reverse and answers an
error: Redis itself keeps whatever a failed script wrote. A note costs about one read
for the first write to each field or member (none for a key the script created, and a
removal of what is not there is skipped).

Each call also names the tenant's **generation**: a random id written once when the
tenant's state is initialised. A store that lost its state (a restart without
persistence, a flush) no longer holds it, and every script then refuses with
``SB_STATE_LOST`` before touching anything, raised here as :class:`StateLost`. See
:mod:`switchboard_runtime.generation` for how a service learns its generation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from switchboard_runtime.lua import LuaFile, LuaSource, key_builders, lua_files
from switchboard_runtime.redis_client import cluster_transient
from switchboard_runtime.redis_keys import Keys

STATE_LOST = "SB_STATE_LOST"
SCRIPT_FAILED = "SB_SCRIPT_FAILED"
PIPELINE_ERROR = "of pipeline caused error: "
# scripts sent to Redis in one pipeline: Redis works through a whole pipeline before it
# serves other clients, so a long one would hold up the outbox relays and deadline timers
PIPELINE_CALLS = 50


class StateLost(RedisConnectionError):  # noqa: N818 - reads as "the state is lost"
    """The store does not hold the generation this service works on: its state was lost.

    A kind of connection error, so every retry loop waits it out (nothing is applied,
    dead-lettered or committed) until the state is restored or deliberately reset.
    """


class ScriptsReloaded(RedisConnectionError):  # noqa: N818 - reads as "the scripts are reloaded"
    """A server answered NOSCRIPT (a replica promoted after a failover has no scripts):
    they are loaded again, and the calls are to be retried (a transient error; the
    scripts recognise a replay of what did run)."""


class ScriptFailed(ResponseError):  # noqa: N818 - reads as "the script failed"
    """A script failed and was rolled back: it changed nothing."""


@dataclass(frozen=True)
class FixedGeneration:
    """A generation read once (for tools and benchmarks that call scripts directly)."""

    key: str
    current: str | None


class GenerationSource(Protocol):
    """Where scripts read the generation they expect (``None``: not established yet)."""

    @property
    def key(self) -> str: ...

    @property
    def current(self) -> str | None: ...


def atomic_source(files: Sequence[LuaFile]) -> LuaSource:
    """The whole source of a state-changing script made of ``files`` (which may use
    ``key.<builder>``, ``call``, ``write`` and ``outbox_add``)."""
    return LuaSource.of(
        [
            *lua_files("switchboard_runtime", "atomic.lua"),
            key_builders(),
            LuaFile("<atomic wrapper>", "local function __script()"),
            *lua_files("switchboard_runtime", "outbox.lua"),
            *files,
            LuaFile(
                "<atomic wrapper>",
                "end\nlocal ok, result = pcall(__script)\n"
                "if ok then return result end\nreturn rolled_back(result)",
            ),
        ]
    )


# every registered script's source by its SHA1, to name the file of an error's line
_SOURCES: dict[str, LuaSource] = {}


def translate(exc: ResponseError, source: LuaSource | None = None) -> Exception:
    """The error a script's refusal stands for (from a pipeline too, whose message is
    ``Command # n (<command and arguments>) of pipeline caused error: ('<error>',)``),
    with each line of the script it names shown as ``<file>:<line>``."""
    if cluster_transient(exc):  # CLUSTERDOWN, TRYAGAIN: kept, transient
        return exc
    whole = str(exc)
    text = whole.rpartition(PIPELINE_ERROR)[2]
    if text != whole:  # the pipeline's error is the repr of a 1-tuple
        text = text.removeprefix("('").removeprefix('("').removesuffix("',)").removesuffix('",)')
    if source is None:
        source = next((src for sha, src in _SOURCES.items() if sha in whole), None)
    if source is not None:
        text = source.explain(text)
    if text.startswith(STATE_LOST):
        return StateLost(text)
    if text.startswith(SCRIPT_FAILED):
        return ScriptFailed(text)
    return ResponseError(text) if source is not None else exc


class AtomicScript:
    """A registered atomic script, called with its named arguments: ``await s(args)``."""

    def __init__(
        self, redis: Redis, keys: Keys, files: Sequence[LuaFile], generation: GenerationSource
    ) -> None:
        self.source = atomic_source(files)
        self._redis = redis
        self._script: AsyncScript = redis.register_script(self.source.text)
        self._loaded = False  # on every primary of a cluster (see queue)
        _SOURCES[self._script.sha] = self.source
        self._tag = keys.tag
        self._generation = generation

    def _keys_args(self, args: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        expected = self._generation.current
        if not expected:
            raise StateLost("the store's generation is not established yet")
        named = json.dumps(args, separators=(",", ":"))
        return [self._tag, self._generation.key], [named, expected]

    async def __call__(self, args: Mapping[str, Any]) -> Any:
        keys, argv = self._keys_args(args)
        try:
            return await self._script(keys=keys, args=argv)
        except ResponseError as exc:
            raise translate(exc, self.source) from None

    async def queue(self, pipe: Pipeline | ClusterPipeline, args: Mapping[str, Any]) -> None:
        """Add a call to ``pipe``; run :func:`executed` over it to read the results.

        The call is queued as a plain EVALSHA once the script is loaded (on every
        primary of a cluster, where it is routed by its keys, all in the tenant's slot).
        A script object would make redis-py ask SCRIPT EXISTS before every pipeline: a
        round trip per batch. A store that lost its scripts answers NOSCRIPT, and
        :func:`executed` loads them again."""
        keys, argv = self._keys_args(args)
        if not self._loaded:
            await self._redis.script_load(self.source.text)
            self._loaded = True
        pipe.execute_command("EVALSHA", self._script.sha, len(keys), *keys, *argv)


async def reload_scripts(redis: Redis | RedisCluster) -> None:
    """Load every registered script on every primary (after a NOSCRIPT)."""
    for source in list(_SOURCES.values()):
        await redis.script_load(source.text)


async def executed(pipe: Pipeline | ClusterPipeline) -> list[Any]:
    """``pipe.execute()``, with the first script refusal raised as what it stands for,
    and a NOSCRIPT (a failover, a restart) as ScriptsReloaded once the scripts are
    loaded again."""
    try:
        return list(await pipe.execute())
    except NoScriptError:
        if isinstance(pipe, ClusterPipeline):
            await reload_scripts(pipe.cluster_client)
        else:
            await reload_scripts(Redis(connection_pool=pipe.connection_pool))
        raise ScriptsReloaded("NOSCRIPT: the scripts are loaded again; retry") from None
    except ResponseError as exc:
        raise translate(exc) from None
