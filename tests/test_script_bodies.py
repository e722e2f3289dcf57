"""Every service's Lua is written one way (switchboard_runtime.lua): files in a ``lua/``
folder next to their store, named arguments, key names only from the generated
``key.<builder>`` functions, writes only through the atomic wrapper's ``write`` (a body that
wrote with ``call`` or ``redis.call`` would change Redis without noting the undo)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from switchboard_runtime.redis_keys import Keys

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("workitem", "router", "callback", "desktop")
BODIES = {
    f"{svc}/{path.name}": path.read_text()
    for svc in SERVICES
    for path in sorted((ROOT / "services" / svc / "src" / svc / "lua").glob("*.lua"))
}
READS = {
    "GET", "HGET", "HMGET", "HGETALL", "HEXISTS", "EXISTS", "TYPE", "TTL", "PTTL", "ZRANGE",
    "ZRANGEBYSCORE", "ZSCORE", "ZRANK", "ZCARD", "SMEMBERS", "SISMEMBER", "SCARD", "LLEN",
    "LRANGE", "XLEN", "XRANGE",
}  # fmt: skip
BUILDERS = {n for n, m in vars(Keys).items() if inspect.isfunction(m) and not n.startswith("_")}
# a quoted piece of a key name: ':' next to a word, e.g. 'ri:' or ':rejected'
KEY_PIECE = re.compile(r"""['"](?:[\w-]+:|:[\w-]+)""")
NOT_KEYS = {"'rejected:"}  # the command script's outcome 'rejected:<reason>'


def code_of(body: str) -> str:
    """The body without its comments."""
    return "\n".join(line.split("--", 1)[0] for line in body.splitlines())


@pytest.mark.parametrize("name", sorted(BODIES))
def test_script_body_writes_only_through_write(name: str) -> None:
    body = code_of(BODIES[name])
    assert "redis.call" not in body
    assert "redis.pcall" not in body
    read_with_call = set(re.findall(r"(?<![\w.])call\('([A-Z]+)'", body))
    assert read_with_call <= READS, f"written with call(): {read_with_call - READS}"
    assert not re.search(r"(?<![\w.])call\([^'\"]", body), "call() with a computed command"


@pytest.mark.parametrize("name", sorted(BODIES))
def test_script_body_takes_named_arguments_and_builds_no_key_name(name: str) -> None:
    body = code_of(BODIES[name])
    assert "ARGV" not in body, "positional arguments: use the named ones (A.<name>)"
    assert "KEYS" not in body, "keys come from key.<builder>, not from KEYS"
    assert "TAG" not in body, "a key name built from the tag: use key.<builder>"
    spelled = set(KEY_PIECE.findall(body)) - NOT_KEYS
    assert not spelled, f"a key name spelled in Lua ({spelled}): use key.<builder>"
    unknown = set(re.findall(r"\bkey\.(\w+)\(", body)) - BUILDERS
    assert not unknown, f"no Python builder for key.{unknown}"


def test_every_service_keeps_its_scripts_in_files() -> None:
    for svc in SERVICES:
        assert any(n.startswith(f"{svc}/") for n in BODIES), f"{svc} has no lua/ files"
        for path in (ROOT / "services" / svc / "src" / svc).rglob("*.py"):
            text = path.read_text()
            assert "write('" not in text, f"Lua inside {path}"
            assert "redis.call(" not in text, f"Lua inside {path}"
