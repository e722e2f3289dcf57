"""``make run``: brokers (embedded unless given) and the four services, in the foreground.

Ctrl-C or SIGTERM stops every service, then the embedded brokers; nothing is left
running. If a service exits on its own, everything else is stopped too and the exit
code says so. A port that is not a number, is taken, or is shared by two services is
named with its variable before anything starts, and the exit code is 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import socket
import sys
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from switchboard_runtime.auth import issue_token

from switchboard_devtools.apache_kafka import ApacheKafka
from switchboard_devtools.apache_kafka_fetch import missing_tools
from switchboard_devtools.embedded import EmbeddedStack, ManagedProcess


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port_variable: str
    default_port: int

    def port(self) -> int:
        """The port from the environment; a value that is no port is a PortRefused."""
        raw = os.environ.get(self.port_variable)
        if raw is None:
            return self.default_port
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PORT):
            raise PortRefused(f"{self.port_variable}={raw!r} is not a port number (1-{MAX_PORT})")
        return int(raw)

    def named(self, port: int) -> str:
        return f"port {port} ({self.port_variable}, the {self.name} service)"


class NotStarted(Exception):  # noqa: N818 - reads as "not started: <why>"
    """Why the launcher starts nothing, said in one line."""


class PortRefused(NotStarted):
    """A service port the launcher cannot use."""


SERVICES = (
    ServiceSpec("workitem", "WORKITEM_HTTP_PORT", 8001),
    ServiceSpec("callback", "CALLBACK_HTTP_PORT", 8002),
    ServiceSpec("router", "ROUTER_HTTP_PORT", 8003),
    ServiceSpec("desktop", "DESKTOP_HTTP_PORT", 8004),
)
READY_TIMEOUT_S = float(os.environ.get("SWITCHBOARD_READY_TIMEOUT_SECONDS", "90"))
MAX_PORT = 65535


def _say(message: str) -> None:
    print(f"[switchboard] {message}", file=sys.stderr, flush=True)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _listenable(host: str, spec: ServiceSpec, port: int) -> None:
    """Bind ``host:port`` as uvicorn will (SO_REUSEADDR), or say why the service can't."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortRefused(
                f"{spec.named(port)} is already in use: stop what listens there, "
                f"or set {spec.port_variable} to a free port"
            ) from None
        raise PortRefused(f"{spec.named(port)} cannot be listened on at {host}: {exc}") from None


def check_ports() -> None:
    """Every service's port is a number, its own, and free on ``HTTP_HOST``."""
    host = os.environ.get("HTTP_HOST", "127.0.0.1")  # the services' default
    owners: dict[int, ServiceSpec] = {}
    for spec in SERVICES:
        port = spec.port()
        if port in owners:
            other = owners[port]
            raise PortRefused(
                f"{other.port_variable} and {spec.port_variable} are both {port}: "
                "give each service its own port"
            )
        owners[port] = spec
        _listenable(host, spec, port)


KAFKA_CHOICES = ("tansu", "apache")


def kafka_choice() -> str:
    return os.environ.get("SWITCHBOARD_KAFKA") or "tansu"


def check_kafka_choice() -> None:
    """SWITCHBOARD_KAFKA names a broker this can start, and Apache Kafka can start here."""
    choice = kafka_choice()
    if choice not in KAFKA_CHOICES or os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        if choice not in KAFKA_CHOICES:
            raise NotStarted(f"KAFKA={choice!r} is not a broker this starts: tansu or apache")
        return
    missing = missing_tools() if choice == "apache" else []
    if missing:
        raise NotStarted(
            f"KAFKA=apache needs {' and '.join(missing)} (apt-get install "
            "openjdk-17-jre-headless maven): Apache Kafka runs from Maven Central's jars"
        )


