"""HTTP API of progressive-dial campaigns: upload contacts, see the campaign's counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from switchboard_runtime.auth import AUTH_ERRORS, INTAKE
from switchboard_runtime.http import STORAGE_UNAVAILABLE, ErrorDetail, IdPath, body_errors
from switchboard_runtime.http_body import parse_json, read_body
from switchboard_schemas.fields import QUEUE_PATTERN

from callback.campaigns import Campaigns
from callback.contacts import (
    Contact,
    ContactsInvalid,
    TooManyContacts,
    check_rows,
    csv_rows,
    json_rows,
)
from callback.views import CampaignLoadView, CampaignView, RejectedRow, campaign_view

CampaignIdPath = IdPath
SCHEMA_REF = "#/components/schemas/{model}"
CSV_EXAMPLE = "customer_phone,customer_name,reason,priority\n+14155552671,Ada,Renewal,3\n"


def _rows(raw: bytes, content_type: str, max_rows: int) -> list[Any]:
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    try:
        if media == "text/csv":
            return csv_rows(raw, max_rows)
        if media in ("application/json", ""):
            parse_json(raw)  # 422 for JSON no service takes (too deep, lone surrogates, ...)
            return json_rows(raw, max_rows)
    except ContactsInvalid as exc:
        raise RequestValidationError(
            [{"type": "contacts_invalid", "loc": ("body",), "msg": str(exc)}]
        ) from exc
    except TooManyContacts as exc:
        raise HTTPException(413, str(exc)) from exc
    raise HTTPException(415, "send application/json (an array of contacts) or text/csv")


def contact_defs() -> dict[str, Any]:
    """The contact's JSON schema (validated by hand, per row) for the OpenAPI components."""
    schema = Contact.model_json_schema(ref_template=SCHEMA_REF)
    defs: dict[str, Any] = schema.pop("$defs", {})
    return {**defs, "Contact": schema}


_CONTACTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": SCHEMA_REF.format(model="Contact")}}
        },
        "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
    },
}
QueueQuery = Annotated[
    str | None, Query(pattern=QUEUE_PATTERN, description="Campaign queue (default: callbacks').")
]


class CampaignApi:
    """The ``/v1/campaigns`` routes."""

    def __init__(
        self,
        campaigns: Campaigns,
        *,
        default_queue: str,
        default_region: str | None,
        max_rows: int,
        max_body_bytes: int,
    ) -> None:
        self._campaigns = campaigns
        self._default_queue = default_queue
        self._region = default_region
        self._max_rows = max_rows
        self._max_bytes = max_body_bytes

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/v1", tags=["campaigns"])
        router.add_api_route(
            "/campaigns/{campaign_id}/contacts",
            self.load_contacts,
            methods=["POST"],
            status_code=201,
            response_model=CampaignLoadView,
            openapi_extra={"requestBody": _CONTACTS_BODY},
            responses={
                **body_errors("Body over CAMPAIGN_MAX_BODY_BYTES or contacts over the limit."),
                415: {"model": ErrorDetail, "description": "Neither JSON nor CSV"},
                **AUTH_ERRORS,
            },
            dependencies=[INTAKE],
        )
        router.add_api_route(
            "/campaigns/{campaign_id}",
            self.get_campaign,
            methods=["GET"],
            response_model=CampaignView,
            responses={
                404: {"description": "Unknown campaign"},
                **STORAGE_UNAVAILABLE,
                **AUTH_ERRORS,
            },
            dependencies=[INTAKE],
        )
        return router

    async def load_contacts(
        self, request: Request, campaign_id: CampaignIdPath, queue: QueueQuery = None
    ) -> CampaignLoadView:
        """Load contacts (JSON array or CSV with a header row) as progressive-dial
        callbacks, due now. Bad rows are reported by row number; the rest are loaded;
        a number with an open callback in the queue is merged into it."""
        raw = await read_body(request, self._max_bytes)
        rows = _rows(raw, request.headers.get("content-type", ""), self._max_rows)
        checked = check_rows(rows, self._region)
        campaign_queue = queue or self._default_queue
        counts = await self._campaigns.load(
            campaign_id, checked.valid, len(checked.rejected), campaign_queue
        )
        return CampaignLoadView(
            campaign_id=campaign_id,
            queue=campaign_queue,
            loaded=counts["loaded"],
            merged=counts["merged"],
            rejected=[RejectedRow(row=row, errors=errors) for row, errors in checked.rejected],
        )

    async def get_campaign(self, campaign_id: CampaignIdPath) -> CampaignView:
        """The campaign's callbacks counted by status, and what its uploads loaded."""
        fields = await self._campaigns.get(campaign_id)
        if fields is None:
            raise HTTPException(404, f"campaign {campaign_id} not found")
        return campaign_view(campaign_id, fields)
