"""Running the README's shell blocks the way a reader does: ``make run`` in one terminal,
a watching ``sb-topic tail`` in another, the commands in a third, one shell throughout.

The blocks come from README.md between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``;
a block right after ``<!-- tour:watch -->`` is a watching terminal. Only the ports are
changed (``localhost:8001`` becomes a free port), so that the test can run beside a
``make run`` of its own user.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import signal
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from switchboard_devtools.embedded import free_port
from switchboard_devtools.testing import eventually
from switchboard_devtools.testing_env import readers_shell

from .test_make_run import ready

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WATCH = "<!-- tour:watch -->"
DEFAULT_PORTS = {"WORKITEM_HTTP_PORT": 8001, "CALLBACK_HTTP_PORT": 8002, "ROUTER_HTTP_PORT": 8003}
MAKE_RUN = re.compile(r"^((?:[A-Z_]+=\S+\s+)*)make run$")


@dataclass(frozen=True)
class Block:
    text: str
    watch: bool = False

    def make_run_env(self) -> dict[str, str] | None:
        """The variables of a ``VAR=value make run`` block; None for any other block."""
        found = MAKE_RUN.match(self.text.strip())
        if found is None:
            return None
        return dict(pair.split("=", 1) for pair in found.group(1).split())


def blocks(name: str, readme: Path = README) -> list[Block]:
    """The ```sh blocks of README.md between the ``name`` markers, in order."""
    text = readme.read_text()
    section = text.split(f"<!-- {name}:begin -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    found = re.finditer(r"(?P<before>[^\n]*)\n```sh\n(?P<body>.*?)```", section, re.S)
    return [Block(m["body"], watch=m["before"].strip() == WATCH) for m in found]


@dataclass
class Ports:
    by_variable: dict[str, int] = field(
        default_factory=lambda: {name: free_port() for name in DEFAULT_PORTS}
    )

    def rewrite(self, text: str) -> str:
        for name, default in DEFAULT_PORTS.items():
            text = text.replace(f"localhost:{default}", f"localhost:{self.by_variable[name]}")
        return text


class Environment:
    """What every process of the tour sees: the run directory, the ports, no brokers of
    the test session (the tour's brokers are the ones ``make run`` starts)."""

    def __init__(self, run_dir: Path, ports: Ports) -> None:
        self.run_dir = run_dir
        self.ports = ports
        env = readers_shell()
        env.update({k: str(v) for k, v in ports.by_variable.items()})
        env.update(SWITCHBOARD_RUN_DIR=str(run_dir), LOG_FORMAT="json", KAFKA_TOPIC_PARTITIONS="3")
        self.vars = env

    def written(self, name: str) -> str:
        """What ``make run`` wrote to ``.run/env`` for ``name``."""
        for line in (self.run_dir / "env").read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise AssertionError(f"make run wrote no {name}")

    def kafka(self) -> str:
        return self.written("KAFKA_BOOTSTRAP_SERVERS")


class Stack:
    """``make run``: the launcher it starts, with the block's variables."""

    def __init__(self, env: Environment, extra: dict[str, str], log: Path) -> None:
        self._env, self._extra, self.log = env, extra, log
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("a") as out:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "switchboard_devtools.devstack",
                env={**self._env.vars, **self._extra}, stdout=out, stderr=out, cwd=ROOT,
            )  # fmt: skip
        for port in self._env.ports.by_variable.values():
            await eventually(functools.partial(self._up, port), timeout=120, interval=0.25)
            assert not self._exited(), self.log.read_text()

    def _up(self, port: int) -> bool:
        """Ready on ``port``, or gone (then there is nothing to wait for)."""
        return ready(port) or self._exited()

    def _exited(self) -> bool:
        return self._proc is None or self._proc.returncode is not None

    async def stop(self) -> None:
        """Ctrl-C, as the reader does; it must stop cleanly."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(self._proc.wait(), 60) == 0, self.log.read_text()


class Watcher:
    """A watching terminal: a block run in the background, its output in a file."""

    def __init__(self, env: Environment, block: Block, out: Path) -> None:
        self._env, self._block, self.out = env, block, out
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, topic: str) -> None:
        """Start, and return once it prints what arrives (it reads from the end)."""
        with self.out.open("w") as out:
            self._proc = await asyncio.create_subprocess_exec(
                "bash", "-c", self._env.ports.rewrite(self._block.text), env=self._env.vars,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, cwd=ROOT,
                start_new_session=True,
            )  # fmt: skip
        token = uuid.uuid4().hex  # a record no reader follows: it has no CloudEvents type
        producer = AIOKafkaProducer(bootstrap_servers=self._env.kafka())
        await producer.start()
        try:

            async def shown() -> bool:
                await producer.send_and_wait(topic, json.dumps({"tour_probe": token}).encode())
                return token in self.out.read_text()

            await eventually(shown, timeout=60, interval=0.5)
        finally:
            await producer.stop()

    def events(self) -> list[dict[str, Any]]:
        """The CloudEvents it printed so far (``sb-topic tail`` prints ``{"value": …}``)."""
        shown = []
        for line in self.out.read_text().splitlines():
            with_value = json.loads(line) if line.startswith("{") else {}
            value = with_value.get("value")
            if isinstance(value, dict) and "type" in value:
                shown.append(value)
        return shown

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            await asyncio.wait_for(self._proc.wait(), 15)


class Shell:
    """The reader's command terminal: one bash, so variables and functions carry over."""

    def __init__(self, env: Environment, scratch: Path) -> None:
        self._env, self._scratch = env, scratch
        self._proc: asyncio.subprocess.Process | None = None
        self._count = 0

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            "bash", env=self._env.vars, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

    async def run(self, block: Block, timeout: float = 60) -> str:
        """Run ``block`` as typed (ports rewritten); its output. It must succeed."""
        assert self._proc is not None
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._count += 1
        script = self._scratch / f"block-{self._count}.sh"
        script.write_text(self._env.ports.rewrite(block.text))
        token = uuid.uuid4().hex
        # the block's output may not end with a newline (curl's doesn't): start a line
        run = f"source {script} </dev/null; _sb_rc=$?; printf '\\n%s %s\\n' {token} $_sb_rc\n"
        self._proc.stdin.write(run.encode())
        await self._proc.stdin.drain()
        lines: list[str] = []
        while True:
            raw = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
            line = raw.decode(errors="replace")
            assert raw, f"the shell ended: {''.join(lines)}"
            if line.startswith(token):
                assert line.split()[1] == "0", f"{block.text}\n{''.join(lines)}"
                return "".join(lines)
            lines.append(line)

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()


def json_values(output: str) -> list[Any]:
    """Every JSON value printed one after another (``jq`` output), in order."""
    decoder, found, at = json.JSONDecoder(), [], 0
    text = output.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        found.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return found
