"""HTTP API of callbacks: request (``POST``), look up (``GET``), cancel (``DELETE``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from switchboard_runtime.auth import AUTH_ERRORS, INTAKE, READER
from switchboard_runtime.http import STORAGE_UNAVAILABLE, CorrelationId, IdPath, body_errors
from switchboard_runtime.http_body import SCHEMA_REF, body_schema_defs, parse_body, read_body
from switchboard_schemas.callback import RequestCallback

from callback.callbacks import Callbacks
from callback.context import CallbackConflict, RequestContext, RequestRejected, RequestResult
from callback.views import CallbackView, view_of

CallbackIdPath = IdPath


def request_body_defs() -> dict[str, Any]:
    """The request body's JSON schema (validated by hand, with context) for OpenAPI."""
    return body_schema_defs(RequestCallback)


def parse_request(raw: bytes, default_region: str | None, max_bytes: int) -> RequestCallback:
    """The body as a callback request; 413 when too large, 422 naming each bad field."""
    context = {"default_region": default_region}
    return parse_body(raw, RequestCallback, context=context, max_bytes=max_bytes)


def rejected(exc: RequestRejected) -> RequestValidationError:
    return RequestValidationError(
        [{"type": e.kind, "loc": ("body", e.field), "msg": e.message} for e in exc.errors]
    )


def _answer(result: RequestResult, response: Response) -> CallbackView:
    merged = result.first_outcome == "merged"
    response.status_code = 200 if merged else 201
    if merged:
        response.headers["Callback-Merged"] = "true"
    if result.outcome == "duplicate":
        response.headers["Idempotent-Replayed"] = "true"
    return view_of(result.record)


_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": SCHEMA_REF.format(model="RequestCallback")}}
    },
}


class CallbackApi:
    """The ``/v1/callbacks`` routes over the callback use cases."""

    def __init__(
        self,
        callbacks: Callbacks,
        *,
        default_region: str | None,
        max_body_bytes: int,
        idempotency_ttl: int,
    ) -> None:
        self._callbacks = callbacks
        self._region = default_region
        self._max_bytes = max_body_bytes
        self._ttl = idempotency_ttl

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/v1", tags=["callbacks"])
        shown: dict[str, Any] = {
            "response_model": CallbackView,
            "response_model_exclude_none": True,
        }
        router.add_api_route(
            "/callbacks",
            self.request_callback,
            methods=["POST"],
            status_code=201,
            openapi_extra={"requestBody": _REQUEST_BODY},
            responses={
                200: {
                    "description": "Merged into the open callback for the same number "
                    "and queue (header Callback-Merged: true)."
                },
                409: {"description": "callback_id already used for a different request"},
                **body_errors(),
                **AUTH_ERRORS,
            },
            dependencies=[INTAKE],
            **shown,
        )
        unknown: dict[int | str, dict[str, Any]] = {
            404: {"description": "Unknown id"},
            **STORAGE_UNAVAILABLE,
            **AUTH_ERRORS,
        }
        router.add_api_route(
            "/callbacks/{callback_id}",
            self.get_callback,
            methods=["GET"],
            responses=unknown,
            dependencies=[READER],
            **shown,
        )
        router.add_api_route(
            "/callbacks/{callback_id}",
            self.cancel_callback,
            methods=["DELETE"],
            responses={**unknown, 409: {"description": "Already closed"}},
            dependencies=[INTAKE],
            **shown,
        )
        return router

    async def request_callback(
        self,
        request: Request,
        response: Response,
        correlation_id: CorrelationId,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> CallbackView:
        """Request a callback: `201` with the new callback, or `200` with the open one for
        the same number and queue (its reason and window updated)."""
        raw = await read_body(request, self._max_bytes)
        cmd = parse_request(raw, self._region, self._max_bytes)
        key = f"http:{idempotency_key}" if idempotency_key else None
        ctx = RequestContext(correlation_id, key, self._ttl)
        try:
            result = await self._callbacks.request(cmd, ctx)
        except RequestRejected as exc:
            raise rejected(exc) from exc
        except CallbackConflict as exc:
            raise HTTPException(409, str(exc)) from exc
        return _answer(result, response)

    async def get_callback(self, callback_id: CallbackIdPath) -> CallbackView:
        """The callback: status and every attempt (work item, agent, disposition, outcome)."""
        record = await self._callbacks.get(callback_id)
        if record is None:
            raise HTTPException(404, f"callback {callback_id} not found")
        return view_of(record)

    async def cancel_callback(
        self,
        callback_id: CallbackIdPath,
        reason: Annotated[str | None, Query(max_length=500)] = None,
    ) -> CallbackView:
        """Cancel the callback; a live outbound item gets `workitem.cancel_requested`."""
        outcome, record = await self._callbacks.cancel(callback_id, reason)
        if record is None:
            raise HTTPException(404, f"callback {callback_id} not found")
        if outcome == "closed":
            raise HTTPException(409, f"callback {callback_id} is already {record.status}")
        return view_of(record)
