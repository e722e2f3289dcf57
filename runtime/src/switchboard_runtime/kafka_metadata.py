"""What the cluster's metadata says of topics, light enough for command-line tools (it
imports no settings and no framework)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.client import AIOKafkaClient


async def topic_partitions(
    bootstrap_servers: str, topics: Iterable[str], access: Mapping[str, Any] | None = None
) -> dict[str, list[int]]:
    """Each of ``topics`` the cluster has, with its partition ids in order.

    The metadata of every topic is fetched: naming the topics would let a broker that
    auto-creates topics make them. A client's own view is no substitute: a consumer
    that has not subscribed (or assigned) tracks no topic, and Apache Kafka, unlike
    Tansu, tells such a client of none. ``access``: ``kafka_access`` of the settings.
    """
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, **(access or {}))
    try:
        await client.bootstrap()
        cluster = await client.fetch_all_metadata()
    finally:
        await client.close()
    known = {topic: cluster.partitions_for_topic(topic) for topic in set(topics)}
    return {topic: sorted(found) for topic, found in known.items() if found}
