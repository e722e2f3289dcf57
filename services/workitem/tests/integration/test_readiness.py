"""Readiness follows the brokers and the state: it drops when Redis goes away, stays down
when Redis comes back without the state it held, and returns with the state."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from switchboard_devtools.embedded import EmbeddedStack, free_port
from switchboard_devtools.testing import Brokers, eventually, serving
from switchboard_devtools.testing_auth import bearer
from switchboard_runtime.state_tool import main as sb_state
from workitem.main import create_app

from .conftest import workitem_settings

pytestmark = pytest.mark.integration


async def _ready_is(http: httpx.AsyncClient, code: int) -> bool:
    return (await http.get("/health/ready")).status_code == code


async def test_ready_flips_when_redis_is_unreachable_and_back_with_its_state(
    brokers: Brokers, tmp_path: Path
) -> None:
    with EmbeddedStack() as own_redis:
        settings = workitem_settings(
            brokers,
            redis_url=own_redis.start_redis(persist_dir=tmp_path),
            redis_cluster=False,  # its own plain server, whatever the session's
            consumer_group_prefix=f"readiness-{uuid.uuid4().hex[:8]}",
        )
        async with (
            serving(create_app(settings)) as url,
            httpx.AsyncClient(headers=bearer(), base_url=url) as http,
        ):
            await eventually(lambda: _ready_is(http, 200), timeout=60)
            kept = (await http.post("/v1/workitems", json={"type": "task"})).json()

            own_redis.stop()
            await eventually(lambda: _ready_is(http, 503), timeout=10)
            body = (await http.get("/health/ready")).json()
            assert body["checks"]["redis"] == "failing"
            assert body["checks"]["kafka"] == "ok"
            assert (await http.get("/health/live")).status_code == 200
            create = await http.post("/v1/workitems", json={"type": "task"})
            assert create.status_code == 503
            assert create.headers["Retry-After"] == "1"

            own_redis.start_redis(persist_dir=tmp_path)  # same port, its AOF replayed
            await eventually(lambda: _ready_is(http, 200), timeout=15)
            found = await http.get(f"/v1/workitems/{kept['work_item_id']}")
            assert found.status_code == 200
            create = await http.post("/v1/workitems", json={"type": "task"})
            assert create.status_code == 201


async def test_a_store_that_comes_back_empty_is_noticed_until_it_is_reset(
    brokers: Brokers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with EmbeddedStack() as own_redis:
        settings = workitem_settings(
            brokers,
            redis_url=own_redis.start_redis(),  # memory only
            redis_cluster=False,  # its own plain server, whatever the session's
            consumer_group_prefix=f"wiped-{uuid.uuid4().hex[:8]}",
        )
        async with (
            serving(create_app(settings)) as url,
            httpx.AsyncClient(headers=bearer(), base_url=url) as http,
        ):
            await eventually(lambda: _ready_is(http, 200), timeout=60)
            created = await http.post(
                "/v1/workitems", json={"type": "task"}, headers={"Idempotency-Key": "wipe-1"}
            )
            wid = created.json()["work_item_id"]

            own_redis.stop()
            own_redis.start_redis()  # same port, nothing in it
            await eventually(lambda: _state_is(http, "redis_state_lost"), timeout=15)
            assert (await http.get(f"/v1/workitems/{wid}")).status_code == 503  # not 404
            replay = await http.post(
                "/v1/workitems", json={"type": "task"}, headers={"Idempotency-Key": "wipe-1"}
            )
            assert replay.status_code == 503  # not a second item under the same key

            monkeypatch.setenv("REDIS_URL", settings.redis_url)
            sb_state(["reset", "--yes", "--tenant", settings.tenant_id])
            assert "reset:" in capsys.readouterr().out
            await eventually(lambda: _ready_is(http, 200), timeout=15)
            assert (await http.get(f"/v1/workitems/{wid}")).status_code == 404  # started over


async def _state_is(http: httpx.AsyncClient, shown: str) -> bool:
    body = (await http.get("/health/ready")).json()
    return bool(body["checks"].get("redis_state") == shown)


async def test_each_of_several_bootstrap_servers_is_tried(brokers: Brokers) -> None:
    """KAFKA_BOOTSTRAP_SERVERS lists brokers, the first of them down: the service starts
    on the next (FastStream took the list for one host name, and never started)."""
    down = f"127.0.0.1:{free_port()}"
    settings = workitem_settings(
        brokers,
        kafka_bootstrap_servers=f"{down}, {brokers.kafka_bootstrap_servers}",
        consumer_group_prefix=f"listed-{uuid.uuid4().hex[:8]}",
    )
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        await eventually(lambda: _ready_is(http, 200), timeout=60)
        assert (await http.post("/v1/workitems", json={"type": "task"})).status_code == 201
