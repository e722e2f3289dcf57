"""`make run`'s launcher, seen from outside: HTTP, and a confluent-kafka client on the topics.

Starts ``python -m switchboard_devtools.devstack`` exactly as ``make run`` does, waits for
the four services to be ready, drives them with an outside Kafka client, then stops it
with SIGTERM and checks that nothing it started is left running.
"""

from __future__ import annotations

import functools
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from switchboard_devtools.apache_kafka_fetch import KAFKA_VERSION
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import Brokers
from switchboard_devtools.testing_env import readers_shell, require_java_and_maven

pytestmark = pytest.mark.integration

PORT_VARIABLES = (
    "WORKITEM_HTTP_PORT",
    "CALLBACK_HTTP_PORT",
    "ROUTER_HTTP_PORT",
    "DESKTOP_HTTP_PORT",
)


@dataclass
class Launched:
    process: subprocess.Popen[str]
    ports: dict[str, int]
    log: Path
    run_dir: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kafka(self) -> str:
        found = re.search(r"\[switchboard\] kafka\s+(\S+)", self.text())
        assert found, self.text()
        return found.group(1)


def wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def ready_or_exited(port: int, proc: subprocess.Popen[str]) -> bool:
    return ready(port) or proc.poll() is not None


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Launched]]:
    started: list[Launched] = []

    def start(extra_env: dict[str, str]) -> Launched:
        ports = {name: free_port() for name in PORT_VARIABLES}
        # a reader's shell: no brokers and no auth settings of the test session
        env = readers_shell()
        env.update({k: str(v) for k, v in ports.items()})
        env.update(
            {
                "SWITCHBOARD_RUN_DIR": str(tmp_path / "run"),
                "LOG_FORMAT": "json",
                "KAFKA_TOPIC_PARTITIONS": "3",
                **extra_env,
            }
        )
        log = tmp_path / f"devstack-{len(started)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "switchboard_devtools.devstack"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        launched = Launched(proc, ports, log, tmp_path / "run")
        started.append(launched)
        for name, port in ports.items():
            wait(functools.partial(ready_or_exited, port, proc), 90, f"{name} ready")
            assert proc.poll() is None, launched.text()
        return launched

    yield start
    for launched in started:
        if launched.process.poll() is None:
            launched.process.kill()
            launched.process.wait(10)


def stop_and_check_nothing_left(launched: Launched) -> None:
    children = children_of(launched.process.pid)
    assert children, "the launcher should have started child processes"
    launched.process.send_signal(signal.SIGTERM)
    assert launched.process.wait(60) == 0, launched.text()
    wait(lambda: not any(alive(pid) for pid in children), 10, "children to exit")
    assert "[switchboard] stopped" in launched.text()


