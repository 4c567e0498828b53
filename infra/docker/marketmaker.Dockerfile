# Tessera market-maker bot: the same Python package as the API without the web app, user 10001.
# Build from the repository root:  docker build -f infra/docker/marketmaker.Dockerfile -t tessera-marketmaker .
# Base images are pinned to full version tags (add @sha256 digests with your registry's tooling).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# The Python environment from uv.lock, then the package's source beside it (found on PYTHONPATH).
FROM ${PYTHON_IMAGE} AS python
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY server_fastapi/ server_fastapi/
RUN python -m compileall -q server_fastapi

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tessera
COPY --from=python /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    TESSERA_ENV=production
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["python", "-m", "server_fastapi"]
CMD ["market-maker"]
