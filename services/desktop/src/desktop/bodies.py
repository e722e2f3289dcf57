"""What the gateway's POST routes share: reading and validating a body (422 naming the
field, as every service answers), the ``Idempotency-Key`` header, handing the request
on, and the body schemas the routes document in OpenAPI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from switchboard_runtime.auth import AUTH_ERRORS, Caller
from switchboard_runtime.http import Responses, body_errors
from switchboard_runtime.http_body import parse_json, read_body

from desktop.handoff import HandOff, HandOffConflict, HandOffStore, Origin

ModelT = TypeVar("ModelT", bound=BaseModel)

IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=255,
        description="Names the request: a retry with the same key publishes nothing more "
        "and answers the same id (remembered IDEMPOTENCY_TTL_SECONDS).",
    ),
]

ACCEPTED_ERRORS: Responses = {
    409: {"description": "Idempotency-Key used before for a different request"},
    **body_errors(),
    **AUTH_ERRORS,
}
"""OpenAPI ``responses`` of a route that hands a request on (422 is FastAPI's own)."""


async def read_json(request: Request, max_bytes: int) -> Any:
    """The body as JSON: 413 beyond ``max_bytes``, 422 when it is not JSON."""
    return parse_json(await read_body(request, max_bytes))


def validated(
    model: type[ModelT], data: Any, *, at: tuple[str, ...], context: Mapping[str, Any]
) -> ModelT:
    """``data`` as ``model``, or a 422 naming each bad field at ``["body", *at, ...]``."""
    try:
        return model.model_validate(data, context=dict(context))
    except ValidationError as exc:
        raise invalid(
            [{**e, "loc": (*at, *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    except OverflowError as exc:  # a validator's date arithmetic, never a 500
        msg = f"out of range: {exc}"
        raise invalid([{"type": "value_out_of_range", "loc": at, "msg": msg}]) from exc


def invalid(errors: list[Mapping[str, Any]]) -> RequestValidationError:
    """A 422 with ``errors``, each ``loc`` under ``body``."""
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


def origin_of(
    caller: Caller, idempotency_key: str | None, tenant: str, correlation_id: str | None
) -> Origin:
    """Who sent the request (an empty Idempotency-Key counts as none)."""
    return Origin(caller.subject, idempotency_key or None, tenant, correlation_id)


async def hand_on(store: HandOffStore, request: HandOff, response: Response) -> str:
    """Queue ``request`` (409 when its key named another request); the id it answers.
    A retry is answered ``Idempotent-Replayed: true``."""
    try:
        outcome, answered = await store.hand_on(request)
    except HandOffConflict as conflict:
        raise HTTPException(409, str(conflict)) from conflict
    if outcome == "duplicate":
        response.headers["Idempotent-Replayed"] = "true"
    return answered


def publish_body_schemas(app: FastAPI, defs: Mapping[str, Any]) -> None:
    """Add ``defs``, the schemas of the bodies the routes validate by hand (and those they
    refer to), to the components of ``app``'s OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def json_body(ref: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose JSON body is the schema ``ref``."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": ref}}},
        }
    }
