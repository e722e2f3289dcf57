"""REDIS_CLUSTER: off by default, said by the setting or by a redis+cluster:// URL, and
only with db 0; the transient errors include what a cluster answers while it heals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import (
    ClusterDownError,
    CrossSlotTransactionError,
    MaxConnectionsError,
    RedisClusterException,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from switchboard_runtime.atomic import translate
from switchboard_runtime.pipeline import transient
from switchboard_runtime.redis_client import is_cluster, redis_client
from switchboard_runtime.settings import CommonSettings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "REDIS_CLUSTER"):
        monkeypatch.delenv(name, raising=False)


def test_off_by_default_and_a_plain_client() -> None:
    settings = CommonSettings()
    assert settings.redis_cluster is False
    client = redis_client(settings)
    assert isinstance(client, Redis)
    assert not is_cluster(client)


def test_the_setting_makes_a_cluster_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    monkeypatch.setenv("REDIS_URL", "rediss://app:secret@node-1:6379/0")
    settings = CommonSettings(redis_max_connections=7)
    client = redis_client(settings)
    assert isinstance(client, RedisCluster)
    assert is_cluster(client)
    assert is_cluster(client.pipeline())
    kwargs = client.connection_kwargs
    assert (kwargs["username"], kwargs["password"], kwargs["max_connections"]) == (
        "app",
        "secret",
        7,
    )
    assert kwargs["connection_class"].__name__ == "SSLConnection"  # rediss:// is TLS


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("redis+cluster://node-1:6379", "redis://node-1:6379"),
        ("rediss+cluster://u:p@node-1:6380/0", "rediss://u:p@node-1:6380/0"),
    ],
)
def test_a_cluster_scheme_says_the_same(url: str, plain: str) -> None:
    settings = CommonSettings(redis_url=url)
    assert (settings.redis_url, settings.redis_cluster) == (plain, True)


def test_a_cluster_has_only_db_0() -> None:
    with pytest.raises(ValidationError, match="only db 0"):
        CommonSettings(redis_url="redis://node-1:6379/2", redis_cluster=True)
    assert CommonSettings(redis_url="redis://node-1:6379/2").redis_url.endswith("/2")


@pytest.mark.parametrize(
    "error",
    [
        ClusterDownError("CLUSTERDOWN The cluster is down"),
        TryAgainError("TRYAGAIN"),
        SlotNotCoveredError('Slot "12" is not covered by the cluster.'),
        MaxConnectionsError(),
        RedisClusterException("Redis Cluster cannot be connected. Please provide at least"),
        RedisClusterException("All slots are not covered after query all startup_nodes."),
    ],
)
def test_what_a_healing_cluster_answers_is_transient(error: Exception) -> None:
    assert transient(error)
    if isinstance(error, ResponseError):  # kept as it is through a script's translation
        assert translate(error) is error


@pytest.mark.parametrize(
    "error",
    [
        RedisClusterException("EVALSHA - all keys must map to the same key slot"),
        RedisClusterException("Argument 'db' must be 0 or None in cluster mode"),
        CrossSlotTransactionError("All keys involved in a cluster transaction must map"),
    ],
)
def test_a_call_no_cluster_can_serve_is_a_bug_not_an_outage(error: Exception) -> None:
    """Retried for ever, it would stick its consumer; a bug dead-letters its record."""
    assert not transient(error)
