"""The ACL layout as data: every topic has its writers and readers, event topics are
written only by the services that own them, and the operator's commands say so."""

from __future__ import annotations

from switchboard_devtools.kafka_acls import LAYOUT, Grant, commands, grants
from switchboard_schemas.topics import (
    ALL_TOPICS,
    CONSUMED_TOPICS,
    DLQ_TOPICS,
    EVENT_TOPICS,
    WORKITEM_COMMANDS,
    WORKITEM_EVENTS,
)


def writers(topic: str) -> set[str]:
    return {g.principal for g in grants() if g.operation == "WRITE" and g.name == topic}


def test_every_topic_has_a_writer_and_every_consumed_topic_a_reader() -> None:
    for topic in ALL_TOPICS:
        assert writers(topic), topic
    read = {g.name for g in grants() if g.operation == "READ" and g.resource == "topic"}
    assert set(CONSUMED_TOPICS) <= read


def test_event_topics_are_written_only_by_the_services_that_publish_them() -> None:
    assert writers(WORKITEM_EVENTS) == {"User:workitem", "User:router", "User:callback"}
    assert writers("agent.events") == {"User:router"}
    for topic in EVENT_TOPICS:
        assert "User:desktop" not in writers(topic), topic


def test_command_topics_are_written_by_their_producers_and_upstream_users() -> None:
    assert writers(WORKITEM_COMMANDS) == {"User:desktop"}
    with_crm = {
        g.principal
        for g in grants(upstream=["crm"])
        if g.operation == "WRITE" and g.name == WORKITEM_COMMANDS
    }
    assert with_crm == {"User:desktop", "User:crm"}


def test_each_service_writes_the_dead_letters_of_what_it_consumes_and_reads_its_group() -> None:
    for access in LAYOUT:
        for topic in access.consumes:
            if f"{topic}.dlq" in DLQ_TOPICS:
                assert f"{topic}.dlq" in access.writes
    group = Grant("User:router", "group", "blue-router", "READ")
    assert group in grants("blue")
    assert Grant("User:sb-router", "group", "blue-router", "READ") in grants(
        "blue", users={"router": "sb-router"}
    )


def test_the_operator_commands_add_each_grant() -> None:
    lines = commands(grants(), "kafka:9093", "admin.properties")
    expected = (
        "kafka-acls.sh --bootstrap-server kafka:9093 --command-config admin.properties --add "
        "--allow-principal User:workitem --operation Describe --operation Read --operation "
        "Write --topic workitem.events"
    )
    assert expected in lines
    assert not any(
        "User:desktop" in line and line.endswith("Write --topic workitem.events") for line in lines
    )
