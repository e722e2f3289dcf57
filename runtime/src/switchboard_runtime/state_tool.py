"""``sb-state``: look at, or deliberately reset, a tenant's state generation in Redis.

    sb-state show            the generation marker, or that there is none
    sb-state reset --yes     start over on what the store holds now (say after it lost
                             its state): every running service adopts the new generation

Redis comes from ``REDIS_URL``, else from ``.run/env`` written by ``make run`` (a Redis
Cluster node with ``REDIS_CLUSTER=true`` or a ``redis+cluster://`` URL); the tenant from
``TENANT_ID`` (default ``default``) or ``--tenant``. See switchboard_runtime.generation
for what the marker is for.
"""

from __future__ import annotations

import argparse
import os

from redis import Redis
from redis.cluster import RedisCluster

from switchboard_runtime.generation import RESET, new_marker
from switchboard_runtime.redis_keys import Keys
from switchboard_runtime.run_env import setting
from switchboard_runtime.settings import CommonSettings


def _client(url: str) -> Redis | RedisCluster:
    """A client of ``url``: of a cluster when REDIS_CLUSTER (or the URL's scheme) says so."""
    settings = CommonSettings(redis_url=url)
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, decode_responses=True)
    return Redis.from_url(settings.redis_url, decode_responses=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sb-state", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["show", "reset"])
    parser.add_argument("--tenant", default=os.environ.get("TENANT_ID", "default"))
    parser.add_argument("--yes", action="store_true", help="confirm the reset")
    args = parser.parse_args(argv)
    key = Keys(args.tenant).generation()
    client = _client(setting("REDIS_URL"))
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
