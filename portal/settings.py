"""Settings for the port-out review dashboard, read from the environment (12-factor).

Local runs need nothing: SQLite and a file-system Celery broker are used when
DATABASE_URL and REDIS_URL are unset. With DEBUG off, SECRET_KEY and
ALLOWED_HOSTS must be given, and the deployment checks pass.

One module of some 440 lines because it is one concern, what the environment sets: each
group (Celery, Telnyx, review, risk, alerts, e-mail) is a few lines of reads with the
comment that says what a value means, and one file is the one place to look them up
(`portal.settings` is named by manage.py, the WSGI, ASGI and Celery entry points, pytest and
mypy).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# A developer's own overrides (git-ignored); real environment variables win.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _path(name: str, default: Path) -> Path:
    """A folder from the environment, absolute; unset or empty means the default."""
    return Path(env.str(name, default="") or default).resolve()


# Local state of a development run: SQLite database, broker folders, media, beat schedule.
VAR_DIR = _path("VAR_DIR", BASE_DIR / "var")

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the dashboard's host names when DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "import_export",
    "portal",
    "portouts",
]
# The local Telnyx sandbox (`manage.py telnyx_sandbox`, which `make demo` runs) is a
# development tool: installed with DEBUG on, or where SANDBOX_ENABLED asks for it.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("telnyx_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages shrink about eightfold (the queue's 113 KB of HTML). BREACH needs a secret
    # that stays the same beside reflected input: the CSRF token in a page is masked
    # afresh on every response, the session lives only in a cookie, and Django pads each
    # compressed body with random bytes ("Heal the Breach").
    "django.middleware.gzip.GZipMiddleware",
    "portal.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.SignInRequiredMiddleware",
    "portal.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portouts.context_processors.sync_status",
                "portouts.context_processors.page_refresh",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    threshold := env.str("DATABASE_PREPARE_THRESHOLD", default="2")
):
    # Server-side binding lets psycopg prepare a statement after `threshold` runs on a
    # connection: PostgreSQL then skips parsing and planning it, which was two thirds of its
    # CPU per page. Empty turns it off (PgBouncer in transaction mode cannot keep them).
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": int(threshold),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes during a sync.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a Celery worker process started by a test sees the test database.
    # One per test run (by process id), so concurrent runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Permissions are read from the cache (two queries fewer on every page); a change of role
# counts from the next request, and after this many seconds at the latest if the cache was
# unreachable when it was made (portal/permissions.py).
AUTHENTICATION_BACKENDS = ["portal.permissions.CachedPermissionsBackend"]
PERMISSIONS_CACHE_SECONDS = env.int("PERMISSIONS_CACHE_SECONDS", default=60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portouts:queue"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins allowed per (user name, client address) in the window below.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
LOGIN_FAILURE_ADDRESS_LIMIT = env.int("LOGIN_FAILURE_ADDRESS_LIMIT", default=50)
# Reverse proxies in front of the dashboard that append to X-Forwarded-For (0 = none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = _path("STATIC_ROOT", VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = _path("MEDIA_ROOT", VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Supporting documents uploaded through the dashboard (Telnyx's own limit is 20 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 21 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis host that is down answers nothing: give up within seconds, so pages
            # and sign-in that cope with a cache outage are not held for minutes.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_path("CACHE_DIR", VAR_DIR / "cache")),
        }
    }

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_DIR = _path("CELERY_BROKER_DIR", VAR_DIR / "broker")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
    # Beat on several machines: RedBeat keeps the schedule in Redis behind a lock, so one
    # beat is active and the others wait to take over (after CELERY_REDBEAT_LOCK_TIMEOUT);
    # portal/beat.py has it write the schedule only once it holds the lock.
    CELERY_BEAT_SCHEDULER = "portal.beat.LockedRedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_KEY_PREFIX = env.str("CELERY_REDBEAT_KEY_PREFIX", default="redbeat:")
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=300)
else:
    # A real broker with no server to install: kombu's file-system transport.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3300)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Separate queues so workers on several machines can take sync, exports and the rest
# apart (`celery worker -Q sync`); off by default, so one worker with no -Q takes all.
CELERY_SEPARATE_QUEUES = env.bool("CELERY_SEPARATE_QUEUES", default=False)
if CELERY_SEPARATE_QUEUES:
    CELERY_TASK_ROUTES = {
        "portouts.tasks.sync_portouts_task": {"queue": "sync"},
        "portouts.tasks.refresh_portout_task": {"queue": "sync"},
        "portouts.tasks.export_report_task": {"queue": "exports"},
        "portouts.tasks.poll_telnyx_reports_task": {"queue": "exports"},
        "portouts.tasks.expire_reports_task": {"queue": "exports"},
        "portouts.tasks.alerts_evaluate_task": {"queue": "notifications"},
        "portouts.tasks.metrics_weekly_summary_task": {"queue": "notifications"},
        "portouts.tasks.deliver_notification_task": {"queue": "notifications"},
    }
SYNC_INCREMENTAL_EVERY = env.int("SYNC_INCREMENTAL_EVERY", default=60)
# Days of Telnyx events a full sync stores (the port-out timeline shows them)
SYNC_EVENTS_WINDOW_DAYS = env.int("SYNC_EVENTS_WINDOW_DAYS", default=30)
SYNC_FULL_CRONTAB = env.str("SYNC_FULL_CRONTAB", default="15 2 * * *")
_minute, _hour, _dom, _month, _dow = SYNC_FULL_CRONTAB.split()
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "sync-incremental": {
        "task": "portouts.tasks.sync_portouts_task",
        "schedule": timedelta(seconds=SYNC_INCREMENTAL_EVERY),
        "kwargs": {"full": False},
    },
    "sync-full-nightly": {
        "task": "portouts.tasks.sync_portouts_task",
        "schedule": crontab(
            minute=_minute, hour=_hour, day_of_month=_dom, month_of_year=_month, day_of_week=_dow
        ),
        "kwargs": {"full": True},
    },
}
# Reports: Telnyx reports are polled (Telnyx sends no webhook for them); housekeeping
# deletes expired reports and fails exports that stopped making progress.
REPORT_POLL_EVERY = env.int("REPORT_POLL_EVERY", default=30)
CELERY_BEAT_SCHEDULE["reports-poll-telnyx"] = {
    "task": "portouts.tasks.poll_telnyx_reports_task",
    "schedule": timedelta(seconds=REPORT_POLL_EVERY),
}
HOUSEKEEPING_EVERY = env.int("HOUSEKEEPING_EVERY", default=300)
CELERY_BEAT_SCHEDULE["reports-expire"] = {
    "task": "portouts.tasks.expire_reports_task",
    "schedule": timedelta(seconds=HOUSEKEEPING_EVERY),
}
# Review actions left "started" for 10 minutes (request killed half-way) are checked
# against Telnyx and settled.
CELERY_BEAT_SCHEDULE["review-reconcile"] = {
    "task": "portouts.tasks.reconcile_review_actions_task",
    "schedule": timedelta(seconds=HOUSEKEEPING_EVERY),
}

# --- Telnyx -------------------------------------------------------------------------------
TELNYX_API_KEY = env.str("TELNYX_API_KEY", default="")
TELNYX_API_BASE_URL = env.str("TELNYX_API_BASE_URL", default="https://api.telnyx.com/v2")
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default="")
TELNYX_TIMEOUT = env.float("TELNYX_TIMEOUT", default=10.0)
TELNYX_MAX_RETRIES = env.int("TELNYX_MAX_RETRIES", default=3)
TELNYX_WEBHOOK_TOLERANCE = env.int("TELNYX_WEBHOOK_TOLERANCE", default=300)

# --- Review -------------------------------------------------------------------------------
# Hours a port-out may wait for a decision, counted from created_at, before Telnyx
# authorizes it by default; the queue ranks and flags port-outs against this window.
REVIEW_WINDOW_HOURS = env.int("REVIEW_WINDOW_HOURS", default=24)
# Port-outs with less than this many hours left are highlighted as due soon.
REVIEW_DUE_SOON_HOURS = env.int("REVIEW_DUE_SOON_HOURS", default=4)
# Seconds between the refreshes of the queue, the list and a port-out's page.
PAGE_REFRESH_SECONDS = env.int("PAGE_REFRESH_SECONDS", default=10)
# Two-person rule: a rejection is prepared by one reviewer and sent to Telnyx only once a
# second, different reviewer approves it. Off: one reviewer rejects in one step.
TWO_PERSON_RULE = env.bool("TWO_PERSON_RULE", default=False)
# Seconds a reviewer counts as viewing a port-out after the page last refreshed (it
# refreshes every 10 s), and as deciding after opening its decision panel.
PRESENCE_SECONDS = env.int("PRESENCE_SECONDS", default=30)
DECIDING_SECONDS = env.int("DECIDING_SECONDS", default=120)

# --- Risk flags and the end user's confirmation --------------------------------------------
# A request for at least this many numbers is flagged "many numbers leaving at once".
RISK_MANY_NUMBERS = env.int("RISK_MANY_NUMBERS", default=10)
# The team's business hours: requests created outside them are flagged. Days are ISO
# weekdays (1 = Monday), hours "HH:MM-HH:MM" in RISK_BUSINESS_TIMEZONE.
RISK_BUSINESS_TIMEZONE = env.str("RISK_BUSINESS_TIMEZONE", default="America/Chicago")
RISK_BUSINESS_DAYS = env.list("RISK_BUSINESS_DAYS", cast=int, default=[1, 2, 3, 4, 5])
RISK_BUSINESS_HOURS = env.str("RISK_BUSINESS_HOURS", default="09:00-19:00")
# Requests to the public confirmation page allowed per client address per window (seconds).
CONFIRMATION_RATE_LIMIT = env.int("CONFIRMATION_RATE_LIMIT", default=20)
CONFIRMATION_RATE_WINDOW = env.int("CONFIRMATION_RATE_WINDOW", default=600)
# Seconds between checks for confirmations left unanswered past their time (beat).
CONFIRMATION_CHECK_EVERY = env.int("CONFIRMATION_CHECK_EVERY", default=60)
CELERY_BEAT_SCHEDULE["risk-confirmations-due"] = {
    "task": "portouts.tasks.confirmations_due_task",
    "schedule": timedelta(seconds=CONFIRMATION_CHECK_EVERY),
}
# --- Alerts -------------------------------------------------------------------------------
# Key of the Fernet encryption of channel URLs; by default derived from SECRET_KEY (changing
# SECRET_KEY then makes stored channel URLs unreadable: set this to keep them).
ALERTS_ENCRYPTION_KEY = env.str("ALERTS_ENCRYPTION_KEY", default="")
# Seconds between evaluations of the rules by beat (due soon, overdue, escalations, sync).
ALERTS_EVALUATE_EVERY = env.int("ALERTS_EVALUATE_EVERY", default=60)
# Attempts of one notification before it is marked failed; first retry delay (doubling).
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", default=4)
ALERTS_RETRY_BACKOFF = env.int("ALERTS_RETRY_BACKOFF", default=30)
# Seconds a worker holds a notification it is sending, and a channel may take to answer.
ALERTS_SEND_LEASE = env.int("ALERTS_SEND_LEASE", default=120)
ALERTS_SEND_TIMEOUT = env.int("ALERTS_SEND_TIMEOUT", default=10)
# Address of the dashboard, for links in alerts (e.g. https://portouts.example.com).
DASHBOARD_URL = env.str("DASHBOARD_URL", default="http://127.0.0.1:8000").rstrip("/")
# Minutes a reviewer's claim ("Take") on a port-out lasts.
CLAIM_MINUTES = env.int("CLAIM_MINUTES", default=30)
CELERY_BEAT_SCHEDULE["alerts-evaluate"] = {
    "task": "portouts.tasks.alerts_evaluate_task",
    "schedule": timedelta(seconds=ALERTS_EVALUATE_EVERY),
}
# E-mail (alerts to people, e-mail channels, the end user's confirmation requests) through
# Django's SMTP backend (MAILERS).
MAILERS = {
    "default": {
        "BACKEND": env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env.str("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env.str("EMAIL_HOST_USER", default=""),
            "password": env.str("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            "timeout": ALERTS_SEND_TIMEOUT,
        },
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portouts@localhost")

# --- Reports ------------------------------------------------------------------------------
# Days a report and its file are kept (counted from the request).
REPORT_RETENTION_DAYS = env.int("REPORT_RETENTION_DAYS", default=7)
# A Telnyx report still pending after this many minutes is marked failed.
REPORT_TELNYX_TIMEOUT_MINUTES = env.int("REPORT_TELNYX_TIMEOUT_MINUTES", default=30)
# A local export that shows no progress for this many minutes is marked failed.
REPORT_STALE_MINUTES = env.int("REPORT_STALE_MINUTES", default=10)

# --- Metrics --------------------------------------------------------------------
# The weekly summary is sent on Mondays from this hour (dashboard time zone) for the week
# before, to the group chosen on the metrics page.
METRICS_WEEKLY_HOUR = env.int("METRICS_WEEKLY_HOUR", default=7)
CELERY_BEAT_SCHEDULE["metrics-weekly-summary"] = {
    "task": "portouts.tasks.metrics_weekly_summary_task",
    "schedule": crontab(minute=0),
}

# --- Security -----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^webhooks/telnyx/?$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# Only the dashboard's own scripts, styles and images run on its pages: nothing inline,
# nothing from elsewhere, no plugins, no framing, forms post only to the dashboard.
CONTENT_SECURITY_POLICY = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Enforced in production. With DEBUG on it is sent report-only (the browser console lists
# what it would block): django-htmx's debug script shows a failed htmx request's error page
# with its inline styles and scripts inside the page, which an enforced policy would block.
SECURE_CSP = {} if DEBUG else CONTENT_SECURITY_POLICY
SECURE_CSP_REPORT_ONLY = CONTENT_SECURITY_POLICY if DEBUG else {}
# Browser features no page of the dashboard uses, refused for it and anything it embeds.
PERMISSIONS_POLICY_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "forbidden_without_traceback": {"()": "portal.logs.ForbiddenWithoutTraceback"},
        "mask_urls": {"()": "portouts.alerts.secrets.MaskUrlsFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Apprise writes channel URLs (webhook secrets) into its debug and info lines: only its
    # warnings pass, with any URL masked.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "apprise": {"level": "WARNING", "filters": ["mask_urls"]},
        "urllib3": {"level": "WARNING", "filters": ["mask_urls"]},
        "urllib3.connectionpool": {"filters": ["mask_urls"]},
        # Django's own console handler (DEBUG only) would print every django.* record a
        # second time beside the root's: each is printed once, by the root.
        "django": {"handlers": [], "level": "INFO"},
        "django.request": {"filters": ["forbidden_without_traceback"]},
    },
}
