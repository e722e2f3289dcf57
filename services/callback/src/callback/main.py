"""Composition root of the callback service: builds the app; nothing runs at import."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from switchboard_runtime.auth import install_auth
from switchboard_runtime.consume import subscribe_per_topic
from switchboard_runtime.generation import Generation
from switchboard_runtime.http import serve
from switchboard_runtime.kafka_offsets import ConsumerRef
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.partitioned_deadlines import PartitionedDeadlines
from switchboard_runtime.pipeline import make_pipeline
from switchboard_runtime.redis_client import redis_client
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.service import Hooks, ServiceRuntime, service_app
from switchboard_schemas.topics import ALL_TOPICS, CALLBACK_COMMANDS, WORKITEM_EVENTS

from callback.api import CallbackApi, request_body_defs
from callback.callbacks import Callbacks
from callback.campaign_api import CampaignApi, contact_defs
from callback.campaigns import Campaigns
from callback.commands import CommandHandlers
from callback.config import CallbackSettings
from callback.context import Clock, IdFactory, Policy, new_uuid, utc_now
from callback.gauges import callback_gauges
from callback.outcomes import OutcomeHandlers
from callback.rules import RetryPolicy
from callback.store import CallbackStore, epoch_ms
from callback.timer import deadline_timer

SERVICE = "callback"


def policy_of(settings: CallbackSettings) -> Policy:
    return Policy(
        retry=RetryPolicy(
            max_attempts=settings.callback_max_attempts,
            delay=timedelta(seconds=settings.callback_retry_delay_seconds),
            retry_codes=settings.callback_retry_dispositions,
        ),
        default_queue=settings.callback_default_queue,
        tolerance=settings.callback_schedule_tolerance,
        seen_ttl=settings.dedupe_ttl_seconds,
    )


def create_app(
    settings: CallbackSettings, *, clock: Clock = utc_now, new_id: IdFactory = new_uuid
) -> FastAPI:
    """The callback service as an ASGI app; its lifespan connects, consumes and fires.

    It consumes its commands and the lifecycle events of outbound items through one
    consumer, and fires due callbacks and window ends with the shared deadline timer,
    each only once the commands that could have answered it in time are applied.
    """
    runtime: ServiceRuntime
    keys = Keys(settings.tenant_id)
    redis = redis_client(settings)
    generation = Generation(redis, keys, [SERVICE])
    deadlines = PartitionedDeadlines.of(
        CALLBACK_COMMANDS, settings, lambda: epoch_ms(clock()), service=SERVICE
    )
    store = CallbackStore(
        redis,
        keys,
        generation,
        retention_seconds=settings.retention_seconds,
        partition_of=deadlines.partition_of,
    )
    callbacks = Callbacks(
        store, policy_of(settings), tenant=settings.tenant_id, clock=clock, new_id=new_id
    )
    timer = deadline_timer(
        redis, keys, callbacks, store, deadlines, poll_ms=settings.deadline_poll_ms
    )

    def register(broker: KafkaBroker, producer: AIOKafkaProducer) -> None:
        consumer = _subscribe(broker, producer, settings, callbacks, runtime.group_id, deadlines)
        deadlines.consumed_by(consumer, runtime.group_id)

    runtime = ServiceRuntime(
        settings,
        service=SERVICE,
        topics=ALL_TOPICS,
        register_subscribers=register,
        generation=generation,
        hooks=Hooks(before_stop=[deadlines.close]),
        workers=[timer],
    )
    gauges = callback_gauges(
        redis, keys, deadlines.offsets.partition_count, lambda: epoch_ms(clock())
    )
    app = service_app(runtime, "Switchboard callback service", live_metrics=gauges)
    campaigns = Campaigns(
        callbacks,
        store,
        concurrency=settings.campaign_load_concurrency,
        clock=clock,
    )
    _include_routes(app, settings, callbacks, campaigns)
    return app


def _subscribe(
    broker: KafkaBroker,
    producer: AIOKafkaProducer,
    settings: CallbackSettings,
    callbacks: Callbacks,
    group_id: str,
    deadlines: PartitionedDeadlines,
) -> ConsumerRef:
    """One consumer: commands on callback.commands (which the deadline watermarks
    follow), outcomes on workitem.events."""
    commands = CommandHandlers(callbacks, request_ttl=settings.dedupe_ttl_seconds)
    pipelines = {
        CALLBACK_COMMANDS: make_pipeline(settings, SERVICE, producer, commands.handlers()),
        WORKITEM_EVENTS: make_pipeline(
            settings,
            SERVICE,
            producer,
            OutcomeHandlers(callbacks).handlers(),
            ignore_unknown_types=True,
        ),
    }
    return subscribe_per_topic(
        broker,
        pipelines,
        group_id,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        watermarks=deadlines.watermarks,
    )


def _include_routes(
    app: FastAPI, settings: CallbackSettings, callbacks: Callbacks, campaigns: Campaigns
) -> None:
    api = CallbackApi(
        callbacks,
        default_region=settings.default_phone_region,
        max_body_bytes=settings.max_message_bytes,
        idempotency_ttl=settings.idempotency_ttl_seconds,
    )
    campaign_api = CampaignApi(
        campaigns,
        default_queue=settings.callback_default_queue,
        default_region=settings.default_phone_region,
        max_rows=settings.campaign_max_rows,
        max_body_bytes=settings.campaign_max_body_bytes,
    )
    install_auth(app, settings.auth_config())
    app.include_router(api.router())
    app.include_router(campaign_api.router())
    _publish_body_schema(app)


def _publish_body_schema(app: FastAPI) -> None:
    """Add the request bodies' JSON schemas (validated by hand, with context) to OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(request_body_defs())
            components.update(contact_defs())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def main() -> None:
    settings = CallbackSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings, settings.callback_http_port)
