"""Lua scripts, written one way in every service.

The convention:

- A script is a ``.lua`` file in the ``lua/`` folder next to the store that calls it,
  loaded with :func:`lua_files`; shared parts (a prelude) are files too, listed first.
- It is called with the tenant's hash tag as ``KEYS[1]`` (``TAG``) and one JSON object of
  **named arguments** as ``ARGV[1]`` (``A``): ``A.work_item_id``, never ``ARGV[7]``.
- It never spells a key name: ``key.<builder>(...)`` is generated from
  :class:`switchboard_runtime.redis_keys.Keys`, so Python and Lua build every name in the
  one place (``key.router_item(wid)`` is ``Keys.router_item(wid)``).
- It reads with ``call(...)`` and writes with ``write(...)`` (see
  :mod:`switchboard_runtime.atomic`); both raise a failing command's error with the line
  that made it.

:class:`LuaSource` remembers which file each line of the assembled script came from, so
an error Redis reports at ``user_script:<line>`` is shown as ``<file>:<line>``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from switchboard_runtime.redis_keys import Keys

# a placeholder argument, to read where each argument lands in a builder's key
_ARG = "\x00{}\x00"
_LINE = re.compile(r"user_script:(\d+)")


@dataclass(frozen=True)
class LuaFile:
    """One part of a script: where it came from and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class LuaSource:
    """An assembled script, and the file each of its lines came from."""

    text: str
    parts: tuple[tuple[str, int, int], ...]  # file name, first line, line count

    @classmethod
    def of(cls, files: Sequence[LuaFile]) -> LuaSource:
        parts: list[tuple[str, int, int]] = []
        line = 1
        for part in files:
            count = part.text.count("\n") + 1
            parts.append((part.name, line, count))
            line += count
        return cls("\n".join(part.text for part in files), tuple(parts))

    def where(self, line: int) -> str:
        """``file:line`` of a line of the assembled script."""
        for name, first, count in self.parts:
            if first <= line < first + count:
                return f"{name}:{line - first + 1}"
        return f"user_script:{line}"

    def explain(self, message: str) -> str:
        """``message`` with each ``user_script:<line>`` named by its file and line."""
        return _LINE.sub(lambda m: self.where(int(m.group(1))), message)


def lua_files(package: str, *names: str) -> list[LuaFile]:
    """The files ``names`` of the ``lua/`` folder of ``package``, in order."""
    folder = resources.files(package).joinpath("lua")
    return [LuaFile(f"{package}/lua/{n}", folder.joinpath(n).read_text()) for n in names]


def _builder_lua(name: str, method: Callable[..., str]) -> str:
    params = list(inspect.signature(method).parameters)[1:]
    sentinel = "{sb:\x01}"
    built = method(Keys("\x01"), *[_ARG.format(i) for i in range(len(params))])
    if not built.startswith(sentinel):
        raise ValueError(f"Keys.{name} does not start with the tenant's tag")
    pieces = ["TAG"]
    for chunk in re.split(r"(\x00\d+\x00)", built.removeprefix(sentinel)):
        if re.fullmatch(r"\x00\d+\x00", chunk):
            pieces.append(f"tostring(a{chunk.strip(chr(0))})")
        elif chunk:
            pieces.append(repr(chunk))
    args = ", ".join(f"a{i}" for i in range(len(params)))
    return f"  {name} = function({args}) return {' .. '.join(pieces)} end,"


def key_builders() -> LuaFile:
    """``local key = {...}``: every builder of :class:`Keys` as a Lua function of ``TAG``."""
    rows = [
        _builder_lua(name, member)
        for name, member in vars(Keys).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]
    return LuaFile("<key builders of Keys>", "local key = {\n" + "\n".join(rows) + "\n}")
