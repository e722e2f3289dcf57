"""``make run``: brokers (embedded unless given) and the three services, in the foreground.

Ctrl-C or SIGTERM stops every service, then the embedded brokers; nothing is left
running. If a service exits on its own, everything else is stopped too and the exit
code says so.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from switchboard_runtime.embedded import EmbeddedStack, ManagedProcess


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port_variable: str
    default_port: int

    def port(self) -> int:
        return int(os.environ.get(self.port_variable, self.default_port))


SERVICES = (
    ServiceSpec("workitem", "WORKITEM_HTTP_PORT", 8001),
    ServiceSpec("callback", "CALLBACK_HTTP_PORT", 8002),
    ServiceSpec("router", "ROUTER_HTTP_PORT", 8003),
)
READY_TIMEOUT_S = float(os.environ.get("SWITCHBOARD_READY_TIMEOUT_SECONDS", "90"))


def _say(message: str) -> None:
    print(f"[switchboard] {message}", file=sys.stderr, flush=True)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _brokers(stack: EmbeddedStack, run_dir: Path) -> dict[str, str]:
    env = {}
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    redis = os.environ.get("REDIS_URL")
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka or stack.start_kafka()
    _say(f"kafka  {env['KAFKA_BOOTSTRAP_SERVERS']} ({'given' if kafka else 'embedded Tansu'})")
    env["REDIS_URL"] = redis or stack.start_redis(persist_dir=run_dir / "valkey")
    _say(
        f"redis  {env['REDIS_URL']} ({'given' if redis else 'embedded Valkey, AOF in .run/valkey'})"
    )
    return env


def _wait_ready(services: list[tuple[ServiceSpec, ManagedProcess]], stop: threading.Event) -> bool:
    pending = dict(services)
    while pending and not stop.is_set():
        for spec, proc in list(pending.items()):
            if not proc.alive():
                _say(f"{spec.name} exited during start-up")
                return False
            if _ready(spec.port()):
                _say(
                    f"{spec.name:<9}ready on http://127.0.0.1:{spec.port()} "
                    f"(docs: /docs, health: /health/ready)"
                )
                del pending[spec]
        stop.wait(0.25)
    return not pending


def run() -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _say(f"received {signal.Signals(signum).name}, stopping")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    log_dir = Path(os.environ.get("SWITCHBOARD_RUN_DIR", ".run"))
    log_dir.mkdir(parents=True, exist_ok=True)
    services: list[tuple[ServiceSpec, ManagedProcess]] = []
    with EmbeddedStack(log_dir=log_dir) as stack:
        brokers = _brokers(stack, log_dir)
        # Terminal tools (sb-topic) find the brokers of this run here.
        (log_dir / "env").write_text("".join(f"{k}={v}\n" for k, v in brokers.items()))
        env = {**os.environ, **brokers}
        for spec in SERVICES:
            proc = ManagedProcess(spec.name, [sys.executable, "-m", spec.name], env=env)
            proc.start()
            services.append((spec, proc))
        code = 0
        if _wait_ready(services, stop):
            _say("all services ready; Ctrl-C stops everything")
        while not stop.is_set() and code == 0:
            for spec, proc in services:
                if not proc.alive():
                    _say(f"{spec.name} exited unexpectedly; stopping the rest")
                    code = 1
            stop.wait(0.5)
        for _, proc in reversed(services):
            proc.stop(timeout=15)
    _say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(run())
