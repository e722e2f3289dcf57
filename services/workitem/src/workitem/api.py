"""HTTP API of the work item service: the Create Task form and record look-up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from switchboard_runtime.auth import AUTH_ERRORS, INTAKE, READER
from switchboard_runtime.http import STORAGE_UNAVAILABLE, CorrelationId, IdPath, body_errors
from switchboard_runtime.http_body import SCHEMA_REF, body_schema_defs, parse_body, read_body
from switchboard_schemas.workitem_request import WorkItemRequest

from workitem.intake import IdempotencyConflict, Intake, RequestContext
from workitem.store import StoredItem
from workitem.views import WorkItemView, view_of

BODY_REF = SCHEMA_REF.format(model=WorkItemRequest.__name__)


def create_body_defs() -> dict[str, Any]:
    """Sub-schemas the request body refers to, for the OpenAPI components section."""
    return body_schema_defs(WorkItemRequest)


def workitem_router(
    intake: Intake, *, tenant: str, default_region: str | None, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["work items"])

    async def parse_create(request: Request) -> WorkItemRequest:
        context = {"default_region": default_region}
        raw = await read_body(request, max_body_bytes)
        return parse_body(raw, WorkItemRequest, context=context, max_bytes=max_body_bytes)

    @router.post(
        "/workitems",
        status_code=201,
        response_model=WorkItemView,
        response_model_exclude_none=True,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": BODY_REF}}},
            }
        },
        responses={
            409: {"description": "Idempotency-Key or work_item_id reused for different content"},
            **body_errors(),
            **AUTH_ERRORS,
        },
        dependencies=[INTAKE],
    )
    async def create_work_item(
        request: Request,
        response: Response,
        correlation_id: CorrelationId,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> WorkItemView:
        """Create a work item (the Create Task form); a retried request returns the same item.

        Any type but callback (a 422 on `type`): callbacks are created with
        `POST /v1/callbacks`."""
        cmd = await parse_create(request)
        ctx = RequestContext(tenant, correlation_id, idempotency_key and f"http:{idempotency_key}")
        try:
            result = await intake.create(cmd, ctx)
        except IdempotencyConflict as conflict:
            raise HTTPException(409, str(conflict)) from conflict
        if result.outcome == "duplicate":
            response.headers["Idempotent-Replayed"] = "true"
        return await _found(intake, result.work_item_id)

    @router.get(
        "/workitems/{work_item_id}",
        response_model=WorkItemView,
        response_model_exclude_none=True,
        responses={404: {"description": "Unknown id"}, **STORAGE_UNAVAILABLE, **AUTH_ERRORS},
        dependencies=[READER],
    )
    async def get_work_item(work_item_id: IdPath) -> WorkItemView:
        """The work item record: every field, status, timestamps and history."""
        return await _found(intake, work_item_id)

    return router


async def _found(intake: Intake, work_item_id: str) -> WorkItemView:
    stored: StoredItem | None = await intake.get(work_item_id)
    if stored is None:
        raise HTTPException(404, f"work item {work_item_id} not found")
    return view_of(stored)
