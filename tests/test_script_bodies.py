"""Every state-changing script goes through the atomic wrapper's ``call``: a body that
used ``redis.call`` directly would write without noting the undo (issue 9, part 2)."""

from __future__ import annotations

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


@pytest.mark.parametrize("name", sorted(BODIES))
def test_script_body_writes_only_through_call(name: str) -> None:
    assert "redis.call" not in BODIES[name]
    assert "redis.pcall" not in BODIES[name]


def test_every_router_script_is_checked() -> None:
    assert len([n for n in BODIES if n.startswith("router ")]) >= 8
