"""What each command on ``workitem.commands`` does (plain functions over the intake)."""

from __future__ import annotations

from switchboard_runtime.dispatch import Handlers, on, table
from switchboard_runtime.pipeline import CommandInvalid
from switchboard_schemas.envelope import CloudEvent
from switchboard_schemas.workitem import CancelWorkItem, CreateWorkItem
from switchboard_schemas.workitem_request import WorkItemRequest

from workitem.intake import IdempotencyConflict, Intake, RequestContext


def _context(event: CloudEvent) -> RequestContext:
    # CloudEvents ids are unique per source, so source + id names one delivery of a command.
    return RequestContext(
        tenant=event.tenantid,
        correlation_id=event.correlationid or event.id,
        request_key=f"ce:{event.source}:{event.id}",
    )


def command_handlers(intake: Intake) -> Handlers:
    """The handler for each CloudEvents type accepted on ``workitem.commands``."""

    async def create(event: CloudEvent, command: CreateWorkItem) -> str:
        try:
            result = await intake.create(command, _context(event))
        except IdempotencyConflict as conflict:
            raise CommandInvalid("conflict", str(conflict)) from conflict
        return result.outcome

    async def cancel(event: CloudEvent, command: CancelWorkItem) -> str:
        outcome = await intake.request_cancel(command, _context(event))
        if outcome == "unknown":
            raise CommandInvalid("unknown_work_item", f"no work item {command.work_item_id}")
        return outcome

    return table(on(WorkItemRequest, create), on(CancelWorkItem, cancel))
