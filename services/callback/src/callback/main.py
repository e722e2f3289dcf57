"""Composition root of the callback service. In this version it connects and reports health only."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_runtime.http import serve
from switchboard_runtime.logs import configure_logging
from switchboard_runtime.service import ServiceRuntime, service_app
from switchboard_schemas.topics import ALL_TOPICS

from callback.config import CallbackSettings

SERVICE = "callback"


def create_app(settings: CallbackSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, service=SERVICE, topics=ALL_TOPICS, relay_outbox=False)
    return service_app(runtime, "Switchboard callback service")


def main() -> None:
    settings = CallbackSettings()
    configure_logging(SERVICE, settings.log_format, settings.log_level)
    serve(create_app(settings), settings.http_host, settings.callback_http_port)
