"""The work item service on a Redis that speaks only TLS and lets in only its ACL user
(Debian's Redis 7): with the right CA and credentials it serves; with a wrong password or
without the CA it stays up, not ready, and says why, instead of crashing."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from switchboard_devtools.secure_redis import USER, SecureRedis
from switchboard_devtools.testing import Brokers, eventually, serving
from switchboard_devtools.testing_auth import bearer
from workitem.main import create_app

from .conftest import workitem_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secure_redis() -> Iterator[SecureRedis]:
    if not shutil.which("redis-server"):
        why = "redis-server is missing (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI runs the TLS tests", pytrace=False)
        pytest.skip(why)
    with SecureRedis() as server:
        yield server


def settings_for(brokers: Brokers, server: SecureRedis, **access: Any) -> Any:
    return workitem_settings(
        brokers,
        redis_url=server.url,
        redis_cluster=False,
        consumer_group_prefix=f"tls-{uuid.uuid4().hex[:8]}",
        **access,
    )


async def readiness(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get("/health/ready")
    return {**answer.json(), "http_status": answer.status_code}


async def test_the_service_works_over_tls_as_its_acl_user(
    brokers: Brokers, secure_redis: SecureRedis
) -> None:
    access = {
        "redis_username": USER,
        "redis_password": secure_redis.password,
        "redis_tls_ca_file": str(secure_redis.ca.cert),
    }
    settings = settings_for(brokers, secure_redis, **access)
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        await eventually(lambda: http.get("/health/ready"), timeout=60)
        assert await eventually(lambda: _status_is(http, 200), timeout=60), await readiness(http)
        created = await http.post("/v1/workitems", json={"type": "task", "description": "TLS"})
        assert created.status_code == 201, created.text
        found = await http.get(f"/v1/workitems/{created.json()['work_item_id']}")
        assert (found.status_code, found.json()["description"]) == (200, "TLS")


async def _status_is(http: httpx.AsyncClient, code: int) -> bool:
    return (await http.get("/health/ready")).status_code == code


@pytest.mark.parametrize(
    ("access", "reason"),
    [
        pytest.param(
            {"redis_username": USER, "redis_password": "wrong"},
            "AuthenticationError: invalid username-password pair",
            id="wrong-password",
        ),
        pytest.param({"redis_username": USER}, "invalid username-password", id="no-password"),
        pytest.param(
            {"redis_tls_ca_file": None}, "CERTIFICATE_VERIFY_FAILED", id="untrusted-certificate"
        ),
    ],
)
async def test_wrong_access_leaves_the_service_up_and_not_ready_saying_why(
    brokers: Brokers,
    secure_redis: SecureRedis,
    access: dict[str, Any],
    reason: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    given = {
        "redis_username": USER,
        "redis_password": secure_redis.password,
        "redis_tls_ca_file": str(secure_redis.ca.cert),
        **access,
    }
    if "redis_password" not in access and access.get("redis_username"):
        given.pop("redis_password")
    settings = settings_for(brokers, secure_redis, **given)
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        ready = await eventually(lambda: readiness(http), timeout=30)
        assert ready["http_status"] == 503
        assert ready["checks"]["redis"] == "failing"
        assert (await http.get("/health/live")).status_code == 200  # up, not crashing
        refused = await http.post("/v1/workitems", json={"type": "task"})
        assert refused.status_code == 503
    printed = capfd.readouterr()
    said = [line for line in (printed.out + printed.err).splitlines() if "startup_waiting" in line]
    assert said, "no startup_waiting_for_brokers line"
    assert reason in said[0], said[0]
