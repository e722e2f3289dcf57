"""``POST /v1/desktop/workitems``: the desktop's Create Task form.

The body is a work item request (``WorkItemRequest``, as ``POST /v1/workitems`` takes)
or, with ``type: callback``, a callback request (``RequestCallback``, as
``POST /v1/callbacks`` takes, plus that ``type``), validated with the same models and
rules (national phone numbers read with ``DEFAULT_PHONE_REGION``; a 422 names the
field). Nothing calls another service over HTTP: a callback is handed on as
``callback.request`` on ``callback.commands`` (keyed by callback id), anything else as
``workitem.create`` on ``workitem.commands`` (keyed by work item id), through the outbox
(see desktop.handoff). The gateway chooses the id unless the body gave one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from switchboard_runtime.auth import Caller, Role, needs
from switchboard_runtime.http import CorrelationId
from switchboard_runtime.http_body import SCHEMA_REF, body_schema_defs
from switchboard_schemas.callback import RequestCallback
from switchboard_schemas.callback_rules import request_errors
from switchboard_schemas.enums import WorkItemType
from switchboard_schemas.topics import CALLBACK_COMMANDS, WORKITEM_COMMANDS
from switchboard_schemas.workitem_request import WorkItemRequest

from desktop.bodies import (
    ACCEPTED_ERRORS,
    IdempotencyKey,
    hand_on,
    invalid,
    json_body,
    origin_of,
    read_json,
    validated,
)
from desktop.handoff import HandOff, HandOffStore, Origin, derived_id, desktop_event, fingerprint

BODY = "DesktopTask"
CALLBACK_BODY = "CallbackTask"
CALLBACK = WorkItemType.CALLBACK.value
Clock = Callable[[], datetime]
TASKS = Depends(needs(Role.AGENT, Role.SUPERVISOR))


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskAccepted(BaseModel):
    """Answer of ``POST /v1/desktop/workitems``: the id of what will be created."""

    work_item_id: str | None = Field(default=None, description="The work item's id.")
    callback_id: str | None = Field(default=None, description="The callback's id (callbacks).")


def callback_errors(
    req: RequestCallback, now: datetime, tolerance: timedelta
) -> list[Mapping[str, Any]]:
    """What the callback service would refuse in ``req`` at ``now`` (its own rules), as
    the errors of a 422."""
    return [
        {"type": e.kind, "loc": (e.field,), "msg": e.message}
        for e in request_errors(req, now, tolerance)
    ]


def task_body_defs() -> dict[str, Any]:
    """The body's JSON schema and those it refers to, for the OpenAPI components."""
    defs = {**body_schema_defs(WorkItemRequest), **body_schema_defs(RequestCallback)}
    callback = dict(defs.pop(RequestCallback.__name__))
    callback["title"] = CALLBACK_BODY
    callback["properties"] = {"type": {"const": CALLBACK}, **callback["properties"]}
    callback["required"] = ["type", *callback.get("required", [])]
    callback["examples"] = [{"type": CALLBACK, **e} for e in callback.get("examples", [])]
    defs[CALLBACK_BODY] = callback
    refs = [{"$ref": SCHEMA_REF.format(model=m)} for m in (WorkItemRequest.__name__, CALLBACK_BODY)]
    defs[BODY] = {
        "title": BODY,
        "description": "A work item of any type, or a callback request with type callback.",
        "oneOf": refs,
    }
    return defs


class Tasks:
    """Turns a Create Task form into the command that creates it."""

    def __init__(self, *, default_region: str | None, clock: Clock, tolerance: timedelta) -> None:
        self._context = {"default_region": default_region}
        self._clock = clock
        self._tolerance = tolerance

    def handoff(self, body: Any, origin: Origin) -> HandOff:
        """What to hand on for ``body`` (a 422 naming each bad field)."""
        if isinstance(body, dict) and body.get("type") == CALLBACK:
            return self._callback(body, origin)
        return self._work_item(body, origin)

    def _work_item(self, body: Any, origin: Origin) -> HandOff:
        req = validated(WorkItemRequest, body, at=(), context=self._context)
        wid = req.work_item_id or derived_id("task", origin.caller, origin.idempotency_key)
        command = req.model_copy(update={"work_item_id": wid})
        return _handoff(req, command, wid, WORKITEM_COMMANDS, origin)

    def _callback(self, body: dict[str, Any], origin: Origin) -> HandOff:
        fields = {name: value for name, value in body.items() if name != "type"}
        req = validated(RequestCallback, fields, at=(), context=self._context)
        errors = callback_errors(req, self._clock(), self._tolerance)
        if errors:
            raise invalid(errors)
        cid = req.callback_id or derived_id("task", origin.caller, origin.idempotency_key)
        command = req.model_copy(update={"callback_id": cid})
        return _handoff(req, command, cid, CALLBACK_COMMANDS, origin)


def _handoff(
    asked: WorkItemRequest | RequestCallback,
    command: WorkItemRequest | RequestCallback,
    id_: str,
    topic: str,
    origin: Origin,
) -> HandOff:
    event_id = derived_id("task-event", origin.caller, origin.idempotency_key)
    return HandOff(
        origin=origin,
        fingerprint=fingerprint("workitems", asked.TYPE, asked),
        answer_id=id_,
        topic=topic,
        kafka_key=id_,
        event=desktop_event(asked.TYPE, command, id=event_id, subject=id_, origin=origin),
    )


def task_router(
    store: HandOffStore,
    *,
    tenant: str,
    default_region: str | None,
    max_body_bytes: int,
    schedule_tolerance: timedelta,
    clock: Clock = utc_now,
) -> APIRouter:
    router = APIRouter(prefix="/v1/desktop", tags=["desktop"])
    tasks = Tasks(default_region=default_region, clock=clock, tolerance=schedule_tolerance)

    @router.post(
        "/workitems",
        status_code=202,
        response_model=TaskAccepted,
        response_model_exclude_none=True,
        openapi_extra=json_body(SCHEMA_REF.format(model=BODY)),
        responses=ACCEPTED_ERRORS,
    )
    async def create_task(
        request: Request,
        response: Response,
        correlation_id: CorrelationId,
        caller: Caller = TASKS,
        idempotency_key: IdempotencyKey = None,
    ) -> TaskAccepted:
        """The Create Task form: a work item (`workitem.create`) or, with type `callback`,
        a callback request (`callback.request`). `202` with the id it will have once it is
        queued for Kafka; a retry with the same `Idempotency-Key` answers the same id."""
        origin = origin_of(caller, idempotency_key, tenant, correlation_id)
        handoff = tasks.handoff(await read_json(request, max_body_bytes), origin)
        answered = await hand_on(store, handoff, response)
        if handoff.topic == CALLBACK_COMMANDS:
            return TaskAccepted(callback_id=answered)
        return TaskAccepted(work_item_id=answered)

    return router