def post_json(port: int, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http only
        assert response.status == 201
        result: dict[str, Any] = json.loads(response.read())
        return result


def read_topic(bootstrap: str, topic: str, want: Callable[[list[Any]], bool]) -> list[Any]:
    """Read ``topic`` from the beginning with confluent-kafka until ``want(records)``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"outside-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        records: list[Any] = []

        def enough() -> bool:
            records.extend(m for m in consumer.consume(100, timeout=0.2) if not m.error())
            return want(records)

        wait(enough, 30, f"records on {topic}")
        return records
    finally:
        consumer.close()


def ce(type_: str, data: dict[str, Any], ce_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": ce_id or str(uuid.uuid4()),
            "source": "outside/client",
            "type": type_,
            "time": "2026-11-27T10:00:00Z",
            "data": data,
        }
    ).encode()


def test_make_run_on_embedded_brokers_with_an_outside_kafka_client(
    launch: Callable[[dict[str, str]], Launched],
) -> None:
    launched = launch({})
    assert "embedded Tansu" in launched.text()
    assert "embedded Valkey" in launched.text()
    bootstrap = launched.kafka()
    producer = Producer({"bootstrap.servers": bootstrap})
    duplicate = ce("workitem.create", {"type": "email", "description": "Refund request"})
    for value in (duplicate, duplicate, b"not even json"):
        producer.produce("workitem.commands", value, key=b"outside")
    producer.flush(10)
    printed = wait(
        lambda: re.search(r"integration\s+ivr\s+(\S+)", launched.text()), 30, "tokens printed"
    )
    assert (launched.run_dir / "env").stat().st_mode & 0o077 == 0, "the secret is the user's"
    desk = f"agent desktop: http://127.0.0.1:{launched.ports['DESKTOP_HTTP_PORT']}/"
    wait(lambda: desk in launched.text(), 30, "the desktop's address printed")
    task = {"type": "task", "description": "from the tour"}
    with pytest.raises(urllib.error.HTTPError, match="401"):
        post_json(launched.ports["WORKITEM_HTTP_PORT"], "/v1/workitems", task, "not-a-token")
    via_http = post_json(launched.ports["WORKITEM_HTTP_PORT"], "/v1/workitems", task, printed[1])

    def created(records: list[Any]) -> list[dict[str, Any]]:
        events = [json.loads(r.value()) for r in records]
        return [e for e in events if e["type"] == "workitem.created"]

    events = read_topic(bootstrap, "workitem.events", lambda rs: len(created(rs)) >= 2)
    subjects = [e["subject"] for e in created(events)]
    assert via_http["work_item_id"] in subjects
    assert len(subjects) == 2  # the duplicated command made one item
    dead = read_topic(bootstrap, "workitem.commands.dlq", lambda rs: len(rs) >= 1)
    assert dead[0].value() == b"not even json"
    assert dict(dead[0].headers())["sb-error"] == b"not_json"
    for port in launched.ports.values():  # on this machine only, unless HTTP_HOST says so
        assert listening_on(port) == {"127.0.0.1"}
    stop_and_check_nothing_left(launched)


def listening_on(port: int) -> set[str]:
    """The IPv4 addresses a socket listens on at ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


def test_make_run_on_apache_kafka(launch: Callable[[dict[str, str]], Launched]) -> None:
    """`make run KAFKA=apache`: the same stack on Apache Kafka, idempotent producers on."""
    require_java_and_maven()
    launched = launch({"SWITCHBOARD_KAFKA": "apache"})
    assert f"(Apache Kafka {KAFKA_VERSION}, one KRaft node)" in launched.text()
    assert "KAFKA_ENABLE_IDEMPOTENCE=true" in (launched.run_dir / "env").read_text()
    printed = wait(
        lambda: re.search(r"integration\s+ivr\s+(\S+)", launched.text()), 30, "tokens printed"
    )
    task = {"type": "task", "description": "on Apache Kafka"}
    made = post_json(launched.ports["WORKITEM_HTTP_PORT"], "/v1/workitems", task, printed[1])

    def queued(records: list[Any]) -> bool:
        events = [json.loads(r.value()) for r in records]
        return any(e["subject"] == made["work_item_id"] for e in events)

    read_topic(launched.kafka(), "workitem.events", queued)
    stop_and_check_nothing_left(launched)  # the JVM with the rest


def test_make_run_uses_brokers_given_by_the_environment(
    launch: Callable[[dict[str, str]], Launched], brokers: Brokers
) -> None:
    launched = launch(
        {
            "KAFKA_BOOTSTRAP_SERVERS": brokers.kafka_bootstrap_servers,
            "REDIS_URL": brokers.redis_url,
            "CONSUMER_GROUP_PREFIX": f"given-{uuid.uuid4().hex[:8]}",
        }
    )

    assert f"kafka  {brokers.kafka_bootstrap_servers} (given)" in launched.text()
    assert f"redis  {brokers.redis_url} (given)" in launched.text()
    assert "embedded" not in launched.text()
    assert len(children_of(launched.process.pid)) == len(PORT_VARIABLES)  # no brokers of its own
    stop_and_check_nothing_left(launched)
