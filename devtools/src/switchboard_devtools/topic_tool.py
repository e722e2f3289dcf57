"""``sb-topic``: look at a topic or publish a command from a terminal (kcat-like).

    sb-topic tail workitem.events [--from-beginning] [--count N]
    sb-topic send workitem.commands workitem.create '{"type": "task", ...}' [--key K]

The broker comes from ``KAFKA_BOOTSTRAP_SERVERS``, else from ``.run/env`` written by
``make run`` (which starts the embedded broker on a free port); who the tool is to it
from the services' own settings, ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*`` and
``KAFKA_SSL_*`` (docs/security.md). What it cannot do (a
topic that does not exist, data that is not a JSON object, a broker that does not
answer) it says in one line on stderr, exiting 1; it never creates a topic.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from switchboard_runtime.kafka_access import bootstrap_failure, kafka_access
from switchboard_runtime.kafka_metadata import topic_partitions
from switchboard_runtime.kafka_settings import KafkaAccessSettings
from switchboard_runtime.run_env import setting
from switchboard_schemas import strict_json

PROG = "sb-topic"
_SHOWN_TOPICS = 20  # of the existing topics named when one is missing


class ToolError(Exception):
    """What the tool could not do, in one line for the terminal."""


def _render(value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    text = (value or b"").decode(errors="replace")
    try:
        shown: object = json.loads(text)
    except ValueError:
        shown = text
    extra = {k: v.decode(errors="replace") for k, v in headers if k.startswith("sb-")}
    return json.dumps({"value": shown, **({"headers": extra} if extra else {})})


def access() -> dict[str, Any]:
    """The aiokafka arguments of the KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_*
    settings in the environment (a ToolError naming what is wrong with them)."""
    try:
        return kafka_access(KafkaAccessSettings())
    except ValidationError as exc:
        said = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ToolError(f"Kafka security settings: {said}") from None
    except (OSError, ValueError) as exc:  # a CA or certificate file that cannot be read
        raise ToolError(f"Kafka security settings: {exc}") from None


def parse_data(text: str) -> dict[str, Any]:
    """The command's data: a JSON object, as the services read it."""
    try:
        value = strict_json.loads(text.encode())
    except ValueError as exc:
        raise ToolError(f"data is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ToolError(f"data must be a JSON object (the command's fields), got {text[:40]!r}")
    return value


@contextlib.asynccontextmanager
async def connected(client: Any, servers: str, login: dict[str, Any]) -> AsyncIterator[None]:
    """``client`` started (or a ToolError saying why the broker cannot be reached: not
    there, or refusing the login), then stopped."""
    try:
        await client.start()
    except (KafkaError, OSError, ValueError) as exc:
        with contextlib.suppress(Exception):
            await client.stop()
        reason = await bootstrap_failure(servers, login)  # aiokafka only logged it
        raise ToolError(
            f"cannot reach the Kafka broker at {servers} ({reason or exc}); check "
            "KAFKA_BOOTSTRAP_SERVERS and the KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and "
            "KAFKA_SSL_* settings, or that `make run` is running"
        ) from None
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await client.stop()


def require_topic(topic: str, existing: set[str], servers: str) -> None:
    if topic in existing:
        return
    names = sorted(t for t in existing if not t.startswith("_"))
    shown = ", ".join(names[:_SHOWN_TOPICS]) + (", ..." if len(names) > _SHOWN_TOPICS else "")
    raise ToolError(f"no topic {topic!r} on {servers}; nothing done (topics: {shown or 'none'})")


async def tail(
    servers: str, topic: str, from_beginning: bool, count: int | None, login: dict[str, Any]
) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, **login)
    async with connected(consumer, servers, login):
        require_topic(topic, await consumer.topics(), servers)
        partitions = (await topic_partitions(servers, [topic], login)).get(topic)
        if not partitions:
            raise ToolError(f"topic {topic!r} has no partitions yet; try again")
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*assigned)
        seen = 0
        while count is None or seen < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    print(_render(record.value, list(record.headers)), flush=True)
                    seen += 1


def new_command(ce_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "cli/sb-topic",
        "type": ce_type,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


async def send(
    servers: str, topic: str, event: dict[str, Any], key: str | None, login: dict[str, Any]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, **login)
    async with connected(producer, servers, login):
        # all topics' metadata: asking for the one topic would let the broker create it
        require_topic(topic, (await producer.client.fetch_all_metadata()).topics(), servers)
        meta = await producer.send_and_wait(
            topic, json.dumps(event).encode(), key=(key or event["id"]).encode()
        )
    print(json.dumps({"sent": event["id"], "partition": meta.partition, "offset": meta.offset}))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tail_cmd = commands.add_parser("tail", help="print a topic's records as JSON lines")
    tail_cmd.add_argument("topic")
    tail_cmd.add_argument("--from-beginning", action="store_true")
    tail_cmd.add_argument("--count", type=int, help="stop after this many records")
    send_cmd = commands.add_parser("send", help="publish one CloudEvents command")
    send_cmd.add_argument("topic")
    send_cmd.add_argument("type", help="CloudEvents type, e.g. workitem.create")
    send_cmd.add_argument("data", help="the command's data as a JSON object")
    send_cmd.add_argument("--key", help="Kafka key (defaults to the event id)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # failures are said once, below
    try:
        if args.command == "tail":
            servers, login = setting("KAFKA_BOOTSTRAP_SERVERS"), access()
            asyncio.run(tail(servers, args.topic, args.from_beginning, args.count, login))
        else:
            event = new_command(args.type, parse_data(args.data))
            servers, login = setting("KAFKA_BOOTSTRAP_SERVERS"), access()
            asyncio.run(send(servers, args.topic, event, args.key, login))
    except ToolError as error:
        sys.exit(f"{PROG}: {error}")
    except KafkaError as error:
        sys.exit(f"{PROG}: {args.command} {args.topic!r} failed: {error}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
