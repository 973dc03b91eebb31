# syntax=docker/dockerfile:1
# The rum image: one image, every role (`rum collector`, `rum pipeline`, `rum alerts`,
# `rum serve`, `rum migrate`), chosen by the command.

# --- the browser agent (rum.js), built with the lockfile's exact versions ---
FROM node:20.18.1-bookworm-slim AS beacon
WORKDIR /src/js-beacon
COPY js-beacon/package.json js-beacon/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY js-beacon/ ./
RUN npm run build

# --- the built-in dashboard (served at /) ---
FROM node:20.18.1-bookworm-slim AS dashboard
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY dashboard/ ./
RUN npm run build

# --- the Python package ---
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 rum \
 && useradd --system --uid 10001 --gid rum --home-dir /var/lib/rum --shell /usr/sbin/nologin rum
WORKDIR /app
# dependencies first (cached while only the code changes)
COPY pyproject.toml README.md ./
COPY collector/ collector/
COPY pipeline/ pipeline/
COPY queries/ queries/
COPY rollups/ rollups/
COPY alerts/ alerts/
COPY cli/ cli/
COPY grafana/ grafana/
COPY demo/ demo/
RUN pip install --no-compile . \
 && mkdir -p /var/lib/rum \
 && chown rum:rum /var/lib/rum
COPY --from=beacon /src/js-beacon/dist/ /app/js-beacon/dist/
COPY --from=dashboard /src/dashboard/dist/ /app/dashboard/dist/
ENV RUM_DATA_DIR=/var/lib/rum \
    RUM_BEACON_DIR=/app/js-beacon/dist \
    RUM_DASHBOARD_DIR=/app/dashboard/dist
USER rum
# 8080: intake (public side); 9091: admin listener (read side, /metrics) when RUM_ADMIN_PORT=9091
EXPOSE 8080 9091
ENTRYPOINT ["rum"]
CMD ["serve"]
