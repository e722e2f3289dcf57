"""HTTP plumbing every service shares: serving with uvicorn, the ``X-Correlation-Id``
header, 422 answers that are always valid JSON, and the error answers in OpenAPI."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

CORRELATION_ID_MAX = 256  # what a CloudEvent's correlationid holds
CORRELATION_ID_PATTERN = r"^[ -~]*$"  # printable ASCII, space included
_MAX_DEPTH = 20  # of an input echoed in a 422


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn then runs the app's lifespan shutdown."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


def correlation_id(
    x_correlation_id: Annotated[
        str | None,
        Header(
            max_length=CORRELATION_ID_MAX,
            pattern=CORRELATION_ID_PATTERN,
            description="Carried into the events this request causes (CloudEvents "
            "`correlationid`): at most 256 printable ASCII characters; empty means none.",
        ),
    ] = None,
) -> str | None:
    """The caller's ``X-Correlation-Id``, or None.

    A value longer than 256 characters, or with anything but printable ASCII (space
    included; no tabs, control or non-ASCII bytes), is a 422 naming the header. An
    empty header is treated as absent: it is what a client sends when it has none.
    """
    return x_correlation_id or None


CorrelationId = Annotated[str | None, Depends(correlation_id)]
"""A route parameter: the request's correlation id (see ``correlation_id``)."""


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` as data strict JSON renders in UTF-8: an infinite or NaN float as its
    name, a lone surrogate as a ``\\udXXX`` escape, nesting past 20 levels as ``"..."``,
    anything else that is not JSON as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth >= _MAX_DEPTH:
        return "..."
    if isinstance(value, Mapping):
        return {str(json_safe(k, depth + 1)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return json_safe(value.value, depth + 1)
    if isinstance(value, bytes):
        return json_safe(value.decode("utf-8", "replace"))
    return json_safe(str(value))


async def validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 answer to a RequestValidationError, ``{"detail": [error, ...]}``,
    each error (its echoed ``input`` too) made safe to render: always valid JSON."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [json_safe(e) for e in exc.errors()]}, status_code=422)


class ErrorDetail(BaseModel):
    """Body of an error answer other than 422."""

    detail: str


Responses = dict[int | str, dict[str, Any]]
STORAGE_UNAVAILABLE: Responses = {
    503: {
        "model": ErrorDetail,
        "description": "Storage unavailable; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}
"""OpenAPI ``responses`` of a route that reads or writes Redis (422 is FastAPI's own)."""


def body_errors(too_large: str = "Body larger than MAX_MESSAGE_BYTES.") -> Responses:
    """OpenAPI ``responses`` of a route that takes a body: 413 and 503 (422 is FastAPI's)."""
    return {413: {"model": ErrorDetail, "description": too_large}, **STORAGE_UNAVAILABLE}
