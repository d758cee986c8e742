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
