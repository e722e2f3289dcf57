"""What the gateway hands on to Kafka: an agent's command, a Create Task form.

Nothing is sent with a producer here. One script (``lua/accept_request.lua``, its header
names its arguments and answers) remembers the request's ``Idempotency-Key`` and adds
the CloudEvent to the service's outbox in one atomic step; the runtime's relay
publishes the outbox. So a retried POST publishes once and answers the same id, and a
request answered ``202`` is never lost.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import BaseModel
from redis.asyncio import Redis
from switchboard_runtime.atomic import AtomicScript, GenerationSource
from switchboard_runtime.lua import lua_files
from switchboard_runtime.redis_keys import Keys
from switchboard_schemas.envelope import CloudEvent, new_event, to_bytes

SOURCE = "switchboard/desktop"
# the ids the gateway derives from an Idempotency-Key are UUIDv5 in this namespace
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://switchboard/desktop")

Outcome = Literal["accepted", "duplicate", "conflict"]


def derived_id(purpose: str, caller: str, idempotency_key: str | None) -> str:
    """A UUIDv5 of (``purpose``, ``caller``, ``idempotency_key``): the same for every
    retry of a request; a random UUID when the request has no key."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(NAMESPACE, f"{purpose}\n{caller}\n{idempotency_key}"))


def fingerprint(route: str, type_: str, payload: BaseModel) -> str:
    """A digest of what was asked for, to tell a retry from another request."""
    data = payload.model_dump(mode="json", exclude_none=True)
    canonical = json.dumps({"route": route, "type": type_, "data": data}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Origin:
    """Where a request came from: who sent it, its key, its tenant and correlation."""

    caller: str
    idempotency_key: str | None
    tenant: str
    correlation_id: str | None


def desktop_event(
    type_: str, payload: BaseModel, *, id: str, subject: str | None, origin: Origin
) -> CloudEvent:
    """The CloudEvent the gateway publishes for a request (source ``switchboard/desktop``)."""
    return new_event(
        type_,
        payload,
        source=SOURCE,
        subject=subject,
        tenantid=origin.tenant,
        correlationid=origin.correlation_id,
        id=id,
    )


@dataclass(frozen=True)
class HandOff:
    """One request to hand on: the id it answers, and its event with topic and key."""

    origin: Origin
    fingerprint: str
    answer_id: str
    topic: str
    kafka_key: str
    event: CloudEvent


class HandOffConflict(Exception):  # noqa: N818 - the name says what happened
    """The Idempotency-Key was used before for a different request."""

    def __init__(self, answered: str) -> None:
        super().__init__(f"this Idempotency-Key was used for a different request ({answered})")
        self.answered = answered


class HandOffStore:
    """Queues the gateway's events in its outbox, once per Idempotency-Key."""

    def __init__(
        self, redis: Redis, keys: Keys, generation: GenerationSource, *, request_ttl: int
    ) -> None:
        self._ttl = request_ttl
        self._accept = AtomicScript(
            redis, keys, lua_files("desktop", "accept_request.lua"), generation
        )

    async def hand_on(self, request: HandOff) -> tuple[Outcome, str]:
        """Queue ``request``'s event; ``duplicate`` and the id answered before for a retry
        of it. A key used before for another request is a :class:`HandOffConflict`."""
        args: dict[str, Any] = {
            "caller": request.origin.caller,
            "request_ttl": self._ttl,
            "fingerprint": request.fingerprint,
            "id": request.answer_id,
            "topic": request.topic,
            "kafka_key": request.kafka_key,
            "type": request.event.type,
            "event": to_bytes(request.event).decode(),
        }
        if request.origin.idempotency_key is not None:
            args["idempotency_key"] = request.origin.idempotency_key
        outcome, answered = await self._accept(args)
        if outcome == b"conflict":
            raise HandOffConflict(answered.decode())
        return cast(Outcome, outcome.decode()), answered.decode()
