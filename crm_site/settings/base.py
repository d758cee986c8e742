"""Settings shared by every environment.

Configuration comes from environment variables (12-factor): ``DATABASE_URL``,
``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``TIME_ZONE``, ``LANGUAGE_CODE``.
PostgreSQL is the only database. With no ``DATABASE_URL`` / ``REDIS_URL`` the settings
point at the embedded PostgreSQL and Redis that ``make run`` starts in the data folder
(``DATA_DIR``, by default ``.data/``; see ``crm_site.lib.embedded``).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm_site.lib import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-leadpool-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "guardian",
    "import_export",
    "treebeard",
    "axes",
    "csp",
    "auditlog",
    "crm_site",
    "orgs",
    "leads",
    "opportunities",
    "contracts",
    "reports",
    "qa",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "crm_site.lib.middleware.PageCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # NUL bytes, lone surrogates and length-less chunked bodies answered 400/411 here.
    "crm_site.lib.middleware.InputGuardMiddleware",
    "crm_site.lib.middleware.PrivatePagesMiddleware",
    # A lock or statement timeout answers "busy, try again" (503), not a 500.
    "crm_site.lib.middleware.BusyDatabaseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Axes must come last: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_site.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "crm_site.wsgi.application"

# The embedded servers' folder (make run); only their default URLs below depend on it.
DATA_DIR = embedded.data_dir()

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# (An empty variable counts as unset, as it does for `make run`.)
DATABASE_URL = env.str("DATABASE_URL", default="") or embedded.database_url(DATA_DIR)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    scheme = DATABASE_URL.partition(":")[0]
    raise ImproperlyConfigured(
        f"DATABASE_URL must name a PostgreSQL database (postgres://user@host:5432/name), not "
        f"a {scheme!r} one: LeadPool CRM runs on PostgreSQL only. Leave DATABASE_URL unset "
        "to use the embedded PostgreSQL that `make run` starts.")
# A Unix socket given libpq's way (``?host=/path``) is the connection's host.
if not DATABASES["default"]["HOST"] and "host" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# How long a web request waits for a row lock, and how long one statement may run, before
# PostgreSQL gives up: the user then gets "busy, try again" (503) instead of a hung page.
# The web process (crm_site.wsgi) sets these on its connections, Celery workers the longer
# DB_WORKER_* (crm_site.celery); management commands (migrate, seed_demo, imports) keep
# PostgreSQL's own (no limit).
# https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=5_000)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=20_000)
DB_WORKER_LOCK_TIMEOUT_MS = env.int("DB_WORKER_LOCK_TIMEOUT_MS", default=60_000)
DB_WORKER_STATEMENT_TIMEOUT_MS = env.int("DB_WORKER_STATEMENT_TIMEOUT_MS", default=300_000)
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out account before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Repeated failed sign-ins lock that account *from that address* for a short while: a
# stranger guessing elsewhere cannot lock a rep out of their own desk. An administrator
# unlocks early in admin (Axes → access attempts: delete, or the users' "Unlock sign-in").
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=10))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client's address: REMOTE_ADDR unless the proxies in front are counted (production
# behind one TLS proxy: AXES_PROXY_COUNT=1 reads the proxy's X-Forwarded-For).
# https://django-axes.readthedocs.io/en/latest/4_configuration.html#configuring-reverse-proxies
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",))

# --- Security headers --------------------------------------------------------------
# Content-Security-Policy: scripts, styles, fonts and images only from this site (every
# script is a static file; no inline script or handler). Inline *styles* stay allowed
# (style attributes, and htmx's indicator style).
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}
# No page needs the camera, the microphone, the position or payment APIs.
# https://github.com/adamchainz/django-permissions-policy
PERMISSIONS_POLICY = {
    "accelerometer": [], "camera": [], "geolocation": [], "gyroscope": [],
    "magnetometer": [], "microphone": [], "payment": [], "usb": [],
}
# Load balancers probe /health/ over plain HTTP: no TLS redirect for it.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --- Internationalisation --------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------
# Third-party front-end packages are installed from the npm registry into
# node_modules/ at set-up time and served from there; nothing is copied into git.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/sortablejs", BASE_DIR / "node_modules" / "sortablejs"),
    # Charts of the reports and the QA workbench: echarts.min.js and i18n/langZH.js, langEN.js.
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/echarts-i18n", BASE_DIR / "node_modules" / "echarts" / "i18n"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"

# --- Orders and contracts ----------------------------------------------------------
# Placeholders: {yyyy} {yy} {mm} {dd} and {seq:04d}; the sequence restarts per prefix.
CONTRACT_NUMBER_PATTERN = env("CONTRACT_NUMBER_PATTERN", default="HT{yyyy}{mm}-{seq:04d}")
CONTRACT_RENEWAL_DAYS = env.int("CONTRACT_RENEWAL_DAYS", default=30)
CONTRACT_ATTACHMENT_MAX_BYTES = env.int("CONTRACT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
PAYMENT_REMINDER_DAYS = env.int("PAYMENT_REMINDER_DAYS", default=3)
# A worker renews an import job's lease with every batch; a job whose lease ran out lost
# its worker and is resumed by the import sweep. Rows per batch of a new job.
IMPORT_LEASE_SECONDS = env.int("IMPORT_LEASE_SECONDS", default=120)
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=2000)

# --- Sessions ------------------------------------------------------------------
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

# --- Redis, cache and Celery ----------------------------------------------------------
# redis://host:6379/0, or unix:///path/redis.sock?db=0 (the embedded Redis's default).
REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url(DATA_DIR)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "leadpool",
    }
}

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = embedded.celery_url(REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Hard and soft limits for any task that does not set its own.
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Due times live in indexed columns and are swept by beat; no long ETAs on Redis.
CELERY_BEAT_SCHEDULE = {
    "contracts-renewal-sweep": {
        "task": "contracts.renewal_sweep",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    "contracts-payment-sweep": {
        "task": "contracts.payment_sweep",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    "crm-health": {
        "task": "crm_site.health",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    "leads-engine-tick": {
        "task": "leads.engine_tick",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    "leads-import-sweep": {
        "task": "leads.import_sweep",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "leads-recycle-sweep": {
        "task": "leads.recycle_sweep",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    # The nightly QA sampling, after midnight in the install's zone (CELERY_TIMEZONE).
    "qa-queue-fill": {
        "task": "qa.queue_fill",
        "schedule": crontab(hour=1, minute=5),
        "options": {"expires": 3 * 3600},
    },
    "notifications-email": {
        "task": "notifications.email_sweep",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "leads-reminder-sweep": {
        "task": "leads.reminder_sweep",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "opportunities-grade-customers": {
        "task": "opportunities.grade_customers",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 3 * 3600},
    },
    # Yesterday's daily snapshot, once every follow-up and order of the day is in.
    "reports-snapshot-yesterday": {
        "task": "reports.snapshot_yesterday",
        "schedule": crontab(hour=1, minute=15),
        "options": {"expires": 6 * 3600},
    },
}

# Customer grading (opportunities.customers.grading.customers_grade): the least amount
# signed in the last 12 months that earns each grade (an admin may override each one with
# ``min_amount`` in the extra of the customer-grade dictionary), where the amount comes
# from (a registered source: won opportunities until orders exist), and how many key
# customers one rep may star.
CUSTOMER_GRADE_THRESHOLDS = {"A": 1_000_000, "B": 100_000, "C": 0}
CUSTOMER_GRADE_SOURCE = env("CUSTOMER_GRADE_SOURCE", default="won_opportunities")
CUSTOMER_STAR_CAP = env.int("CUSTOMER_STAR_CAP", default=20)

# --- E-mail ----------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/#obtaining-an-instance-of-an-email-backend
# Without EMAIL_URL notification e-mails are written to the worker's log.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LeadPool CRM <noreply@localhost>")

# --- Audit log ------------------------------------------------------------------
# https://django-auditlog.readthedocs.io/en/latest/usage.html#settings
AUDITLOG_INCLUDE_ALL_MODELS = False

# --- django-guardian ------------------------------------------------------------
# Pools get direct foreign-key object-permission tables (see leads), so no generic
# per-object rows; anonymous users get no object permissions at all.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = True

# --- Logging ---------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Reminders in WeCom, DingTalk and Feishu/Lark (notifications.channels) ----------------
# The absolute address of this site, for the links in messages (they open outside the
# browser that knows it).
SITE_BASE_URL = env("SITE_BASE_URL", default="http://127.0.0.1:8000")
# Encrypts the platforms' secrets at rest: a Fernet key, or several comma-separated (the
# first encrypts, all decrypt). Without it no secret can be saved or used.
IM_SECRETS_KEY = env("IM_SECRETS_KEY", default="")
# Each platform's API address; the tests and the README's walk-through use local fakes.
IM_WECOM_BASE_URL = env("IM_WECOM_BASE_URL", default="https://qyapi.weixin.qq.com")
IM_DINGTALK_BASE_URL = env("IM_DINGTALK_BASE_URL", default="https://oapi.dingtalk.com")
IM_FEISHU_BASE_URL = env("IM_FEISHU_BASE_URL", default="https://open.feishu.cn")
# Seconds to wait for a platform's answer before the attempt counts as a timeout (retried).
IM_HTTP_TIMEOUT = env.float("IM_HTTP_TIMEOUT", default=5.0)
CELERY_BEAT_SCHEDULE["notifications-im"] = {
    "task": "notifications.im_sweep",
    "schedule": timedelta(seconds=30),
    "options": {"expires": 25},
}
