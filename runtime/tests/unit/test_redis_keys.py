"""All keys of a tenant live in one Redis Cluster slot; tenants never share a tag."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from redis.crc import key_slot
from switchboard_runtime.redis_keys import Keys

# Ids come from outside (work item ids, CloudEvent ids, Idempotency-Keys): braces included.
AWKWARD_IDS = ["wi-1", "550e8400-e29b-41d4-a716-446655440000", "a}b{c", "{x}", "}", ""]


def key_builders(keys: Keys) -> dict[str, Callable[..., str]]:
    """Every public key-building method, so a builder added later is checked too."""
    return {
        name: getattr(keys, name)
        for name, member in inspect.getmembers(Keys, inspect.isfunction)
        if not name.startswith("_")
    }


def every_key(keys: Keys) -> list[str]:
    built = []
    for build in key_builders(keys).values():
        arity = len(inspect.signature(build).parameters)
        built += [build(*[value] * arity) for value in AWKWARD_IDS]
    return built


def test_every_key_builder_is_covered() -> None:
    names = set(key_builders(Keys("acme")))
    assert names >= {
        "work_item",
        "request",
        "outbox",
        "outbox_lease",
        "seen_event",
        "work_item_history",
    }


@pytest.mark.parametrize("tenant", ["default", "acme", "t-1", "a_b", "9" * 63])
def test_all_keys_of_a_tenant_share_its_hash_tag_and_slot(tenant: str) -> None:
    keys = Keys(tenant)
    built = every_key(keys)

    assert keys.tag == f"{{sb:{tenant}}}"
    assert all(key.startswith(keys.tag) for key in built)
    assert {key_slot(key.encode()) for key in built} == {key_slot(keys.tag.encode())}


def test_different_tenants_get_different_tags() -> None:
    tenants = ["default", "acme", "acme-eu", "acme_eu", "a", "ab"]
    tags = {Keys(t).tag for t in tenants}
    assert len(tags) == len(tenants)
    for tenant in tenants:
        for other in tenants:
            if other != tenant:
                assert not any(k.startswith(Keys(other).tag) for k in every_key(Keys(tenant)))


def test_one_tenants_keys_are_distinct_per_purpose() -> None:
    keys = Keys("acme")
    built = [
        keys.work_item("x"),
        keys.work_item_history("x"),
        keys.request("http", "x"),
        keys.outbox("x"),
        keys.outbox_lease("x"),
        keys.seen_event("x", "x"),
    ]
    assert len(set(built)) == len(built)
