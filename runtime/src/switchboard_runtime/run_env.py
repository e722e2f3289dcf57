"""Where the terminal tools (``sb-topic``, ``sb-state``) find the brokers: the
environment, else ``.run/env``, which ``make run`` writes when it starts them."""

from __future__ import annotations

import os
from pathlib import Path


def run_env_path() -> Path:
    return Path(os.environ.get("SWITCHBOARD_RUN_DIR", ".run")) / "env"


def setting(name: str) -> str:
    """``name`` from the environment or ``.run/env``; exits with a one-line hint if
    neither has it (or ``.run/env`` cannot be read)."""
    if name in os.environ:
        return os.environ[name]
    path = run_env_path()
    try:
        text = path.read_text() if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"cannot read {path} ({exc}); set {name} instead") from None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == name:
            return value
    raise SystemExit(f"set {name}, or start `make run` first")
