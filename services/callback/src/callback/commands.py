"""What each command on ``callback.commands`` does (thin adapters over the use cases)."""

from __future__ import annotations

from switchboard_runtime.dispatch import Handlers, on, table
from switchboard_runtime.pipeline import CommandInvalid
from switchboard_schemas.callback import CancelCallback, RecordDialOutcome, RequestCallback
from switchboard_schemas.envelope import CloudEvent

from callback.callbacks import Callbacks
from callback.context import CallbackConflict, RequestContext, RequestRejected


def delivery(event: CloudEvent) -> str:
    """What names one delivery of a command: CloudEvents ids are unique per source."""
    return f"{event.source}|{event.id}"


class CommandHandlers:
    """``callback.request``, ``callback.cancel`` and ``callback.dial_outcome``.

    A replayed command (same CloudEvents source + id) changes nothing; one that can
    never apply raises :class:`CommandInvalid` and is dead-lettered.
    """

    def __init__(self, callbacks: Callbacks, *, request_ttl: int) -> None:
        self._callbacks = callbacks
        self._request_ttl = request_ttl

    def handlers(self) -> Handlers:
        return table(
            on(RequestCallback, self.request),
            on(CancelCallback, self.cancel),
            on(RecordDialOutcome, self.dial_outcome),
        )

    async def request(self, event: CloudEvent, command: RequestCallback) -> str:
        ctx = RequestContext(
            correlation_id=event.correlationid or event.id,
            request_key=f"ce:{event.source}:{event.id}",
            request_ttl=self._request_ttl,
            sent_at=event.time,  # a command that waited in Kafka is judged by when it was sent
        )
        try:
            result = await self._callbacks.request(command, ctx)
        except RequestRejected as exc:
            detail = "; ".join(f"data.{e.field}: {e.message}" for e in exc.errors)
            raise CommandInvalid("schema_violation", detail) from exc
        except CallbackConflict as exc:
            raise CommandInvalid("conflict", str(exc)) from exc
        return result.outcome

    async def cancel(self, event: CloudEvent, command: CancelCallback) -> str:
        outcome, _ = await self._callbacks.cancel(
            command.callback_id, command.reason, delivery(event)
        )
        if outcome == "unknown":
            raise CommandInvalid("unknown_callback", f"no callback {command.callback_id}")
        return outcome

    async def dial_outcome(self, event: CloudEvent, command: RecordDialOutcome) -> str:
        outcome = await self._callbacks.record_dial_outcome(command, delivery(event))
        if outcome == "unknown":
            raise CommandInvalid("unknown_callback", f"no callback {command.callback_id}")
        if outcome == "unknown_work_item":
            detail = f"{command.work_item_id} is not an attempt of {command.callback_id}"
            raise CommandInvalid("unknown_work_item", detail)
        return outcome
