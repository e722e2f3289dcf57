"""What an Apache Kafka test node is configured with: its ports and directory
(``KafkaNode``), its listeners and quorum (``node_properties``), and the settings every
node of a test cluster shares (``cluster_settings``).

A node may also listen for clients on a second, proxied listener (``PROXIED``): it
advertises the address of a proxy in front of it, so that clients bootstrapping there
keep going through the proxies, while the brokers reach each other on ``PLAINTEXT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_devtools.embedded import ManagedProcess, free_port

HOST = "127.0.0.1"


@dataclass
class KafkaNode:
    node_id: int
    directory: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    proxied_port: int = field(default_factory=free_port)  # the PROXIED listener
    advertised_proxy: int | None = None  # the proxy's port, once one is put in front
    process: ManagedProcess | None = None
    runs: int = 0

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def config(self) -> Path:
        return self.directory / "server.properties"


_NODE_PORTS = ("port", "controller_port", "proxied_port")


def give_distinct_ports(nodes: Sequence[KafkaNode]) -> None:
    """Draw again any port of ``nodes`` that another (or the same node) already has:
    ``free_port`` only asks the kernel for a free port, and may hand out one twice."""
    taken: set[int] = set()
    for node in nodes:
        for name in _NODE_PORTS:
            while getattr(node, name) in taken:
                setattr(node, name, free_port())
            taken.add(getattr(node, name))


def port_apart_from(nodes: Sequence[KafkaNode]) -> int:
    """A free port for one more listener, none of ``nodes``' own ports."""
    taken = {getattr(node, name) for node in nodes for name in _NODE_PORTS}
    port = free_port()
    while port in taken:
        port = free_port()
    return port


def _listeners(node: KafkaNode) -> tuple[str, str, str]:
    """``listeners``, ``advertised.listeners`` and the protocol map of ``node``."""
    listeners = [f"PLAINTEXT://{HOST}:{node.port}", f"CONTROLLER://{HOST}:{node.controller_port}"]
    advertised = [f"PLAINTEXT://{node.bootstrap}"]
    protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
    if node.advertised_proxy is not None:
        listeners.append(f"PROXIED://{HOST}:{node.proxied_port}")
        advertised.append(f"PROXIED://{HOST}:{node.advertised_proxy}")
        protocols.append("PROXIED:PLAINTEXT")
    return ",".join(listeners), ",".join(advertised), ",".join(protocols)


def node_properties(node: KafkaNode, nodes: Sequence[KafkaNode]) -> dict[str, str]:
    """The properties of ``node``, broker and controller in a quorum of all ``nodes``."""
    voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in nodes)
    listeners, advertised, protocols = _listeners(node)
    return {
        "node.id": str(node.node_id),
        "process.roles": "broker,controller",
        "listeners": listeners,
        "advertised.listeners": advertised,
        "listener.security.protocol.map": protocols,
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "controller.quorum.voters": voters,
        "log.dirs": str(node.directory / "data"),
    }


def cluster_settings(factor: int, min_isr: int) -> dict[str, str]:
    """Settings of a test cluster of ``factor`` nodes; ``auto.create.topics.enable`` is
    off as in production (the services create their topics)."""
    internal = {
        "offsets.topic.replication.factor": str(factor),
        "transaction.state.log.replication.factor": str(factor),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(factor),
        "share.coordinator.state.topic.min.isr": str(min_isr),
    }
    return {
        **internal,
        "default.replication.factor": str(factor),
        "min.insync.replicas": str(min_isr),
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        # a crashed broker is fenced, and may register again, 4 s after its last heartbeat
        # (not 9 s): sooner failover for fault tests and a sooner restart after a kill
        "broker.session.timeout.ms": "4000",
        "broker.heartbeat.interval.ms": "1000",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),  # of 384 MB of heap
    }
