"""HTTP request count and latency of a service, by method, route template and status.

The route is the template the request matched (``/workitems/{work_item_id}``), never the
raw path, and ``unmatched`` for a path no route has; methods outside the usual few are
``other``: no client can make a label take unbounded values.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard_runtime.metrics import Families

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


class HttpMetricsMiddleware:
    """ASGI middleware counting every HTTP request into ``metrics``; a request that
    raised counts as the 500 the server answers."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, noting_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = (method, route_of(scope), str(status))
            self._metrics.requests.labels(*labels).inc()
            self._metrics.duration.labels(*labels).observe(time.perf_counter() - started)
