"""A small JSON-over-HTTPS client for the platforms' APIs (standard library only).

It turns every way a request can fail into one of three answers the sweep acts on:
a ``Response`` (the platform answered; its body says whether it liked the request),
``Transient`` (timeout, connection failure, HTTP 5xx: worth retrying later) or
``RateLimited`` (HTTP 429: retry after the time the platform asks for).
Request URLs carry tokens and webhook keys, so they never appear in an error message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings


class Transient(Exception):
    """The platform could not be reached or failed on its side; try again later."""


class RateLimited(Exception):
    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Response:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


def url(base: str, path: str, params: dict | None = None) -> str:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"{base.rstrip('/')}{path}{query}"


def get_json(target: str, *, timeout: float | None = None) -> Response:
    return _request(urllib.request.Request(target, method="GET"), timeout)


def post_json(target: str, payload: dict, *, headers: dict | None = None,
              timeout: float | None = None) -> Response:
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(target, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})
    return _request(request, timeout)


def _retry_after(headers) -> float | None:
    # Feishu names the seconds to wait in x-ogw-ratelimit-reset; others use Retry-After.
    for name in ("x-ogw-ratelimit-reset", "Retry-After"):
        value = headers.get(name)
        if value:
            try:
                return max(float(value), 0.0)
            except ValueError:
                continue
    return None


def _request(request: urllib.request.Request, timeout: float | None) -> Response:
    timeout = timeout or settings.IM_HTTP_TIMEOUT
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, _json(answer.read()), dict(answer.headers))
    except urllib.error.HTTPError as exc:
        body = _json(exc.read() if exc.fp else b"")
        if exc.code == 429:
            raise RateLimited(f"HTTP 429 {_summary(body)}".strip(),
                              _retry_after(exc.headers)) from None
        if exc.code >= 500:
            raise Transient(f"HTTP {exc.code} {_summary(body)}".strip()) from None
        return Response(exc.code, body, dict(exc.headers))
    except TimeoutError:
        raise Transient("timeout") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise Transient("timeout") from None
        raise Transient(f"connection failed: {type(reason).__name__}") from None
    except (ConnectionError, OSError) as exc:
        raise Transient(f"connection failed: {type(exc).__name__}") from None


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _summary(body: dict) -> str:
    code = body.get("errcode", body.get("code"))
    message = body.get("errmsg", body.get("msg", ""))
    return f"{code} {message}".strip() if code is not None else ""
