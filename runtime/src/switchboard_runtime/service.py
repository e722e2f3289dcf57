"""Process plumbing shared by the services: connect, relay the outbox, consume, stop.

A ``ServiceRuntime`` is created by a service's composition root and started from its
HTTP app's lifespan. The HTTP server answers ``/health/live`` at once; connecting to
Redis and Kafka happens in the background, retried until it works, and
``/health/ready`` says when the service is fully up. Nothing here crashes the process
because a broker is briefly away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from switchboard_runtime.atomic import StateLost
from switchboard_runtime.clock import wall_clock_ms
from switchboard_runtime.generation import Generation, GenerationWatch, RefuseWhileStateLost
from switchboard_runtime.health import Check, health_router
from switchboard_runtime.http import validation_failed
from switchboard_runtime.http_metrics import HttpMetrics, ObservedRequests
from switchboard_runtime.kafka import (
    ensure_topics,
    has_committed_offsets,
    kafka_answers,
    make_producer,
)
from switchboard_runtime.kafka_access import bootstrap_failure, faststream_security, kafka_access
from switchboard_runtime.live_metrics import LiveMetrics, OutboxGauges, exposition
from switchboard_runtime.logs import FastStreamLogger
from switchboard_runtime.metrics import service_registry
from switchboard_runtime.outbox import OutboxRelay
from switchboard_runtime.redis_client import check_redis_mode, is_cluster, redis_client
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.settings import CommonSettings

log = structlog.get_logger(__name__)

RegisterSubscribers = Callable[[KafkaBroker, AIOKafkaProducer], None]
OnConnected = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Hooks:
    """Service code run at two moments: once connected (before consuming), and when
    stopping (before the consumers close)."""

    on_connected: Sequence[OnConnected] = ()
    before_stop: Sequence[OnConnected] = ()


class Worker(Protocol):
    """A background loop the service runs once connected (e.g. a deadline timer)."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class ServiceRuntime:
    """Owns one service's Redis client, Kafka producer, outbox relay and consumers."""

    def __init__(
        self,
        settings: CommonSettings,
        *,
        service: str,
        topics: Sequence[str],
        register_subscribers: RegisterSubscribers | None = None,
        relay_outbox: bool = True,
        hooks: Hooks | None = None,
        workers: Sequence[Worker] = (),
        generation: Generation | None = None,
    ) -> None:
        """``generation`` (with the Redis client the service's stores use): by default a
        new client, and the generation of this service's tenant."""
        self.settings = settings
        self.service = service
        self.keys = Keys(settings.tenant_id)
        if generation is None:
            generation = Generation(redis_client(settings), self.keys, [service])
        self.generation = generation
        self.redis: Redis = generation.redis
        self._topics = list(topics)
        self._register = register_subscribers
        self._relay_outbox = relay_outbox
        self._hooks = hooks or Hooks()
        self._workers = [*workers, GenerationWatch(self.generation, self._run_connected_hooks)]
        self.producer: AIOKafkaProducer | None = None
        self.broker: KafkaBroker | None = None
        self.relay: OutboxRelay | None = None
        self.started = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.registry = service_registry(
            service, consumes=register_subscribers is not None, relays=relay_outbox, parts=workers
        )
        self.live_metrics: list[LiveMetrics] = []  # gauges read from Redis at each scrape
        if relay_outbox:
            stream = self.keys.outbox(service)
            self.live_metrics.append(OutboxGauges(self.redis, stream, wall_clock_ms))

    @property
    def group_id(self) -> str:
        return f"{self.settings.consumer_group_prefix}-{self.service}"

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        self._tasks.append(asyncio.create_task(self._connect(), name=f"{self.service}-connect"))

    async def _connect(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._connect_once()
                break
            except Exception as exc:
                # the message, not only the type: it says why (a refused password, a
                # certificate not trusted, a broker not there)
                why = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, KafkaConnectionError):  # aiokafka only logged the reason
                    servers = self.settings.kafka_bootstrap_servers
                    reason = await bootstrap_failure(servers, kafka_access(self.settings))
                    why += f" ({reason})" if reason else ""
                log.warning("startup_waiting_for_brokers", error=why, backoff_s=backoff)
                await self._close_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        for worker in self._workers:
            self._tasks.append(asyncio.create_task(worker.run(), name=type(worker).__name__))
        self.started.set()
        log.info(
            "service_started",
            kafka=self.settings.kafka_bootstrap_servers,
            consumer_group=self.group_id if self._register else None,
        )

    async def _connect_once(self) -> None:
        await check_redis_mode(self.settings)  # REDIS_CLUSTER agrees with the server
        await self.redis.ping()
        if not await self.generation.establish(self._never_consumed):
            raise StateLost("the store lost its state (see the redis_state_lost line)")
        await self._run_connected_hooks()
        await ensure_topics(self.settings, self._topics)
        if self.producer is None:
            self.producer = make_producer(self.settings, client_id=self.service)
            await self.producer.start()
        if self._relay_outbox and self.relay is None:
            self.relay = OutboxRelay(
                self.redis,
                self.producer,
                stream=self.keys.outbox(self.service),
                lease_key=self.keys.outbox_lease(self.service),
                service=self.service,
                batch_size=self.settings.outbox_batch_size,
                lease_ms=self.settings.outbox_lease_ms,
                log_events=self.settings.log_events,
            )
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self._register is not None and self.broker is None:
            broker = KafkaBroker(
                self.settings.kafka_servers(),
                client_id=f"{self.service}-consumer",
                security=faststream_security(self.settings),
                logger=FastStreamLogger(),
            )
            self._register(broker, self.producer)
            await broker.start()
            self.broker = broker

    async def _run_connected_hooks(self) -> None:
        for hook in self._hooks.on_connected:
            await hook()

    async def _never_consumed(self) -> bool:
        """Whether this service's consumer group has committed nothing on any of its
        topics: a new deployment (or one that never consumed), not a wiped store."""
        if self._register is None:
            return True
        return not await has_committed_offsets(self.settings, self.group_id, self._topics)

    async def _close_producer(self) -> None:
        if self.producer is not None and self.relay is None:
            with contextlib.suppress(Exception):
                await self.producer.stop()
            self.producer = None

    async def stop(self) -> None:
        """Stop consuming, finish the in-flight work, flush the relay, close clients."""
        for hook in self._hooks.before_stop:  # e.g. commit what is applied while we still can
            with contextlib.suppress(Exception):
                await hook()
        if self.broker is not None:
            await self.broker.stop()
        for worker in self._workers:
            worker.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self._tasks:  # let loops finish their round, then cancel what still runs
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.producer is not None:
            await self.producer.stop()
        await self.redis.aclose()
        log.info("service_stopped")

    def checks(self) -> dict[str, Check]:
        """Readiness checks: Redis and Kafka answer now, and start-up has finished."""

        async def redis_ok() -> bool:
            if is_cluster(self.redis):  # the master of the tenant's slot, not any node
                return await self.redis.exists(self.keys.generation()) >= 0
            return bool(await self.redis.ping())

        async def kafka_ok() -> bool:
            return self.producer is not None and await kafka_answers(self.producer)

        async def started_ok() -> bool:
            return self.started.is_set()

        async def state_ok() -> bool | str:
            if self.generation.lost:
                return "redis_state_lost"
            return self.generation.current is not None

        return {
            "redis": redis_ok,
            "redis_state": state_ok,
            "kafka": kafka_ok,
            "started": started_ok,
        }

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()


