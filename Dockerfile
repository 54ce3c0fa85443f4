# One image for every role: web (gunicorn), worker, beat and the one-shot migrate.
# The front-end libraries come from the npm registry, as package-lock.json pins them.
FROM node:20-slim AS vendor
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && mkdir vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js vendor/ \
    && cp node_modules/htmx.org/LICENSE vendor/htmx.LICENSE

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY engine engine
COPY workflows workflows
COPY web web
COPY --from=vendor /src/vendor web/static/vendor
COPY worker worker
COPY cli cli
RUN pip install . && useradd --create-home --uid 10001 roadmap \
    && mkdir -p /data/evidence && chown roadmap /data/evidence
USER roadmap
EXPOSE 8000
CMD ["gunicorn", "--config", "python:web.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "2", "web.wsgi:app"]
