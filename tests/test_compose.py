"""Structure of docker-compose.yml (the Dockerfile: test_dockerfile.py).

No Docker engine is needed: these tests read the files and check what an operator relies on
(images, KRaft settings, persistence, environment, health checks, start order).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, cast

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"

APP_SERVICES: dict[str, int] = {"workitem": 8001, "callback": 8002, "router": 8003, "desktop": 8004}
PORT_VARS: dict[str, str] = {
    "workitem": "WORKITEM_HTTP_PORT",
    "callback": "CALLBACK_HTTP_PORT",
    "router": "ROUTER_HTTP_PORT",
    "desktop": "DESKTOP_HTTP_PORT",
}

# Names every deployment sets (README, Configuration), with their defaults.
CONTRACT_ENV: dict[str, str] = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "REDIS_URL": "redis://redis:6379/0",
    "OFFER_TIMEOUT_SECONDS": "30",
    "WRAPUP_TIMEOUT_SECONDS": "120",
    "WORKITEM_HTTP_PORT": "8001",
    "CALLBACK_HTTP_PORT": "8002",
    "ROUTER_HTTP_PORT": "8003",
    "DESKTOP_HTTP_PORT": "8004",
}
# The other settings the services read, with the values compose must give them.
EXTRA_ENV: dict[str, str] = {
    "KAFKA_TOPIC_PARTITIONS": "6",
    "KAFKA_REPLICATION_FACTOR": "1",
    "KAFKA_ENABLE_IDEMPOTENCE": "true",
    "LOG_FORMAT": "json",
    "TENANT_ID": "default",
    "DEFAULT_PHONE_REGION": "US",
    "ROUTING_CONFIG": "/app/services/router/src/router/routing.yaml",
}
EXTRA_ENV_NAMES_ONLY: tuple[str, ...] = ("LOG_LEVEL",)

app_params = pytest.mark.parametrize(
    ("name", "port"), list(APP_SERVICES.items()), ids=list(APP_SERVICES)
)


# --- helpers -----------------------------------------------------------------------------------


def yaml_safe_load(text: str) -> Any:
    """yaml.safe_load, imported so that mypy needs no PyYAML stubs (types-PyYAML not installed)."""
    yaml = importlib.import_module("yaml")
    return yaml.safe_load(text)


def load_compose() -> dict[str, Any]:
    data = yaml_safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return cast(dict[str, Any], data)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = cast(dict[str, Any], compose["services"])
    assert name in services, f"service {name!r} missing"
    svc = services[name]
    assert isinstance(svc, dict)
    return cast(dict[str, Any], svc)


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """The service environment as a name -> value mapping (compose allows a list or a map)."""
    raw = svc.get("environment", {})
    if isinstance(raw, list):
        pairs = [str(item).split("=", 1) for item in raw]
        return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}
    assert isinstance(raw, dict)
    return {str(k): ("" if v is None else str(v)) for k, v in raw.items()}


def interpolated(value: str, shell: dict[str, str] | None = None) -> str:
    """``value`` as compose reads it: ``${NAME:-default}`` from ``shell`` (empty here)."""
    env = shell or {}
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), value)


def as_argv(value: Any) -> list[str]:
    """A command or healthcheck test as a list of strings."""
    if isinstance(value, str):
        return value.split()
    assert isinstance(value, list)
    return [str(part) for part in value]


def healthcheck_text(svc: dict[str, Any]) -> str:
    check = svc.get("healthcheck")
    assert isinstance(check, dict), "healthcheck missing"
    assert not check.get("disable", False)
    return " ".join(as_argv(check["test"]))


def published(svc: dict[str, Any]) -> list[tuple[str, int]]:
    """(host part, container port) for each entry of `ports` (short or long syntax)."""
    result: list[tuple[str, int]] = []
    for entry in svc.get("ports", []):
        if isinstance(entry, dict):
            result.append((str(entry.get("published", "")), int(entry["target"])))
            continue
        text = str(entry).split("/", 1)[0]
        host, _, container = text.rpartition(":")
        result.append((host, int(container)))
    return result


# --- the set of services -----------------------------------------------------------------------


def test_expected_services_exist(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "redis", *APP_SERVICES}


@pytest.mark.parametrize("name", ["kafka", "redis", *APP_SERVICES])
def test_every_service_has_a_healthcheck(compose: dict[str, Any], name: str) -> None:
    assert healthcheck_text(service(compose, name)).strip()


@pytest.mark.parametrize("name", ["kafka", "redis", *APP_SERVICES])
def test_every_service_restarts_unless_stopped(compose: dict[str, Any], name: str) -> None:
    assert service(compose, name).get("restart") == "unless-stopped"


# --- kafka -------------------------------------------------------------------------------------


def test_kafka_is_apache_kafka_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    assert kafka["image"] == "apache/kafka:4.1.0"
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_NODE_ID"] == "1"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["CLUSTER_ID"], "the apache/kafka image refuses KRaft mode without CLUSTER_ID"
    assert "ZOOKEEPER" not in " ".join(env)


def test_kafka_listeners_internal_and_host(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    env = environment(kafka)
    advertised = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in advertised
    assert "PLAINTEXT_HOST://localhost:29092" in advertised
    listeners = env["KAFKA_LISTENERS"].split(",")
    assert "PLAINTEXT://:9092" in listeners
    assert "PLAINTEXT_HOST://:29092" in listeners
    assert "CONTROLLER://:9093" in listeners
    protocol_map = dict(
        pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert protocol_map == {
        "CONTROLLER": "PLAINTEXT",
        "PLAINTEXT": "PLAINTEXT",
        "PLAINTEXT_HOST": "PLAINTEXT",
    }
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    assert [port for _, port in published(kafka)] == [29092]


def test_kafka_single_node_settings(compose: dict[str, Any]) -> None:
    env = environment(service(compose, "kafka"))
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"


def test_kafka_keeps_its_log_in_a_named_volume(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    log_dir = environment(kafka)["KAFKA_LOG_DIRS"]
    volumes = [str(v) for v in kafka.get("volumes", [])]
    assert f"kafka-data:{log_dir}" in volumes
    assert "kafka-data" in compose["volumes"]


def test_kafka_healthcheck_asks_the_broker(compose: dict[str, Any]) -> None:
    text = healthcheck_text(service(compose, "kafka"))
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in text
    assert "--bootstrap-server localhost:9092" in text


# --- redis -------------------------------------------------------------------------------------


def test_redis_is_durable(compose: dict[str, Any]) -> None:
    redis = service(compose, "redis")
    assert redis["image"] == "redis:7.4"
    argv = as_argv(redis["command"])
    assert argv[0] == "redis-server"
    assert argv[argv.index("--appendonly") + 1] == "yes"
    assert argv[argv.index("--appendfsync") + 1] == "everysec"
    volumes = [str(v) for v in redis.get("volumes", [])]
    assert "redis-data:/data" in volumes
    assert "redis-data" in compose["volumes"]


def test_redis_healthcheck_pings(compose: dict[str, Any]) -> None:
    assert "redis-cli ping" in healthcheck_text(service(compose, "redis"))


# --- the four services -------------------------------------------------------------------------


@app_params
def test_app_builds_the_shared_image(compose: dict[str, Any], name: str, port: int) -> None:
    svc = service(compose, name)
    build = svc["build"]
    if isinstance(build, str):
        build = {"context": build}
    assert build["context"] == "."
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert svc["image"] == "switchboard:local"


@app_params
def test_app_runs_its_module(compose: dict[str, Any], name: str, port: int) -> None:
    assert as_argv(service(compose, name)["command"]) == ["python", "-m", name]


@app_params
def test_app_environment(compose: dict[str, Any], name: str, port: int) -> None:
    env = {var: interpolated(value) for var, value in environment(service(compose, name)).items()}
    for var, expected in {**CONTRACT_ENV, **EXTRA_ENV}.items():
        assert env.get(var) == expected, f"{name}: {var}={env.get(var)!r}, expected {expected!r}"
    for var in EXTRA_ENV_NAMES_ONLY:
        assert env.get(var), f"{name}: {var} unset"
    assert env[PORT_VARS[name]] == str(port)


@app_params
def test_app_waits_for_healthy_brokers(compose: dict[str, Any], name: str, port: int) -> None:
    depends_on = service(compose, name)["depends_on"]
    assert isinstance(depends_on, dict), "long syntax needed to express service_healthy"
    for dependency in ("kafka", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy"


@app_params
def test_app_publishes_its_port(compose: dict[str, Any], name: str, port: int) -> None:
    ports = published(service(compose, name))
    assert ports, f"{name} publishes nothing"
    assert {container for _, container in ports} == {port}
    assert any(host.endswith(str(port)) for host, _ in ports)
    assert all(host.startswith("127.0.0.1:") for host, _ in ports), "published on this host only"


@app_params
def test_app_takes_deadlines_and_region_from_the_shell_and_binds_every_interface(
    compose: dict[str, Any], name: str, port: int
) -> None:
    env = environment(service(compose, name))
    shell = {"OFFER_TIMEOUT_SECONDS": "300", "WRAPUP_TIMEOUT_SECONDS": "10"}

    passed = {var: interpolated(env[var], shell) for var in (*shell, "DEFAULT_PHONE_REGION")}

    assert passed == {**shell, "DEFAULT_PHONE_REGION": "US"}
    assert env["HTTP_HOST"] == "0.0.0.0"


@app_params
def test_app_checks_tokens_from_the_shell_and_never_lets_callers_in_unchecked(
    compose: dict[str, Any], name: str, port: int
) -> None:
    env = environment(service(compose, name))
    shell = {"AUTH_JWT_SECRET": "s" * 32, "AUTH_JWKS_URL": "https://idp.example/jwks"}
    assert {var: interpolated(env[var], shell) for var in shell} == shell
    assert interpolated(env["AUTH_JWT_SECRET"], {}) == ""  # nothing set: it does not start
    assert "AUTH_DISABLED" not in env


@app_params
def test_app_healthcheck_targets_ready(compose: dict[str, Any], name: str, port: int) -> None:
    svc = service(compose, name)
    argv = as_argv(svc["healthcheck"]["test"])
    assert argv[:3] == ["CMD", "python", "-c"], "slim image: no curl, use python urllib"
    script = " ".join(argv[3:])
    assert "urllib.request" in script
    assert f"127.0.0.1:{port}/health/ready" in script or f"localhost:{port}/health/ready" in script
    others = set(APP_SERVICES.values()) - {port}
    assert not any(f":{other}/" in script for other in others)
    compile(script, f"<{name} healthcheck>", "exec")  # valid Python
