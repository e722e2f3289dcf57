"""What the lifecycle events of outbound items on ``workitem.events`` do to callbacks.

Only ``workitem.dialed``, ``workitem.completed`` and ``workitem.cancelled`` matter; an
event about an item no callback created is ignored, and each event is applied at most
once (by CloudEvents source + id).
"""

from __future__ import annotations

from datetime import datetime

from switchboard_runtime.dispatch import Handlers, on, table
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.lifecycle import WorkItemCancelled, WorkItemCompleted, WorkItemDialed

from callback import steps
from callback.callbacks import Callbacks
from callback.model import CallbackRecord
from callback.transition import Transition


class OutcomeHandlers:
    """The step each lifecycle event of a callback's work item leads to."""

    def __init__(self, callbacks: Callbacks) -> None:
        self._callbacks = callbacks

    def handlers(self) -> Handlers:
        return table(
            on(WorkItemDialed, self.dialed),
            on(WorkItemCompleted, self.completed),
            on(WorkItemCancelled, self.cancelled),
        )

    async def dialed(self, event: CloudEvent, payload: WorkItemDialed) -> str:
        wid, agent = payload.work_item_id, payload.agent_id

        def decide(record: CallbackRecord, now: datetime) -> Transition:
            return steps.on_dialed(record, wid, agent, event.time, now)

        return await self._callbacks.on_item_event(event, wid, decide)

    async def completed(self, event: CloudEvent, payload: WorkItemCompleted) -> str:
        wid, agent, code = payload.work_item_id, payload.agent_id, payload.disposition_code
        policy = self._callbacks.retry_policy

        def decide(record: CallbackRecord, now: datetime) -> Transition:
            return steps.on_completed(record, wid, agent, code, event.time, now, policy)

        return await self._callbacks.on_item_event(event, wid, decide)

    async def cancelled(self, event: CloudEvent, payload: WorkItemCancelled) -> str:
        wid, reason = payload.work_item_id, payload.reason

        def decide(record: CallbackRecord, now: datetime) -> Transition:
            return steps.on_item_cancelled(record, wid, reason, event.time, now)

        return await self._callbacks.on_item_event(event, wid, decide)
