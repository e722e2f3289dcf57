"""The command pipeline with a real producer: what the handler's outcomes become (applied,
declared invalid, a bug tried again, an outage waited out) and how each counts."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from switchboard_devtools.testing import Brokers
from switchboard_runtime.pipeline import CommandInvalid
from switchboard_schemas.workitem import CreateWorkItem

from .conftest import NewTopic
from .pipelinekit import (
    Handler,
    assert_dead_lettered,
    command,
    commands_total,
    record,
    run_one,
    sample,
    task,
)

pytestmark = pytest.mark.integration


async def test_a_valid_command_reaches_its_handler_and_nothing_is_dead_lettered(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-valid")
    work_item_id = f"wi-{uuid.uuid4()}"
    handler = Handler()
    source = record(topic, command(task(work_item_id), correlationid="corr-1"))

    service, dead = await run_one(brokers, producer, handler, source)

    assert dead == []
    assert commands_total(service, "applied") == 1.0
    [(event, cmd)] = handler.calls
    assert event.correlationid == "corr-1"
    assert isinstance(cmd, CreateWorkItem)
    assert cmd.work_item_id == work_item_id


async def test_a_command_the_handler_declares_invalid_is_dead_lettered_with_its_error(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-invalid")
    handler = Handler([CommandInvalid("unknown_work_item", "no work item wi-404")])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "unknown_work_item")
    assert headers["sb-error-detail"] == b"no work item wi-404"
    assert len(handler.calls) == 1


async def test_a_handler_bug_is_tried_attempts_times_then_dead_lettered(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    topic = await new_topic("pipe-bug")
    handler = Handler([ValueError("handler bug") for _ in range(10)])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "processing_error")
    assert b"handler bug" in headers["sb-error-detail"]
    assert len(handler.calls) == 3


async def test_a_call_no_redis_cluster_can_serve_is_dead_lettered_not_waited_out(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    """The cluster client's bare RedisClusterException for keys of two slots is a bug:
    tried ``attempts`` times, then dead-lettered (it was once retried as an outage)."""
    topic = await new_topic("pipe-crossslot")
    crossed = "EVALSHA - all keys must map to the same key slot"
    handler = Handler([RedisClusterException(crossed) for _ in range(10)])
    source = record(topic, command(task()))

    _, dead = await run_one(brokers, producer, handler, source)

    headers = assert_dead_lettered(dead, source, "processing_error")
    assert headers["sb-error-detail"] == b"server:RedisClusterException"
    assert len(handler.calls) == 3


async def test_a_redis_outage_is_waited_out_and_the_command_applied(
    brokers: Brokers, producer: AIOKafkaProducer, new_topic: NewTopic
) -> None:
    """attempts=1: a bug would be dead-lettered at once, an outage is retried until it ends."""
    topic = await new_topic("pipe-transient")
    outage = [RedisConnectionError("Connection refused") for _ in range(3)]
    handler = Handler(outage)
    source = record(topic, command(task()))

    service, dead = await run_one(brokers, producer, handler, source, attempts=1)

    assert dead == []
    assert len(handler.calls) == 4  # three failures while Redis was away, then applied
    assert commands_total(service, "applied") == 1.0


@pytest.mark.parametrize(
    ("errors", "error"),
    [
        ([CommandInvalid("unknown_work_item", "gone")], "unknown_work_item"),
        ([ValueError("bug") for _ in range(3)], "processing_error"),
    ],
    ids=["invalid", "bug"],
)
async def test_one_dead_lettered_command_counts_once_in_the_metrics(
    brokers: Brokers,
    producer: AIOKafkaProducer,
    new_topic: NewTopic,
    errors: list[BaseException],
    error: str,
) -> None:
    topic = await new_topic("pipe-metrics")
    source = record(topic, command(task()))

    service, dead = await run_one(brokers, producer, Handler(errors), source)

    assert_dead_lettered(dead, source, error)
    letters = {"topic": topic, "error": error}
    assert sample(service, "switchboard_dead_letters_total", letters) == 1.0
    assert commands_total(service, "dead_lettered") == 1.0
