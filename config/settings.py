"""All settings, read from the environment in one place. Every variable is listed in README.md."""

import contextlib
import os
from pathlib import Path

from corsheaders.defaults import default_headers as default_cors_headers

from .env import INSECURE_SECRET_PREFIX, Env, check_production_secret

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env(os.environ)

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.raw("SECRET_KEY") or (INSECURE_SECRET_PREFIX + "change-me-before-production")
if not DEBUG:
    check_production_secret(SECRET_KEY)

# With DEBUG on, only local names answer, so a forgotten DEBUG never serves a public host name.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
# The port the Procfile's gunicorn listens on; the public URL follows it unless set, so a service
# started with PORT=8611 builds its OAuth callback URLs on :8611.
PORT = env.int("PORT", 8000, minimum=1)
PUBLIC_BASE_URL = env.url("PUBLIC_BASE_URL", f"http://localhost:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_q",
    "projects",
    "calendars",
    "meetings",
    "bots",
    "webhooks",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After CORS (a browser can read its refusals), before anything reads the request.
    "config.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Recall clients call some paths without the trailing slash (POST included); routes accept both
# forms themselves, so Django must never answer with a redirect.
APPEND_SLASH = False

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATA_DIR = Path(env.raw("DATA_DIR", str(BASE_DIR / "var")))
_default_sqlite = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.database("DATABASE_URL", _default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web and worker share the file: wait for locks instead of failing, and take the write lock
    # at BEGIN so two writers cannot deadlock on upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and background work ----------------------------------------------------------------
REDIS_URL = env.raw("REDIS_URL")
CACHES = {"default": env.cache("CACHE_URL", REDIS_URL or "locmemcache://")}
Q_TIMEOUT = env.int("Q_TIMEOUT", 300, minimum=10)

Q_CLUSTER = {
    "name": "calsync",
    "workers": env.int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    # A task is re-queued only after it could have timed out, never while still running.
    "retry": Q_TIMEOUT + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
QUEUE_BROKER = "redis" if REDIS_URL else "orm"

# --- Secrets at rest ---------------------------------------------------------------------------
# Newest key first: it encrypts; every listed key decrypts (MultiFernet), so keys rotate without
# downtime. `manage.py reencrypt_secrets` rewrites stored values with the newest key.
FIELD_ENCRYPTION_KEYS = env.fernet_keys(
    "FIELD_ENCRYPTION_KEYS", fallback_secret=SECRET_KEY if DEBUG else None
)

# --- Providers (override to point at fakes, sovereign clouds or proxies) ----------------------
GOOGLE_OAUTH_AUTHORIZE_URL = env.url(
    "GOOGLE_OAUTH_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_OAUTH_TOKEN_URL = env.url("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_USERINFO_URL = env.url(
    "GOOGLE_USERINFO_URL", "https://openidconnect.googleapis.com/v1/userinfo"
)
GOOGLE_CALENDAR_API_URL = env.url(
    "GOOGLE_CALENDAR_API_URL", "https://www.googleapis.com/calendar/v3/", trailing_slash=True
)
MICROSOFT_AUTHORITY_HOST = env.url(
    "MICROSOFT_AUTHORITY_HOST", "https://login.microsoftonline.com"
).rstrip("/")
MICROSOFT_GRAPH_URL = env.url(
    "MICROSOFT_GRAPH_URL", "https://graph.microsoft.com/v1.0/", trailing_slash=True
)

# --- Sync engine (calendars/sync/) -------------------------------------------------------------
GOOGLE_PAGE_SIZE = env.int("GOOGLE_PAGE_SIZE", 2500, minimum=1)
GRAPH_PAGE_SIZE = env.int("GRAPH_PAGE_SIZE", 1000, minimum=1)
# A calendar with no push channel (or whose notifications got lost) is polled this often.
SYNC_POLL_INTERVAL_SECONDS = env.int("SYNC_POLL_INTERVAL_SECONDS", 3600, minimum=60)
# How long one worker may hold a calendar. The holder renews it every quarter of this (a
# heartbeat), so it only matters after a crash: then another worker takes over once it expired
# and the next sweep (every minute) re-queues the calendar - recovery within this + ~65 s.
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", 20, minimum=8)
# A failed page request is retried within the round this many times in all (429, 5xx, network),
# waiting as the provider asks (Retry-After) or backing off; a wait longer than
# SYNC_PAGE_RETRY_MAX_WAIT_SECONDS ends the round instead (the calendar backs off as asked).
SYNC_PAGE_ATTEMPTS = env.int("SYNC_PAGE_ATTEMPTS", 4, minimum=1)
SYNC_PAGE_RETRY_MAX_WAIT_SECONDS = env.int("SYNC_PAGE_RETRY_MAX_WAIT_SECONDS", 30, minimum=0)
# The event feed (GET /calendar_events/?updated_at_gte=) holds back rows changed in the last
# seconds, so a row committed late is never behind a client's watermark (meetings/selectors.py).
EVENT_FEED_LAG_SECONDS = env.int("EVENT_FEED_LAG_SECONDS", 10, minimum=0)
SYNC_MAX_BACKOFF_SECONDS = env.int("SYNC_MAX_BACKOFF_SECONDS", 3600, minimum=60)
MEETING_RETENTION_DAYS = env.int("MEETING_RETENTION_DAYS", 60, minimum=1)
# Provider push channels need a public https PUBLIC_BASE_URL; polling covers the rest.
PUSH_NOTIFICATIONS = env.bool("PUSH_NOTIFICATIONS", PUBLIC_BASE_URL.startswith("https://"))
PUSH_CHANNEL_TTL_SECONDS = env.int("PUSH_CHANNEL_TTL_SECONDS", 3 * 86400, minimum=3600)

# --- Outbound HTTP -------------------------------------------------------------------------------
HTTP_TIMEOUT_SECONDS = env.int("HTTP_TIMEOUT_SECONDS", 15, minimum=1)
HTTP_USER_AGENT = "calsync/0.1 (+https://github.com/calsync/calsync)"

# --- Outgoing webhooks (webhooks/) -------------------------------------------------------------
# Seconds a customer's endpoint has to answer one delivery attempt.
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", 15, minimum=1)
# Deliveries (with their attempt logs) older than this are deleted by a periodic job.
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", 30, minimum=1)
# Let every endpoint reach private, loopback and link-local addresses (development, tests, or a
# receiver on the same private network). Per endpoint, staff can allow it in the admin instead.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)

# --- Bot dispatch (bots/) ----------------------------------------------------------------------
# Seconds an external bot API (the `attendee` backend) has to answer one request.
BOTS_BACKEND_TIMEOUT_SECONDS = env.int("BOTS_BACKEND_TIMEOUT_SECONDS", 15, minimum=1)
# A bot that could not be dispatched at its join time is tried again every minute until this
# long after it (or until its meetings end, if later); then it is marked fatal.
BOTS_DISPATCH_GRACE_SECONDS = env.int("BOTS_DISPATCH_GRACE_SECONDS", 600, minimum=60)
# Let every project's bot API base URL be a private, loopback or link-local address (development,
# tests, a runner on the same network). Per project, staff can allow it in the admin instead.
BOTS_ALLOW_PRIVATE_ADDRESSES = env.bool("BOTS_ALLOW_PRIVATE_ADDRESSES", False)

# --- Auth, admin, API ----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["projects.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["projects.authentication.HasProject"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.handle_exception",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "calsync API",
    "DESCRIPTION": "Calendar integration for meeting bots: Recall Calendar V1 compatible API "
    "and a server API for calendars, meetings, bots and webhooks.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and default tags are named from the path after this prefix. Fixed, so a
    # surface mounted beside /api/ (/compat/meetingbaas/) renames none of them.
    "SCHEMA_PATH_PREFIX": "/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_oauth_callbacks",
        "config.api.schema.add_request_id_header",
    ],
}

# --- Calendar auth tokens (Recall V1) and the hosted OAuth flow -------------------------------
CALENDAR_TOKEN_SIGNING_KEYS = env.signing_keys(
    "CALENDAR_TOKEN_SIGNING_KEYS", fallback_secret=SECRET_KEY
)
CALENDAR_TOKEN_LIFETIME_SECONDS = env.int("CALENDAR_TOKEN_LIFETIME_SECONDS", 86400, minimum=60)
CALENDAR_REFRESH_RATE = env.raw("CALENDAR_REFRESH_RATE", "120/min")

# The calendar-token routes are called from browsers (Recall's V1 client is a SPA, Aitronos's
# meeting-buddy surface acts for the signed-in user); the API-key routes (authenticate/, users/,
# the server API, Meeting BaaS) are for servers only. Per-project origin lists are enforced when
# the token is checked (a preflight carries no token).
CORS_URLS_REGEX = r"^/(api/v1/calendar/(?!authenticate|users)|compat/aitronos/)"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-recallcalendarauthtoken")
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Security -----------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Preloading commits the whole domain to HTTPS for months: an operator's choice, not a warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Static files, i18n ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.raw("STATIC_ROOT", str(DATA_DIR / "static")))
# WhiteNoise warns on every start while the folder is missing (before collectstatic).
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Date formats for the admin: ISO order with the zone (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env.raw("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env.raw("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log replaces Django's; its 4xx/5xx lines would repeat every request.
        "django.request": {"level": "ERROR", "propagate": True},
        "django.server": {"level": "WARNING", "propagate": True},
    },
}
