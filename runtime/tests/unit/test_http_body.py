"""Reading bodies within a limit, strict JSON, and 422 answers that are always JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, field_validator
from starlette.types import Message, Scope
from switchboard_runtime.http import CorrelationId, json_safe, validation_failed
from switchboard_runtime.http_body import parse_body, parse_json, read_body

LIMIT = 16384
CHUNK = 64 * 1024
HUGE = 600 * 1024 * 1024


class Item(BaseModel):
    name: str
    priority: int = 5


class Shifted(BaseModel):
    """A model whose validator does date arithmetic that can overflow."""

    at: datetime

    @field_validator("at")
    @classmethod
    def _a_day_later(cls, value: datetime) -> datetime:
        return value + timedelta(days=1)


def test_a_validator_that_overflows_is_a_422_not_a_500() -> None:
    with pytest.raises(RequestValidationError) as caught:
        parse_body(b'{"at": "9999-12-31T12:00:00Z"}', Shifted, context={}, max_bytes=LIMIT)

    [error] = caught.value.errors()
    assert (error["type"], error["loc"]) == ("value_out_of_range", ("body",))
    fine = parse_body(b'{"at": "2026-01-01T00:00:00Z"}', Shifted, context={}, max_bytes=LIMIT)
    assert fine.at == datetime(2026, 1, 2, tzinfo=UTC)


def app() -> FastAPI:
    api = FastAPI()
    api.add_exception_handler(RequestValidationError, validation_failed)

    @api.post("/items")
    async def create(request: Request, correlation_id: CorrelationId) -> dict[str, Any]:
        raw = await read_body(request, LIMIT)
        item = parse_body(raw, Item, context={}, max_bytes=LIMIT)
        return {"name": item.name, "correlation_id": correlation_id}

    return api


class Upload:
    """An ASGI request whose body of ``total`` bytes is handed over one chunk at a time,
    counting what the app took."""

    def __init__(
        self,
        total: int,
        headers: list[tuple[bytes, bytes]],
        *,
        chunk: int = CHUNK,
        gone_after: int | None = None,
    ) -> None:
        """``gone_after``: the client disconnects after this many chunks."""
        self.total = total
        self.gone_after = gone_after
        self.received = 0
        self.consumed = 0
        self.headers = headers
        self.sent: list[Message] = []
        self._chunk = b" " * chunk

    async def receive(self) -> Message:
        self.received += 1
        if self.gone_after is not None and self.received > self.gone_after:
            return {"type": "http.disconnect"}
        size = min(len(self._chunk), self.total - self.consumed)
        self.consumed += size
        body = self._chunk[:size]
        return {"type": "http.request", "body": body, "more_body": self.consumed < self.total}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    async def post(self, api: FastAPI) -> tuple[int, Any]:
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/items",
            "raw_path": b"/items",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        await api(scope, self.receive, self.send)
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        return self.sent[0]["status"], json.loads(body)


async def test_a_600_mb_stream_is_refused_after_the_limit_and_one_chunk() -> None:
    upload = Upload(HUGE, [])

    status, body = await upload.post(app())

    assert status == 413
    assert body == {"detail": f"request body larger than {LIMIT} bytes"}
    assert upload.consumed <= LIMIT + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    upload = Upload(HUGE, [(b"content-length", str(HUGE).encode())])

    status, body = await upload.post(app())

    assert status == 413
    assert "larger than" in body["detail"]
    assert upload.consumed == 0


@pytest.mark.parametrize("declared", [b"9" * 40, "\u00b2".encode("latin-1"), b"12a"])
async def test_an_odd_content_length_is_no_500(declared: bytes) -> None:
    upload = Upload(HUGE, [(b"content-length", declared)])

    status, _ = await upload.post(app())

    assert status == 413


async def test_a_client_that_goes_away_mid_body_is_answered_400() -> None:
    upload = Upload(HUGE, [], chunk=1024, gone_after=3)
    status, _ = await upload.post(app())

    assert status == 400
    assert upload.consumed == 3 * 1024  # it went away after three chunks, under the limit


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[" * 1000 + b"]" * 1000, "200 levels"),
        (b'{"name": "\\ud800"}', "lone surrogate"),
        (b'{"name": "\\udc00\\ud800x"}', "lone surrogate"),
        (b'{"name": "\xed\xa0\x80"}', "invalid unicode"),
        (b'{"name": "x", "priority": NaN}', "NaN and Infinity"),
        (b'{"name": "x", "priority": Infinity}', "NaN and Infinity"),
        (b'{"priority": 1' + b"0" * 5000 + b"}", "out of range"),
        (b"", "EOF"),
        (b'{"name": "x"} trailing', "trailing"),
    ],
)
def test_json_no_service_takes_is_a_json_invalid_error(raw: bytes, says: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        parse_json(raw)

    [error] = caught.value.errors()
    assert error["type"] == "json_invalid"
    assert error["loc"] == ("body",)
    assert says in error["msg"]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (float("nan"), "nan"),
        ("a\ud800b", "a\\ud800b"),
        ({"k\udfff": (1, 2.5, None, True)}, {"k\\udfff": [1, 2.5, None, True]}),
        (ValueError("boom"), "boom"),
        (b"\xff", "\ufffd"),
    ],
)
def test_json_safe_values_render_as_strict_utf8_json(value: Any, safe: Any) -> None:
    assert json_safe(value) == safe
    json.dumps(json_safe(value), allow_nan=False).encode("utf-8")


def test_json_safe_cuts_deep_nesting() -> None:
    nested: Any = "leaf"
    for _ in range(500):
        nested = [nested]

    rendered = json.dumps(json_safe(nested))

    assert rendered.count("[") == 20
    assert '"..."' in rendered


@pytest.mark.parametrize(
    "raw", [b'{"name": 1e400}', b'{"name": "x", "priority": -1e400}', b'{"name": {"a": 1e999}}']
)
async def test_a_422_echoing_an_infinite_input_is_valid_json(raw: bytes) -> None:
    transport = httpx.ASGITransport(app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/items", content=raw)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("header", "status", "seen"),
    [
        (None, 200, None),
        ("", 200, None),
        ("corr-1", 200, "corr-1"),
        ("x" * 256, 200, "x" * 256),
        ("x" * 257, 422, None),
        ("tab\there", 422, None),
    ],
)
async def test_the_correlation_id_header(header: str | None, status: int, seen: str) -> None:
    headers = {} if header is None else {"X-Correlation-Id": header}
    transport = httpx.ASGITransport(app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/items", json={"name": "x"}, headers=headers)

    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["correlation_id"] == seen
    else:
        assert response.json()["detail"][0]["loc"] == ["header", "x-correlation-id"]
