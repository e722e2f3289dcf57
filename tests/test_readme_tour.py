"""The README's tour and examples, run as written, on whatever day the test runs.

The tour's blocks run in order as a reader runs them (see ``readme_shell``): ``make run``
with the variables its block sets, watching terminals in the background, every command
in one shell. After each block the test checks what the README says the reader sees, in
the block's own output or on the watching terminal. Read-only blocks (a ``curl`` of the
Inbox or of a record) are run again until they show it, as a reader would, since the
read side follows the lifecycle events. Then the callback and campaign examples, and
every request example the services' Swagger pages offer for "Try it out".
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import pytest_asyncio
from switchboard_devtools.testing import eventually
from switchboard_runtime.auth import issue_token

from .readme_shell import Block, Environment, Ports, Shell, Stack, Watcher, blocks, json_values

TOOLS = ("bash", "curl", "jq", "timeout", "date")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in TOOLS), reason=f"the README's tour needs {TOOLS}"
    ),
]

Event = dict[str, Any]


class Tour:
    """The reader's three terminals, and what they have seen so far."""

    def __init__(self, tmp: Path) -> None:
        self.env = Environment(tmp / "run", Ports())
        self.tmp = tmp
        self.shell = Shell(self.env, tmp)
        self.stack: Stack | None = None
        self.watcher: Watcher | None = None
        self.seen: dict[str, Any] = {}

    async def restart(self, extra: dict[str, str]) -> None:
        await self.stop_stack()
        self.stack = Stack(self.env, extra, self.tmp / "make-run.log")
        await self.stack.start()

    async def watch(self, block: Block) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        self.watcher = Watcher(self.env, block, self.tmp / "watch.log")
        await self.watcher.start(block.text.split()[-1])

    async def shows(self, want: Callable[[Event], bool], timeout: float = 30) -> Event:
        """The first event on the watching terminal that ``want`` accepts (waiting for it)."""
        assert self.watcher is not None
        watcher = self.watcher

        def found() -> Event | None:
            return next((e for e in watcher.events() if want(e)), None)

        event: Event = await eventually(found, timeout=timeout, interval=0.2)
        return event

    async def until(
        self, block: Block, holds: Callable[[list[Any]], bool], timeout: float = 30
    ) -> list[Any]:
        """Run a read-only block again until what it prints ``holds``."""

        async def shown() -> list[Any] | None:
            values = json_values(await self.shell.run(block))
            return values if values and holds(values) else None

        values: list[Any] = await eventually(shown, timeout=timeout, interval=0.5)
        return values

    async def stop_stack(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        if self.stack is not None:
            await self.stack.stop()


def of(ce_type: str, **data: Any) -> Callable[[Event], bool]:
    return lambda e: e["type"] == ce_type and all(e["data"].get(k) == v for k, v in data.items())


def label(due: datetime, tz: ZoneInfo) -> str:
    """The due label the README promises, computed here from the dates alone."""
    days = (due.astimezone(tz).date() - datetime.now(tz).date()).days
    local = due.astimezone(tz).date().isoformat()
    return {0: "Today", 1: "Tomorrow"}.get(days, "Overdue" if days < 0 else local)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def tokens(tour: Tour, block: Block) -> None:
    """The tokens are signed with the secret make run generated (the reader set none)."""
    await tour.shell.run(block)
    secret = tour.env.written("AUTH_JWT_SECRET")
    claims = {}
    for name in ("IVR", "ADA"):
        text = await tour.shell.run(Block(f'echo "${name}"\n', watch=False))
        claims[name] = jwt.decode(text.strip(), secret, algorithms=["HS256"])
    assert (claims["IVR"]["sub"], claims["IVR"]["roles"]) == ("ivr", ["integration"])
    assert (claims["ADA"]["sub"], claims["ADA"]["roles"]) == ("ada", ["agent"])


async def sign_in(tour: Tour, block: Block) -> None:
    await tour.shell.run(block)
    await tour.shows(of("agent.status_changed", agent_id="ada", status="available"))


async def create(tour: Tour, block: Block) -> None:
    [item] = json_values(await tour.shell.run(block))
    assert item["type"] == "task"
    assert item["description"].startswith("Customer moved")
    due = parse_time(item["due_at"])
    assert timedelta(hours=23) < due - datetime.now(UTC) <= timedelta(days=1)
    tour.seen.update(id=item["work_item_id"], due=due)


async def replay(tour: Tour, block: Block) -> None:
    assert (await tour.shell.run(block)).strip().lower() == "idempotent-replayed: true"


async def offer_id(tour: Tour, block: Block) -> None:
    made = await tour.shows(of("offer.made", work_item_id=tour.seen["id"], agent_id="ada"))
    assert made["data"]["actions"] == ["accept", "reject"]
    assert parse_time(made["data"]["expires_at"]) > datetime.now(UTC) + timedelta(minutes=4)
    assert (await tour.shell.run(block)).strip() == made["data"]["offer_id"]


async def sends(tour: Tour, block: Block) -> None:
    output = await tour.shell.run(block)
    assert [v["sent"] for v in json_values(output)], output


async def inbox(tour: Tour, block: Block) -> None:
    def active(rows: list[Any]) -> bool:
        return any(r["work_item_id"] == tour.seen["id"] and r["status"] == "active" for r in rows)

    rows = await tour.until(block, active)
    [row] = [r for r in rows if r["work_item_id"] == tour.seen["id"]]
    assert row["badge"] == "TASK"
    assert row["subject"]
    assert row["due_label"] == label(tour.seen["due"], ZoneInfo("Europe/Paris"))


async def archived(tour: Tour, block: Block) -> None:
    [record] = await tour.until(block, lambda v: v[0]["status"] == "archived")
    assert record["disposition_code"] == "resolved"
    assert record["history"][0] == "workitem.created"
    assert record["history"][-2:] == ["workitem.completed", "workitem.archived"]


async def does_not_fit(tour: Tour, block: Block) -> None:
    output = await tour.shell.run(block)
    rejected = await tour.shows(of("command.rejected", work_item_id=tour.seen["id"]))
    assert rejected["data"]["reason"] == "item_completed"
    dead = json_values(output)[-1]
    assert dead["value"]["data"] == {"agent_id": "ada"}
    assert dead["headers"]["sb-error"] == "schema_violation"


async def wrapup_expires(tour: Tour, block: Block) -> None:
    [record] = await tour.until(block, lambda v: v[0]["status"] == "archived", timeout=60)
    assert record["disposition_code"] == "wrapup_timeout"
    assert "workitem.wrapup_expired" in record["history"]


async def offer_expires(tour: Tour, block: Block) -> None:
    item_id = (await tour.shell.run(block)).strip().splitlines()[-1]
    await tour.shows(of("offer.made", work_item_id=item_id))
    revoked = await tour.shows(of("offer.revoked", work_item_id=item_id), timeout=60)
    assert revoked["data"]["reason"] == "expired"
    away = await tour.shows(of("agent.status_changed", agent_id="ada", status="away"))
    assert away["data"]["reason"] == "missed_offer"


Check = Callable[[Tour, Block], Awaitable[None]]
# The tour's command blocks, in order: how each begins, and what the reader sees after it.
STEPS: list[tuple[str, Check]] = [
    ("IVR=$(", tokens),
    ("desk() {", sign_in),
    ("KEY=tour-", create),
    ("curl -s -i -X POST", replay),
    ("offer_of() {", offer_id),
    ("desk offer.accept", sends),
    ('curl -s -H "Authorization: Bearer $ADA" "localhost:8001/v1/agents/ada/inbox', inbox),
    ("desk item.end", sends),
    ('curl -s -H "Authorization: Bearer $IVR" localhost:8001/v1/workitems/$ID', archived),
    ("desk item.complete", does_not_fit),
    ("ID=$(curl", sends),
    ('curl -s -H "Authorization: Bearer $IVR" localhost:8001/v1/workitems/$ID', wrapup_expires),
    ("desk agent.status", offer_expires),
]


@pytest_asyncio.fixture
async def tour(tmp_path: Path) -> AsyncIterator[Tour]:
    tour = Tour(tmp_path)
    await tour.shell.start()
    try:
        yield tour
    finally:
        await tour.shell.stop()
        await tour.stop_stack()


async def test_the_readme_tour_works_as_written(tour: Tour) -> None:
    tour_blocks = blocks("tour")
    commands = [b for b in tour_blocks if not b.watch and b.make_run_env() is None]
    assert len(commands) == len(STEPS)
    begins = [b.text.split("\n")[0][: len(p)] for b, (p, _) in zip(commands, STEPS, strict=True)]
    assert begins == [p for p, _ in STEPS]
    steps = iter(STEPS)
    for block in tour_blocks:
        extra = block.make_run_env()
        if extra is not None:
            await tour.restart(extra)
        elif block.watch:
            await tour.watch(block)
        else:
            await next(steps)[1](tour, block)


def openapi_examples(port: int) -> list[tuple[str, str, bytes]]:
    """(path, content type, body) of every request example a service's Swagger page shows."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=10) as r:
        document = json.loads(r.read())
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        body = operations.get("post", {}).get("requestBody", {})
        for media, content in body.get("content", {}).items():
            if "example" in content:
                found.append((path, media, str(content["example"]).encode()))
            ref = content.get("schema", {}).get("$ref", "")
            for example in schemas.get(ref.rsplit("/", 1)[-1], {}).get("examples", []):
                found.append((path, media, json.dumps(example).encode()))
    return found


def post(port: int, path: str, media: str, body: bytes, token: str) -> tuple[int, str]:
    """POST as "Try it out" does once authorized with a token (a path parameter filled
    in); the status and the answer."""
    url = f"http://127.0.0.1:{port}{path.replace('{campaign_id}', 'try-it-out')}"
    headers = {"content-type": media, "authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http only
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


async def test_the_callback_examples_and_every_swagger_example_work_today(tour: Tour) -> None:
    await tour.restart({})
    callback, campaign = blocks("examples")

    shown, status = json_values(await tour.shell.run(callback))
    assert shown["status"] == "scheduled"
    assert parse_time(shown["scheduled_at"]) > datetime.now(UTC) + timedelta(minutes=50)
    assert status == "cancelled"
    loaded, counts = json_values(await tour.shell.run(campaign))
    assert [row["row"] for row in loaded["rejected"]] == [2], loaded
    assert counts, counts

    ports = tour.env.ports.by_variable
    token = issue_token(tour.env.written("AUTH_JWT_SECRET"), "swagger", ["integration"])
    for service in ("WORKITEM_HTTP_PORT", "CALLBACK_HTTP_PORT"):
        examples = openapi_examples(ports[service])
        assert examples, service
        for path, media, body in examples:
            status, answer = post(ports[service], path, media, body, token)
            assert status in (200, 201), (path, body, answer)
