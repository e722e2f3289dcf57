"""Real Apache Kafka (KRaft mode) on free loopback ports, for tests that want the real
broker rather than the embedded Tansu.

``ApacheKafka`` is one node that is both broker and controller; ``ApacheKafkaCluster``
is three such nodes forming a three-voter quorum, with replication factor 3 and
``min.insync.replicas=2``, whose brokers can be killed and started again one at a time.
The jars come from Maven Central (``apache_kafka_fetch``); each node runs as a JVM in its
own process group, logging to ``<dir>/node-<id>/server.log``, and is stopped as a whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from switchboard_devtools.apache_kafka_config import (
    HOST,
    KafkaNode,
    cluster_settings,
    give_distinct_ports,
    node_properties,
)
from switchboard_devtools.apache_kafka_fetch import (
    KAFKA_VERSION,
    class_archive,
    fetch_kafka,
    java_command,
    run_java_tool,
)
from switchboard_devtools.embedded import ManagedProcess, wait_until


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def broker_ids(bootstrap: str, timeout: float = 2.0) -> set[int]:
    """The ids of the live brokers that a metadata request to ``bootstrap`` lists, or
    an empty set while it cannot be answered."""
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415 - only a probe needs it

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        return set(admin.list_topics(timeout=timeout).brokers)
    except Exception:
        return set()


def _answers(node: KafkaNode, expected: int) -> bool:
    """True once ``node`` answers metadata and lists ``expected`` live brokers, itself
    among them."""
    if not _port_open(node.port):
        return False
    ids = broker_ids(node.bootstrap)
    return node.node_id in ids and len(ids) >= expected


def _errors(process: ManagedProcess, most: int = 6) -> str:
    """A node's first ERROR log lines, each with the exception line after it: why it
    died, which the tail of its log (a shutdown) seldom says."""
    if process.log_path is None or not process.log_path.exists():
        return ""
    lines = process.log_path.read_text(errors="replace").splitlines()
    found = [i for i, line in enumerate(lines) if " ERROR " in line or " FATAL " in line]
    picked = ["\n".join(lines[i : i + 2]) for i in found[:most]]
    return "\n".join(picked)


def _kill(process: ManagedProcess) -> None:
    """SIGKILL to the process group, as a crash would; ``stop`` then reaps it."""
    if process.alive() and process.process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.process.pid, signal.SIGKILL)


class _KRaftNodes:
    """Nodes that are each broker and controller, one static quorum of all of them
    (``controller.quorum.voters``, which Kafka 4 still supports: storage is formatted
    without ``--standalone`` or ``--initial-controllers``); a context manager that stops
    them and, unless ``directory`` was given, removes their files. ``properties``
    override any broker setting."""

    size = 1
    min_insync_replicas = 1

    def __init__(
        self,
        directory: Path | None = None,
        properties: Mapping[str, str] | None = None,
        version: str = KAFKA_VERSION,
        start_timeout: float = 90.0,
    ) -> None:
        self._own_dir = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="switchboard-kafka-"))
        self.version = version
        self.start_timeout = start_timeout
        defaults = cluster_settings(self.size, self.min_insync_replicas)
        self.properties = {**defaults, **(properties or {})}
        self.nodes = [KafkaNode(i + 1, self.directory / f"node-{i + 1}") for i in range(self.size)]
        give_distinct_ports(self.nodes)
        self.cluster_id: str | None = None
        self._recording: Path | None = None  # where node 1 writes a class-data archive

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def advertise_proxies(self, ports: Sequence[int]) -> str:
        """Before ``start``: node ``i`` also takes clients on its ``proxied_port`` and
        advertises there the proxy on ``ports[i]`` (which forwards to that port); returns
        the proxied bootstrap servers. Replication stays on the direct listener."""
        assert len(ports) == len(self.nodes), "one proxy per node"
        for node, port in zip(self.nodes, ports, strict=True):
            node.advertised_proxy = port
        return self.proxied_bootstrap_servers

    @property
    def proxied_bootstrap_servers(self) -> str:
        ports = [node.advertised_proxy for node in self.nodes]
        return ",".join(f"{HOST}:{port}" for port in ports if port is not None)

    def _node_properties(self, node: KafkaNode) -> dict[str, str]:
        return {**node_properties(node, self.nodes), **self.properties}

    def _format(self) -> None:
        """Write each node's configuration and format its storage (all in parallel)."""
        if self.cluster_id is None:
            out = run_java_tool(self.version, "kafka.tools.StorageTool", "random-uuid")
            self.cluster_id = out.strip().splitlines()[-1]
        jobs = []
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            lines = (f"{k}={v}\n" for k, v in self._node_properties(node).items())
            node.config.write_text("".join(lines))
            if (node.directory / "data" / "meta.properties").exists():
                continue  # formatted by an earlier start
            argv = java_command(self.version, "kafka.tools.StorageTool", "format")
            argv += ["--cluster-id", self.cluster_id, "--config", str(node.config)]
            argv += self._format_arguments()
            log = (node.directory / "format.log").open("wb")
            jobs.append((subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), log))
        failed = []
        for job, log in jobs:
            with log:
                if job.wait(120) != 0:
                    failed.append(Path(log.name).read_text(errors="replace"))
        if failed:
            raise RuntimeError("formatting the storage failed:\n" + "\n".join(failed))

    def _format_arguments(self) -> list[str]:
        """More ``kafka-storage format`` arguments (a subclass adds, e.g., SCRAM users)."""
        return []

    def _answers(self, node: KafkaNode, expected: int) -> bool:
        """Whether ``node`` is up (a subclass that closes the plain port probes otherwise)."""
        return _answers(node, expected)

    def _launch(self, node: KafkaNode) -> None:
        node.runs += 1
        name = "server.log" if node.runs == 1 else f"server.restart-{node.runs - 1}.log"
        record = self._recording if node is self.nodes[0] and node.runs == 1 else None
        argv = java_command(self.version, "kafka.Kafka", str(node.config), record=record)
        node.process = ManagedProcess(f"kafka node {node.node_id}", argv, node.directory / name)
        node.process.start()

    def _keep_class_archive(self) -> None:
        """Put the archive that node 1 wrote on a clean exit where later JVMs find it."""
        managed, recording = self.nodes[0].process, self._recording
        if recording is None or not recording.is_file():
            return
        child = managed.process if managed is not None else None
        if child is not None and child.returncode in (0, 143):  # exit(0), or after SIGTERM
            os.replace(recording, class_archive(self.version))
        recording.unlink(missing_ok=True)

    def _wait(self, node: KafkaNode, expected: int) -> None:
        process = node.process
        assert process is not None
        try:
            wait_until(lambda: self._answers(node, expected), process, self.start_timeout)
        except (RuntimeError, TimeoutError) as failure:
            errors = _errors(process)
            if not errors:
                raise
            log = process.log_path
            raise type(failure)(f"{failure}\n--- errors logged in {log} ---\n{errors}") from None

    def start(self) -> str:
        """Fetch (first time only), format, start every node and wait until each one
        answers metadata listing all of them; returns ``bootstrap_servers``."""
        fetch_kafka(self.version)
        archive = class_archive(self.version)
        if not archive.exists():
            self._recording = archive.with_name(f"{archive.name}.{os.getpid()}.{id(self)}")
        try:
            self._format()
            for node in self.nodes:
                self._launch(node)
            for node in self.nodes:
                self._wait(node, len(self.nodes))
        except BaseException:
            self.stop()
            raise
        return self.bootstrap_servers

    def pids(self) -> list[int]:
        return [n.process.process.pid for n in self.nodes if n.process and n.process.process]

    def _live(self) -> int:
        return sum(1 for n in self.nodes if n.process is not None and n.process.alive())

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the nodes one after another: SIGTERM (a controlled shutdown), a wait of up
        to ``timeout``, then SIGKILL. A node left without a quorum of live voters could
        never have its controlled shutdown approved, so it is killed straight away."""
        quorum = len(self.nodes) // 2 + 1
        for node in self.nodes:
            if node.process is None:
                continue
            if self._live() < quorum:
                _kill(node.process)
            node.process.stop(timeout)
        self._keep_class_archive()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


class ApacheKafka(_KRaftNodes):
    """One Apache Kafka node, broker and controller, on free loopback ports."""

    @property
    def port(self) -> int:
        return self.nodes[0].port


class ApacheKafkaCluster(_KRaftNodes):
    """Three Apache Kafka nodes, each broker and controller, one three-voter quorum;
    topics default to replication factor 3 with ``min.insync.replicas=2``."""

    size = 3
    min_insync_replicas = 2

    def kill_broker(self, index: int, graceful: bool = False) -> None:
        """Stop node ``index`` (0-based): SIGKILL, as a crash would, or with ``graceful``
        a SIGTERM and a controlled shutdown. Its data stays for ``start_broker``."""
        process = self.nodes[index].process
        if process is None:
            return
        if not graceful:
            _kill(process)
        process.stop(timeout=30.0)

    def start_broker(self, index: int) -> None:
        """Start node ``index`` again on its ports and wait until it answers metadata
        listing itself (it has caught up with the quorum and is unfenced)."""
        node = self.nodes[index]
        if node.process is not None and node.process.alive():
            return
        self._launch(node)
        self._wait(node, 1)
