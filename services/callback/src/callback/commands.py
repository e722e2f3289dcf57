"""What each command on ``callback.commands`` does (thin adapters over the use cases)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from switchboard_runtime.pipeline import CommandInvalid, Handler
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

    def handlers(self) -> Mapping[str, tuple[type[BaseModel], Handler]]:
        return {
            RequestCallback.TYPE: (RequestCallback, self.request),
            CancelCallback.TYPE: (CancelCallback, self.cancel),
            RecordDialOutcome.TYPE: (RecordDialOutcome, self.dial_outcome),
        }

    async def request(self, event: CloudEvent, command: BaseModel) -> str:
        assert isinstance(command, RequestCallback)
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

    async def cancel(self, event: CloudEvent, command: BaseModel) -> str:
        assert isinstance(command, CancelCallback)
        outcome, _ = await self._callbacks.cancel(
            command.callback_id, command.reason, delivery(event)
        )
        if outcome == "unknown":
            raise CommandInvalid("unknown_callback", f"no callback {command.callback_id}")
        return outcome

    async def dial_outcome(self, event: CloudEvent, command: BaseModel) -> str:
        assert isinstance(command, RecordDialOutcome)
        outcome = await self._callbacks.record_dial_outcome(command, delivery(event))
        if outcome == "unknown":
            raise CommandInvalid("unknown_callback", f"no callback {command.callback_id}")
        if outcome == "unknown_work_item":
            detail = f"{command.work_item_id} is not an attempt of {command.callback_id}"
            raise CommandInvalid("unknown_work_item", detail)
        return outcome
