# Production image: one image, three roles (web, worker, beat) chosen by the command.
# syntax=docker/dockerfile:1

FROM python:3.13-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
# collectstatic needs settings that pass the production checks; these values are build-time only.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build STATIC_ROOT=/app/staticfiles \
    .venv/bin/python manage.py collectstatic --no-input -v 0

FROM python:3.13-slim AS run
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 DEBUG=0 STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/var/lib/portouts MEDIA_ROOT=/var/lib/portouts/media
RUN groupadd --system app && useradd --system --gid app --home /app app \
    && mkdir -p /var/lib/portouts/media && chown -R app:app /var/lib/portouts
WORKDIR /app
COPY --from=build --chown=app:app /app /app
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
