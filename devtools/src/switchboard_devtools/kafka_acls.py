"""Switchboard's Kafka ACL layout, as data: one SCRAM user (principal) per service, the
topics each may write and read, its consumer group. docs/security.md shows the table.

| service  | writes (produces)                          | reads (consumes)                 |
|----------|--------------------------------------------|----------------------------------|
| workitem | workitem.events                            | workitem.commands, workitem.events |
| router   | agent.events, workitem.events              | agent.commands, workitem.events  |
| callback | workitem.events                            | callback.commands, workitem.events |
| desktop  | agent.commands, workitem.commands,         | agent.events, workitem.events    |
|          | callback.commands                          |                                  |

Event topics are written only by the services that own them; command topics by their
producers (the desktop gateway, and upstream systems given ``upstream`` users). Each
service also writes the dead-letter topic of each topic it consumes, reads (and commits
in) its group ``<prefix>-<service>``, and may describe every topic (each checks at start
that the topics exist). No service may create topics or change ACLs: the operator creates
the topics (``switchboard_schemas.topics.ALL_TOPICS``) and applies this layout as a super
user (``apply``, or the printed commands).

``python -m switchboard_devtools.kafka_acls`` prints it as ``kafka-acls.sh`` commands.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from switchboard_schemas.topics import (
    AGENT_COMMANDS,
    AGENT_EVENTS,
    ALL_TOPICS,
    CALLBACK_COMMANDS,
    DLQ_TOPICS,
    WORKITEM_COMMANDS,
    WORKITEM_EVENTS,
    dlq_topic,
)

Operation = Literal["WRITE", "READ", "DESCRIBE"]
Resource = Literal["topic", "group"]
UPSTREAM_COMMANDS = (WORKITEM_COMMANDS, CALLBACK_COMMANDS)  # what upstream systems send


@dataclass(frozen=True)
class ServiceAccess:
    """What one service publishes and subscribes to (see each service's main.py)."""

    service: str
    produces: tuple[str, ...]
    consumes: tuple[str, ...]

    @property
    def writes(self) -> tuple[str, ...]:
        """The topics it produces, and the dead-letter topics of those it consumes."""
        dead = (dlq_topic(t) for t in self.consumes if dlq_topic(t) in DLQ_TOPICS)
        return (*self.produces, *dead)


LAYOUT: tuple[ServiceAccess, ...] = (
    ServiceAccess("workitem", (WORKITEM_EVENTS,), (WORKITEM_COMMANDS, WORKITEM_EVENTS)),
    ServiceAccess("router", (AGENT_EVENTS, WORKITEM_EVENTS), (AGENT_COMMANDS, WORKITEM_EVENTS)),
    ServiceAccess("callback", (WORKITEM_EVENTS,), (CALLBACK_COMMANDS, WORKITEM_EVENTS)),
    ServiceAccess(
        "desktop",
        (AGENT_COMMANDS, WORKITEM_COMMANDS, CALLBACK_COMMANDS),
        (AGENT_EVENTS, WORKITEM_EVENTS),
    ),
)


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: ``principal`` may do ``operation`` on the literal resource."""

    principal: str
    resource: Resource
    name: str
    operation: Operation


def _service_grants(access: ServiceAccess, principal: str, prefix: str) -> list[Grant]:
    found = [Grant(principal, "topic", t, "WRITE") for t in access.writes]
    found += [Grant(principal, "topic", t, "READ") for t in access.consumes]
    found += [Grant(principal, "topic", t, "DESCRIBE") for t in ALL_TOPICS]
    found.append(Grant(principal, "group", f"{prefix}-{access.service}", "READ"))
    return found


def grants(
    prefix: str = "switchboard",
    users: Mapping[str, str] | None = None,
    upstream: Iterable[str] = (),
) -> list[Grant]:
    """Every ACL of the layout, for consumer groups named ``<prefix>-<service>``.
    ``users``: a service's SCRAM user name where it is not the service's own name;
    ``upstream``: users of upstream systems, which may send commands only."""
    names = users or {}
    found: set[Grant] = set()
    for access in LAYOUT:
        principal = f"User:{names.get(access.service, access.service)}"
        found.update(_service_grants(access, principal, prefix))
    for user in upstream:
        found.update(Grant(f"User:{user}", "topic", t, "WRITE") for t in UPSTREAM_COMMANDS)
        found.update(Grant(f"User:{user}", "topic", t, "DESCRIBE") for t in UPSTREAM_COMMANDS)
    return sorted(found)


def acl_bindings(chosen: Iterable[Grant]) -> list[Any]:
    """confluent-kafka ``AclBinding``s of ``chosen`` (ALLOW, from any host)."""
    # from the private modules: the package re-exports them without saying so, which
    # mypy strict refuses
    from confluent_kafka.admin._acl import (  # noqa: PLC0415
        AclBinding,
        AclOperation,
        AclPermissionType,
    )
    from confluent_kafka.admin._resource import (  # noqa: PLC0415
        ResourcePatternType,
        ResourceType,
    )

    return [
        AclBinding(
            ResourceType[g.resource.upper()],
            g.name,
            ResourcePatternType.LITERAL,
            g.principal,
            "*",
            AclOperation[g.operation],
            AclPermissionType.ALLOW,
        )
        for g in chosen
    ]


def apply(chosen: Iterable[Grant], admin_config: Mapping[str, Any], timeout: float = 30) -> None:
    """Create the ACLs with confluent-kafka's AdminClient logged in as a super user
    (``admin_config``: librdkafka settings); an error if any is refused."""
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415

    admin = AdminClient(dict(admin_config))
    for future in admin.create_acls(acl_bindings(chosen), request_timeout=timeout).values():
        future.result(timeout)


def commands(
    chosen: Iterable[Grant], bootstrap: str, command_config: str = "admin.properties"
) -> list[str]:
    """``kafka-acls.sh`` command lines that add ``chosen``, one per principal and
    resource."""
    by_resource: dict[tuple[str, str, str], list[str]] = {}
    for g in chosen:
        by_resource.setdefault((g.principal, g.resource, g.name), []).append(g.operation)
    lines = []
    for (principal, resource, name), operations in sorted(by_resource.items()):
        argv = ["kafka-acls.sh", "--bootstrap-server", bootstrap]
        argv += ["--command-config", command_config, "--add", "--allow-principal", principal]
        for operation in operations:
            argv += ["--operation", operation.capitalize()]
        argv += [f"--{resource}", name]
        lines.append(shlex.join(argv))
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m switchboard_devtools.kafka_acls",
        description="Print Switchboard's Kafka ACL layout as kafka-acls.sh commands.",
    )
    parser.add_argument("--bootstrap-server", default="kafka:9093")
    parser.add_argument("--command-config", default="admin.properties")
    parser.add_argument("--consumer-group-prefix", default="switchboard")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="SERVICE=NAME",
        help="a service's SCRAM user where it is not the service's name",
    )
    parser.add_argument("--upstream", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    users = dict(pair.split("=", 1) for pair in args.user)
    chosen = grants(args.consumer_group_prefix, users, args.upstream)
    for line in commands(chosen, args.bootstrap_server, args.command_config):
        print(line)


if __name__ == "__main__":
    main()
