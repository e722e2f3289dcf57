"""Composition root of the router: config, scripts, engine, consumers, deadline timer."""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from switchboard_runtime.batch import BatchPipeline, batch_pipeline
from switchboard_runtime.clock import ClockMs, shifted_clock_ms
from switchboard_runtime.commits import OffsetCommitter
from switchboard_runtime.consume_batches import Batching, subscribe_batches
from switchboard_runtime.generation import Generation
from switchboard_runtime.http import serve
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.partitioned_deadlines import DeadlineSets, PartitionedDeadlines
from switchboard_runtime.redis_client import redis_client
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.service import Hooks, ServiceRuntime, service_app
from switchboard_schemas.topics import AGENT_COMMANDS, ALL_TOPICS, WORKITEM_EVENTS

from router.config import RouterSettings
from router.engine import RouterEngine
from router.gauges import router_gauges
from router.plans import RouterPlans
from router.routing_config import RoutingConfig
from router.scripts import RouterScripts, ScriptCall, Timing

SERVICE = "router"
log = structlog.get_logger(__name__)


def create_app(settings: RouterSettings, clock_ms: ClockMs | None = None) -> FastAPI:
    """The router as an ASGI app (health and metrics); its lifespan consumes and fires."""
    clock_ms = clock_ms or shifted_clock_ms(settings.clock_offset_ms)
    config = RoutingConfig.load(settings.routing_config)
    runtime: ServiceRuntime
    pipelines: list[BatchPipeline[ScriptCall]] = []  # one per broker connection
    committer = OffsetCommitter()
    deadlines = PartitionedDeadlines.of(AGENT_COMMANDS, settings, clock_ms, service=SERVICE)
    batching = Batching.of(settings)

    async def finish_batches() -> None:
        """On shutdown: apply what is planned and commit what is applied."""
        for pipeline in pipelines:
            await pipeline.close()
        await committer.flush()
        await deadlines.close()

    def register(broker: KafkaBroker, producer: AIOKafkaProducer) -> None:
        tables = plans.tables()
        pipeline = batch_pipeline(
            settings,
            SERVICE,
            producer,
            tables,
            engine.execute,
            followed_by_others=[WORKITEM_EVENTS],
        )
        pipelines.append(pipeline)
        consumer = subscribe_batches(
            broker,
            pipeline,
            committer,
            list(tables),
            runtime.group_id,
            batching=batching,
            watermarks=deadlines.watermarks,
        )
        deadlines.consumed_by(consumer, runtime.group_id)

    timing = Timing(
        offer_timeout_ms=round(settings.offer_timeout_seconds * 1000),
        wrapup_timeout_ms=round(settings.wrapup_timeout_seconds * 1000),
        scan_items=settings.route_scan_items,
        scan_agents=settings.route_scan_agents,
        retention_s=settings.retention_seconds,
    )
    keys = Keys(settings.tenant_id)
    redis = redis_client(settings)
    generation = Generation(redis, keys, [SERVICE])
    scripts = RouterScripts(redis, keys, timing, clock_ms, generation)
    engine = RouterEngine(scripts, default_disposition=settings.wrapup_default_disposition)
    plans = RouterPlans(
        config,
        seen_ttl=settings.dedupe_ttl_seconds,
        skip_limit=settings.outbound_skip_limit,
        partitions=deadlines.offsets.partition_count,
    )
    timer = deadlines.timer(
        redis,
        DeadlineSets(keys.deadlines(), keys.deadlines_of),
        engine.fire_sets,
        fire=engine.fire,
        fire_batch=engine.fire_many,
        poll_ms=settings.deadline_poll_ms,
    )
    runtime = ServiceRuntime(
        settings,
        service=SERVICE,
        topics=ALL_TOPICS,
        register_subscribers=register,
        generation=generation,
        hooks=Hooks(
            on_connected=[
                lambda: scripts.publish_queue_strategies(config),
            ],
            before_stop=[finish_batches],
        ),
        workers=[timer],
    )
    gauges = router_gauges(redis, keys, config, deadlines.offsets.partition_count, clock_ms)
    app = service_app(runtime, "Switchboard router", live_metrics=gauges)
    app.state.engine = engine
    return app


def main() -> None:
    settings = RouterSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings, settings.router_http_port)
