"""Simulated agents: they answer each ``offer.made`` of their tenant as people do.

An offer is accepted (then sometimes held and resumed, ended, and completed, or left in
wrap-up for its deadline), rejected, or left to expire; an agent the router set away for
a missed offer reports available again. With ``rough`` on (scenario 10) agents also send
each command twice (the same CloudEvent id, and a new one), send ``item.complete`` before
``item.end``, and accept some offers at the last moment, racing the deadline. ``drain()``
makes every agent accept and complete whatever comes, so a scenario ends with every item
closed. With ``gateway`` set (scenario 1), agents send their commands as the desktop page
does, over the gateway's ``POST /v1/desktop/commands`` with their own token, retrying a
refused connection or a 5xx with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing_auth import bearer
from switchboard_runtime.auth import Role
from switchboard_schemas.topics import AGENT_COMMANDS, AGENT_EVENTS

from bench.common import tail_consumer
from chaos.checker import Known
from chaos.load import command, post_answered, producer

WEIGHTS = {"accept": 60, "reject": 20, "ignore": 20}
SEND_TRIES = 60  # half a second apart: how long a command waits out a broker or gateway


class Agents:
    """``count`` agents of ``known.tenant`` in queue ``task``, ``capacity`` async slots each."""

    def __init__(
        self, known: Known, bootstrap: str, count: int, capacity: int, seed: int = 7
    ) -> None:
        self.known = known
        self.bootstrap = bootstrap
        self.ids = [f"{known.tenant}-agent-{n}" for n in range(count)]
        self.capacity = capacity
        self.random = random.Random(seed)  # noqa: S311 - a reproducible simulation
        self.rough = False
        self.draining = False
        self.sent = 0
        self.gateway: Callable[[], str] | None = None  # the desktop's URL, when used
        self.errors: list[str] = []
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._kafka: AIOKafkaProducer | None = None

    async def start(self) -> Agents:
        consumer = await tail_consumer(self.bootstrap, AGENT_EVENTS)
        self._kafka = await producer(self.bootstrap)
        self._http = httpx.AsyncClient(timeout=10)
        self._loop_task = asyncio.create_task(self._listen(consumer))
        for agent in self.ids:
            self.known.capacity[agent] = self.capacity
            await self.available(agent)
        return self

    def drain(self) -> None:
        self.draining, self.rough = True, False

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._kafka is not None:
            await self._kafka.stop()
        if self._http is not None:
            await self._http.aclose()

    async def available(self, agent: str) -> None:
        status = {"status": "available", "queues": ["task"], "capacity": {"async": self.capacity}}
        await self.send("agent.status", {"agent_id": agent, **status})

    async def send(self, ce_type: str, data: dict[str, Any], twice: bool = False) -> None:
        assert self._kafka is not None
        ident = str(uuid.uuid4())
        copies = [ident, ident, None] if twice else [ident]
        for copy in copies:
            if self.gateway is not None:
                await self._post(ce_type, data, copy or str(uuid.uuid4()))
                continue
            body = command(self.known.tenant, ce_type, data, copy)
            await self._retrying(body, str(data["agent_id"]).encode())

    async def _post(self, ce_type: str, data: dict[str, Any], key: str) -> None:
        """The command over the desktop gateway, as the agent's own page sends it."""
        assert self._http is not None
        gateway = self.gateway
        assert gateway is not None
        headers = {**bearer(str(data["agent_id"]), [Role.AGENT]), "Idempotency-Key": key}
        body = {"type": ce_type, "data": data}
        url = lambda: f"{gateway()}/v1/desktop/commands"  # noqa: E731 - where it is now
        answer = await post_answered(self._http, url, body, headers, self.known)
        if answer is not None and answer.status_code == 202:
            self.known.handed_on.add(str(answer.json()["command_id"]))
            self.sent += 1
        else:
            said = "no answer" if answer is None else f"{answer.status_code} {answer.text[:200]}"
            self.errors.append(f"{ce_type} for {data['agent_id']}: {said}")

    async def _retrying(self, body: bytes, key: bytes) -> None:
        assert self._kafka is not None
        for _ in range(SEND_TRIES):
            try:
                await (await self._kafka.send(AGENT_COMMANDS, body, key=key))
                self.sent += 1
                return
            except Exception:  # a broker down: retry, as a desktop would
                await asyncio.sleep(0.5)  # retry after a failed send

    async def _listen(self, consumer: Any) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=1000)
                for records in batches.values():
                    for record in records:
                        self._on(json.loads(record.value))
        finally:
            await consumer.stop()

    def _on(self, event: dict[str, Any]) -> None:
        if event.get("tenantid") != self.known.tenant:
            return
        data = event.get("data", {})
        if event["type"] == "offer.made":
            self._spawn(self._answer(data))
        elif event["type"] == "agent.status_changed" and data.get("reason") == "missed_offer":
            self._spawn(self._back(str(data["agent_id"])))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _back(self, agent: str) -> None:
        await asyncio.sleep(self.random.uniform(0.2, 1.0))  # a person noticing
        await self.available(agent)

    async def _answer(self, offer: dict[str, Any]) -> None:
        choice = "accept"
        if not self.draining:
            choice = self.random.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        base = {"agent_id": offer["agent_id"], "work_item_id": offer["work_item_id"]}
        await self._think(offer, choice)
        if choice == "reject":
            await self.send("offer.reject", {**base, "offer_id": offer["offer_id"]}, self.rough)
        if choice != "accept":
            return
        await self.send("offer.accept", {**base, "offer_id": offer["offer_id"]}, self.rough)
        await self._work(base)

    async def _think(self, offer: dict[str, Any], choice: str) -> None:
        """Answer soon; with ``rough``, a quarter of accepts at the deadline's edge."""
        if self.rough and choice == "accept" and self.random.random() < 0.25:
            expires = datetime.fromisoformat(str(offer["expires_at"]).replace("Z", "+00:00"))
            left = (expires - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(max(0.0, left + self.random.uniform(-0.3, 0.1)))
            return
        await asyncio.sleep(self.random.uniform(0.05, 0.8))  # a person reading the offer

    async def _work(self, base: dict[str, Any]) -> None:
        await asyncio.sleep(self.random.uniform(0.1, 1.0))  # the work itself
        if not self.draining and self.random.random() < 0.2:
            await self.send("item.hold", base, self.rough)
            await self.send("item.resume", base, self.rough)
        complete = {**base, "disposition_code": "resolved"}
        if self.rough and self.random.random() < 0.3:
            await self.send("item.complete", complete)  # before the end: refused
        await self.send("item.end", base, self.rough)
        if self.draining or self.random.random() < 0.85:
            await self.send("item.complete", complete, self.rough)
        # else left in wrap-up: its deadline completes it
