"""Load for a scenario: work items over HTTP and Kafka, as upstream systems send them.

Each item carries its own ``work_item_id`` (``<tenant>-h<n>`` over HTTP, ``-k<n>`` over
Kafka), so the checker knows what intake accepted: an HTTP 200/201, or a Kafka command
the brokers acknowledged. Like a careful upstream, the HTTP side retries a refused
connection or a 5xx with the same ``Idempotency-Key`` until it has an answer; the Kafka
producer has ``acks=all`` and idempotence, as the services' own.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from switchboard_devtools.testing_auth import bearer
from switchboard_schemas.topics import WORKITEM_COMMANDS

from bench.common import now_iso
from chaos.checker import Known

RETRY_FOR_S = 180.0


async def producer(bootstrap: str) -> AIOKafkaProducer:
    kafka = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30_000,
    )
    await kafka.start()
    return kafka


def command(tenant: str, ce_type: str, data: dict[str, Any], ident: str | None = None) -> bytes:
    """A command as a desktop or an upstream system sends it."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": ident or str(uuid.uuid4()),
            "source": "chaos/driver",
            "type": ce_type,
            "time": now_iso(),
            "tenantid": tenant,
            "data": data,
        }
    ).encode()


def item(wid: str) -> dict[str, Any]:
    return {"work_item_id": wid, "type": "task", "queue": "task", "description": "chaos"}


class Intake:
    """Sends ``n`` items over HTTP and ``n`` over Kafka at ``rate`` per second each."""

    def __init__(self, known: Known, bootstrap: str, url: Callable[[], str]) -> None:
        self.known = known
        self.bootstrap = bootstrap
        self.url = url
        self.errors: list[str] = []

    async def run(self, n: int, rate: float) -> None:
        await asyncio.gather(self.http(n, rate), self.kafka(n, rate))

    async def http(self, n: int, rate: float, concurrency: int = 8) -> None:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(headers=bearer(), timeout=10) as client:

            async def one(i: int) -> None:
                async with gate:
                    await self._post(client, f"{self.known.tenant}-h{i}")

            started = time.monotonic()
            tasks = []
            for i in range(n):
                await _pace(started, i, rate)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)

    async def _post(self, client: httpx.AsyncClient, wid: str) -> None:
        url = lambda: f"{self.url()}/v1/workitems"  # noqa: E731 - where it is now
        answer = await post_answered(client, url, item(wid), {"Idempotency-Key": wid}, self.known)
        if answer is None:
            self.errors.append(f"{wid}: no answer in {RETRY_FOR_S} s")
        elif answer.status_code in (200, 201):
            self.known.accepted.add(wid)
        else:
            self.errors.append(f"{wid}: {answer.status_code} {answer.text[:200]}")

    async def kafka(self, n: int, rate: float, prefix: str = "k") -> None:
        kafka = await producer(self.bootstrap)
        try:
            started = time.monotonic()
            pending = []
            for i in range(n):
                await _pace(started, i, rate)
                wid = f"{self.known.tenant}-{prefix}{i}"
                pending.append(asyncio.create_task(self._send(kafka, wid)))
            await asyncio.gather(*pending)
        finally:
            await kafka.stop()

    async def _send(self, kafka: AIOKafkaProducer, wid: str) -> None:
        body = command(self.known.tenant, "workitem.create", item(wid))
        deadline = time.monotonic() + RETRY_FOR_S
        while time.monotonic() < deadline:
            try:
                await (await kafka.send(WORKITEM_COMMANDS, body, key=wid.encode()))
            except Exception as failure:  # any send failure: retry, as upstream would
                self.errors.append(f"{wid}: send failed ({failure!r}), retrying")
                await asyncio.sleep(0.5)  # retry after a failed send
                continue
            self.known.accepted.add(wid)
            return


async def post_answered(
    client: httpx.AsyncClient,
    url: Callable[[], str],
    body: dict[str, Any],
    headers: dict[str, str],
    known: Known,
) -> httpx.Response | None:
    """POST ``body`` until a service answers below 500, as a careful client does: a
    refused connection or a 5xx is retried with the same headers (its Idempotency-Key)
    for up to RETRY_FOR_S. Every status is counted in ``known.http``; None: no answer."""
    deadline = time.monotonic() + RETRY_FOR_S
    while time.monotonic() < deadline:
        try:
            answer = await client.post(url(), json=body, headers=headers)
        except httpx.HTTPError:
            await asyncio.sleep(0.5)  # the service is down: retry
            continue
        known.http[answer.status_code] += 1
        if answer.status_code < 500:
            return answer
        await asyncio.sleep(0.5)  # a 5xx: retry with the same key
    return None


async def _pace(started: float, i: int, rate: float) -> None:
    delay = started + i / rate - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)  # the load's pace
