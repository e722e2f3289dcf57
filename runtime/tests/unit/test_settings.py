"""CommonSettings: the fixed environment variable names, and what they refuse."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError
from switchboard_runtime.http import settle_memory
from switchboard_runtime.settings import CommonSettings

CONTRACT_VARS = [
    "KAFKA_BOOTSTRAP_SERVERS",
    "REDIS_URL",
    "TENANT_ID",
    "KAFKA_TOPIC_PARTITIONS",
    "KAFKA_ENABLE_IDEMPOTENCE",
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the shell exported must not leak into these tests."""
    for name in CONTRACT_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults_without_environment() -> None:
    settings = CommonSettings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.tenant_id == "default"
    assert settings.kafka_topic_partitions == 6
    assert settings.kafka_enable_idempotence is False


def test_reads_the_contract_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6380/2")
    monkeypatch.setenv("TENANT_ID", "acme-eu")
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "true")

    settings = CommonSettings()

    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.redis_url == "redis://cache:6380/2"
    assert settings.tenant_id == "acme-eu"
    assert settings.kafka_topic_partitions == 12
    assert settings.kafka_enable_idempotence is True


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("false", False), ("0", False)])
def test_idempotence_flag_spellings(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", value)
    assert CommonSettings().kafka_enable_idempotence is expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAFKA_TOPIC_PARTITIONS", "0"),
        ("KAFKA_TOPIC_PARTITIONS", "2000"),
        ("KAFKA_TOPIC_PARTITIONS", "six"),
        ("TENANT_ID", "Acme"),
        ("TENANT_ID", "-acme"),
        ("TENANT_ID", "acme{eu}"),
        ("TENANT_ID", ""),
        ("KAFKA_ENABLE_IDEMPOTENCE", "maybe"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        CommonSettings()

    fields = {err["loc"][0] for err in refused.value.errors()}
    assert fields == {name.lower()}
    assert name.lower() in str(refused.value)


def test_gc_thresholds_are_three_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CommonSettings().gc_thresholds == (20_000, 50, 100)
    monkeypatch.setenv("GC_THRESHOLDS", "700, 10, 10")
    assert CommonSettings().gc_thresholds == (700, 10, 10)
    for wrong in ("700,10", "a,b,c", "-1,10,10", "0,10,10", "20000,50,99999999999999999999"):
        monkeypatch.setenv("GC_THRESHOLDS", wrong)
        with pytest.raises(ValidationError, match="gc_thresholds"):
            CommonSettings()


def test_settling_memory_freezes_what_is_loaded_and_sets_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        settle_memory((12_345, 20, 30))
        assert gc.get_threshold() == (12_345, 20, 30)
        assert gc.get_freeze_count() > 1000  # the modules, classes and app loaded so far
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_bootstrap_servers_are_a_list_of_host_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", " k1:9092, k2:9092 ,k3:9092")
    settings = CommonSettings()
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9092,k3:9092"
    assert settings.kafka_servers() == ["k1:9092", "k2:9092", "k3:9092"]
    for listed in ("k1:9092,,k2:9092", "", "k1:9092,"):
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", listed)
        with pytest.raises(ValidationError, match="kafka_bootstrap_servers"):
            CommonSettings()
