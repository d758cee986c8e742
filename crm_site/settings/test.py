"""Settings for the test suite: the real PostgreSQL and Redis of this machine.

``DATABASE_URL`` and ``REDIS_URL`` default to the local services; override them to
point the suite elsewhere.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadpool")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from crm_site.lib.timeouts import pg_timeouts

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
# Tests call tasks in-process unless a test starts a real worker on Redis itself.
CELERY_TASK_ALWAYS_EAGER = True
AXES_FAILURE_LIMIT = 3
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = str(BASE_DIR / "tests" / "artifacts" / "media")

# Serve static files straight from the finders (node_modules, static/) without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# A fixed key for the messaging channels' encrypted secrets (tests only).
IM_SECRETS_KEY = "test-only-im-secrets-key"
# The suite plays web requests (the test client, the live server): the web's timeouts.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = pg_timeouts(
    lock_ms=DB_LOCK_TIMEOUT_MS, statement_ms=DB_STATEMENT_TIMEOUT_MS)
