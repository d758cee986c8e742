"""Settings for a developer's machine or a first try: debug on, everything else from env."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# The web of `make run` listens on HOST: a named host is allowed too, and listening on
# every interface allows whatever name the machine is reached by.
_HOST = env("HOST", default="127.0.0.1")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=(
    ["*"] if _HOST in ("0.0.0.0", "::") else
    list(dict.fromkeys(["127.0.0.1", "localhost", "[::1]",
                        f"[{_HOST}]" if ":" in _HOST else _HOST]))))

# Serve static files straight from the finders (node_modules, static/) without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None

# A development key for the messaging channels' secrets, so a first try can connect a local
# fake (README); production refuses nothing but warns until IM_SECRETS_KEY is set.
IM_SECRETS_KEY = env("IM_SECRETS_KEY", default="local-development-only-im-secrets-key")

# Links in messages point at the web `make run` serves, wherever HOST and PORT put it.
SITE_BASE_URL = env("SITE_BASE_URL", default="http://{}:{}".format(
    "127.0.0.1" if _HOST in ("0.0.0.0", "::") else (f"[{_HOST}]" if ":" in _HOST else _HOST),
    env("PORT", default="8000")))
