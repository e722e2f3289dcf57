"""``sb-state``: look at, or deliberately reset, a tenant's state generation in Redis.

    sb-state show            the generation marker, or that there is none
    sb-state reset --yes     start over on what the store holds now (say after it lost
                             its state): every running service adopts the new generation

Redis comes from ``REDIS_URL``, else from ``.run/env`` written by ``make run``; the
tenant from ``TENANT_ID`` (default ``default``) or ``--tenant``. See
switchboard_runtime.generation for what the marker is for.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from redis import Redis

from switchboard_runtime.generation import RESET, new_marker
from switchboard_runtime.redis_keys import Keys

RUN_ENV = Path(os.environ.get("SWITCHBOARD_RUN_DIR", ".run")) / "env"


def redis_url() -> str:
    if "REDIS_URL" in os.environ:
        return os.environ["REDIS_URL"]
    if RUN_ENV.exists():
        for line in RUN_ENV.read_text().splitlines():
            name, _, value = line.partition("=")
            if name == "REDIS_URL":
                return value
    raise SystemExit("set REDIS_URL, or start `make run` first")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sb-state", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["show", "reset"])
    parser.add_argument("--tenant", default=os.environ.get("TENANT_ID", "default"))
    parser.add_argument("--yes", action="store_true", help="confirm the reset")
    args = parser.parse_args(argv)
    key = Keys(args.tenant).generation()
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        found = client.get(key)
        marker = found if isinstance(found, str) else None
        if args.action == "show":
            print(f"{key} = {marker}" if marker else f"{key} is missing: the state is lost")
            return
        if not args.yes:
            raise SystemExit("sb-state reset starts the tenant over; add --yes to confirm")
        new = new_marker(RESET)
        client.set(key, new)
        print(f"{key}: {marker or '(missing)'} -> {new}; running services adopt it within 1 s")
    finally:
        client.close()
