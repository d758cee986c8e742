"""Settings for a developer's machine or a first try: debug on, everything else from env."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Serve static files straight from the finders (node_modules, static/) without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None

# A development key for the messaging channels' secrets, so a first try can connect a local
# fake (README); production refuses nothing but warns until IM_SECRETS_KEY is set.
IM_SECRETS_KEY = env("IM_SECRETS_KEY", default="local-development-only-im-secrets-key")
