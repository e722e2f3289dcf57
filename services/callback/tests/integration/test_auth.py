"""Who may call the callback API: an agent's token schedules, cancels and uploads nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from switchboard_devtools.testing_auth import bearer

from .conftest import RunningCallback, new_phone

pytestmark = pytest.mark.integration


def request() -> dict[str, str]:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return {"customer_phone": new_phone(), "scheduled_at": later}


async def test_an_agent_may_not_schedule_or_cancel_callbacks(service: RunningCallback) -> None:
    ada = bearer("ada", ["agent"])

    refused = await service.http.post("/v1/callbacks", json=request(), headers=ada)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "this needs the role integration or supervisor"}

    made = await service.http.post(
        "/v1/callbacks", json=request(), headers=bearer("ivr", ["integration"])
    )
    assert made.status_code == 201, made.text
    cid = made.json()["callback_id"]
    assert (await service.http.delete(f"/v1/callbacks/{cid}", headers=ada)).status_code == 403
    seen = await service.http.get(f"/v1/callbacks/{cid}", headers=ada)  # reading: any role
    assert seen.status_code == 200
    assert seen.json()["status"] == "scheduled"  # not cancelled


async def test_campaigns_need_an_upstream_system_or_a_supervisor(service: RunningCallback) -> None:
    ada = bearer("ada", ["agent"])
    rows = [{"customer_phone": new_phone()}]

    upload = await service.http.post("/v1/campaigns/auth-check/contacts", json=rows, headers=ada)
    assert upload.status_code == 403
    assert (await service.http.get("/v1/campaigns/auth-check", headers=ada)).status_code == 403
    missing = await service.http.get("/v1/campaigns/auth-check", headers={"Authorization": ""})
    assert missing.status_code == 401
