"""Composition root of the work item service: builds the app; nothing runs at import."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from switchboard_runtime.auth import install_auth
from switchboard_runtime.consume import subscribe_per_topic
from switchboard_runtime.dispatch import on, table
from switchboard_runtime.http import serve
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.pipeline import make_pipeline
from switchboard_runtime.service import ServiceRuntime, service_app
from switchboard_schemas.lifecycle import WorkItemCreated
from switchboard_schemas.topics import ALL_TOPICS, WORKITEM_COMMANDS, WORKITEM_EVENTS

from workitem.api import create_body_defs, workitem_router
from workitem.commands import command_handlers
from workitem.config import WorkItemSettings
from workitem.inbox_api import inbox_router
from workitem.intake import Clock, Intake, utc_now
from workitem.projection import Projection
from workitem.projection_store import ReadModelStore
from workitem.store import WorkItemStore

SERVICE = "workitem"


def create_app(settings: WorkItemSettings, *, clock: Clock = utc_now) -> FastAPI:
    """The work item service as an ASGI app; its lifespan connects and consumes.

    It consumes its commands (intake) and the lifecycle events (the Inbox read model)
    through one consumer; ``clock`` is what "now" means for archiving and due labels.
    """
    runtime: ServiceRuntime

    def register(broker: KafkaBroker, producer: AIOKafkaProducer) -> None:
        pipelines = {
            WORKITEM_COMMANDS: make_pipeline(settings, SERVICE, producer, command_handlers(intake)),
            WORKITEM_EVENTS: make_pipeline(
                settings,
                SERVICE,
                producer,
                {**projection.handlers(), **table(on(WorkItemCreated, intake.adopt))},
                ignore_unknown_types=True,
            ),
        }
        subscribe_per_topic(
            broker,
            pipelines,
            runtime.group_id,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        )

    runtime = ServiceRuntime(
        settings, service=SERVICE, topics=ALL_TOPICS, register_subscribers=register
    )
    store = WorkItemStore(runtime.redis, runtime.keys, runtime.generation)
    intake = Intake(store, request_ttl=settings.idempotency_ttl_seconds, clock=clock)
    read_model = ReadModelStore(
        runtime.redis, runtime.keys, runtime.generation, retention_s=settings.retention_seconds
    )
    projection = Projection(read_model, seen_ttl=settings.dedupe_ttl_seconds, clock=clock)
    app = service_app(runtime, "Switchboard work item service")
    install_auth(app, settings.auth_config())
    app.include_router(
        workitem_router(
            intake,
            tenant=settings.tenant_id,
            default_region=settings.default_phone_region,
            max_body_bytes=settings.max_message_bytes,
        )
    )
    app.include_router(inbox_router(read_model, clock))
    _publish_body_schema(app)
    return app


def _publish_body_schema(app: FastAPI) -> None:
    """Add the request body's JSON schema (validated by hand, with context) to OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(create_body_defs())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def main() -> None:
    settings = WorkItemSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings, settings.workitem_http_port)
