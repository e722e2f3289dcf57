"""``POST /v1/desktop/commands``: an agent's click, as a command on ``agent.commands``.

The body is ``{"type": <agent command type>, "data": {...}}``. The agent acts only as
itself: ``data.agent_id`` is the token's ``sub`` (put in when absent; another agent's id
is a 403 and nothing is published). ``data`` is then validated with the ``schemas``
model of its type (a 422 names the field), and the command is handed on through the
outbox (see desktop.handoff), keyed by the agent id; its CloudEvents id is the
``command_id`` answered, which ``command.rejected`` names if the router refuses it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from switchboard_runtime.auth import Caller, Role, needs
from switchboard_runtime.http import CorrelationId
from switchboard_runtime.http_body import SCHEMA_REF, body_schema_defs
from switchboard_schemas.fields import WireModel
from switchboard_schemas.registry import AGENT_COMMAND_MODELS
from switchboard_schemas.topics import AGENT_COMMANDS

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
from desktop.handoff import (
    HandOff,
    HandOffStore,
    Origin,
    derived_id,
    desktop_event,
    fingerprint,
)

BODY = "DesktopCommand"
AgentCaller = Annotated[Caller, Depends(needs(Role.AGENT))]


class CommandBody(BaseModel):
    """The body's envelope; ``data`` is validated by the model its ``type`` names."""

    model_config = ConfigDict(extra="forbid")

    type: str
    data: dict[str, Any]


class CommandAccepted(BaseModel):
    """Answer of ``POST /v1/desktop/commands``."""

    command_id: str = Field(description="The command's CloudEvents id.")


def model_of(type_: str) -> type[WireModel]:
    """The model of an agent command type (a 422 naming ``type`` for any other)."""
    model = AGENT_COMMAND_MODELS.get(type_)
    if model is None:
        allowed = ", ".join(AGENT_COMMAND_MODELS)
        msg = f"type must be an agent command: one of {allowed}"
        raise invalid([{"type": "unknown_type", "loc": ("type",), "msg": msg, "input": type_}])
    return model


def as_agent(data: dict[str, Any], agent_id: str) -> dict[str, Any]:
    """``data`` with ``agent_id`` the caller's; a 403 when it names another agent."""
    named = data.get("agent_id")
    if isinstance(named, str) and named != agent_id:
        raise HTTPException(403, f"a token of {agent_id!r} may not act for agent {named!r}")
    if named is None:
        return {**data, "agent_id": agent_id}
    return data  # the caller itself, or not an id at all (the model names it)


def command_handoff(type_: str, command: WireModel, origin: Origin) -> HandOff:
    """The command on ``agent.commands``, keyed by the agent, its id the ``command_id``."""
    command_id = derived_id("command", origin.caller, origin.idempotency_key)
    subject = getattr(command, "work_item_id", None)
    return HandOff(
        origin=origin,
        fingerprint=fingerprint("commands", type_, command),
        answer_id=command_id,
        topic=AGENT_COMMANDS,
        kafka_key=origin.caller,
        event=desktop_event(type_, command, id=command_id, subject=subject, origin=origin),
    )


def command_body_defs() -> dict[str, Any]:
    """The body's JSON schema and those it refers to, for the OpenAPI components: one
    variant per command type, whose ``agent_id`` may be left out."""
    defs: dict[str, Any] = {}
    variants = []
    for type_, model in AGENT_COMMAND_MODELS.items():
        model_defs = body_schema_defs(model)
        data = model_defs[model.__name__]
        required = [name for name in data.get("required", []) if name != "agent_id"]
        data.pop("required", None)
        if required:
            data["required"] = required
        defs.update(model_defs)
        variants.append(
            {
                "type": "object",
                "properties": {
                    "type": {"const": type_},
                    "data": {"$ref": SCHEMA_REF.format(model=model.__name__)},
                },
                "required": ["type", "data"],
                "additionalProperties": False,
            }
        )
    defs[BODY] = {
        "title": BODY,
        "description": "An agent command: its type and data (agent_id: the token's sub).",
        "oneOf": variants,
    }
    return defs


def command_router(store: HandOffStore, *, tenant: str, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1/desktop", tags=["desktop"])

    @router.post(
        "/commands",
        status_code=202,
        response_model=CommandAccepted,
        openapi_extra=json_body(SCHEMA_REF.format(model=BODY)),
        responses=ACCEPTED_ERRORS,
    )
    async def send_command(
        request: Request,
        response: Response,
        caller: AgentCaller,
        correlation_id: CorrelationId,
        idempotency_key: IdempotencyKey = None,
    ) -> CommandAccepted:
        """Send one of the agent's commands to the router (accept, reject, hold, resume,
        end, complete, dial, skip, status). `202` once it is queued for Kafka; the outcome
        arrives on the stream: the resulting event, or `command.rejected` naming the
        `command_id`. A retry with the same `Idempotency-Key` answers the same id."""
        body = validated(CommandBody, await read_json(request, max_body_bytes), at=(), context={})
        model = model_of(body.type)
        data = as_agent(body.data, caller.subject)
        command = validated(model, data, at=("data",), context={})
        origin = origin_of(caller, idempotency_key, tenant, correlation_id)
        handoff = command_handoff(body.type, command, origin)
        return CommandAccepted(command_id=await hand_on(store, handoff, response))

    return router
