"""The consuming side of a service: decode, dead-letter, de-duplicate, apply, retry.

Handlers stay plain async functions ``(event, command) -> outcome``. This pipeline
guarantees that a record is either applied or dead-lettered before its offset is
committed, that bad input never stops the partition, and that an outage of Redis or
Kafka is waited out rather than turned into a crash loop or a lost record.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from switchboard_schemas import strict_json
from switchboard_schemas.decode import MessageRejected, decode_command
from switchboard_schemas.envelope import CloudEvent

from switchboard_runtime.dispatch import Handlers, models_of
from switchboard_runtime.dlq import SourceRecord
from switchboard_runtime.dlq import dead_letter as send_to_dlq
from switchboard_runtime.logs import correlation, ids_of
from switchboard_runtime.metrics import command_metrics
from switchboard_runtime.outbox import TYPE_HEADER
from switchboard_runtime.redis_client import cluster_transient
from switchboard_runtime.settings import CommonSettings

log = structlog.get_logger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    asyncio.TimeoutError,
)


def transient(exc: BaseException) -> bool:
    """An outage to wait out (Redis or Kafka out of reach, a Redis Cluster moving or
    losing a slot), not a bug of the record's."""
    return isinstance(exc, TRANSIENT_ERRORS) or cluster_transient(exc)


MAX_BACKOFF_S = 5.0


