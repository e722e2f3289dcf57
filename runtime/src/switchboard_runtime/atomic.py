"""State-changing Lua scripts that apply all or nothing, over a store that still holds
the state they expect.

Every service script is registered through :class:`AtomicScript`. Its body reads with
``call(...)`` and writes with ``write(...)`` (never ``redis.call``); ``write`` notes how
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

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from switchboard_runtime.outbox import OUTBOX_LUA

STATE_LOST = "SB_STATE_LOST"
SCRIPT_FAILED = "SB_SCRIPT_FAILED"
PIPELINE_ERROR = "of pipeline caused error: "


class StateLost(RedisConnectionError):  # noqa: N818 - reads as "the state is lost"
    """The store does not hold the generation this service works on: its state was lost.

    A kind of connection error, so every retry loop waits it out (nothing is applied,
    dead-lettered or committed) until the state is restored or deliberately reset.
    """


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


def atomic_source(body: str) -> str:
    """The full Lua source of a state-changing script with ``body`` (which may use
    ``outbox_add``, see :mod:`switchboard_runtime.outbox`)."""
    prelude = resources.files("switchboard_runtime").joinpath("atomic.lua").read_text()
    return (
        f"{prelude}\nlocal function __script()\n{OUTBOX_LUA}\n{body}\nend\n"
        "local ok, result = pcall(__script)\n"
        "if ok then return result end\n"
        "return rolled_back(result)\n"
    )


def translate(exc: ResponseError) -> Exception:
    """The error a script's refusal stands for (from a pipeline too, whose message is
    ``Command # n (<command and arguments>) of pipeline caused error: ('<error>',)``)."""
    whole = str(exc)
    text = whole.rpartition(PIPELINE_ERROR)[2]
    if text != whole:  # the pipeline's error is the repr of a 1-tuple
        text = text.removeprefix("('").removeprefix('("').removesuffix("',)").removesuffix('",)')
    if text.startswith(STATE_LOST):
        return StateLost(text)
    if text.startswith(SCRIPT_FAILED):
        return ScriptFailed(text)
    return exc


class AtomicScript:
    """A registered atomic script, called like redis-py's: ``await s(keys, args)``."""

    def __init__(self, redis: Redis, body: str, generation: GenerationSource) -> None:
        self._script: AsyncScript = redis.register_script(atomic_source(body))
        self._generation = generation

    def _keys_args(
        self, keys: Sequence[str], args: Sequence[str | int | float]
    ) -> tuple[list[Any], list[Any]]:
        expected = self._generation.current
        if not expected:
            raise StateLost("the store's generation is not established yet")
        return [*keys, self._generation.key], [*args, expected]

    async def __call__(self, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        all_keys, all_args = self._keys_args(keys, args)
        try:
            return await self._script(keys=all_keys, args=all_args)
        except ResponseError as exc:
            raise translate(exc) from None

    async def queue(
        self, pipe: Pipeline, keys: Sequence[str], args: Sequence[str | int | float]
    ) -> None:
        """Add a call to ``pipe``; run :func:`results` over what ``pipe.execute`` returns."""
        all_keys, all_args = self._keys_args(keys, args)
        await self._script(keys=all_keys, args=all_args, client=pipe)


async def executed(pipe: Pipeline) -> list[Any]:
    """``pipe.execute()``, with the first script refusal raised as what it stands for."""
    try:
        return list(await pipe.execute())
    except ResponseError as exc:
        raise translate(exc) from None
