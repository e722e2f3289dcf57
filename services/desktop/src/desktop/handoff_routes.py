"""The gateway's routes that hand requests on to Kafka, put together for the composition
root: the agent's commands and the Create Task form, with their body schemas."""

from __future__ import annotations

from fastapi import FastAPI

from desktop.bodies import publish_body_schemas
from desktop.commands_api import command_body_defs, command_router
from desktop.config import DesktopSettings
from desktop.handoff import HandOffStore
from desktop.tasks_api import task_body_defs, task_router


def include_handoff_routes(app: FastAPI, store: HandOffStore, settings: DesktopSettings) -> None:
    """Serve ``POST /v1/desktop/commands`` and ``POST /v1/desktop/workitems`` on ``app``."""
    limit = settings.max_message_bytes
    app.include_router(command_router(store, tenant=settings.tenant_id, max_body_bytes=limit))
    app.include_router(
        task_router(
            store,
            tenant=settings.tenant_id,
            default_region=settings.default_phone_region,
            schedule_tolerance=settings.callback_schedule_tolerance,
            max_body_bytes=limit,
        )
    )
    publish_body_schemas(app, {**command_body_defs(), **task_body_defs()})
