"""Composition root of the desktop gateway: builds the app; nothing runs at import."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from switchboard_runtime.auth import install_auth
from switchboard_runtime.batch import BatchPipeline, batch_pipeline
from switchboard_runtime.clock import ClockMs, wall_clock_ms
from switchboard_runtime.commits import OffsetCommitter
from switchboard_runtime.consume_batches import Batching, subscribe_batches
from switchboard_runtime.generation import Generation
from switchboard_runtime.http import serve
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.redis_client import redis_client
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.service import Hooks, ServiceRuntime, service_app
from switchboard_schemas.topics import ALL_TOPICS

from desktop.config import DesktopSettings
from desktop.handoff import HandOffStore
from desktop.handoff_routes import include_handoff_routes
from desktop.hub import Hub
from desktop.log import Append, DesktopLog
from desktop.page import PAGE_PATHS, include_page
from desktop.snapshot import Snapshots
from desktop.stream import Streams, stream_router

SERVICE = "desktop"


def create_app(settings: DesktopSettings, *, clock_ms: ClockMs = wall_clock_ms) -> FastAPI:
    """The desktop gateway as an ASGI app; its lifespan connects, consumes what concerns
    agents into their logs, and relays the commands it accepted."""
    runtime: ServiceRuntime

    pipelines: list[BatchPipeline[Append]] = []  # one per broker connection
    committer = OffsetCommitter()

    async def finish_batches() -> None:
        """On shutdown: append what is planned and commit what is appended."""
        for pipeline in pipelines:
            await pipeline.close()
        await committer.flush()

    def register(broker: KafkaBroker, producer: AIOKafkaProducer) -> None:
        plans = desktop_log.plans()
        pipeline = batch_pipeline(
            settings, SERVICE, producer, plans, desktop_log.execute, followed_by_others=list(plans)
        )
        pipelines.append(pipeline)
        batching = Batching.of(settings)
        subscribe_batches(
            broker, pipeline, committer, list(plans), runtime.group_id, batching=batching
        )

    keys = Keys(settings.tenant_id)
    redis = redis_client(settings)
    generation = Generation(redis, keys, [SERVICE])
    hub = Hub(redis, keys.desktop_channel())
    runtime = ServiceRuntime(
        settings,
        service=SERVICE,
        topics=ALL_TOPICS,
        register_subscribers=register,
        workers=[hub],
        generation=generation,
        hooks=Hooks(before_stop=[finish_batches]),
    )
    desktop_log = DesktopLog(
        redis,
        keys,
        generation,
        seen_ttl=settings.dedupe_ttl_seconds,
        resume_ms=settings.desktop_resume_seconds * 1000,
        max_entries=settings.desktop_log_max,
        clock_ms=clock_ms,
    )
    snapshots = Snapshots(redis, keys, clock_ms)
    streams = Streams(
        redis,
        keys,
        hub,
        snapshots,
        heartbeat_s=settings.desktop_heartbeat_seconds,
        per_agent=settings.desktop_streams_per_agent,
    )
    # the page loads while the store is lost, and says it is reconnecting
    app = service_app(runtime, "Switchboard desktop gateway", pages=PAGE_PATHS)
    install_auth(app, settings.auth_config())
    app.include_router(stream_router(streams))
    handoff = HandOffStore(redis, keys, generation, request_ttl=settings.idempotency_ttl_seconds)
    include_handoff_routes(app, handoff, settings)
    include_page(app, settings)
    return app


def main() -> None:
    settings = DesktopSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings, settings.desktop_http_port)
