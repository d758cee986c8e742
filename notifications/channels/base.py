"""What every platform module offers the sweep, and the outcomes a send can have."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from . import crypto, http
from .ratelimit import Limit


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt.

    ``state`` is ``sent``, ``retry`` (failed on the way or on the platform's side: try again
    after a backoff), ``wait`` (the platform or our own limiter says too many: try again
    after ``wait`` seconds, not counted as an attempt) or ``failed`` (will not work without
    someone fixing something: a wrong user ID, secret or signature).
    """

    state: str
    code: str = ""
    detail: str = ""
    wait: float = 0.0
    remote_id: str = ""


def sent(code: str = "0", remote_id: str = "") -> Outcome:
    return Outcome("sent", code=code, remote_id=str(remote_id or ""))


def retry(detail: str, code: str = "") -> Outcome:
    return Outcome("retry", code=code, detail=detail)


def wait(seconds: float, detail: str, code: str = "") -> Outcome:
    return Outcome("wait", code=code, detail=detail, wait=max(seconds, 0.5))


def failed(detail: str, code: str = "") -> Outcome:
    return Outcome("failed", code=code, detail=detail)


class Refused(Exception):
    """The platform refused for good (bad credentials, unknown user, wrong signature)."""

    def __init__(self, detail: str, code: str = ""):
        super().__init__(detail)
        self.code = code


class TokenExpired(Exception):
    """The cached access token is no longer accepted: fetch a new one and try once more."""


def guarded(send) -> Outcome:
    """Run ``send()`` and turn every failure into an outcome (never raises)."""
    try:
        return send()
    except http.RateLimited as exc:
        return wait(exc.retry_after or 60, str(exc), "429")
    except http.Transient as exc:
        return retry(str(exc))
    except Refused as exc:
        return failed(str(exc), exc.code)
    except crypto.SecretsUnavailable as exc:
        return failed(str(exc))


def body_code(body: dict) -> str:
    for name in ("errcode", "code", "StatusCode"):
        if name in body:
            return str(body[name])
    return ""


def body_message(body: dict) -> str:
    for name in ("errmsg", "msg", "StatusMessage"):
        if body.get(name):
            return str(body[name])[:200]
    return ""


def webhook_key(webhook: str) -> str:
    """A stable name for a robot's rate-limit bucket that does not reveal its webhook."""
    return hashlib.sha256(webhook.encode()).hexdigest()[:16]


def check_webhook(webhook: str, base: str, path: str, *, query: str = "") -> str | None:
    """Why ``webhook`` is not a robot address of this platform, or None if it is."""
    parts, expected = urlsplit(webhook), urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _("Enter the full webhook address, starting with %(base)s.") % {"base": base}
    if (parts.scheme, parts.netloc) != (expected.scheme, expected.netloc):
        return _("This is not a webhook of this platform: it must start with %(base)s.") % {
            "base": base}
    if not parts.path.startswith(path) or (query and f"{query}=" not in parts.query):
        return _("A robot webhook of this platform looks like %(example)s.") % {
            "example": f"{base}{path}{'?' + query + '=…' if query else '…'}"}
    return None


@dataclass(frozen=True)
class PersonTarget:
    config: object  # ChannelConfig
    address: str


class Platform:
    """One messaging platform: how to reach a person and a group robot."""

    code: str = ""
    robot_path: str = ""
    robot_query: str = ""
    robot_limits: tuple[Limit, ...] = ()
    #: Send-time limits per person (and per app), documented by each platform.
    person_limits: tuple[Limit, ...] = ()
    app_limits: tuple[Limit, ...] = ()

    def person_buckets(self, config, address: str) -> list[tuple[str, tuple[Limit, ...]]]:
        buckets = [(f"{self.code}:{config.pk}:u:{address}", self.person_limits)]
        if self.app_limits:
            buckets.append((f"{self.code}:{config.pk}:app", self.app_limits))
        return buckets

    def robot_buckets(self, webhook: str) -> list[tuple[str, tuple[Limit, ...]]]:
        return [(f"{self.code}:robot:{webhook_key(webhook)}", self.robot_limits)]

    def check_webhook(self, webhook: str, base: str) -> str | None:
        return check_webhook(webhook, base, self.robot_path, query=self.robot_query)

    def send_person(self, config, address: str, text: str, *, dedupe: str, now) -> Outcome:
        """Send ``text`` to one person; ``dedupe`` names the message for the platform's own
        duplicate check where it has one."""
        raise NotImplementedError

    def send_robot(self, webhook: str, secret: str, text: str, *, now) -> Outcome:
        raise NotImplementedError

    def with_token(self, config, call):
        """``call(token)`` with the cached token; on TokenExpired once more with a new one."""
        from . import tokens

        try:
            return call(tokens.get(config, lambda: self.fetch_token(config)))
        except TokenExpired:
            tokens.forget(config)
            try:
                return call(tokens.get(config, lambda: self.fetch_token(config)))
            except TokenExpired:
                return retry(_("The platform refused a new access token too."))

    def fetch_token(self, config) -> tuple[str, int]:
        raise NotImplementedError
