"""``sb-topic`` run as a user runs it: what it cannot do it says in one line, exits
non-zero and publishes nothing (no traceback, no topic created by a typo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import Brokers, KafkaTap
from switchboard_runtime.kafka import ensure_topics
from switchboard_runtime.settings import CommonSettings

pytestmark = pytest.mark.integration

Run = Callable[..., subprocess.CompletedProcess[str]]
TASK = '{"type": "task"}'


@pytest.fixture
def sb_topic(tmp_path: Path) -> Run:
    """``sb-topic *args`` with ``KAFKA_BOOTSTRAP_SERVERS`` = ``bootstrap`` and no ``.run``."""

    def run(
        bootstrap: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **(env or {}), "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
        env["SWITCHBOARD_RUN_DIR"] = str(tmp_path / "run")
        command = [sys.executable, "-m", "switchboard_devtools.topic_tool", *args]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    return run


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    assert result.stdout == "", result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def new_topic(brokers: Brokers) -> str:
    """A topic with a unique name, created before anything touches it."""
    topic = f"sbtopic-{uuid.uuid4().hex[:12]}"
    await ensure_topics(
        CommonSettings(kafka_bootstrap_servers=brokers.kafka_bootstrap_servers), [topic]
    )
    return topic


async def test_send_to_a_missing_topic_names_it_and_creates_nothing(
    brokers: Brokers, sb_topic: Run
) -> None:
    missing = f"workitem.comands-{uuid.uuid4().hex[:8]}"

    result = sb_topic(brokers.kafka_bootstrap_servers, "send", missing, "workitem.create", TASK)

    line = one_line_error(result)
    assert missing in line
    assert "no topic" in line
    assert missing not in await topics(brokers.kafka_bootstrap_servers)


async def test_send_to_an_existing_topic_still_publishes(brokers: Brokers, sb_topic: Run) -> None:
    topic = await new_topic(brokers)
    bootstrap = brokers.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, topic) as tap:
        result = sb_topic(bootstrap, "send", topic, "workitem.create", TASK, "--key", "k1")
        [record] = await tap.wait_for(lambda r: r.key == b"k1")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == json.loads(record.value)["id"]
    assert json.loads(record.value)["data"] == {"type": "task"}


@pytest.mark.parametrize(
    ("data", "said"),
    [("{not json", "not JSON"), ('"a string"', "JSON object"), ("[1, 2]", "JSON object")],
)
async def test_send_of_data_that_is_not_a_json_object_is_one_line(
    brokers: Brokers, sb_topic: Run, data: str, said: str
) -> None:
    topic = await new_topic(brokers)
    bootstrap = brokers.kafka_bootstrap_servers
    async with KafkaTap(bootstrap, topic) as tap:
        result = sb_topic(bootstrap, "send", topic, "workitem.create", data)
        records = await tap.read_to_end()

    line = one_line_error(result)
    assert said in line
    assert "data" in line
    assert records == []


@pytest.mark.parametrize(
    "args",
    [("send", "workitem.commands", "workitem.create", TASK), ("tail", "workitem.events")],
)
def test_an_unreachable_broker_is_one_line_naming_it(sb_topic: Run, args: tuple[str, ...]) -> None:
    nobody = f"127.0.0.1:{free_port()}"

    line = one_line_error(sb_topic(nobody, *args))

    assert nobody in line
    assert "cannot reach" in line


def test_tail_of_a_missing_topic_names_it(brokers: Brokers, sb_topic: Run) -> None:
    missing = f"nope-{uuid.uuid4().hex[:8]}"

    line = one_line_error(sb_topic(brokers.kafka_bootstrap_servers, "tail", missing))

    assert missing in line


def test_plain_password_without_tls_is_refused_before_connecting(sb_topic: Run) -> None:
    plain = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN"}
    plain |= {"KAFKA_SASL_USERNAME": "ops", "KAFKA_SASL_PASSWORD": "pw"}
    result = sb_topic("127.0.0.1:1", "tail", "workitem.events", env=plain)
    line = one_line_error(result)
    assert "PLAIN sends the password as it is" in line, line
