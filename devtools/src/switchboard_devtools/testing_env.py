"""What the test session finds around it: a Docker engine (for testcontainers), Java and
Maven (for Apache Kafka, of the version asked for), and the shell a reader would have
without the session's broker settings. ``switchboard_devtools.testing`` chooses the
session's brokers with these.
"""

from __future__ import annotations

import os
import shutil

import pytest

from switchboard_devtools.apache_kafka_fetch import KAFKA_VERSION, missing_tools


def docker_answers() -> bool:
    """True when a Docker engine answers a ping (testcontainers can start containers)."""
    try:
        import docker  # noqa: PLC0415 - optional, only with testcontainers

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def apache_kafka_version() -> str:
    """The Kafka release the Apache Kafka tests run: SWITCHBOARD_APACHE_KAFKA_VERSION
    (how the pinned KAFKA_VERSION was chosen; each version's jars are cached apart)."""
    return os.environ.get("SWITCHBOARD_APACHE_KAFKA_VERSION") or KAFKA_VERSION


def require_java_and_maven(version: str = KAFKA_VERSION, fetching: bool = False) -> None:
    """A skip (a failure under CI) when java, or mvn before the first fetch, is missing."""
    missing = missing_tools(version)
    if fetching and "mvn" not in missing and shutil.which("mvn") is None:
        missing.append("mvn")
    if missing:
        why = (
            f"{' and '.join(missing)} not on PATH: Apache Kafka runs from Maven Central's "
            "jars (apt-get install openjdk-17-jre-headless maven)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI runs on Apache Kafka", pytrace=False)
        pytest.skip(why)


# the test session's settings for the brokers it chose; a reader's shell has none of them
SESSION_VARIABLES = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "REDIS_URL",
    "AUTH_JWT_SECRET",
    "KAFKA_ENABLE_IDEMPOTENCE",  # the Apache Kafka leg's; the embedded Tansu refuses it
)


def readers_shell() -> dict[str, str]:
    """This process's environment without the test session's broker settings: what a
    command a newcomer types (``make run``) would see."""
    return {k: v for k, v in os.environ.items() if k not in SESSION_VARIABLES}
