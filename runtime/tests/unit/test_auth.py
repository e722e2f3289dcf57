"""Token checks: what a caller gets for every kind of good and bad token, with a shared
secret and with an OpenID Connect provider's keys (served here over HTTP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from pydantic import ValidationError
from structlog.testing import capture_logs
from switchboard_runtime import token_tool
from switchboard_runtime.auth import (
    AuthConfig,
    Caller,
    Role,
    TokenVerifier,
    Unauthenticated,
    install_auth,
    issue_token,
)
from switchboard_runtime.settings import AuthSettings

SECRET = "s" * 64
OTHER = "o" * 64


def verifier(**config: Any) -> TokenVerifier:
    return TokenVerifier(AuthConfig(**{"secret": SECRET, **config}))


async def test_a_good_token_names_its_caller_and_roles() -> None:
    token = issue_token(SECRET, "ada", [Role.AGENT, "auditor"])  # unknown roles are ignored

    assert await verifier().caller(token) == Caller("ada", frozenset({Role.AGENT}))


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "ada", "roles": ["agent"], "exp": int(time.time()) + 600, **extra}


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (None, "a bearer token is required"),
        ("", "a bearer token is required"),
        ("not-a-jwt", "not valid"),
        ("x" * 9000, "too long"),
        (issue_token(SECRET, "ada", ["agent"], ttl_seconds=-120), "expired"),
        (issue_token(OTHER, "ada", ["agent"]), "not valid"),  # forged: another secret
        (jwt.encode({"sub": "ada", "roles": ["agent"]}, SECRET), "'exp'"),
        (jwt.encode(claims(sub=None), SECRET), "'sub'"),
        (jwt.encode(claims(sub="a:b"), SECRET), "'sub' is not an id"),
        (jwt.encode(claims(roles="agent"), SECRET), "'roles' is not a list"),
        (jwt.encode(claims(), SECRET, algorithm="HS512"), "not valid"),  # not the algorithm
        (jwt.encode(claims(), "", algorithm="none"), "not valid"),  # unsigned
    ],
)
async def test_a_bad_token_is_refused_saying_why(token: str | None, said: str) -> None:
    with pytest.raises(Unauthenticated, match=said):
        await verifier().caller(token)


async def test_issuer_and_audience_are_checked_when_set() -> None:
    strict = verifier(issuer="https://idp.example", audience="switchboard")
    good = issue_token(
        SECRET, "ivr", ["integration"], issuer="https://idp.example", audience="switchboard"
    )

    assert (await strict.caller(good)).subject == "ivr"
    for wrong in (
        issue_token(SECRET, "ivr", ["integration"]),
        issue_token(SECRET, "ivr", ["integration"], issuer="https://evil", audience="switchboard"),
        issue_token(SECRET, "ivr", ["integration"], issuer="https://idp.example", audience="x"),
    ):
        with pytest.raises(Unauthenticated):
            await strict.caller(wrong)


async def test_a_token_just_expired_is_accepted_within_the_leeway() -> None:
    token = issue_token(SECRET, "ada", ["agent"], ttl_seconds=-10)

    assert (await verifier(leeway_seconds=30).caller(token)).subject == "ada"
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier(leeway_seconds=0).caller(token)


async def test_disabled_lets_everyone_in_as_a_supervisor() -> None:
    caller = await TokenVerifier(AuthConfig(disabled=True)).caller(None)

    assert Role.SUPERVISOR in caller.roles


def test_settings_refuse_to_start_without_a_way_to_check_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)  # the test session's
    for values in (
        {},
        {"AUTH_JWT_SECRET": ""},
        {"AUTH_JWT_SECRET": "short"},
        {"AUTH_JWT_SECRET": SECRET, "AUTH_JWKS_URL": "https://idp.example/jwks"},
    ):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match="AUTH_"):
            AuthSettings()
        for name in values:
            monkeypatch.delenv(name)
    assert AuthSettings(auth_disabled=True).auth_config().disabled
    assert AuthSettings(auth_jwt_secret=SECRET).auth_config().secret == SECRET


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, dict[str, Any]]]:
    """An identity provider's JWKS over HTTP: an RSA and an EC key; yields its URL and
    the private keys by kid."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys: dict[str, Any] = {"rsa-1": rsa_key, "ec-1": ec_key}
    published = [
        json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())) | {"kid": "rsa-1"},
        json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key())) | {"kid": "ec-1"},
    ]
    body = json.dumps({"keys": [{**k, "use": "sig"} for k in published]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks", keys
    server.shutdown()


async def test_tokens_of_an_openid_provider_are_checked_with_its_keys(
    provider: tuple[str, dict[str, Any]],
) -> None:
    url, keys = provider
    checker = TokenVerifier(AuthConfig(jwks_url=url))
    rs = jwt.encode(claims(), keys["rsa-1"], algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(sub="sam"), keys["ec-1"], algorithm="ES256", headers={"kid": "ec-1"})

    assert (await checker.caller(rs)).subject == "ada"
    assert (await checker.caller(es)).subject == "sam"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
    unknown = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "rsa-9"})
    shared = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "rsa-1"})
    for bad, said in ((forged, "not valid"), (unknown, "not known"), (shared, "not valid")):
        with pytest.raises(Unauthenticated, match=said):
            await checker.caller(bad)


def test_disabling_auth_is_logged_as_a_warning() -> None:
    with capture_logs() as logs:
        install_auth(FastAPI(), AuthConfig(disabled=True))
        install_auth(FastAPI(), AuthConfig(secret=SECRET))

    assert [(e["event"], e["log_level"]) for e in logs] == [("auth_disabled", "warning")]


def test_sb_token_prints_a_token_of_the_configured_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", SECRET)
    monkeypatch.setenv("AUTH_AUDIENCE", "switchboard")

    assert token_tool.main(["agent", "ada", "--hours", "1"]) == 0
    printed = jwt.decode(
        capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"], audience="switchboard"
    )
    assert (printed["sub"], printed["roles"], printed["aud"]) == ("ada", ["agent"], "switchboard")
    assert 3500 < printed["exp"] - time.time() <= 3600


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["agent", "a:b"], {}, "must be an id"),
        (["agent", "ada", "--hours", "0"], {}, "--hours"),
        (["agent", "ada"], {"AUTH_JWKS_URL": "https://idp.example/jwks"}, "provider"),
        (["agent", "ada"], {"AUTH_JWT_SECRET": "short"}, "shorter than 32"),
    ],
)
def test_sb_token_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], said: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit, match=said):
        token_tool.main(argv)
