"""A Redis Cluster of three masters on free loopback ports, for tests and experiments.

Each node is ``redis_server_binary()`` (Valkey by default; ``SWITCHBOARD_REDIS_SERVER``
chooses, see :mod:`switchboard_devtools.embedded`) started with ``--cluster-enabled yes``;
the nodes are joined with ``CLUSTER MEET`` and the 16384 slots split in three with
``CLUSTER ADDSLOTSRANGE``. ``replicas=True`` adds one replica per master (so stopping a
master fails over after the node timeout); ``appendonly=True`` keeps an append-only file
per node (so a restarted node comes back with what it held).

A node listens on its port and on port + 10000 (the cluster bus): ports are chosen below
the kernel's ephemeral range so that both are free and the bus port is a valid port.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from switchboard_devtools.embedded import ManagedProcess, redis_server_binary

HOST = "127.0.0.1"
SLOTS = 16384
BUS_OFFSET = 10000
# client ports from here to PORT_HIGH: their bus ports (+10000) stay below 32768, where the
# kernel's ephemeral range (outgoing connections) usually starts
PORT_LOW, PORT_HIGH = 12000, 22000
NODE_TIMEOUT_MS = 2000


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def free_cluster_port(taken: set[int] | None = None) -> int:
    """A port that is free, and whose cluster bus port (port + 10000) is free too."""
    taken = taken or set()
    for _ in range(200):
        port = random.randint(PORT_LOW, PORT_HIGH)  # noqa: S311 - not for security
        near = {port, port + BUS_OFFSET} & (taken | {p + BUS_OFFSET for p in taken})
        if not near and _bindable(port) and _bindable(port + BUS_OFFSET):
            return port
    raise RuntimeError(f"no free port pair (port, port+{BUS_OFFSET}) in {PORT_LOW}-{PORT_HIGH}")


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The slots 0-16383 split in ``masters`` contiguous ranges (first, last)."""
    bounds = [SLOTS * i // masters for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


@dataclass
class Node:
    """One cluster node: its port, its directory and its process (None while stopped)."""

    port: int
    directory: Path
    replica_of: int | None = None  # index of the master a replica follows
    process: ManagedProcess | None = None
    starts: int = 0

    def client(self, timeout: float = 2.0) -> Redis:
        return Redis(HOST, self.port, socket_timeout=timeout, socket_connect_timeout=timeout)

    def tail(self) -> str:
        return self.process.tail() if self.process is not None else "(not started)"


class RedisCluster:
    """Three masters (and optionally a replica each) on free ports; a context manager."""

    def __init__(
        self,
        log_dir: Path | None = None,
        *,
        masters: int = 3,
        replicas: bool = False,
        appendonly: bool = False,
        server_args: Sequence[str] = (),
        start_timeout: float = 30.0,
    ) -> None:
        """``server_args``: more options for every node (e.g. ``--cluster-require-full-coverage
        no``, so the other masters keep serving while one is down)."""
        self._own_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="switchboard-cluster-"))
        self.masters = masters
        self.appendonly = appendonly
        self.server_args = list(server_args)
        self.start_timeout = start_timeout
        self.nodes: list[Node] = []
        taken: set[int] = set()
        for index in range(masters * (2 if replicas else 1)):
            port = free_cluster_port(taken)
            taken.add(port)
            replica_of = index - masters if index >= masters else None
            self.nodes.append(Node(port, self.log_dir / f"node-{port}", replica_of))

    # -- addresses -----------------------------------------------------------------------

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """(host, port) of every node, masters first."""
        return [(HOST, node.port) for node in self.nodes]

    @property
    def url(self) -> str:
        """The URL of the first node: enough for a cluster client to discover the rest."""
        return f"redis://{HOST}:{self.nodes[0].port}/0"

    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    # -- nodes ---------------------------------------------------------------------------

    def _argv(self, node: Node) -> list[str]:
        return [
            redis_server_binary(),
            *("--cluster-enabled", "yes"),
            *("--cluster-config-file", str(self.log_dir / f"nodes-{node.port}.conf")),
            *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            *("--port", str(node.port), "--bind", HOST),
            *("--save", "", "--appendonly", "yes" if self.appendonly else "no"),
            *("--dir", str(node.directory)),
            *("--repl-diskless-sync-delay", "0"),  # a replica syncs at once
            *self.server_args,
        ]

    def start_node(self, index: int, wait: bool = True) -> None:
        """Start node ``index`` (again: its nodes.conf makes it rejoin with its slots)."""
        node = self.nodes[index]
        if node.process is not None and node.process.alive():
            return
        node.directory.mkdir(parents=True, exist_ok=True)
        node.starts += 1
        log_path = self.log_dir / f"node-{node.port}.{node.starts}.log"
        node.process = ManagedProcess(f"cluster node {node.port}", self._argv(node), log_path)
        node.process.start()
        if wait:
            self._wait_answers(node)

    def stop_node(self, index: int, *, kill: bool = False) -> None:
        """Stop node ``index``: SIGTERM (a clean shutdown) or, with ``kill``, SIGKILL."""
        proc = self.nodes[index].process
        if proc is None:
            return
        if kill and proc.process is not None and proc.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait(5)
        proc.stop()
        self.nodes[index].process = None

    def _wait_answers(self, node: Node) -> None:
        def answers() -> bool:
            client = node.client(timeout=1)
            try:
                return bool(client.ping())
            except RedisError:
                return False
            finally:
                client.close()

        self._poll(answers, f"node {node.port} did not answer")

    def _poll(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.process is not None and not node.process.alive():
                    raise RuntimeError(f"node {node.port} exited:\n{node.tail()}")
            if check():
                return
            time.sleep(0.05)
        tails = "\n".join(f"--- node {n.port}:\n{n.tail()}" for n in self.nodes)
        raise TimeoutError(f"{what} within {self.start_timeout} s\n{tails}")

    # -- the cluster ---------------------------------------------------------------------

    def start(self) -> str:
        """Start every node, join them, assign the slots; returns :attr:`url` once
        ``cluster_state:ok`` on every node."""
        for index in range(len(self.nodes)):
            self.start_node(index, wait=False)
        for node in self.nodes:
            self._wait_answers(node)
        self._meet()
        self._assign_slots()
        self._attach_replicas()
        self.wait_ok()
        self._poll(self._replicas_synced, "the replicas did not sync")
        return self.url

    def _call(self, node: Node, *args: str | int) -> object:
        client = node.client()
        try:
            return client.execute_command(*args)  # type: ignore[no-untyped-call]
        finally:
            client.close()

    def _meet(self) -> None:
        first = self.nodes[0]
        for other in self.nodes[1:]:
            self._call(first, "CLUSTER", "MEET", HOST, other.port)

    def _assign_slots(self) -> None:
        for node, (low, high) in zip(self.nodes, slot_ranges(self.masters), strict=False):
            self._call(node, "CLUSTER", "ADDSLOTSRANGE", low, high)

    def node_id(self, index: int) -> str:
        raw = self._call(self.nodes[index], "CLUSTER", "MYID")
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def _attach_replicas(self) -> None:
        for node in self.nodes:
            if node.replica_of is None:
                continue
            master_id = self.node_id(node.replica_of)
            self._poll(functools.partial(self._knows, node, master_id), f"{node.port} unmet")
            self._call(node, "CLUSTER", "REPLICATE", master_id)

    def _knows(self, node: Node, node_id: str) -> bool:
        raw = self._call(node, "CLUSTER", "NODES")  # split arguments: the raw text
        return isinstance(raw, bytes) and node_id.encode() in raw

    def slot_owner(self, slot: int) -> int:
        """The port of the master serving ``slot``, as the first running node sees it."""
        node = next(n for n in self.nodes if n.process is not None)
        ranges = self._call(node, "CLUSTER", "SLOTS")
        for low, high, master, *_replicas in ranges if isinstance(ranges, list) else ():
            if low <= slot <= high:
                return int(master[1])
        raise LookupError(f"slot {slot} is not served")

    def _replicas_synced(self) -> bool:
        for node in self.nodes:
            if node.replica_of is None or node.process is None:
                continue
            client = node.client()
            try:
                if client.info("replication").get("master_link_status") != "up":
                    return False
            except RedisError:
                return False
            finally:
                client.close()
        return True

    def cluster_info(self, index: int) -> dict[str, str]:
        """``CLUSTER INFO`` of node ``index`` as a dict."""
        raw = self._call(self.nodes[index], "CLUSTER", "INFO")
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {k.strip(): v.strip() for k, v in pairs}

    def _all_ok(self) -> bool:
        try:
            infos = [
                self.cluster_info(i) for i, n in enumerate(self.nodes) if n.process is not None
            ]
        except RedisError:
            return False
        return all(
            info.get("cluster_state") == "ok"
            and info.get("cluster_slots_assigned") == str(SLOTS)
            and info.get("cluster_known_nodes") == str(len(self.nodes))
            for info in infos
        )

    def wait_ok(self) -> None:
        """Wait until every running node says ``cluster_state:ok`` (all slots served and
        all nodes known); TimeoutError with each node's log tail otherwise."""
        self._poll(self._all_ok, "the cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for index in range(len(self.nodes)):
            self.stop_node(index)

    def __enter__(self) -> RedisCluster:
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
