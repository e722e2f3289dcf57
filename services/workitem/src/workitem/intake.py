"""Work item intake: the rules of creating and cancelling, free of any framework."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from switchboard_schemas.envelope import CloudEvent, new_event, to_bytes
from switchboard_schemas.lifecycle import WorkItemCancelRequested
from switchboard_schemas.topics import WORKITEM_EVENTS
from switchboard_schemas.workitem import CancelWorkItem, CreateWorkItem, WorkItem

from workitem.store import CreateOutcome, NewItem, StoredItem

SOURCE = "switchboard/workitem"
Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_work_item_id() -> str:
    return str(uuid.uuid4())


class ItemStore(Protocol):
    """What intake needs of the store (``workitem.store.WorkItemStore`` in the service)."""

    async def create(
        self, new: NewItem, request_key: str | None, request_ttl: int, *, emit: bool = True
    ) -> tuple[CreateOutcome, str]: ...

    async def request_cancel(
        self,
        work_item_id: str,
        *,
        request_key: str,
        now: str,
        history_entry: str,
        event_json: str,
        topic: str,
        request_ttl: int,
    ) -> str: ...

    async def get(self, work_item_id: str) -> StoredItem | None: ...


class IdempotencyConflict(Exception):  # noqa: N818 - the name says what happened
    """The request key or caller-supplied id was already used for different content."""

    def __init__(self, work_item_id: str) -> None:
        super().__init__(f"work item {work_item_id} exists with different content")
        self.work_item_id = work_item_id


@dataclass(frozen=True)
class CreateResult:
    work_item_id: str
    outcome: CreateOutcome


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from: tenant, correlation and how to recognise a retry."""

    tenant: str
    correlation_id: str | None
    request_key: str | None


def fingerprint(cmd: CreateWorkItem) -> str:
    """A stable digest of what was asked for, to tell a retry from a different request."""
    canonical = json.dumps(cmd.model_dump(mode="json", exclude_none=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _history_entry(event: CloudEvent, status: str) -> str:
    return json.dumps(
        {"event": event.type, "status": status, "at": _iso(event.time), "event_id": event.id}
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Intake:
    """Creates and cancels work items; the only writer of ``workitem.created``."""

    def __init__(
        self,
        store: ItemStore,
        *,
        request_ttl: int,
        clock: Clock = utc_now,
        new_id: IdFactory = new_work_item_id,
    ) -> None:
        self._store = store
        self._ttl = request_ttl
        self._clock = clock
        self._new_id = new_id

    async def create(self, cmd: CreateWorkItem, ctx: RequestContext) -> CreateResult:
        """Create one item (or find the one an earlier delivery of this request created)."""
        now = self._clock()
        work_item_id = cmd.work_item_id or self._new_id()
        item = WorkItem.from_create(cmd, work_item_id=work_item_id, created_at=now)
        event = new_event(
            "workitem.created",
            item,
            source=SOURCE,
            subject=work_item_id,
            tenantid=ctx.tenant,
            correlationid=ctx.correlation_id,
            time=now,
        )
        new = NewItem(
            work_item_id=work_item_id,
            fingerprint=fingerprint(cmd),
            item_json=item.model_dump_json(exclude_none=True),
            now=_iso(now),
            history_entry=_history_entry(event, "created"),
            event_json=to_bytes(event).decode(),
            topic=WORKITEM_EVENTS,
        )
        outcome, stored_id = await self._store.create(new, ctx.request_key, self._ttl)
        if outcome == "conflict":
            raise IdempotencyConflict(stored_id)
        return CreateResult(stored_id, outcome)

    async def request_cancel(self, cmd: CancelWorkItem, ctx: RequestContext) -> str:
        """Record that upstream asked to cancel; the router acts on the emitted event."""
        now = self._clock()
        payload = WorkItemCancelRequested(work_item_id=cmd.work_item_id, reason=cmd.reason)
        event = new_event(
            "workitem.cancel_requested",
            payload,
            source=SOURCE,
            subject=cmd.work_item_id,
            tenantid=ctx.tenant,
            correlationid=ctx.correlation_id,
            time=now,
        )
        return await self._store.request_cancel(
            cmd.work_item_id,
            request_key=ctx.request_key or event.id,
            now=_iso(now),
            history_entry=_history_entry(event, "cancel_requested"),
            event_json=to_bytes(event).decode(),
            topic=WORKITEM_EVENTS,
            request_ttl=self._ttl,
        )

    async def adopt(self, event: CloudEvent, item: WorkItem) -> str:
        """Record an item another service created and announced (a callback ready to dial).

        Its ``workitem.created`` is already on Kafka, so nothing is emitted; the record
        lets the Inbox and ``GET /v1/workitems/{id}`` show it. This service's own items
        exist already: their events are ``own`` (not looked up, not a duplicate).
        """
        if event.source == SOURCE:
            return "own"
        new = NewItem(
            work_item_id=item.work_item_id,
            fingerprint=f"adopted|{event.source}",
            item_json=item.model_dump_json(exclude_none=True),
            now=_iso(item.created_at),
            history_entry=_history_entry(event, "created"),
            event_json="",
            topic=WORKITEM_EVENTS,
        )
        outcome, _ = await self._store.create(new, None, self._ttl, emit=False)
        return "adopted" if outcome == "created" else "duplicate"

    async def get(self, work_item_id: str) -> StoredItem | None:
        return await self._store.get(work_item_id)
