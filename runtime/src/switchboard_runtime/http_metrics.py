"""Every HTTP request of a service: counted and timed by method, route template and
status, logged in one ``http_request`` line, and given a correlation id.

The route is the template the request matched (``/workitems/{work_item_id}``), never the
raw path, and ``unmatched`` for a path no route has; methods outside the usual few are
``other``: no client can make a label take unbounded values.

The correlation id is the caller's ``X-Correlation-Id`` when it is a valid one (see
switchboard_runtime.http), else a new ``http-<hex>``. It is on every log line written
while the request runs, in the events the request causes, and in the response's
``X-Correlation-Id`` header, so a caller without one learns the id to look for.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard_runtime.http import CORRELATION_ID_MAX, CORRELATION_ID_PATTERN
from switchboard_runtime.logs import correlation
from switchboard_runtime.metrics import Families

log = structlog.get_logger(__name__)

CORRELATION_HEADER = b"x-correlation-id"
CORRELATION_STATE = "correlation_id"  # where the request's id is kept (request.state)
QUIET_ROUTES = frozenset({"/health/live", "/health/ready", "/metrics"})  # logged at DEBUG
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class HttpMetrics(Families):
    def __init__(self) -> None:
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "switchboard_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            labels,
            registry=None,
        )
        self.duration = Histogram(
            "switchboard_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status code.",
            labels,
            registry=None,
        )


def route_of(scope: Scope) -> str:
    """The template of the route the request matched (FastAPI notes it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class ObservedRequests:
    """ASGI middleware: counts every HTTP request into ``metrics`` (a request that raised
    counts as the 500 the server answers), logs it, and gives it a correlation id."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        cid = correlation_of(scope)
        scope.setdefault("state", {})[CORRELATION_STATE] = cid

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [*message.get("headers", ()), (CORRELATION_HEADER, cid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with correlation(cid):
            try:
                await self._app(scope, receive, noting_status)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = route_of(scope)
        labels = (method, route, str(status))
        self._metrics.requests.labels(*labels).inc()
        self._metrics.duration.labels(*labels).observe(seconds)
        level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
        log.log(
            level,
            "http_request",
            method=method,
            route=route,
            status=status,
            ms=round(seconds * 1000, 1),
        )


def correlation_of(scope: Scope) -> str:
    """The caller's valid ``X-Correlation-Id``, else a new one (an invalid header is the
    route's to refuse with a 422)."""
    for name, value in scope.get("headers", ()):
        if name == CORRELATION_HEADER:
            text = str(value.decode("latin-1"))
            if 0 < len(text) <= CORRELATION_ID_MAX and re.fullmatch(CORRELATION_ID_PATTERN, text):
                return text
            break
    return f"http-{uuid.uuid4().hex[:12]}"
