# Tessera API with the built web app: FastAPI under Granian, several workers, user 10001.
# Build from the repository root:  docker build -f infra/docker/api.Dockerfile -t tessera-api .
# Reproducible from package-lock.json and uv.lock; nothing is downloaded after dependency resolution.
# Base images are pinned to full version tags (add @sha256 digests with your registry's tooling).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG NODE_IMAGE=node:22.20.0-bookworm-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# 1. The web app: npm workspaces, only the frontend's dependencies.
FROM ${NODE_IMAGE} AS web
WORKDIR /src
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
COPY mobile/package.json mobile/
COPY tests/package.json tests/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace frontend --no-audit --no-fund
COPY orval.config.ts ./
COPY server_fastapi/openapi.json server_fastapi/
COPY frontend/ frontend/
RUN npm run build -w frontend

# 2. The Python environment from uv.lock, then the package's source beside it: the project itself is not built
#    (no build backend to download), `python -m server_fastapi` finds it on PYTHONPATH.
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

# 3. Runtime: no compiler, no uv, no node; code owned by root and read-only for the app user.
#    /run/signer and /etc/tessera/jwt are mount points; a fresh named volume copies their owner (compose).
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tessera \
    && install -d -o 10001 -g 10001 -m 0750 /run/signer \
    && install -d -o 10001 -g 10001 -m 0700 /etc/tessera/jwt
COPY --from=python /app /app
COPY --from=web /src/frontend/dist /app/frontend/dist
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    TESSERA_ENV=production \
    TESSERA_HOST=0.0.0.0 \
    TESSERA_PORT=8000 \
    TESSERA_WEB_DIST=/app/frontend/dist
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["python", "-m", "server_fastapi"]
CMD ["serve"]
