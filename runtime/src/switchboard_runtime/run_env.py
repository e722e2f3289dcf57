"""Where the terminal tools (``sb-topic``, ``sb-state``) find the brokers: the
environment, else ``.run/env``, which ``make run`` writes when it starts them."""

from __future__ import annotations

import os
from pathlib import Path


def run_env_path() -> Path:
    return Path(os.environ.get("SWITCHBOARD_RUN_DIR", ".run")) / "env"


def setting(name: str) -> str:
    """``name`` from the environment or ``.run/env``; exits with a hint if neither has it."""
    if name in os.environ:
        return os.environ[name]
    path = run_env_path()
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value
    raise SystemExit(f"set {name}, or start `make run` first")
