"""A TCP proxy for fault tests: it sits between a client and a server (Redis, Kafka) and
can cut every connection now, refuse new ones, delay what it forwards and throttle it.

It runs its own asyncio loop in a daemon thread, so synchronous and asynchronous callers
use it alike::

    with TcpProxy("127.0.0.1", redis_port) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        proxy.cut()                 # every open connection is reset
        proxy.refuse(True)          # new ones are accepted and reset at once
        proxy.set_latency(0.2)      # each chunk is forwarded 200 ms after it arrived
        proxy.set_throttle(64_000)  # at most 64 kB/s each way, per connection

Latency does not serialise the stream: chunks are read as they arrive and each is
written when its own delay is over, so throughput is not latency-bound. Each direction
buffers at most ``max_chunks`` chunks; beyond that the proxy stops reading (backpressure
reaches the sender through TCP).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

CHUNK = 64 * 1024


@dataclass
class _Shaping:
    """What the proxy does to the bytes it forwards; read on every chunk."""

    latency_s: float = 0.0
    bytes_per_s: float | None = None
    refusing: bool = False


@dataclass(eq=False)
class _Link:
    """One proxied connection: the two writers, closed together."""

    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def abort(self) -> None:
        """Reset both sides (SO_LINGER 0: an RST, not a FIN), as a cut link looks."""
        for writer in self.writers:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport: Any = writer.transport
            transport.abort()


class TcpProxy:
    """Forwards ``listen_host:port`` to ``upstream_host:upstream_port``."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        listen_host: str = "127.0.0.1",
        port: int = 0,
        max_chunks: int = 64,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = port
        self.max_chunks = max_chunks
        self.shaping = _Shaping()
        self.accepted = 0
        self.bytes_forwarded = 0
        self._links: set[_Link] = set()
        self._serving: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    # control, from any thread

    def start(self) -> int:
        """Listen (on ``port``, or a free one) and return the port."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="tcp-proxy", daemon=True)
        self._thread.start()
        self._server = self._call(self._listen()).result(10)
        return self.port

    def stop(self) -> None:
        """Close the listener and every connection; stop the loop."""
        loop = self._loop
        if loop is None:
            return
        self._call(self._close()).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self._loop = None

    def cut(self) -> int:
        """Reset every open connection now; returns how many were cut."""
        return int(self._call(self._cut()).result(10))

    def refuse(self, refusing: bool = True) -> None:
        """While ``refusing``, each new connection is reset as soon as it is accepted."""
        self.shaping.refusing = refusing

    def set_latency(self, seconds: float) -> None:
        self.shaping.latency_s = max(0.0, seconds)

    def set_throttle(self, bytes_per_s: float | None) -> None:
        """At most ``bytes_per_s`` each way on each connection; None: no limit."""
        self.shaping.bytes_per_s = bytes_per_s

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def _call(self, coro: Any) -> Future[Any]:
        assert self._loop is not None, "the proxy is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    # inside the loop

    async def _listen(self) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, self.listen_host, self.port)
        self.port = int(server.sockets[0].getsockname()[1])
        return server

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._cut()
        if self._serving:
            await asyncio.wait(self._serving, timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _cut(self) -> int:
        links = list(self._links)
        for link in links:
            link.abort()
        self._links.clear()
        return len(links)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        link = _Link([writer])
        if self.shaping.refusing:
            link.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            link.abort()
            return
        link.writers.append(up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self._links.discard(link)
            link.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward one direction: a reader task fills a bounded queue of (due, bytes)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(self.max_chunks)
        feeder = asyncio.create_task(self._read(reader, queue))
        try:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await self._write(writer, due, data)
        except (ConnectionError, OSError):
            pass
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feeder
            if writer.can_write_eof() and not writer.is_closing():
                with contextlib.suppress(OSError):
                    writer.write_eof()

    async def _read(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]]
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                await queue.put((time.monotonic() + self.shaping.latency_s, data))
        except (ConnectionError, OSError):
            pass
        await queue.put((0.0, b""))

    async def _write(self, writer: asyncio.StreamWriter, due: float, data: bytes) -> None:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # the latency asked for, not a wait for a condition
        rate = self.shaping.bytes_per_s
        if rate is None:
            writer.write(data)
            await writer.drain()
        else:
            await self._throttled(writer, data, rate)
        self.bytes_forwarded += len(data)

    async def _throttled(self, writer: asyncio.StreamWriter, data: bytes, rate: float) -> None:
        """Write ``data`` in slices of a tenth of a second's worth, paced to ``rate``."""
        step = max(1, int(rate / 10))
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            began = time.monotonic()
            writer.write(piece)
            await writer.drain()
            spare = len(piece) / rate - (time.monotonic() - began)
            if spare > 0:
                await asyncio.sleep(spare)  # pacing to the byte rate

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
