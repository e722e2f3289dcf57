"""Request bodies read within a limit and validated with context (e.g. the default
phone region).

Every service reads a body the same way: ``read_body`` (413 beyond ``MAX_MESSAGE_BYTES``,
refused on ``Content-Length`` up front or as soon as the stream passes the limit, so no
more than the limit and one chunk is ever held), then ``parse_body``. FastAPI cannot pass
validation context to a body model, so services validate here, and still answer as
FastAPI would: 422 with ``loc`` ``["body", <field>]`` for each bad field, or ``["body"]``
for a body that is not JSON the services take.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect
from switchboard_schemas import strict_json

ModelT = TypeVar("ModelT", bound=BaseModel)
SCHEMA_REF = "#/components/schemas/{model}"
_MAX_LENGTH_DIGITS = 15  # a Content-Length longer than this is over any limit


def too_large(max_bytes: int) -> HTTPException:
    """The 413 for a body over ``max_bytes`` (JSON ``{"detail": ...}``)."""
    return HTTPException(413, f"request body larger than {max_bytes} bytes")


def _declared_over(request: Request, max_bytes: int) -> bool:
    declared = request.headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()):
        return False  # absent or malformed (the server refuses those): the stream decides
    return len(declared) > _MAX_LENGTH_DIGITS or int(declared) > max_bytes


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body; 413 when it is larger than ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything is read;
    otherwise the body is streamed and refused as soon as it passes the limit, so at
    most ``max_bytes`` plus one chunk is held. A client that goes away mid-body gets
    a 400 (nobody reads it)."""
    if _declared_over(request, max_bytes):
        raise too_large(max_bytes)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise too_large(max_bytes)
    except ClientDisconnect as exc:
        raise HTTPException(400, "the client went away before the body was complete") from exc
    return bytes(body)


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON (see switchboard_schemas.strict_json), or a 422 ``json_invalid``
    saying why not."""
    try:
        return strict_json.loads(raw)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": f"invalid JSON: {exc}"}]
        ) from exc


def parse_body(
    raw: bytes, model: type[ModelT], *, context: dict[str, Any], max_bytes: int
) -> ModelT:
    """``raw`` as ``model``; raises 413 or a RequestValidationError naming each bad field."""
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    data = parse_json(raw)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    except OverflowError as exc:  # a validator's date or number arithmetic, never a 500
        raise RequestValidationError(
            [{"type": "value_out_of_range", "loc": ("body",), "msg": f"out of range: {exc}"}]
        ) from exc


def body_schema_defs(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema and its sub-schemas, for the OpenAPI components section."""
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {**defs, model.__name__: schema}
