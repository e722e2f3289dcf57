"""HTTP plumbing every service shares: serving with uvicorn, the ``X-Correlation-Id``
header, 422 answers that are always valid JSON, and the error answers in OpenAPI."""

from __future__ import annotations

import datetime as dt
import enum
import gc
import math
from collections.abc import Mapping
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from switchboard_schemas.fields import ID_MAX_LENGTH, ID_PATTERN

from switchboard_runtime.settings import CommonSettings

CORRELATION_ID_MAX = 256  # what a CloudEvent's correlationid holds
CORRELATION_ID_PATTERN = r"^[ -~]*$"  # printable ASCII, space included
_MAX_DEPTH = 20  # of an input echoed in a 422


def settle_memory(thresholds: tuple[int, int, int]) -> None:
    """Freeze what is loaded so far out of garbage collection (it lives as long as the
    process), and collect with ``thresholds`` from now on (GC_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def serve(app: FastAPI, settings: CommonSettings, port: int) -> None:
    """Serve on ``settings.http_host`` until SIGINT/SIGTERM; uvicorn then runs the app's
    lifespan shutdown."""
    settle_memory(settings.gc_thresholds)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


def correlation_id(
    request: Request,
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
    """The caller's ``X-Correlation-Id``, or the one the service gave the request.

    A value longer than 256 characters, or with anything but printable ASCII (space
    included; no tabs, control or non-ASCII bytes), is a 422 naming the header. An
    empty header is treated as absent: it is what a client sends when it has none, and
    the request gets an id of its own (switchboard_runtime.http_metrics), answered in the
    response's ``X-Correlation-Id``.
    """
    given: str | None = getattr(request.state, "correlation_id", None)
    return x_correlation_id or given


CorrelationId = Annotated[str | None, Depends(correlation_id)]

IdPath = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
"""An id in a URL path, checked as ids are everywhere (a bad one is a 422, never a read
of another record's key)."""
"""A route parameter: the request's correlation id (see ``correlation_id``)."""


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` as data strict JSON renders in UTF-8: an infinite or NaN float as its
    name, a lone surrogate as a ``\\udXXX`` escape, nesting past 20 levels as ``"..."``,
    anything else that is not JSON as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return "..." if depth >= _MAX_DEPTH else _container(value, depth + 1)
    return _text(_as_text(value))


def _container(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping):
        return {_text(str(k)): json_safe(v, depth) for k, v in value.items()}
    return [json_safe(v, depth) for v in value]


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value.value if isinstance(value, enum.Enum) else value)


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


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
