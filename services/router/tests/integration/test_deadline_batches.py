"""Deadlines fired several per script call behave as if fired one by one."""

from __future__ import annotations

import pytest

from .conftest import MakeRouter
from .routerkit import OFFER_MS, Event, Harness, of_type

pytestmark = pytest.mark.integration


async def expiring_offers(h: Harness) -> list[str]:
    """Three agents with offers about to expire, one spare agent; the due members."""
    for n in range(3):
        await h.status(f"a{n}", capacity={"voice": 0, "chat": 0, "async": 2})
        await h.create(f"x{n}")
        h.now += 10  # so the agents' idle times differ
    await h.status("b1", capacity={"voice": 0, "chat": 0, "async": 1})
    await h.new_events()
    h.now += OFFER_MS
    return await h.due()


def story(events: list[Event]) -> list[tuple[str, str, dict[str, object]]]:
    """Events without their ids and offer ids (which differ between tenants)."""
    return [(e.type, e.key, {k: v for k, v in e.data.items() if k != "offer_id"}) for e in events]


async def test_deadlines_fired_together_act_as_if_fired_one_by_one(
    make_router: MakeRouter,
) -> None:
    together, one_by_one = await make_router(None), await make_router(None)
    due = await expiring_offers(together)
    assert len(due) == 3
    assert len(await expiring_offers(one_by_one)) == 3

    outcomes = await together.engine.fire_many([*due, due[0]], together.now)  # one twice
    singly = [o for _, o in await one_by_one.fire_due()]

    assert outcomes == [*singly, "gone"] == ["offer_expired"] * 3 + ["gone"]
    events = await together.new_events()
    assert story(events) == story(await one_by_one.new_events())
    assert len({e.id for e in events}) == len(events)
    assert {e.key for e in of_type(events, "offer.made")} == {"a1", "a2", "b1"}
