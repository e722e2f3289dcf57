"""Test tooling for the services' HTTP tests: a schemathesis run against a running
service's own OpenAPI document, and a raw-socket upload of a huge body.

Needs the dev dependencies (schemathesis, requests), as ``switchboard_devtools.testing``
needs pytest; nothing in the services imports it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from switchboard_devtools.testing_auth import bearer

EXAMPLES = 40  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
Operation = APIOperation[Any, Any, Any, Any]
# /metrics answers Prometheus text, which health.py does not document (FastAPI says JSON).
UNDOCUMENTED_CONTENT = {"/metrics"}

HUGE = 600 * 1024 * 1024
CHUNK = 64 * 1024
# What loopback socket buffers can hold beyond what the server read (a few MB on Linux).
SLACK = 32 * 1024 * 1024


def fuzz_operation(
    operation: Operation, mode: GenerationMode, base_url: str, session: requests.Session
) -> None:
    checks = CHECKS[:2] if operation.path in UNDOCUMENTED_CONTENT else CHECKS

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is a regression
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case[Operation]) -> None:
        case.call_and_validate(base_url=base_url, session=session, checks=checks, timeout=10)

    run()


def fuzz(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    paths: Sequence[str] | None = None,
) -> list[str]:
    """Every operation of the service at ``base_url`` (those of ``paths`` only, when
    given) in both modes, sent with ``headers`` (default: a supervisor's token, to which
    every route of the services is open); what failed, one line (and its repro) each.
    Synchronous: run it in a thread from an async test."""
    whole = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    schema = whole if paths is None else whole.include(path=list(paths))
    failures: list[str] = []
    with requests.Session() as session:
        session.headers.update(bearer() if headers is None else headers)
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(f"an operation schemathesis cannot read: {result.err()}")
                continue
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    fuzz_operation(operation, mode, base_url, session)
                except Unsatisfiable:  # nothing to get wrong (no parameters, a free string)
                    assert mode is GenerationMode.NEGATIVE, operation.label
                # every failure is reported, not just the first (FailureGroup is a
                # BaseExceptionGroup)
                except (Exception, BaseExceptionGroup) as exc:
                    failures.append(f"{operation.label} ({mode}): {exc}")
    return failures


async def assert_answers_only_what_it_documents(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    paths: Sequence[str] | None = None,
) -> None:
    """Requests that fit the OpenAPI document of the service at ``base_url`` and requests
    that break it never get a 5xx, nor an answer it does not document; fails naming
    every failure. ``headers`` and ``paths``: as for :func:`fuzz`."""
    # schemathesis calls synchronously: in a thread, while this loop serves the requests
    failures = await asyncio.to_thread(fuzz, base_url, headers=headers, paths=paths)

    assert failures == [], "\n\n".join(failures)


async def upload(
    base_url: str, path: str, total: int, *, declare_length: bool, chunk: int = CHUNK
) -> tuple[int, dict[str, Any], int]:
    """POST ``total`` bytes of JSON whitespace to ``path`` as raw HTTP/1.1 while reading
    the answer: with a declared Content-Length (and no body sent), or chunked in
    ``chunk``-byte frames. Returns the answer's status, its JSON body and how many bytes
    had been sent when it arrived."""
    url = urlsplit(base_url)
    host = url.hostname
    reader, writer = await asyncio.open_connection(host, url.port)
    framing = f"Content-Length: {total}" if declare_length else "Transfer-Encoding: chunked"
    auth = bearer()["Authorization"]
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    sent = 0

    async def send_chunks() -> None:
        nonlocal sent
        frame = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"
        while sent < total:
            writer.write(frame)
            sent += chunk
            await writer.drain()

    sender = None if declare_length else asyncio.create_task(send_chunks())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
        at_answer = sent
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length"))
        body = json.loads(await asyncio.wait_for(reader.readexactly(length), timeout=10))
    finally:
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return int(lines[0].split()[1]), body, at_answer


async def assert_huge_upload_refused(
    base_url: str, path: str, limit: int, *, declare_length: bool, chunk: int = CHUNK
) -> None:
    """A 600 MB upload to ``path`` is a 413 naming ``limit``, answered before any of a
    declared body is sent, or within ``limit`` (plus what socket buffers hold) of a
    streamed one."""
    status, body, sent = await upload(
        base_url, path, HUGE, declare_length=declare_length, chunk=chunk
    )

    assert status == 413, (status, body)
    assert f"{limit} bytes" in body["detail"], body
    if declare_length:
        assert sent == 0, f"{sent} bytes sent before the answer to a declared {HUGE}"
    else:
        assert sent < limit + SLACK, f"{sent} bytes sent before the answer, with a limit of {limit}"
