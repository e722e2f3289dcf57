"""Tokens for tests: the session signs with one secret, set for every service it starts.

Importing this module (the pytest plugin does) sets ``AUTH_JWT_SECRET`` in the
environment unless it is set already, so settings built in the test process and services
started as subprocesses check tokens against the same secret.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable

from switchboard_runtime.auth import Role, issue_token

SECRET: str = os.environ.setdefault("AUTH_JWT_SECRET", secrets.token_urlsafe(32))
# what test clients act as unless they say otherwise: an upstream system and a supervisor
DEFAULT_ROLES = (Role.INTEGRATION, Role.SUPERVISOR)


def token(
    subject: str = "tests", roles: Iterable[Role | str] = DEFAULT_ROLES, ttl_seconds: int = 3600
) -> str:
    """A token of the session's secret (a negative ``ttl_seconds``: expired already)."""
    return issue_token(SECRET, subject, roles, ttl_seconds=ttl_seconds)


def bearer(subject: str = "tests", roles: Iterable[Role | str] = DEFAULT_ROLES) -> dict[str, str]:
    """The Authorization header of a token for ``subject`` with ``roles``."""
    return {"Authorization": f"Bearer {token(subject, roles)}"}
