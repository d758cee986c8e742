"""Secrets at rest: app secrets, robot webhooks and signing secrets are encrypted with a key
from the environment (``IM_SECRETS_KEY``), never stored or shown in clear.

``IM_SECRETS_KEY`` is a Fernet key (``Fernet.generate_key()``) or several separated by commas:
the first encrypts, every one decrypts, so a key can be rotated by putting the new one
first. Any other text is turned into a key with SHA-256, so a long passphrase works too.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class SecretsUnavailable(Exception):
    """No key is configured, or the stored value was encrypted with another key."""


MISSING_KEY_MESSAGE = _(
    "IM_SECRETS_KEY is not set on the server: WeCom, DingTalk and Feishu secrets cannot be "
    "stored or used. Set it in the environment (see README, “Reminders in WeCom, DingTalk "
    "and Feishu”) and restart.")


def _fernet_for(text: str) -> Fernet:
    try:
        return Fernet(text.encode())
    except ValueError:
        digest = hashlib.sha256(text.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def _cipher() -> MultiFernet | None:
    raw = getattr(settings, "IM_SECRETS_KEY", "") or ""
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        return None
    return MultiFernet([_fernet_for(key) for key in keys])


def key_configured() -> bool:
    return _cipher() is not None


def encrypt(value: str) -> str:
    cipher = _cipher()
    if cipher is None:
        raise SecretsUnavailable(str(MISSING_KEY_MESSAGE))
    return cipher.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    cipher = _cipher()
    if cipher is None:
        raise SecretsUnavailable(str(MISSING_KEY_MESSAGE))
    try:
        return cipher.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsUnavailable(str(_(
            "A stored secret cannot be decrypted with IM_SECRETS_KEY (was the key changed?). "
            "Enter the secret again in admin."))) from exc
