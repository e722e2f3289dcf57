"""A played snapshot holding every kind of work, read in the browser: badges, labels, due
days in the browser's time zone, the Outbound section on top whatever the filter."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import (
    Page,
    Route,
    expect,
)

from .pagekit import (
    assert_accessible,
    browser_test,
    offer_of,
    rfc3339,
    row_of,
    screenshot,
    sign_in,
    status_of,
)

pytestmark = pytest.mark.integration


def inbox_row(wid: str, type_: str, status: str, subject: str, **fields: Any) -> dict[str, Any]:
    """A row of the Inbox view (switchboard_schemas.inbox) as the snapshot carries it."""
    task_type = type_ in ("task", "callback", "review", "approval", "email")
    row: dict[str, Any] = {
        "work_item_id": wid,
        "type": type_,
        "badge": type_.upper() if task_type else None,
        "subject": subject,
        "status": status,
        "priority": 5,
        "channel": "api",
        "sub_type": None,
        "due_at": None,
        "due_label": None,
        "outbound": type_ == "callback",
        "created_at": "2025-03-01T09:00:00Z",
        "updated_at": "2025-03-01T09:00:00Z",
    }
    return row | fields


def offer_made(offer_id: str, wid: str, expires_at: str, item: dict[str, Any]) -> dict[str, Any]:
    outbound = item["type"] == "callback"
    return {
        "offer_id": offer_id,
        "work_item_id": wid,
        "expires_at": expires_at,
        "outbound": outbound,
        "actions": ["dial", "skip"] if outbound else ["accept", "reject"],
        "item": item,
    }


def sse(event: str, data: dict[str, Any], entry_id: str) -> str:
    return f"id: {entry_id}\nevent: {event}\ndata: {json.dumps(data)}\n\n"


@browser_test
async def test_a_snapshot_with_every_kind_of_work_reads_well(page: Page, agent_id: str) -> None:
    """The stream is played by the test: a snapshot holding every kind of row and offer."""
    now = datetime.now(UTC)
    later = rfc3339(now + timedelta(seconds=30))
    callback = {"type": "callback", "priority": 2, "customer_phone": "+14155552671"}
    callback |= {"customer_name": "Grace", "reason": "Billing"}
    offers = [
        offer_made("of-1", "wi-review", later, {"type": "review", "priority": 1}),
        offer_made("of-2", "wi-cb-new", later, callback),
    ]
    inbox = {
        "outbound": [
            inbox_row(
                "wi-cb-new",
                "callback",
                "offered",
                "Grace — Billing",
                priority=2,
                customer_name="Grace",
                customer_phone="+14155552671",
            ),
            inbox_row("wi-cb-old", "callback", "active", "Alan — Refund", customer_name="Alan"),
        ],
        "items": [
            inbox_row("wi-review", "review", "offered", "Review", priority=1),
            inbox_row(
                "wi-task", "task", "active", "Task — Overdue one", due_at="2025-01-01T00:00:00Z"
            ),
            inbox_row("wi-chat", "chat", "hold", "Chat", channel="internal"),
            inbox_row("wi-mail", "email", "wrap_up", "Reply to the landlord", priority=8),
            inbox_row("wi-odd", "approval", "active", "Approval", priority=4),
        ],
    }
    agent = {"agent_id": agent_id, "status": "away", "reason": "lunch"}
    snapshot = {"now": rfc3339(now), "agent": agent, "offers": offers, "inbox": inbox}
    wrapup = {"work_item_id": "wi-mail", "agent_id": agent_id}
    wrapup["expires_at"] = rfc3339(now + timedelta(minutes=2))
    body = sse("snapshot", snapshot, "1-0") + sse(
        "workitem.wrapup_started", {"type": "workitem.wrapup_started", "data": wrapup}, "2-0"
    )

    async with PlayedStream(body) as played:

        async def play(route: Route) -> None:
            await route.continue_(url=played.url)

        await page.route("**/v1/desktop/events*", play)
        await sign_in(page, agent_id)
        await see_every_kind_of_work(page)


async def see_every_kind_of_work(page: Page) -> None:
    await expect(status_of(page)).to_have_text("Away — lunch")
    await expect(page.get_by_label("Away reason")).to_have_value("lunch")  # as confirmed
    await expect(page.locator("#offers > li")).to_have_count(2)
    outbound_offer = offer_of(page, "Grace — Billing")
    await expect(outbound_offer.get_by_role("button")).to_have_text(["Dial", "Skip"])
    await expect(offer_of(page, "Review").locator(".priority")).to_have_text("Critical")
    await expect(page.locator("#outbound-rows > tr")).to_have_count(2)
    grace = page.locator("#outbound-rows > tr").filter(has_text="Grace — Billing")
    await expect(grace.locator(".who")).to_have_text("Grace · +14155552671")
    await expect(page.locator("#item-rows > tr")).to_have_count(5)
    await expect(row_of(page, "Overdue one").locator(".due")).to_have_text("Overdue")
    await expect(row_of(page, "Chat").locator(".badge")).to_have_count(0)  # real-time: none
    await expect(row_of(page, "Approval").locator(".priority")).to_have_text("Priority 4")
    landlord = page.locator("#wrapups > li").filter(has_text="Reply to the landlord")
    await expect(landlord.get_by_role("timer")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
    await screenshot(page, "10-every-kind-of-work")
    await assert_accessible(page, "every kind of work")

    await page.get_by_role("radio", name="Wrap-up", exact=True).check()
    await expect(page.locator("#item-rows > tr")).to_have_count(1)
    await expect(page.locator("#outbound-rows > tr")).to_have_count(2)  # whatever the filter


class PlayedStream:
    """An event stream the test plays: every connection gets ``body``, then stays open."""

    def __init__(self, body: str) -> None:
        self._body = body.encode()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.url = ""

    async def __aenter__(self) -> PlayedStream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/events"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for writer in self._open:
            writer.transport.abort()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        writer.write(head + b"\r\n" + self._body)
        await writer.drain()
        await reader.read()  # until the browser closes it
        writer.transport.abort()
        self._open.discard(writer)