async def _storage_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("http_storage_unavailable", error=repr(exc))
    return JSONResponse(
        {"detail": "storage unavailable, retry later"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def service_app(
    runtime: ServiceRuntime,
    title: str,
    *,
    live_metrics: Sequence[LiveMetrics] = (),
    pages: Sequence[str] = (),
) -> FastAPI:
    """An ASGI app whose lifespan runs ``runtime``, with the health and metrics routes;
    a RedisError (or a cluster's RedisClusterException) is a 503, and a 422 is always
    valid JSON (see ``validation_failed``).
    ``live_metrics``: the service's own gauges, read from Redis at each scrape;
    ``pages``: paths still served while the store has lost its state (see
    RefuseWhileStateLost)."""
    app = FastAPI(title=title, version="0.1.0", lifespan=runtime.lifespan)
    live = [*runtime.live_metrics, *live_metrics]

    async def metrics_page() -> bytes:
        return await exposition(runtime.registry, live)

    app.include_router(health_router(runtime.checks(), metrics_page))
    app.add_exception_handler(RedisError, _storage_unavailable)
    app.add_exception_handler(RedisClusterException, _storage_unavailable)  # not a RedisError
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_middleware(RefuseWhileStateLost, generation=runtime.generation, pages=pages)
    http_metrics = HttpMetrics()
    runtime.registry.register(http_metrics)
    app.add_middleware(ObservedRequests, metrics=http_metrics)  # outermost: sees all
    app.state.runtime = runtime
    return app
