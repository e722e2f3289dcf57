"""What the chaos suite runs against: three Apache Kafka brokers, one Redis-API server
with an append-only file behind a TCP proxy, and service processes it starts, kills,
pauses and restarts itself.

The services reach Redis only through the proxy (scenario 6 cuts it); the checker reads
Redis directly. Every scenario has a tenant of its own, so its services, consumer groups
and Redis keys are its own while the brokers are shared.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import switchboard_devtools.testing_auth  # noqa: F401 - sets AUTH_JWT_SECRET for the services
from switchboard_devtools.apache_kafka import ApacheKafka, ApacheKafkaCluster
from switchboard_devtools.apache_kafka_config import HOST
from switchboard_devtools.embedded import EmbeddedStack, free_port
from switchboard_devtools.tcp_proxy import TcpProxy

from bench.stack import wait_ready

PORT_VARIABLES = {
    "workitem": "WORKITEM_HTTP_PORT",
    "router": "ROUTER_HTTP_PORT",
    "callback": "CALLBACK_HTTP_PORT",
    "desktop": "DESKTOP_HTTP_PORT",
}


@dataclass
class Brokers:
    """The cluster, a proxy in front of each of its nodes, Redis and the proxy in front
    of Redis; ``redis_url`` is direct, and Kafka is reached directly unless ``slow``."""

    kafka: ApacheKafkaCluster | ApacheKafka
    kafka_proxies: list[TcpProxy]
    redis: EmbeddedStack
    redis_proxy: TcpProxy
    aof_dir: Path
    slow: bool = False  # every Kafka client (services, load, agents) through the proxies

    @property
    def bootstrap(self) -> str:
        if self.slow:
            return self.kafka.proxied_bootstrap_servers
        return self.kafka.bootstrap_servers

    @property
    def cluster(self) -> ApacheKafkaCluster:
        assert isinstance(self.kafka, ApacheKafkaCluster), "a scenario of three brokers"
        return self.kafka

    @property
    def service_bootstrap(self) -> str:
        """What the services are given: every node (through its proxy when ``slow``)."""
        return self.bootstrap

    @property
    def redis_url(self) -> str:
        return self.redis.redis_url

    @property
    def proxied_redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_proxy.port}/0"

    def restart_redis(self, keep_data: bool) -> None:
        """Stop Redis (SIGTERM: the AOF is flushed) and start it on the same port, with its
        append-only file, or with none (an empty store)."""
        assert self.redis.valkey is not None
        self.redis.valkey.stop()
        self.redis_proxy.cut()
        if not keep_data:
            shutil.rmtree(self.aof_dir, ignore_errors=True)
        self.redis.start_redis(self.aof_dir)

    def describe(self) -> str:
        server = os.environ.get("SWITCHBOARD_REDIS_SERVER", "valkey")
        nodes = len(self.kafka.nodes)
        isr = self.kafka.min_insync_replicas
        kafka = f"Apache Kafka {self.kafka.version} x{nodes} (RF {nodes}, min.isr {isr})"
        return f"{kafka} + {server} (AOF)"


@contextlib.contextmanager
def brokers(work: Path) -> Iterator[Brokers]:
    """Start the three brokers and Redis; stop them all at the end."""
    work.mkdir(parents=True, exist_ok=True)
    kafka_dir = Path(tempfile.mkdtemp(prefix="chaos-kafka-"))
    with contextlib.ExitStack() as running:
        kafka = running.enter_context(ApacheKafkaCluster(kafka_dir, start_timeout=240))
        redis = running.enter_context(EmbeddedStack(work / "redis", start_timeout=60))
        proxies = [running.enter_context(TcpProxy(HOST, n.proxied_port)) for n in kafka.nodes]
        kafka.advertise_proxies([proxy.port for proxy in proxies])
        (work / "redis").mkdir(parents=True, exist_ok=True)
        kafka.start()
        aof = work / "redis" / "aof"
        redis.start_redis(aof)
        redis_proxy = running.enter_context(TcpProxy(HOST, redis.redis_port))
        yield Brokers(kafka, proxies, redis, redis_proxy, aof)
    shutil.rmtree(kafka_dir, ignore_errors=True)


@dataclass
class Service:
    """``python -m <name>`` on a fixed port (kept across restarts), for one tenant."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True, timeout_s: float = 120) -> Service:
        env = {**os.environ, **self.env, PORT_VARIABLES[self.name]: str(self.port)}
        self.starts += 1
        with self.log.open("ab") as out:
            argv = [sys.executable, "-m", self.name]
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = 120) -> None:
        assert self.process is not None
        wait_ready(self.name, self.process, self.port, self.log, timeout_s)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would; reaped at once."""
        if self.process is not None and self.alive():
            self.process.kill()
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.alive():
            self.process.send_signal(signal.SIGCONT)  # should it be paused
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# the topics each service's consumer group reads
CONSUMED = {
    "workitem": ("workitem.commands", "workitem.events"),
    "router": ("agent.commands", "workitem.events"),
    "callback": ("callback.commands", "workitem.events"),
    "desktop": ("agent.events", "workitem.events"),
}


@dataclass
class Deployment:
    """One scenario's tenant and its service processes."""

    brokers: Brokers
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    tenant: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:8]}")
    services: list[Service] = field(default_factory=list)

    def base_env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.brokers.service_bootstrap,
            "REDIS_URL": self.brokers.proxied_redis_url,
            "TENANT_ID": self.tenant,
            "CONSUMER_GROUP_PREFIX": self.tenant,
            "KAFKA_ENABLE_IDEMPOTENCE": "true",
            "KAFKA_REPLICATION_FACTOR": "3",
            "OFFER_TIMEOUT_SECONDS": "6",
            "WRAPUP_TIMEOUT_SECONDS": "6",
            "LOG_LEVEL": os.environ.get("CHAOS_LOG_LEVEL", "WARNING"),
            "LOG_FORMAT": "json",
            **self.env,
        }

    def add(self, name: str, wait: bool = True, **env: str) -> Service:
        n = sum(1 for s in self.services if s.name == name)
        log = self.logs / f"{self.tenant}-{name}-{n}.log"
        service = Service(name, {**self.base_env(), **env}, log)
        self.services.append(service)
        return service.start(wait)

    def of(self, name: str) -> list[Service]:
        return [s for s in self.services if s.name == name]

    def groups(self, names: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
        """Each running service's (or each of ``names``') consumer group and the topics
        it consumes."""
        running = {s.name for s in self.services} if names is None else set(names)
        chosen = sorted(running & set(CONSUMED))
        return {f"{self.tenant}-{n}": CONSUMED[n] for n in chosen}

    def stop(self) -> None:
        for service in self.services:
            service.stop()
