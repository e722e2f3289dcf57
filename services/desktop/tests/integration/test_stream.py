"""An agent's event stream on running gateways: what it starts with, what it carries, and
how a client that dropped goes on (real Kafka-API broker and Valkey)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from desktop.config import DesktopSettings
from desktop.main import create_app
from desktop.stream import entry_key
from switchboard_devtools.testing import Brokers, KafkaTap, eventually, serving_ready
from switchboard_devtools.testing_auth import bearer, token
from switchboard_devtools.testing_sse import sse_fields
from switchboard_schemas.topics import AGENT_EVENTS, WORKITEM_EVENTS, dlq_topic

pytestmark = pytest.mark.integration

TENANT = f"desk{uuid.uuid4().hex[:8]}"


def settings(brokers: Brokers) -> DesktopSettings:
    return DesktopSettings(
        **brokers.settings(),
        tenant_id=TENANT,
        consumer_group_prefix=TENANT,
        kafka_topic_partitions=3,
        desktop_heartbeat_seconds=0.5,
        kafka_fetch_max_wait_ms=20,
    )


@dataclass
class Sse:
    """A Server-Sent Events client reading one stream into messages."""

    response: httpx.Response
    messages: list[dict[str, str]] = field(default_factory=list)
    heartbeats: int = 0

    async def next(self, timeout: float = 20) -> dict[str, str]:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> dict[str, str]:
        async for message in self._messages:
            self.messages.append(message)
            return message
        raise AssertionError("the stream ended")

    def _heartbeat(self, _: str) -> None:
        self.heartbeats += 1

    def __post_init__(self) -> None:
        self._messages = sse_fields(self.response.aiter_lines(), self._heartbeat)


@contextlib.asynccontextmanager
async def stream(
    http: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> AsyncIterator[Sse]:
    async with http.stream("GET", "/v1/desktop/events", headers=headers, params=params) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        yield Sse(r)


def cloud_event(ce_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "switchboard/router",
        "type": ce_type,
        "time": datetime.now(UTC).isoformat(),
        "tenantid": TENANT,
        "data": data,
    }


def offer(agent: str, n: int) -> dict[str, Any]:
    expires = (datetime.now(UTC) + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    return cloud_event(
        "offer.made",
        {
            "offer_id": f"of-{n}",
            "work_item_id": f"w-{n}",
            "agent_id": agent,
            "expires_at": expires,
            "actions": ["accept", "reject"],
            "item": {"type": "task", "priority": 3, "channel": "form"},
        },
    )


@pytest.fixture
async def producer(brokers: Brokers) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=brokers.kafka_bootstrap_servers)
    await kafka.start()
    yield kafka
    await kafka.stop()


async def send(producer: AIOKafkaProducer, topic: str, event: dict[str, Any], key: str) -> None:
    await producer.send_and_wait(topic, json.dumps(event).encode(), key=key.encode())


@pytest.fixture
async def gateway(brokers: Brokers) -> AsyncIterator[httpx.AsyncClient]:
    async with serving_ready(create_app(settings(brokers))) as http:
        yield http


async def test_a_stream_starts_with_a_snapshot_and_carries_only_its_agents_events(
    gateway: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    ada = f"ada-{uuid.uuid4().hex[:6]}"
    async with stream(gateway, bearer(ada, ["agent"])) as sse:
        first = await sse.next()
        assert first["event"] == "snapshot"
        snapshot = json.loads(first["data"])
        assert snapshot["agent"] == {"agent_id": ada, "status": "offline", "reason": None}
        assert snapshot["offers"] == []
        assert abs(datetime.fromisoformat(snapshot["now"]) - datetime.now(UTC)) < timedelta(5)

        await send(producer, AGENT_EVENTS, offer("someone-else", 1), "someone-else")
        mine = offer(ada, 2)
        await send(producer, AGENT_EVENTS, mine, ada)
        await send(producer, AGENT_EVENTS, mine, ada)  # delivered twice by Kafka: shown once
        accepted = cloud_event(
            "workitem.accepted", {"work_item_id": "w-2", "offer_id": "of-2", "agent_id": ada}
        )
        await send(producer, WORKITEM_EVENTS, accepted, "w-2")

        # one message each; the two topics are consumed side by side, so in either order
        got = {m["event"]: m for m in [await sse.next(), await sse.next()]}
        made, step = got["offer.made"], got["workitem.accepted"]
        assert json.loads(made["data"])["id"] == mine["id"]
        assert json.loads(made["data"])["data"]["work_item_id"] == "w-2"
        assert json.loads(step["data"])["id"] == accepted["id"]
        assert entry_key(sse.messages[2]["id"]) > entry_key(sse.messages[1]["id"])
        assert entry_key(sse.messages[1]["id"]) > entry_key(first["id"])
        with pytest.raises(TimeoutError):
            await sse.next(timeout=2)  # nothing else: not the duplicate, not the other agent's
        assert sse.heartbeats >= 1


async def test_a_dropped_stream_resumes_with_every_missed_event_once_on_another_replica(
    brokers: Brokers, gateway: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    ada = f"ada-{uuid.uuid4().hex[:6]}"
    headers = bearer(ada, ["agent"])
    async with stream(gateway, headers) as sse:
        await sse.next()  # the snapshot
        await send(producer, AGENT_EVENTS, offer(ada, 10), ada)
        seen = await sse.next()
    missed = [offer(ada, n) for n in range(11, 16)]  # produced while nobody listens
    for event in missed:
        await send(producer, AGENT_EVENTS, event, ada)

    resumed = {**headers, "Last-Event-ID": seen["id"]}
    async with (
        serving_ready(create_app(settings(brokers))) as second,  # another replica
        stream(second, resumed) as sse,
    ):
        got = [await sse.next() for _ in missed]
        assert [json.loads(m["data"])["id"] for m in got] == [e["id"] for e in missed]
        assert all(m["event"] == "offer.made" for m in got)
        with pytest.raises(TimeoutError):
            await sse.next(timeout=2)


async def test_an_unknown_last_event_id_gets_a_fresh_snapshot(gateway: httpx.AsyncClient) -> None:
    ada = f"ada-{uuid.uuid4().hex[:6]}"
    for last in ("not-an-id", "1-0", "99999999999999-0"):
        async with stream(gateway, {**bearer(ada, ["agent"]), "Last-Event-ID": last}) as sse:
            assert (await sse.next())["event"] == "snapshot"


async def test_who_may_open_which_stream(gateway: httpx.AsyncClient) -> None:
    anonymous = {"Authorization": ""}
    answer = await gateway.get("/v1/desktop/events", headers=anonymous)
    assert answer.status_code == 401
    expired = {"Authorization": f"Bearer {token('ada', ['agent'], ttl_seconds=-300)}"}
    assert (await gateway.get("/v1/desktop/events", headers=expired)).status_code == 401
    ada = bearer("ada", ["agent"])
    other = await gateway.get("/v1/desktop/events", headers=ada, params={"agent_id": "bob"})
    assert other.status_code == 403
    system = await gateway.get("/v1/desktop/events", headers=bearer("ivr", ["integration"]))
    assert system.status_code == 403
    async with stream(gateway, bearer("sam", ["supervisor"]), agent_id="bob") as sse:
        assert json.loads((await sse.next())["data"])["agent"]["agent_id"] == "bob"
    by_query = {"access_token": token("ada", ["agent"])}  # EventSource sets no headers
    async with stream(gateway, anonymous, **by_query) as sse:
        assert json.loads((await sse.next())["data"])["agent"]["agent_id"] == "ada"


async def test_an_agent_may_hold_only_so_many_streams_on_one_gateway(brokers: Brokers) -> None:
    limited = settings(brokers).model_copy(update={"desktop_streams_per_agent": 2})
    ada = bearer(f"ada-{uuid.uuid4().hex[:6]}", ["agent"])
    async with serving_ready(create_app(limited)) as http:
        async with stream(http, ada) as first, stream(http, ada) as second:
            await first.next()
            await second.next()
            refused = await http.get("/v1/desktop/events", headers=ada)
            assert refused.status_code == 429
            assert "DESKTOP_STREAMS_PER_AGENT" in refused.json()["detail"]
            other = bearer("bo", ["agent"])
            async with stream(http, other) as theirs:  # the limit is per agent
                await theirs.next()

        async def opens() -> bool:  # once the gateway has noticed the two closed
            async with http.stream("GET", "/v1/desktop/events", headers=ada) as answer:
                return answer.status_code == 200

        assert await eventually(opens, timeout=10)  # closed ones count no more


async def test_a_poison_event_goes_to_its_dlq_and_the_next_one_is_shown(
    brokers: Brokers, gateway: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    """agent.events has a dead-letter topic of its own, made with the others (a Kafka
    that does not create topics on first use would otherwise refuse the record)."""
    ada = f"ada-{uuid.uuid4().hex[:6]}"
    async with (
        KafkaTap(brokers.kafka_bootstrap_servers, dlq_topic(AGENT_EVENTS)) as dead,
        stream(gateway, bearer(ada, ["agent"])) as sse,
    ):
        assert (await sse.next())["event"] == "snapshot"
        await producer.send_and_wait(AGENT_EVENTS, b"{not json", key=ada.encode())
        after = offer(ada, 3)
        await send(producer, AGENT_EVENTS, after, ada)
        [refused] = await dead.wait_for(lambda r: r.value == b"{not json", timeout=30)
        assert dict(refused.headers)["sb-error"] == b"not_json"
        shown = await sse.next()
        assert json.loads(shown["data"])["id"] == after["id"]
