"""Every listener of a test Kafka node gets a port of its own: the kernel may hand out
the same free port twice, and Kafka refuses two listeners on one port (seen in CI:
PLAINTEXT and PROXIED both on 48763, so the storage could not be formatted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from switchboard_devtools import apache_kafka_config
from switchboard_devtools.apache_kafka_config import (
    KafkaNode,
    give_distinct_ports,
    node_properties,
    port_apart_from,
)


def test_ports_drawn_twice_are_drawn_again(tmp_path: Path) -> None:
    nodes = [KafkaNode(1, tmp_path, 9000, 9000, 9000), KafkaNode(2, tmp_path, 9000, 9001, 9002)]

    give_distinct_ports(nodes)

    ports = [p for n in nodes for p in (n.port, n.controller_port, n.proxied_port)]
    assert len(set(ports)) == 6
    assert nodes[0].port == 9000  # the first holder keeps its port


def test_a_proxied_node_listens_on_three_ports_and_advertises_the_proxy(tmp_path: Path) -> None:
    node = KafkaNode(1, tmp_path, 9100, 9101, 9102, advertised_proxy=9200)

    props = node_properties(node, [node])

    assert props["listeners"] == (
        "PLAINTEXT://127.0.0.1:9100,CONTROLLER://127.0.0.1:9101,PROXIED://127.0.0.1:9102"
    )
    assert props["advertised.listeners"] == ("PLAINTEXT://127.0.0.1:9100,PROXIED://127.0.0.1:9200")


def test_one_more_listener_never_takes_a_port_of_the_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secure node's SSL listener: drawn after the nodes' ports, so the kernel may
    hand it one of theirs (Kafka would then refuse to start)."""
    node = KafkaNode(1, tmp_path, 9300, 9301, 9302)
    drawn = iter([9301, 9300, 9400])
    monkeypatch.setattr(apache_kafka_config, "free_port", lambda: next(drawn))

    assert port_apart_from([node]) == 9400
