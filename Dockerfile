# syntax=docker/dockerfile:1
#
# One image for all four Switchboard services. Pick the service with the command:
#   python -m workitem | python -m router | python -m callback | python -m desktop
# docker-compose.yml sets the command, environment and health check of each one.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the six distributions (non-editable) into a virtualenv -----------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src
COPY constraints.txt ./
COPY schemas/ schemas/
COPY runtime/ runtime/
COPY services/ services/

# The versions the tests ran with (constraints.txt). Dependency order: the wire contract, then the shared runtime, then the services. Each
# step finds the previous local distributions already installed, so pip never looks for
# switchboard-* on an index.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -c constraints.txt ./schemas \
 && pip install -c constraints.txt ./runtime \
 && pip install -c constraints.txt ./services/workitem \
 && pip install -c constraints.txt ./services/router \
 && pip install -c constraints.txt ./services/callback \
 && pip install -c constraints.txt ./services/desktop \
 && pip check

# --- final: slim runtime, non-root -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS final

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    ROUTING_CONFIG=/app/services/router/src/router/routing.yaml

RUN groupadd --system --gid 10001 switchboard \
 && useradd --system --uid 10001 --gid switchboard --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin switchboard

COPY --from=build /opt/venv /opt/venv

# The sources stay readable (root-owned) under /app: ROUTING_CONFIG defaults to the routing
# file shipped with the router, and operators can mount their own over it.
WORKDIR /app
COPY schemas/ /app/schemas/
COPY runtime/ /app/runtime/
COPY services/ /app/services/

USER 10001:10001

# workitem, callback, router, desktop
EXPOSE 8001 8002 8003 8004

CMD ["python", "-c", "print('switchboard image: run python -m workitem | router | callback | desktop')"]
