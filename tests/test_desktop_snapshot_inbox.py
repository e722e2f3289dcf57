"""The snapshot's Inbox is the work item service's: what its
``GET /v1/agents/{agent_id}/inbox`` answers, from the same read model on real Valkey or
from the same records without brokers."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from desktop.snapshot import Snapshots, inbox_json, iso
from redis.asyncio import Redis
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.inbox import build_inbox
from switchboard_schemas.read_model import StoredItem
from switchboard_schemas.workitem import CreateWorkItem, WorkItem

from .snapshotkit import (
    NOW,
    NOW_MS,
    TENANT,
    ReadSide,
    an_agents_day,
    at,
    new_agent,
    router_offers,
    work_item_api_inbox,
)

pytestmark = pytest.mark.integration


class FixedReader:
    def __init__(self, records: list[StoredItem]) -> None:
        self.records = records

    async def inbox(self, agent_id: str) -> list[StoredItem]:
        return self.records


async def test_the_snapshot_inbox_is_what_the_work_item_api_answers(
    redis: Redis, read_side: ReadSide
) -> None:
    agent = new_agent()
    wids = await an_agents_day(read_side, agent)
    await router_offers(redis, agent, {wids["offered"]: False}, wids["held"])

    snapshot = await Snapshots(redis, Keys(TENANT), lambda: NOW_MS).of(agent)

    records = await read_side.read_model.inbox(agent)
    built = build_inbox(agent, records, status="all", tz=ZoneInfo("UTC"), now=NOW)
    assert snapshot["inbox"] == built.model_dump(mode="json")
    assert snapshot["inbox"] == await work_item_api_inbox(read_side.read_model, agent)
    assert json.loads(json.dumps(snapshot)) == snapshot  # what the stream sends, as is


def stored(wid: str, agent: str, **fields: Any) -> StoredItem:
    cmd = CreateWorkItem.model_validate({"type": "task", **fields})
    item = WorkItem.from_create(cmd, work_item_id=wid, created_at=at(-60))
    return StoredItem(
        item=item.model_dump(mode="json", exclude_none=True),
        status="active",
        created_at=iso(NOW_MS - 3_600_000),
        updated_at=iso(NOW_MS - 60_000),
        cancel_requested_at=None,
        history=[],
        agent_id=agent,
    )


async def test_the_snapshot_and_the_api_shape_the_same_records_alike() -> None:
    """Without brokers: the same records, through the snapshot's ``inbox_json`` and
    through the work item service's route."""
    agent = "agent-7"
    records = [
        stored("t-due", agent, sub_type="billing_dispute", due_at="2026-11-27T23:00:00Z"),
        stored("t-first", agent, priority=1, due_at="2026-12-05T00:00:00Z"),
        stored("t-other", "someone-else"),
    ]
    answer = await work_item_api_inbox(FixedReader(records), agent)
    assert answer == inbox_json(agent, records, NOW_MS)
    assert [(row["work_item_id"], row["due_label"]) for row in answer["items"]] == [
        ("t-first", "2026-12-05"),
        ("t-due", "Today"),
    ]
