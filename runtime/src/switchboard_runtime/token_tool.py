"""``sb-token``: print a token signed with the configured secret.

    sb-token agent ada            # an agent's token (sub "ada")
    sb-token supervisor sam
    sb-token integration ivr      # an upstream system's
    sb-token agent ada --hours 1

The secret is ``AUTH_JWT_SECRET`` from the environment, else from ``.run/env`` (which
``make run`` writes). With an OpenID Connect provider (``AUTH_JWKS_URL``) tokens come from
the provider instead; ``AUTH_ISSUER`` and ``AUTH_AUDIENCE`` are put in when set.
"""

from __future__ import annotations

import argparse
import os
import sys

from switchboard_runtime.auth import SUBJECT, Role, issue_token
from switchboard_runtime.run_env import setting
from switchboard_runtime.settings import MIN_SECRET_CHARS


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sb-token", description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=[str(r) for r in Role], help="the token's role")
    parser.add_argument("subject", help="agent id, or the client id of an upstream system")
    parser.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not SUBJECT.match(args.subject):
        raise SystemExit("sb-token: the subject must be an id (letters, digits, '.', '_', '-')")
    if not 0 < args.hours <= 24 * 366:
        raise SystemExit("sb-token: --hours must be more than 0 and at most a year")
    if os.environ.get("AUTH_JWKS_URL"):
        raise SystemExit("sb-token: AUTH_JWKS_URL is set: tokens come from that provider")
    secret = setting("AUTH_JWT_SECRET")
    if len(secret) < MIN_SECRET_CHARS:
        raise SystemExit(f"sb-token: AUTH_JWT_SECRET is shorter than {MIN_SECRET_CHARS}")
    token = issue_token(
        secret,
        args.subject,
        [args.role],
        ttl_seconds=round(args.hours * 3600),
        issuer=os.environ.get("AUTH_ISSUER"),
        audience=os.environ.get("AUTH_AUDIENCE"),
    )
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
