"""The fault-injection TCP proxy, over real loopback sockets to an echo server."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from switchboard_devtools.tcp_proxy import TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo_port: int) -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", echo_port) as running:
        yield running


def _connect(proxy: TcpProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def _is_reset(sock: socket.socket) -> bool:
    """True when the peer reset the connection (not an orderly close, not an answer)."""
    try:
        sock.sendall(b"x")
        sock.recv(10)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return False


def _refused(proxy: TcpProxy) -> bool:
    """True when a new connection through the proxy is reset, wherever that shows."""
    try:
        with _connect(proxy) as sock:
            return _is_reset(sock)
    except ConnectionResetError:
        return True


def _wait(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.01)  # polling interval
    raise TimeoutError("condition not met")


def test_forwards_both_ways(proxy: TcpProxy) -> None:
    with _connect(proxy) as sock:
        payload = bytes(range(256)) * 1000
        assert _roundtrip(sock, payload) == payload
    assert proxy.accepted == 1


def test_cut_resets_every_open_connection(proxy: TcpProxy) -> None:
    socks = [_connect(proxy) for _ in range(3)]
    for sock in socks:
        assert _roundtrip(sock, b"ping") == b"ping"
    _wait(lambda: proxy.open_connections == 3)
    assert proxy.cut() == 3
    for sock in socks:
        with sock:
            assert _is_reset(sock)
    # and a new connection works again
    with _connect(proxy) as sock:
        assert _roundtrip(sock, b"again") == b"again"


def test_refusing_resets_new_connections_until_allowed(proxy: TcpProxy) -> None:
    proxy.refuse(True)
    assert _refused(proxy)
    proxy.refuse(False)
    with _connect(proxy) as sock:
        assert _roundtrip(sock, b"ok") == b"ok"


def test_latency_delays_each_direction(proxy: TcpProxy) -> None:
    with _connect(proxy) as sock:
        _roundtrip(sock, b"warm")
        proxy.set_latency(0.2)
        started = time.monotonic()
        assert _roundtrip(sock, b"slow") == b"slow"
        took = time.monotonic() - started
    assert 0.4 <= took < 2.0  # 200 ms there, 200 ms back


def test_latency_does_not_serialise_chunks(proxy: TcpProxy) -> None:
    proxy.set_latency(0.2)
    with _connect(proxy) as sock:
        started = time.monotonic()
        for n in range(10):
            sock.sendall(b"%d" % n)
            time.sleep(0.01)  # ten separate chunks, sent 10 ms apart
        got = b""
        while len(got) < 10:
            got += sock.recv(100)
        took = time.monotonic() - started
    assert got == b"0123456789"
    assert took < 1.5  # not 10 x 400 ms


def test_throttle_limits_the_byte_rate(proxy: TcpProxy) -> None:
    proxy.set_throttle(200_000)
    payload = b"z" * 100_000
    with _connect(proxy) as sock:
        started = time.monotonic()
        assert _roundtrip(sock, payload) == payload
        took = time.monotonic() - started
    assert took >= 0.4  # 100 kB at 200 kB/s, each way
    proxy.set_throttle(None)


def test_upstream_down_resets_the_client(echo_port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = int(probe.getsockname()[1])
    with TcpProxy("127.0.0.1", dead_port) as proxy:
        assert _refused(proxy)


def test_stop_closes_the_listener(echo_port: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo_port)
    port = proxy.start()
    proxy.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
