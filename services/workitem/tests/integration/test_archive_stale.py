"""A closing event whose record changes between the read and the apply: the script
answers ``stale`` and writes nothing, the projection reads again, and the
``workitem.archived`` on Kafka carries the whole current history.

The change in between is a real cancel request (``request_cancel.lua``) on the session's
Redis; the archived event leaves through the running service's outbox relay.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from switchboard_devtools.testing import Brokers, KafkaTap, cloud_event, of_type
from switchboard_runtime.generation import Generation
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemCancelled
from switchboard_schemas.topics import WORKITEM_EVENTS
from switchboard_schemas.workitem import CancelWorkItem
from workitem.intake import Intake, RequestContext
from workitem.projection import ApplyOutcome, Change, Projection
from workitem.projection_store import ReadModelStore
from workitem.store import StoredItem, WorkItemStore

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def redis(brokers: Brokers) -> AsyncIterator[Redis]:
    client = brokers.redis()
    yield client
    await client.aclose()


class CancelInBetween:
    """The read model, with a cancel request recorded right after its first read."""

    def __init__(self, read_model: ReadModelStore, intake: Intake, tenant: str) -> None:
        self._read_model = read_model
        self._intake = intake
        self._tenant = tenant
        self.reads: list[StoredItem | None] = []
        self.outcomes: list[ApplyOutcome] = []

    async def get(self, work_item_id: str) -> StoredItem | None:
        found = await self._read_model.get(work_item_id)
        if not self.reads:
            cancel = CancelWorkItem(work_item_id=work_item_id, reason="asked twice")
            context = RequestContext(self._tenant, None, f"test:{uuid.uuid4()}")
            assert await self._intake.request_cancel(cancel, context) == "requested"
        self.reads.append(found)
        return found

    async def apply(self, change: Change, seen_ttl: int) -> ApplyOutcome:
        outcome = await self._read_model.apply(change, seen_ttl)
        self.outcomes.append(outcome)
        return outcome


def cancelled(wid: str, tenant: str) -> tuple[CloudEvent, WorkItemCancelled]:
    event = CloudEvent.model_validate(
        {
            "specversion": "1.0",
            "id": f"{uuid.uuid4()}-1",
            "source": "switchboard/router",
            "type": "workitem.cancelled",
            "time": datetime.now(UTC),
            "subject": wid,
            "tenantid": tenant,
            "data": {"work_item_id": wid, "reason": "duplicate"},
        }
    )
    return event, WorkItemCancelled.model_validate(event.data)


async def test_a_record_changed_after_the_read_is_read_again_and_archived_whole(
    workitem: RunningWorkItem, redis: Redis
) -> None:
    tenant = workitem.settings.tenant_id
    keys = Keys(tenant)
    generation = Generation(redis, keys)
    assert await generation.refresh()  # the running service established it
    read_model = ReadModelStore(redis, keys, generation, retention_s=3600)
    intake = Intake(WorkItemStore(redis, keys, generation), request_ttl=60)
    racing = CancelInBetween(read_model, intake, tenant)
    created = await workitem.http.post("/v1/workitems", json={"type": "task"})
    wid = str(created.json()["work_item_id"])

    async with KafkaTap(workitem.settings.kafka_bootstrap_servers, WORKITEM_EVENTS) as tap:
        outcome = await Projection(racing, seen_ttl=60).apply(*cancelled(wid, tenant))
        [archived] = await tap.wait_for(of_type("workitem.archived", wid))

    assert (outcome, racing.outcomes) == ("applied", ["stale", "applied"])
    first, second = racing.reads
    assert first is not None
    assert second is not None
    assert (len(first.history), len(second.history)) == (1, 2)  # the request came between
    body = (await workitem.http.get(f"/v1/workitems/{wid}")).json()
    assert [(h["event"], h["status"]) for h in body["history"]] == [
        ("workitem.created", "created"),
        ("workitem.cancel_requested", "cancel_requested"),
        ("workitem.cancelled", "cancelled"),
        ("workitem.archived", "cancelled"),
    ]
    assert body["cancel_requested_at"]
    assert cloud_event(archived)["data"] == {"work_item_id": wid, "record": body}
