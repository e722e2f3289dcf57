"""Composition root of the router. In this version it connects and reports health only."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_runtime.http import serve
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.service import ServiceRuntime, service_app
from switchboard_schemas.topics import ALL_TOPICS

from router.config import RouterSettings

SERVICE = "router"


def create_app(settings: RouterSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, service=SERVICE, topics=ALL_TOPICS, relay_outbox=False)
    return service_app(runtime, "Switchboard router")


def main() -> None:
    settings = RouterSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.router_http_port)
