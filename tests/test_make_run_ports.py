"""`make run` with a port it cannot use: it names the port and its variable, exits
non-zero, and leaves nothing running (no broker, no service)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing_env import readers_shell

from .test_make_run import PORT_VARIABLES, alive

pytestmark = pytest.mark.integration

Launch = Callable[[dict[str, str]], subprocess.CompletedProcess[str]]


def started_by(run_dir: Path) -> list[int]:
    """Live processes started for the run in ``run_dir`` (all inherit its environment)."""
    mark = f"SWITCHBOARD_RUN_DIR={run_dir}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            owned = mark in environ.read_bytes().split(b"\0")
        except OSError:
            continue
        pid = int(environ.parent.name)
        if owned and pid != os.getpid() and alive(pid):
            found.append(pid)
    return found


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Runs the launcher as `make run` does, to its end, with ``ports`` over free ones."""
    run_dir = tmp_path / "run"

    def run(ports: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env = readers_shell()
        env.update({name: str(free_port()) for name in PORT_VARIABLES})
        env.update({"SWITCHBOARD_RUN_DIR": str(run_dir), "LOG_FORMAT": "json", **ports})
        return subprocess.run(
            [sys.executable, "-m", "switchboard_devtools.devstack"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    yield run
    assert started_by(run_dir) == [], "the launcher left processes running"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on, as a forgotten server would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def said(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "[switchboard] kafka" not in result.stderr, "brokers started before the ports were known"
    return result.stderr


@pytest.mark.parametrize("variable", PORT_VARIABLES)
def test_a_taken_port_is_named_with_its_variable(
    launch: Launch, taken_port: int, variable: str
) -> None:
    output = said(launch({variable: str(taken_port)}))

    assert f"port {taken_port} ({variable}" in output
    assert "already in use" in output


@pytest.mark.parametrize("value", ["eighty", "70000", "0", "-1", ""])
def test_a_port_that_is_not_a_port_number_is_named(launch: Launch, value: str) -> None:
    output = said(launch({"WORKITEM_HTTP_PORT": value}))

    assert f"WORKITEM_HTTP_PORT={value!r}" in output
    assert "not a port number" in output


def test_two_services_on_one_port_are_both_named(launch: Launch) -> None:
    port = str(free_port())

    output = said(launch({"WORKITEM_HTTP_PORT": port, "ROUTER_HTTP_PORT": port}))

    assert "WORKITEM_HTTP_PORT" in output
    assert "ROUTER_HTTP_PORT" in output
    assert port in output


def test_a_kafka_it_cannot_start_is_named(launch: Launch) -> None:
    output = said(launch({"SWITCHBOARD_KAFKA": "confluent"}))

    assert "KAFKA='confluent' is not a broker this starts: tansu or apache" in output
