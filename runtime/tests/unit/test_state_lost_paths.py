"""While the store has lost its state, what a service still serves: health, metrics, the
API docs and its pages; everything else answers 503 redis_state_lost."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from switchboard_runtime.generation import Generation, RefuseWhileStateLost


@dataclass
class LostGeneration:
    lost: bool = True


def app_with(pages: tuple[str, ...]) -> FastAPI:
    app = FastAPI()

    @app.get("/{path:path}")
    async def anything(path: str) -> dict[str, str]:
        return {"served": path}

    generation: Generation = LostGeneration()  # type: ignore[assignment]
    app.add_middleware(RefuseWhileStateLost, generation=generation, pages=pages)
    return app


async def statuses(app: FastAPI, paths: list[str]) -> dict[str, int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return {path: (await http.get(path)).status_code for path in paths}


async def test_a_service_with_a_page_still_serves_the_page_and_its_files() -> None:
    app = app_with(("/", "/static/", "/v1/desktop/config"))
    paths = ["/", "/static/app.js", "/v1/desktop/config", "/health/ready", "/v1/desktop/events"]
    paths += ["/v1/desktop/configuration", "/staticx"]

    assert await statuses(app, paths) == {
        "/": 200,
        "/static/app.js": 200,
        "/v1/desktop/config": 200,
        "/health/ready": 200,
        "/v1/desktop/events": 503,
        "/v1/desktop/configuration": 503,  # an exact page opens only itself
        "/staticx": 503,
    }


async def test_a_service_without_pages_refuses_all_but_health_metrics_and_docs() -> None:
    found = await statuses(app_with(()), ["/", "/metrics", "/openapi.json", "/v1/workitems/w"])

    assert found == {"/": 503, "/metrics": 200, "/openapi.json": 200, "/v1/workitems/w": 503}
