"""The only settings module. Environments differ by environment variables, all in `.env.example`."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():  # optional: real environment variables always win
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False, parse_comments=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production-0123456789abcdef",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as local static files: no CDN
    "drf_standardized_errors",
    "nested_admin",
    "channels",
    "django_prometheus",
    "axes",
    "csp",
    "config.apps.PlatformConfig",
    "tutor",
    "dialogs",
    "quizzes",
]

MIDDLEWARE = [
    "config.middleware.RequestContextMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
# API paths answer with and without a trailing slash themselves: a redirect drops POST bodies.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of DRF's and drf-spectacular's pages (CSP nonces): searched before the apps'
        # own template dirs, where `config` comes after the packages it overrides.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/lingua")}
# Persistent connections: opening one per request costs more than a small query (a small read
# measured 222 req/s without, 934 req/s with, on 2 cores over loopback).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The same backend, with a health check that reads no reply (config/postgres/base.py).
DATABASES["default"]["ENGINE"] = "config.postgres"
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DB_CONNECT_TIMEOUT", default=3
)
# Optional streaming replica for analyst reads (config/replica.py): unset, everything reads the
# primary. Reads fall back to the primary when it is down, lags beyond MAX_LAG seconds, or has
# not yet replayed an erasure; its health is checked at most every CHECK_SECONDS per process.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **environ.Env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # A replica that does not answer costs each process one short wait per check.
        "OPTIONS": {"connect_timeout": env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=1)},
        # Tests: the same database as default (pytest-django creates none for it).
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
# The apps' own data (tutor counters, quiz leaderboards, throttles); empty: REDIS_URL. May be a
# Redis Cluster: redis+cluster://host:port[,host:port...] (config/redis.py).
DATA_REDIS_URL = env.str("DATA_REDIS_URL", default="")
# Sentinel instead of REDIS_URL's fixed server: "host:port,..." of the sentinels. The cache, the
# channel layer, the Celery broker and config.redis.client() (and the data roles, when
# DATA_REDIS_URL is empty) then ask them for the current master of REDIS_SENTINEL_MASTER.
REDIS_SENTINELS = [
    (host, int(port))
    for host, port in (h.rsplit(":", 1) for h in env.list("REDIS_SENTINELS", default=[]))
]
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
        "OPTIONS": {
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}
if REDIS_SENTINELS:  # Django's RedisCache has no Sentinel support: a pool class that has
    CACHES["default"]["OPTIONS"]["pool_class"] = "config.redis.SentinelCachePool"

# Pub/sub layer: one publish per group message, fanned out inside each daphne process.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {"sentinels": REDIS_SENTINELS, "master_name": REDIS_SENTINEL_MASTER}
                if REDIS_SENTINELS
                else REDIS_URL
            ],
            "prefix": "channels",
        },
    }
}

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=";".join(f"sentinel://{h}:{p}" for h, p in REDIS_SENTINELS) or REDIS_URL,
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("sentinel://"):  # kombu's Sentinel transport
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".data" / "celerybeat-schedule")
)
TUTOR_FLUSH_SECONDS = env.float("TUTOR_FLUSH_SECONDS", default=10.0)
TUTOR_FLUSH_BATCH = env.int("TUTOR_FLUSH_BATCH", default=10_000)  # learners per transaction
TUTOR_FLUSH_WORKERS = env.int("TUTOR_FLUSH_WORKERS", default=2)  # concurrent apply transactions
# A Redis call that timed out may still execute later: wait this long before folding its rows.
TUTOR_FOLD_SETTLE_SECONDS = env.float(
    "TUTOR_FOLD_SETTLE_SECONDS", default=max(5.0, 2 * REDIS_SOCKET_TIMEOUT)
)
# Tutor ingestion: items per bulk request; accepted client times (created_at) lie between
# TUTOR_MAX_AGE_DAYS ago and TUTOR_MAX_FUTURE_SECONDS ahead (clock skew) of the server's clock.
TUTOR_BULK_MAX = env.int("TUTOR_BULK_MAX", default=1000)
TUTOR_MAX_AGE_DAYS = env.int("TUTOR_MAX_AGE_DAYS", default=30)
TUTOR_MAX_FUTURE_SECONDS = env.int("TUTOR_MAX_FUTURE_SECONDS", default=300)
TAXONOMY_CACHE_SECONDS = env.float("TAXONOMY_CACHE_SECONDS", default=60.0)
# Learning (tutor/ranking.py, tutor/rotation.py): evidence halves in weight every half-life; a
# correct answer multiplies a skill's priority by 1 - effect, a wrong one divides by it.
TUTOR_PRIORITY_HALF_LIFE_DAYS = env.float("TUTOR_PRIORITY_HALF_LIFE_DAYS", default=7.0)
TUTOR_PRIORITY_HORIZON_DAYS = env.int("TUTOR_PRIORITY_HORIZON_DAYS", default=90)
TUTOR_PRIORITY_PRACTICE_EFFECT = env.float("TUTOR_PRIORITY_PRACTICE_EFFECT", default=0.1)
TUTOR_REPEAT_AFTER_DAYS = env.float("TUTOR_REPEAT_AFTER_DAYS", default=3.0)
TUTOR_ATTEMPT_MAX_AGE_DAYS = env.int("TUTOR_ATTEMPT_MAX_AGE_DAYS", default=30)
# Per web process: the settled half of this many learners' evidence reads (tutor/readcache.py;
# 0 turns it off), each kept at most this long.
TUTOR_EVIDENCE_CACHE_ENTRIES = env.int("TUTOR_EVIDENCE_CACHE_ENTRIES", default=2048)
TUTOR_EVIDENCE_CACHE_SECONDS = env.float("TUTOR_EVIDENCE_CACHE_SECONDS", default=300.0)
DIALOGS_CONSENT_TTL_HOURS = env.int("DIALOGS_CONSENT_TTL_HOURS", default=168)
QUIZ_BROADCAST_INTERVAL = env.float("QUIZ_BROADCAST_INTERVAL", default=0.1)  # <= 10 msgs/s/quiz
QUIZ_LIVE_BOARD_SIZE = env.int("QUIZ_LIVE_BOARD_SIZE", default=10)  # entries per live message
# Players per quiz (409 `quiz_full` beyond): the abuse bound, since a class joins from one address.
QUIZ_MAX_PLAYERS = env.int("QUIZ_MAX_PLAYERS", default=2000)
CELERY_BEAT_SCHEDULE = {
    "tutor-error-counts-flush": {
        "task": "tutor.tasks.error_counts_flush",
        "schedule": timedelta(seconds=TUTOR_FLUSH_SECONDS),
        "options": {"expires": TUTOR_FLUSH_SECONDS * 3},
    },
    "dialogs-unconsented-purge": {
        "task": "dialogs.tasks.dialogs_unconsented_purge",
        "schedule": timedelta(minutes=env.int("DIALOGS_PURGE_MINUTES", default=15)),
    },
}

# --- HTTP / websockets -------------------------------------------------------------------------
# Where browsers reach the websocket server. Empty: same host and port as the page (behind the
# proxy). `make run` serves websockets from daphne on WS_PORT and sets this to match.
WS_PUBLIC_URL = env.str("WS_PUBLIC_URL", default="")
WS_PORT = env.int("WS_PORT", default=0)

MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and a fresh checkout run before collectstatic: fall back to unhashed names.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_USE_FINDERS = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security (check --deploy is clean when DJANGO_HTTPS is on, the production default) --------
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Login lockout (admin and browsable-API logins; API tokens never go through authenticate()).
# AxesStandaloneBackend refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True  # every environment, tests included
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Per username *and* client: a stranger cannot lock the real admin out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.errors.login_locked_out"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Who may read /metrics: REMOTE_ADDR (never X-Forwarded-For) inside these networks. The proxy
# refuses /metrics too; Prometheus scrapes each service directly on the internal network.
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)

# Content-Security-Policy on every response (django-csp). Scripts and styles come from our own
# static files, or carry the per-response nonce; nothing is loaded from another origin.
# Websockets: same origin behind the proxy; WS_PUBLIC_URL or WS_PORT when served apart.
_WS_SOURCES = (
    [WS_PUBLIC_URL.rstrip("/")]
    if WS_PUBLIC_URL
    else [f"ws://*:{WS_PORT}", f"wss://*:{WS_PORT}"]
    if WS_PORT
    else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # style="..." attributes (the admin, DRF's pages, Swagger UI and ReDoc set them): CSS
        # only, they cannot run script. <style> elements still need the nonce.
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF, *_WS_SOURCES],
        "worker-src": [SELF, "blob:"],  # ReDoc parses the schema in a web worker
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],  # bounds nesting depth
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Per ingest token. Above what one host serves (bench/results.md): they bound a runaway
        # client, not the chat backend. Raise them with capacity.
        "ingest": env.str("THROTTLE_INGEST", default="600000/min"),
        "ingest_bulk": env.str("THROTTLE_INGEST_BULK", default="6000/min"),
        # Per address: a whole school behind one NAT joins at once (QUIZ_MAX_PLAYERS bounds a quiz).
        "quiz_join": env.str("THROTTLE_QUIZ_JOIN", default="2000/min"),
        "quiz_answer": env.str("THROTTLE_QUIZ_ANSWER", default="120/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)  # deeper request bodies get a 400
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=30.0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Lingua backend API",
    "DESCRIPTION": (
        "Tutor (learner errors and exercise recommendations), dialogs (consent-gated DataAPI) "
        "and live vocabulary quizzes. Authenticate with `Authorization: Token <key>`; quiz "
        "participants with `Authorization: Bearer <participant token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from the online validator (another origin).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["config.api.schema_drop_slash_aliases"],
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.postprocess_schema_links",
    ],
    "PATH_CONVERTER_OVERRIDES": {"any_uuid": {"type": "string", "format": "uuid"}},
    "ENUM_NAME_OVERRIDES": {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in ("ValidationErrorEnum", "ClientErrorEnum", "ServerErrorEnum")
    },
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.errors.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "409", "413", "429", "503"],
}

# --- Logging: one JSON object per line, each carrying the request id ---------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Our access log replaces Django's per-request warnings for 4xx.
        "django.request": {"level": "ERROR"},
    },
}
