"""What the HTTP API shows: a callback with its attempts, and a campaign."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field
from switchboard_schemas.fields import STORED, RecordedDatetime

from callback.model import Attempt, CallbackRecord, Source, Status

_HIDDEN = {"fingerprint", "correlation_id"}


class CallbackView(BaseModel):
    """A callback request, where it stands, and every attempt at it."""

    callback_id: str
    status: Status = Field(
        description="scheduled (waiting for its due time), waiting (outbound item created), "
        "in_progress (dialed), completed, failed (attempts exhausted), missed (window "
        "ended) or cancelled."
    )
    source: Source = Field(description="callback, or progressive_dial for campaign contacts.")
    campaign_id: str | None = None
    customer_phone: str = Field(description="E.164.")
    customer_name: str | None = None
    reason: str | None = None
    priority: int
    queue: str
    sub_type: str | None = None
    channel: str = Field(description="Channel the request came in on.")
    skills: list[str]
    scheduled_at: RecordedDatetime = Field(description="When the first attempt was due.")
    window_end: RecordedDatetime | None = Field(
        None, description="After this the callback is not attempted any more (missed)."
    )
    created_at: RecordedDatetime
    updated_at: RecordedDatetime
    closed_at: RecordedDatetime | None = None
    close_reason: str | None = Field(
        None,
        description="Disposition code (completed), attempts_exhausted, window_end_passed, "
        "or the cancel reason.",
    )
    attempts: list[Attempt] = Field(description="Every attempt, the current one last.")


def view_of(record: CallbackRecord) -> CallbackView:
    return CallbackView.model_validate(record.model_dump(exclude=_HIDDEN), context=STORED)


class RejectedRow(BaseModel):
    row: int = Field(description="1 for the first contact (a CSV header row is not counted).")
    errors: list[str] = Field(description="What is wrong, one message per field.")


class CampaignLoadView(BaseModel):
    """The answer to a contact upload."""

    campaign_id: str
    queue: str
    loaded: int = Field(description="Contacts that became new progressive-dial callbacks.")
    merged: int = Field(
        description="Contacts whose number already had an open callback in the queue."
    )
    rejected: list[RejectedRow]


class CampaignView(BaseModel):
    """A campaign's callbacks counted by status, and its upload totals."""

    campaign_id: str
    queue: str
    counts: dict[str, int] = Field(description="Callbacks per status (every status listed).")
    total: int = Field(description="Callbacks the campaign created.")
    open: int = Field(description="scheduled + waiting + in_progress.")
    loaded: int
    merged: int
    rejected: int
    created_at: RecordedDatetime
    updated_at: RecordedDatetime


def campaign_view(campaign_id: str, fields: Mapping[str, str]) -> CampaignView:
    counts = {str(status): int(fields.get(str(status), 0)) for status in Status}
    return CampaignView.model_validate(
        {
            "campaign_id": campaign_id,
            "queue": fields.get("queue", ""),
            "counts": counts,
            "total": sum(counts.values()),
            "open": sum(counts[s] for s in ("scheduled", "waiting", "in_progress")),
            "loaded": int(fields.get("loaded", 0)),
            "merged": int(fields.get("merged", 0)),
            "rejected": int(fields.get("rejected", 0)),
            "created_at": fields["created_at"],
            "updated_at": fields["updated_at"],
        }
    )
