# syntax=docker/dockerfile:1
# Production image: one image, three roles (web, worker, beat) chosen by the command.

FROM python:3.13-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==0.13.9"
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
# /healthz checks the database and the broker; it is asked with a host name Django accepts.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os, sys, urllib.request as u; host = os.environ['ALLOWED_HOSTS'].split(',')[0].strip(); sys.exit(u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4).status != 200)"
# Decisions wait for Telnyx (bounded retries), so requests get more than gunicorn's default 30 s.
# One worker per core, four threads each: sized for 2 cores (README, "Sizing gunicorn").
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--timeout", "90", "--access-logfile", "-"]
