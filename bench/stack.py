"""The things a benchmark runs against: brokers, and router processes it starts itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_devtools.apache_kafka import ApacheKafka
from switchboard_devtools.embedded import EmbeddedStack, free_port


@dataclass(frozen=True)
class Brokers:
    kafka: str
    redis: str
    origin: str
    pids: dict[str, int] = field(default_factory=dict)  # the started ones, for CPU shares
    # what the services are told besides the addresses: Tansu holds every fetch for the
    # whole wait (Kafka answers on arrival), and only Kafka takes idempotent producers
    service_env: dict[str, str] = field(default_factory=dict)


def _tansu_env() -> dict[str, str]:
    return {"KAFKA_FETCH_MAX_WAIT_MS": os.environ.get("KAFKA_FETCH_MAX_WAIT_MS", "5")}


@contextlib.contextmanager
def brokers() -> Iterator[Brokers]:
    """Brokers from KAFKA_BOOTSTRAP_SERVERS / REDIS_URL, else Apache Kafka (one KRaft
    node, SWITCHBOARD_KAFKA=apache) or Tansu, and Valkey, started here."""
    kafka, redis = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("REDIS_URL")
    apache = not kafka and os.environ.get("SWITCHBOARD_KAFKA") == "apache"
    with contextlib.ExitStack() as owned, EmbeddedStack() as stack:
        if apache:
            broker = owned.enter_context(ApacheKafka())
            kafka = broker.start()
            origin, env = f"Apache Kafka {broker.version}", {"KAFKA_ENABLE_IDEMPOTENCE": "true"}
        else:
            origin, env = ("given Kafka" if kafka else "embedded Tansu"), _tansu_env()
        found = Brokers(
            kafka or stack.start_kafka(),
            redis or stack.start_redis(),
            f"{origin} + {'given Redis' if redis else 'Valkey'}",
            service_env={**env, **_given_env()},
        )
        for name, proc in (("kafka", stack.tansu), ("redis", stack.valkey)):
            if proc is not None and proc.process is not None:
                found.pids[name] = proc.process.pid
        if apache:
            found.pids["kafka"] = broker.pids()[0]
        yield found


def _given_env() -> dict[str, str]:
    """Settings the caller gave for the services' Kafka clients win over ours."""
    names = ("KAFKA_FETCH_MAX_WAIT_MS", "KAFKA_ENABLE_IDEMPOTENCE")
    return {name: os.environ[name] for name in names if name in os.environ}


def ready(port: int) -> bool:
    """Whether the service on ``port`` answers ``/health/ready`` with 200."""
    try:
        url = f"http://127.0.0.1:{port}/health/ready"
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_ready(
    name: str, process: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float = 90
) -> None:
    """Poll ``/health/ready`` until it answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited; see {log}")
        if ready(port):
            return
        time.sleep(0.2)  # polling interval of the wait above, not a hoped-for delay
    raise TimeoutError(f"{name} not ready; see {log}")


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (NaN once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class ServiceProcess:
    """``python -m <module>`` for a tenant of its own, as operators run it."""

    module: str
    port_variable: str
    brokers: Brokers
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    tenant: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ServiceProcess:
        self.tenant, self.port = f"{self.module[0]}{uuid.uuid4().hex[:8]}", free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.brokers.kafka,
            "REDIS_URL": self.brokers.redis,
            "TENANT_ID": self.tenant,
            "CONSUMER_GROUP_PREFIX": self.tenant,
            self.port_variable: str(self.port),
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            **self.brokers.service_env,
            **self.env,
        }
        with self.log.open("ab") as out:
            argv = [sys.executable, "-m", self.module]
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_ready(self.module, self.process, self.port, self.log)
        return self

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class RouterProcess:
    """``python -m router`` for one tenant, as operators run it."""

    brokers: Brokers
    offer_timeout_s: float
    log: Path
    tenant: str = ""
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self) -> RouterProcess:
        self.tenant = self.tenant or f"b{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.brokers.kafka,
            "REDIS_URL": self.brokers.redis,
            "TENANT_ID": self.tenant,
            "CONSUMER_GROUP_PREFIX": self.tenant,
            "ROUTER_HTTP_PORT": str(self.port),
            "OFFER_TIMEOUT_SECONDS": str(self.offer_timeout_s),
            "WRAPUP_TIMEOUT_SECONDS": "600",
            "LOG_LEVEL": os.environ.get("BENCH_ROUTER_LOG_LEVEL", "WARNING"),
            "LOG_FORMAT": "json",
            **self.brokers.service_env,
        }
        argv = [sys.executable, "-m", "router"]
        profile = os.environ.get("BENCH_PROFILE")  # e.g. bench/results/router.profile.txt
        if profile:  # py-spy samples the router; collapsed stacks, one line per stack
            argv = [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--format",
                "raw",
                "--rate",
                "200",
                "-o",
                profile,
                "--",
                *argv,
            ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_ready("router", self.process, self.port, self.log)
        return self

    def rss_mb(self) -> float:
        assert self.process is not None
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # py-spy writes its profile on SIGINT and passes it on to the router
            profiling = bool(os.environ.get("BENCH_PROFILE"))
            self.process.send_signal(signal.SIGINT if profiling else signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
