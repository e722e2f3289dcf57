"""What each command on ``workitem.commands`` does (plain functions over the intake)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from switchboard_runtime.pipeline import CommandInvalid, Handler
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.workitem import CancelWorkItem, CreateWorkItem

from workitem.intake import IdempotencyConflict, Intake, RequestContext


def _context(event: CloudEvent) -> RequestContext:
    # CloudEvents ids are unique per source, so source + id names one delivery of a command.
    return RequestContext(
        tenant=event.tenantid,
        correlation_id=event.correlationid or event.id,
        request_key=f"ce:{event.source}:{event.id}",
    )


def command_handlers(intake: Intake) -> Mapping[str, tuple[type[BaseModel], Handler]]:
    """The handler for each CloudEvents type accepted on ``workitem.commands``."""

    async def create(event: CloudEvent, command: BaseModel) -> str:
        assert isinstance(command, CreateWorkItem)
        try:
            result = await intake.create(command, _context(event))
        except IdempotencyConflict as conflict:
            raise CommandInvalid("conflict", str(conflict)) from conflict
        return result.outcome

    async def cancel(event: CloudEvent, command: BaseModel) -> str:
        assert isinstance(command, CancelWorkItem)
        outcome = await intake.request_cancel(command, _context(event))
        if outcome == "unknown":
            raise CommandInvalid("unknown_work_item", f"no work item {command.work_item_id}")
        return outcome

    return {
        "workitem.create": (CreateWorkItem, create),
        "workitem.cancel": (CancelWorkItem, cancel),
    }
