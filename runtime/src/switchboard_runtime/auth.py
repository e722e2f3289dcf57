"""Who is calling: bearer JWTs, checked the same way by every service.

A token's ``sub`` is the caller (an agent id, or the client id of an upstream system) and
its ``roles`` a list of ``agent``, ``supervisor`` and ``integration``; ``exp`` is
required. Tokens are signed with a shared secret (HS256, ``AUTH_JWT_SECRET``) or by an
OpenID Connect provider whose keys are read from ``AUTH_JWKS_URL`` (RS256, ES256);
``AUTH_ISSUER`` and ``AUTH_AUDIENCE`` are checked when set. Verification is PyJWT's.

A route names what it needs with :func:`needs`; a missing or bad token is a 401, a good
token without the right role a 403, both with a JSON ``detail`` saying why. Turning
authentication off takes ``AUTH_DISABLED=true``: every caller is then an anonymous
supervisor, and the service logs a warning when it starts.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

log = structlog.get_logger(__name__)

HS_ALGORITHMS = ["HS256"]
OIDC_ALGORITHMS = ["RS256", "ES256"]
SUBJECT = re.compile(r"^[A-Za-z0-9._-]{1,128}$")  # an id, as ids are everywhere else
MAX_TOKEN_CHARS = 8192


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    INTEGRATION = "integration"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: who (``subject``) and what it may do (``roles``)."""

    subject: str
    roles: frozenset[Role]

    def has_any(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)


ANONYMOUS = Caller("anonymous", frozenset(Role))


class Unauthenticated(Exception):  # noqa: N818 - reads as "the caller is unauthenticated"
    """No usable token; the message says why (it is the 401's detail)."""


@dataclass(frozen=True)
class AuthConfig:
    """How tokens are checked (built from the settings, see CommonSettings)."""

    secret: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 30
    disabled: bool = False


class TokenVerifier:
    """Checks a bearer token and says who it belongs to."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._jwks = jwt.PyJWKClient(config.jwks_url, lifespan=300) if config.jwks_url else None

    async def caller(self, token: str | None) -> Caller:
        if self.config.disabled:
            return ANONYMOUS
        if not token:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <JWT>)")
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("the token is too long")
        try:
            claims = await self._claims(token)
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.MissingRequiredClaimError as missing:
            raise Unauthenticated(f"the token has no {missing.claim!r} claim") from None
        except jwt.PyJWKClientError:
            raise Unauthenticated("the token's signing key is not known") from None
        except jwt.PyJWTError as bad:
            raise Unauthenticated(f"the token is not valid: {bad}") from None
        return caller_of(claims)

    async def _claims(self, token: str) -> dict[str, Any]:
        c = self.config
        key: Any = c.secret
        algorithms = HS_ALGORITHMS
        if self._jwks is not None:
            key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            algorithms = OIDC_ALGORITHMS
        options: Any = {"require": ["exp", "sub"], "verify_aud": c.audience is not None}
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            options=options,
            audience=c.audience,
            issuer=c.issuer,
            leeway=c.leeway_seconds,
        )


def caller_of(claims: Mapping[str, Any]) -> Caller:
    """The caller a verified token's claims name (roles it does not know are ignored)."""
    subject, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        raise Unauthenticated("the token's 'sub' is not an id (letters, digits, '.', '_', '-')")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("the token's 'roles' is not a list of role names")
    known = {r.value for r in Role}
    return Caller(subject, frozenset(Role(r) for r in roles if r in known))


def issue_token(
    secret: str,
    subject: str,
    roles: Iterable[Role | str],
    *,
    ttl_seconds: int = 12 * 3600,
    issuer: str | None = None,
    audience: str | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """An HS256 token for ``subject`` (what ``sb-token`` and the tests hand out)."""
    issued = int(now())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [str(r) for r in roles],
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def install_auth(app: FastAPI, config: AuthConfig) -> None:
    """Check the callers of ``app``'s routes as ``config`` says (see :func:`needs`)."""
    app.state.auth = TokenVerifier(config)
    if config.disabled:
        log.warning("auth_disabled", detail="AUTH_DISABLED=true: every caller is accepted")


_bearer = HTTPBearer(auto_error=False, description="A JWT: `Authorization: Bearer <token>`.")


def verifier_of(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.auth
    return verifier


async def caller_or_401(request: Request, token: str | None) -> Caller:
    """The caller ``token`` names, for this app's checks (401 when it names none)."""
    try:
        return await verifier_of(request).caller(token)
    except Unauthenticated as why:
        raise HTTPException(401, str(why), headers={"WWW-Authenticate": "Bearer"}) from None


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller of this request (401 when there is no usable token)."""
    return await caller_or_401(request, credentials.credentials if credentials else None)


AnyCaller = Annotated[Caller, Depends(authenticated)]


def needs(*roles: Role) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    """A dependency: the caller, if it has one of ``roles`` (403 otherwise)."""
    names = " or ".join(str(r) for r in roles)

    async def check(caller: AnyCaller) -> Caller:
        if not caller.has_any(roles):
            raise HTTPException(403, f"this needs the role {names}")
        return caller

    return check


def may_act_for(caller: Caller, agent_id: str) -> None:
    """An agent may act only as itself; a supervisor for anyone (403 otherwise)."""
    if caller.subject == agent_id or Role.SUPERVISOR in caller.roles:
        return
    raise HTTPException(403, f"a token of {caller.subject!r} may not act for agent {agent_id!r}")


# What the routes of each kind need, the same in every service.
INTAKE = Depends(needs(Role.INTEGRATION, Role.SUPERVISOR))  # creating and cancelling work
READER = Depends(needs(*Role))  # reading a record: any role

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No bearer token, or one that is expired, forged or malformed"},
    403: {"description": "The token's roles or subject do not allow this"},
}
