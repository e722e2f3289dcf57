"""Every state-changing script writes through the atomic wrapper's ``write``: a body that
wrote with ``call`` (plain ``redis.call``, for reads) or ``redis.call`` directly would
change Redis without noting the undo (issue 9, part 2)."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from callback import store as callback_store
from workitem import projection_store, store

BODIES = {
    "workitem create": store._CREATE_LUA,
    "workitem cancel": store._CANCEL_LUA,
    "workitem projection": projection_store._APPLY_LUA,
    "callback commit": callback_store._COMMIT_LUA,
    **{
        f"router {f.name}": f.read_text()
        for f in resources.files("router").joinpath("lua").iterdir()
        if f.name.endswith(".lua")
    },
}
READS = {
    "GET", "HGET", "HMGET", "HGETALL", "HEXISTS", "EXISTS", "TYPE", "TTL", "PTTL", "ZRANGE",
    "ZRANGEBYSCORE", "ZSCORE", "ZRANK", "ZCARD", "SMEMBERS", "SISMEMBER", "SCARD", "LLEN",
    "LRANGE", "XLEN", "XRANGE",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BODIES))
def test_script_body_writes_only_through_write(name: str) -> None:
    body = BODIES[name]
    assert "redis.call" not in body
    assert "redis.pcall" not in body
    read_with_call = set(re.findall(r"(?<![\w.])call\('([A-Z]+)'", body))
    assert read_with_call <= READS, f"written with call(): {read_with_call - READS}"
    assert not re.search(r"(?<![\w.])call\([^'\"]", body), "call() with a computed command"


def test_every_router_script_is_checked() -> None:
    assert len([n for n in BODIES if n.startswith("router ")]) >= 8