class CommandInvalid(Exception):  # noqa: N818 - reads as "the command is invalid"
    """A well-formed command that can never be applied (e.g. cancel of an unknown item)."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.detail = detail


@dataclass(frozen=True)
class DecodeRules:
    """What a topic's records must be: the models per CloudEvents type, the tenant, the
    largest value, the default phone region, and how often a bug is retried."""

    service: str
    tenant: str
    models: Mapping[str, type[BaseModel]]
    max_bytes: int
    default_region: str | None
    attempts: int
    ignore_unknown_types: bool = False


class RecordDecoder:
    """Decodes the records of one topic, and dead-letters those that are bad."""

    def __init__(self, rules: DecodeRules, producer: AIOKafkaProducer) -> None:
        self._service = rules.service
        self._tenant = rules.tenant
        self._producer = producer
        self._models = rules.models
        self._max_bytes = rules.max_bytes
        self._region = rules.default_region
        self.attempts = rules.attempts
        # On a shared event topic, other services' event types and other tenants' events
        # are expected: they are skipped, not dead-lettered.
        self._ignore_unknown = rules.ignore_unknown_types

    async def decode(self, record: SourceRecord) -> tuple[CloudEvent, BaseModel] | None:
        """The record's event and payload, or None once it was dead-lettered or skipped.

        Never raises for what the record holds: whatever fails to decode is dead-lettered.
        """
        raw = record.value or b""
        if self._ignore_unknown and not self._handled_type(record.headers, raw):
            return None  # cheap skip of the many event types this service doesn't follow
        try:
            event, command = decode_command(
                raw,
                allowed=self._models,
                max_bytes=self._max_bytes,
                default_region=self._region,
            )
        except MessageRejected as rejected:
            if not (self._ignore_unknown and rejected.error == "unknown_type"):
                await self.dead_letter(record, rejected.error, rejected.detail, "unknown")
            return None
        if event.tenantid != self._tenant:
            if not self._ignore_unknown:
                detail = f"this deployment serves tenant {self._tenant!r}, not {event.tenantid!r}"
                await self.dead_letter(record, "unknown_tenant", detail, event.type)
            return None
        return event, command

    def _handled_type(self, headers: tuple[tuple[str, bytes], ...], raw: bytes) -> bool:
        """False only for a type we don't handle, named by the ``sb-type`` header or by
        well-formed JSON (bad input: True, so that decoding dead-letters it; a header
        without a value names nothing: the JSON decides)."""
        for name, value in headers:
            if name == TYPE_HEADER and value is not None:  # Kafka header values are nullable
                return value.decode(errors="replace") in self._models
        if len(raw) > self._max_bytes:
            return True
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            return True
        if not isinstance(obj, dict):
            return True
        ce_type = obj.get("type")
        return not isinstance(ce_type, str) or ce_type in self._models

    async def dead_letter(
        self, record: SourceRecord, error: str, detail: str, ce_type: str
    ) -> None:
        backoff = 0.05
        while True:
            try:
                await send_to_dlq(
                    self._producer, record, error=error, detail=detail, service=self._service
                )
                break
            except Exception as exc:
                log.warning("dead_letter_retrying", error=repr(exc), backoff_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        command_metrics(self._service).dead_letters.labels(record.topic, error).inc()
        command_metrics(self._service).commands.labels(ce_type, "dead_lettered").inc()
        log.warning(
            "command_dead_lettered",
            error=error,
            detail=detail[:300],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            **self._named_by(record),
        )

    def _named_by(self, record: SourceRecord) -> dict[str, str]:
        """The CloudEvents id (and the item's ids) of a record, where it names them."""
        if record.value is None or len(record.value) > self._max_bytes:
            return {}
        try:
            event = strict_json.loads(record.value)
        except ValueError:
            return {}
        if not isinstance(event, dict):
            return {}
        named = {"ce_id": event["id"]} if isinstance(event.get("id"), str) else {}
        data = event.get("data")
        return {**named, **(ids_of(data) if isinstance(data, dict) else {})}


class CommandPipeline(RecordDecoder):
    """Applies the records of one topic through the handler for their CloudEvents type."""

    def __init__(self, rules: DecodeRules, producer: AIOKafkaProducer, handlers: Handlers) -> None:
        super().__init__(rules, producer)
        self._handlers = handlers

    async def handle(self, record: SourceRecord) -> None:
        """Apply or dead-letter one record; returns only when one of the two happened."""
        try:
            await self._handle(record)
        except Exception as exc:  # a bug on the way: the record still goes to the DLQ
            log.exception("command_failed", error=repr(exc))
            await self.dead_letter(record, "processing_error", repr(exc), "unknown")

    async def _handle(self, record: SourceRecord) -> None:
        started = time.perf_counter()
        decoded = await self.decode(record)
        if decoded is None:
            return
        event, command = decoded
        ids = ids_of(command)
        with correlation(
            event.correlationid or event.id, ce_id=event.id, ce_type=event.type, **ids
        ):
            outcome = await self._apply(record, event, command)
            if outcome != "dead_lettered":  # dead_letter counted those already
                command_metrics(self._service).commands.labels(event.type, outcome).inc()
            command_metrics(self._service).duration.observe(time.perf_counter() - started)

    async def _apply(self, record: SourceRecord, event: CloudEvent, command: BaseModel) -> str:
        run = self._handlers[event.type].run
        failures = 0
        backoff = 0.05
        while True:
            try:
                outcome = await run(event, command)
                log.debug(  # one line per record: state changes are logged as events
                    "command_applied",
                    outcome=outcome,
                    offset=record.offset,
                    partition=record.partition,
                )
                return outcome
            except CommandInvalid as invalid:
                await self.dead_letter(record, invalid.error, invalid.detail, event.type)
                return "dead_lettered"
            except Exception as exc:
                if transient(exc):
                    log.warning(
                        "command_waiting_for_infrastructure", error=repr(exc), backoff_s=backoff
                    )
                else:
                    failures += 1
                    log.exception("command_failed", attempt=failures, error=repr(exc))
                    if failures >= self.attempts:
                        await self.dead_letter(record, "processing_error", repr(exc), event.type)
                        return "dead_lettered"
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def decode_rules(
    settings: CommonSettings,
    service: str,
    models: Mapping[str, type[BaseModel]],
    *,
    ignore_unknown_types: bool = False,
) -> DecodeRules:
    """A topic's decoding rules, from the service's settings."""
    return DecodeRules(
        service=service,
        tenant=settings.tenant_id,
        models=models,
        max_bytes=settings.max_message_bytes,
        default_region=settings.default_phone_region,
        attempts=settings.processing_attempts,
        ignore_unknown_types=ignore_unknown_types,
    )


def make_pipeline(
    settings: CommonSettings,
    service: str,
    producer: AIOKafkaProducer,
    handlers: Handlers,
    *,
    ignore_unknown_types: bool = False,
) -> CommandPipeline:
    """A pipeline configured from the service's settings."""
    rules = decode_rules(
        settings, service, models_of(handlers), ignore_unknown_types=ignore_unknown_types
    )
    return CommandPipeline(rules, producer, handlers)
