# syntax=docker/dockerfile:1.10.0
# The Python application image: gateway (bot/), action server (actions/), `cns` (migrations,
# reports, admin commands). docker-compose.yml picks the process with `command:`.
# Build context: the repository root (`docker build -f docker/app.Dockerfile .`).

FROM python:3.11.11-slim-bookworm

# uv, pinned: the version that writes this repository's uv.lock.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    RASA_TELEMETRY_ENABLED=false \
    APP_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    ACTIONS_HOST=0.0.0.0 \
    ACTIONS_PORT=5055 \
    PATH="/app/.venv/bin:${PATH}"

# Tesseract's Vietnamese language data (Debian's packages) for reading residents' screenshots
# (core/screens.py); the tesserocr wheel brings the engine library, the data comes from here.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie \
 && rm -rf /var/lib/apt/lists/*
ENV TESSDATA_PREFIX=/usr/share/tesseract-ocr/5/tessdata

RUN groupadd --system --gid 10001 cns \
 && useradd --system --uid 10001 --gid cns --create-home --home-dir /home/cns \
        --shell /usr/sbin/nologin cns

WORKDIR /app

# Dependencies first (their own layer, rebuilt only when the lock changes).
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself. It is installed editable (uv's default) on purpose: core/settings.py
# finds alembic.ini, core/migrations and data/ relative to the source tree, i.e. under /app.
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY core ./core
COPY bot ./bot
COPY actions ./actions
COPY reports ./reports
COPY cns ./cns
# The pure-Python Vietnamese text helpers (nlu/vietnamese.py) are shared with the gateway;
# nothing here imports nlu/components.py, which needs Rasa.
COPY nlu ./nlu
COPY data ./data

RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && mkdir -p /app/var \
 && chown cns:cns /app/var

# The code stays root-owned and read-only for the service user; only var/ is writable.
USER cns

EXPOSE 8000 5055

# The gateway (bot/__main__.py: uvicorn on GATEWAY_HOST:GATEWAY_PORT, proxy headers on,
# WebSockets off). docker-compose.yml runs the action server (`python -m actions.server`) and
# `cns migrate` from this image too. APP_ENV=production: both servers refuse to start with a
# default or empty PSEUDONYM_KEY, RASA_TOKEN or ACTIONS_TOKEN.
CMD ["python", "-m", "bot"]
