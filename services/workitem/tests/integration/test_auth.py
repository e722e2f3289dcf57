"""Who may call the work item API: tokens checked on a running service."""

from __future__ import annotations

import uuid

import httpx
import pytest
from switchboard_devtools.testing_auth import bearer, token

from .conftest import RunningWorkItem

pytestmark = pytest.mark.integration


def task(work_item_id: str) -> dict[str, str]:
    return {"type": "task", "work_item_id": work_item_id, "description": "Auth check."}


async def test_no_token_or_a_bad_one_is_401_saying_why(workitem: RunningWorkItem) -> None:
    wid = f"auth-{uuid.uuid4().hex[:8]}"
    anonymous = httpx.AsyncClient(base_url=workitem.base_url)
    async with anonymous:
        for headers, said in (
            ({}, "bearer token is required"),
            ({"Authorization": f"Bearer {token(ttl_seconds=-300)}"}, "expired"),
            ({"Authorization": "Bearer abc.def.ghi"}, "not valid"),
            ({"Authorization": f"Basic {token()}"}, "bearer token is required"),
        ):
            answer = await anonymous.post("/v1/workitems", json=task(wid), headers=headers)
            assert answer.status_code == 401, answer.text
            assert said in answer.json()["detail"]
            assert answer.headers["www-authenticate"] == "Bearer"
        assert (await anonymous.get("/health/ready")).status_code == 200  # stays open
        assert (await anonymous.get("/metrics")).status_code == 200
    assert (await workitem.http.get(f"/v1/workitems/{wid}")).status_code == 404  # none made


async def test_an_agent_may_not_create_work_but_may_read_it(workitem: RunningWorkItem) -> None:
    wid = f"auth-{uuid.uuid4().hex[:8]}"
    ada = bearer("ada", ["agent"])

    refused = await workitem.http.post("/v1/workitems", json=task(wid), headers=ada)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "this needs the role integration or supervisor"}
    assert (await workitem.http.get(f"/v1/workitems/{wid}")).status_code == 404

    made = await workitem.http.post(
        "/v1/workitems", json=task(wid), headers=bearer("ivr", ["integration"])
    )
    assert made.status_code == 201, made.text
    assert (await workitem.http.get(f"/v1/workitems/{wid}", headers=ada)).status_code == 200
    nobody = await workitem.http.get(f"/v1/workitems/{wid}", headers=bearer("x", []))
    assert nobody.status_code == 403  # a token with no role reads nothing


async def test_an_agent_reads_only_its_own_inbox(workitem: RunningWorkItem) -> None:
    ada = bearer("ada", ["agent"])

    assert (await workitem.http.get("/v1/agents/ada/inbox", headers=ada)).status_code == 200
    other = await workitem.http.get("/v1/agents/bob/inbox", headers=ada)
    assert other.status_code == 403
    assert "may not act for agent 'bob'" in other.json()["detail"]
    sam = bearer("sam", ["supervisor"])
    assert (await workitem.http.get("/v1/agents/bob/inbox", headers=sam)).status_code == 200