def _kafka(stack: contextlib.ExitStack, embedded: EmbeddedStack) -> dict[str, str]:
    """The given Kafka, else Apache Kafka when SWITCHBOARD_KAFKA=apache (``make run
    KAFKA=apache``: idempotent producers on), else the embedded Tansu."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        _say(f"kafka  {given} (given)")
        return {"KAFKA_BOOTSTRAP_SERVERS": given}
    if kafka_choice() == "apache":
        broker = stack.enter_context(ApacheKafka())
        _say(f"kafka  {broker.start()} (Apache Kafka {broker.version}, one KRaft node)")
        idempotent = os.environ.get("KAFKA_ENABLE_IDEMPOTENCE", "true")
        return {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": idempotent,
        }
    env = {"KAFKA_BOOTSTRAP_SERVERS": embedded.start_kafka()}
    _say(f"kafka  {env['KAFKA_BOOTSTRAP_SERVERS']} (embedded Tansu)")
    return env


def _brokers(stack: contextlib.ExitStack, embedded: EmbeddedStack, run_dir: Path) -> dict[str, str]:
    env = _kafka(stack, embedded)
    redis = os.environ.get("REDIS_URL")
    env["REDIS_URL"] = redis or embedded.start_redis(persist_dir=run_dir / "valkey")
    where = "given" if redis else f"embedded Valkey, AOF in {run_dir / 'valkey'}"
    _say(f"redis  {env['REDIS_URL']} ({where})")
    return env


AUTH_VARIABLES = ("AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_DISABLED")
TOUR_TOKENS = (("integration", "ivr"), ("agent", "ada"), ("supervisor", "sam"))


def _auth(run_dir: Path) -> dict[str, str]:
    """The token secret of this run: the caller's auth settings if it gave any, else the
    secret of the last run (tokens printed then still work), else a new one."""
    if any(name in os.environ for name in AUTH_VARIABLES):
        return {}
    env_file = run_dir / "env"
    earlier = env_file.read_text().splitlines() if env_file.exists() else []
    found = [line.partition("=")[2] for line in earlier if line.startswith("AUTH_JWT_SECRET=")]
    return {"AUTH_JWT_SECRET": found[0] if found else secrets.token_urlsafe(32)}


def _print_tokens(auth: dict[str, str]) -> None:
    secret = auth.get("AUTH_JWT_SECRET") or os.environ.get("AUTH_JWT_SECRET")
    if not secret:
        _say("auth: as configured in the environment (no tokens printed)")
        return
    _say("tokens for 12 hours (more: .venv/bin/sb-token <agent|supervisor|integration> <name>):")
    for role, name in TOUR_TOKENS:
        _say(f"  {role:<11} {name:<4} {issue_token(secret, name, [role])}")


def _write_env(run_dir: Path, values: dict[str, str]) -> None:
    """Terminal tools (sb-topic, sb-token) find this run's brokers and secret here."""
    path = run_dir / "env"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def _wait_ready(services: list[tuple[ServiceSpec, ManagedProcess]], stop: threading.Event) -> bool:
    pending = dict(services)
    while pending and not stop.is_set():
        for spec, proc in list(pending.items()):
            if not proc.alive():
                _say(f"{spec.name} exited during start-up ({spec.named(spec.port())}); see above")
                return False
            if _ready(spec.port()):
                _say(
                    f"{spec.name:<9}ready on http://127.0.0.1:{spec.port()} "
                    f"(docs: /docs, health: /health/ready)"
                )
                del pending[spec]
        stop.wait(0.25)
    return not pending


def run() -> int:
    try:
        check_kafka_choice()
        check_ports()
    except NotStarted as refused:
        _say(f"not started: {refused}")
        return 1
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _say(f"received {signal.Signals(signum).name}, stopping")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    log_dir = Path(os.environ.get("SWITCHBOARD_RUN_DIR", ".run"))
    log_dir.mkdir(parents=True, exist_ok=True)
    services: list[tuple[ServiceSpec, ManagedProcess]] = []
    with contextlib.ExitStack() as owned, EmbeddedStack(log_dir=log_dir) as stack:
        auth = _auth(log_dir)
        brokers = _brokers(owned, stack, log_dir)
        _write_env(log_dir, {**brokers, **auth})
        env = {**os.environ, **brokers, **auth}
        for spec in SERVICES:
            proc = ManagedProcess(spec.name, [sys.executable, "-m", spec.name], env=env)
            proc.start()
            services.append((spec, proc))
        code = 0
        if _wait_ready(services, stop):
            _print_tokens(auth)
            desk = next(spec for spec in SERVICES if spec.name == "desktop")
            _say(f"agent desktop: http://127.0.0.1:{desk.port()}/ (sign in with a token above)")
            _say("all services ready; Ctrl-C stops everything")
        while not stop.is_set() and code == 0:
            for spec, proc in services:
                if not proc.alive():
                    _say(f"{spec.name} exited unexpectedly; stopping the rest")
                    code = 1
            stop.wait(0.5)
        for _, proc in reversed(services):
            proc.stop(timeout=15)
    _say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(run())
