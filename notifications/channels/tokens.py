"""Access tokens of the platforms' internal apps, cached in the shared cache (Redis).

WeCom's and DingTalk's ``access_token`` and Feishu's ``tenant_access_token`` all live two
hours (``expires_in`` / ``expire`` = 7200 s). A token is kept until ``REFRESH_MARGIN`` before
it expires, so a fresh one is fetched while the old one still works; asking Feishu within
its last 30 minutes returns a new token (both stay valid meanwhile). A platform that says a
token expired early (WeCom 42001, …) has it dropped and fetched again. Tokens are stored
encrypted, like the secrets they come from.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.cache import cache

from . import crypto

REFRESH_MARGIN = 300  # seconds before expiry that a token is replaced
LOCK_SECONDS = 10


def _key(config) -> str:
    return f"im:token:{config.platform}:{config.pk}:{config.fingerprint}"


def get(config, fetch: Callable[[], tuple[str, int]]) -> str:
    """The cached token of ``config``, or a new one from ``fetch()`` → (token, expires_in)."""
    key = _key(config)
    cached = cache.get(key)
    if cached:
        return crypto.decrypt(cached)
    lock = f"{key}:lock"
    # One worker fetches; others wait briefly for its token rather than all asking at once.
    locked = False
    for _attempt in range(20):
        locked = cache.add(lock, 1, timeout=LOCK_SECONDS)
        if locked:
            break
        time.sleep(0.1)
        cached = cache.get(key)
        if cached:
            return crypto.decrypt(cached)
    try:
        token, expires_in = fetch()
        cache.set(key, crypto.encrypt(token), timeout=max(int(expires_in) - REFRESH_MARGIN, 30))
        return token
    finally:
        if locked:
            cache.delete(lock)


def forget(config) -> None:
    cache.delete(_key(config))
