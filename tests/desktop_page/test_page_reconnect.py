"""A page whose network is cut says so, reconnects by itself and catches up with
Last-Event-ID (through a TCP relay the test cuts and mends)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import (
    Browser,
    expect,
)

from .pagekit import (
    VIEWPORT,
    WAIT_MS,
    Stack,
    browser_test,
    go_available,
    screenshot,
    sign_in,
    status_of,
)

pytestmark = pytest.mark.integration


@browser_test
async def test_a_page_that_lost_the_network_reconnects_and_catches_up(
    browser: Browser, gateway: httpx.AsyncClient, stack: Stack, queue: str, agent_id: str
) -> None:
    async with Link(gateway.base_url.host, gateway.base_url.port or 80) as link:
        context = await browser.new_context(base_url=link.url, viewport=VIEWPORT)
        tab = await context.new_page()
        try:
            await sign_in(tab, agent_id)
            await go_available(tab, queue)
            # the browser says it is offline: the page says so at once, and back
            await context.set_offline(True)
            await expect(tab.locator("#connection")).to_have_text("Reconnecting…")
            await context.set_offline(False)
            await expect(tab.locator("#connection")).to_have_text("Connected")

            await link.cut()
            await expect(tab.locator("#connection")).to_have_text("Reconnecting…", timeout=WAIT_MS)
            await expect(tab.locator("#stale")).to_be_visible()
            await screenshot(tab, "7-reconnecting")
            # while the page is cut off, its agent goes away (as another desktop would)
            away = {"agent_id": agent_id, "status": "away", "reason": "lunch", "queues": [queue]}
            await stack.command("agent.status", away)
            await expect(status_of(tab)).to_have_text("Available")  # nothing got through

            link.mend()
            await expect(tab.locator("#connection")).to_have_text("Connected", timeout=WAIT_MS)
            await expect(status_of(tab)).to_have_text("Away — lunch", timeout=WAIT_MS)
            await expect(tab.get_by_label("Away reason")).to_have_value("lunch")
            await expect(tab.locator("#stale")).to_be_hidden()
            await screenshot(tab, "8-reconnected")
        finally:
            await context.close()
    streams = [r for r in link.requests if r.startswith("GET /v1/desktop/events")]
    assert len(streams) >= 2
    assert "last-event-id:" not in streams[0].lower()
    assert "last-event-id:" in streams[-1].lower()  # it went on from where it was


class Link:
    """The network between the browser and the gateway: a TCP relay the test can cut
    (every connection dropped, new ones closed at once) and mend. Keeps the head of each
    request it carried."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._up = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.requests: list[str] = []
        self.url = ""

    async def __aenter__(self) -> Link:
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.cut()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def cut(self) -> None:
        self._up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def mend(self) -> None:
        self._up = True

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._up:
            writer.transport.abort()
            return
        upstream_reader, upstream = await asyncio.open_connection(*self._target)
        self._writers.update((writer, upstream))
        await asyncio.gather(
            self._pipe(reader, upstream, record=True),
            self._pipe(upstream_reader, writer, record=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, record: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if record and chunk[:4] in (b"GET ", b"POST"):
                    self.requests.append(chunk.split(b"\r\n\r\n")[0].decode("latin-1"))
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
