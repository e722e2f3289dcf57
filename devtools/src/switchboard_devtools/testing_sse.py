"""Reading a Server-Sent Events stream, as the desktop gateway serves it, in tests and in
the chaos agents: one parser of the wire format instead of one per test."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable


def _ignore(_: str) -> None:
    return None


async def sse_fields(
    lines: AsyncIterable[str], comment: Callable[[str], None] = _ignore
) -> AsyncIterator[dict[str, str]]:
    """The stream's messages, each as its fields (``id``, ``event``, ``data``), from its
    lines (``httpx.Response.aiter_lines()``). Comment lines (``: heartbeat``) go to
    ``comment``; a message's several ``data`` lines are joined with newlines."""
    current: dict[str, str] = {}
    async for line in lines:
        if line.startswith(":"):
            comment(line)
        elif line == "":
            if current:
                yield current
            current = {}
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data" and name in current:
                value = f"{current[name]}\n{value}"
            current[name] = value
