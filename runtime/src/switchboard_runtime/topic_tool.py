"""``sb-topic``: look at a topic or publish a command from a terminal (kcat-like).

    sb-topic tail workitem.events [--from-beginning] [--count N]
    sb-topic send workitem.commands workitem.create '{"type": "task", ...}' [--key K]

The broker comes from ``KAFKA_BOOTSTRAP_SERVERS``, else from ``.run/env`` written by
``make run`` (which starts the embedded broker on a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from switchboard_runtime.run_env import setting


def bootstrap() -> str:
    return setting("KAFKA_BOOTSTRAP_SERVERS")


def _render(value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    text = (value or b"").decode(errors="replace")
    try:
        shown: object = json.loads(text)
    except ValueError:
        shown = text
    extra = {k: v.decode(errors="replace") for k, v in headers if k.startswith("sb-")}
    return json.dumps({"value": shown, **({"headers": extra} if extra else {})})


async def tail(topic: str, from_beginning: bool, count: int | None) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise SystemExit(f"no topic {topic!r}")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*assigned)
        seen = 0
        while count is None or seen < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    print(_render(record.value, list(record.headers)), flush=True)
                    seen += 1
    finally:
        await consumer.stop()


async def send(topic: str, ce_type: str, data: str, key: str | None) -> None:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "cli/sb-topic",
        "type": ce_type,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "data": json.loads(data),
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap())
    await producer.start()
    try:
        meta = await producer.send_and_wait(
            topic, json.dumps(event).encode(), key=(key or event["id"]).encode()
        )
    finally:
        await producer.stop()
    print(json.dumps({"sent": event["id"], "partition": meta.partition, "offset": meta.offset}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sb-topic", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tail_cmd = commands.add_parser("tail", help="print a topic's records as JSON lines")
    tail_cmd.add_argument("topic")
    tail_cmd.add_argument("--from-beginning", action="store_true")
    tail_cmd.add_argument("--count", type=int, help="stop after this many records")
    send_cmd = commands.add_parser("send", help="publish one CloudEvents command")
    send_cmd.add_argument("topic")
    send_cmd.add_argument("type", help="CloudEvents type, e.g. workitem.create")
    send_cmd.add_argument("data", help="the command's data as JSON")
    send_cmd.add_argument("--key", help="Kafka key (defaults to the event id)")
    args = parser.parse_args(argv)
    try:
        if args.command == "tail":
            asyncio.run(tail(args.topic, args.from_beginning, args.count))
        else:
            asyncio.run(send(args.topic, args.type, args.data, args.key))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
