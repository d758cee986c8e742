"""PostgreSQL lock and statement timeouts: short for web requests, longer for workers.

The limits travel as libpq start-up options on the connection (no extra query per
request). A statement stopped by one of them raises ``OperationalError`` with SQLSTATE
55P03 (lock not available) or 57014 (query cancelled); ``is_busy`` recognises both.
"""

from __future__ import annotations

from django.db import OperationalError, connections

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


def pg_timeouts(*, lock_ms: int, statement_ms: int) -> str:
    """The libpq ``options`` string that sets both timeouts for a session."""
    return f"-c lock_timeout={int(lock_ms)} -c statement_timeout={int(statement_ms)}"


def use_web_timeouts(settings) -> None:
    """Give every connection opened from now on the web requests' limits (``crm_site.wsgi``)."""
    _use(pg_timeouts(lock_ms=settings.DB_LOCK_TIMEOUT_MS,
                     statement_ms=settings.DB_STATEMENT_TIMEOUT_MS))


def use_worker_timeouts(settings) -> None:
    """Give every connection opened from now on the workers' longer limits (called when a
    Celery worker starts; connections already open are closed so they reopen with them)."""
    _use(pg_timeouts(lock_ms=settings.DB_WORKER_LOCK_TIMEOUT_MS,
                     statement_ms=settings.DB_WORKER_STATEMENT_TIMEOUT_MS))


def _use(options: str) -> None:
    for alias in connections:
        connections[alias].settings_dict.setdefault("OPTIONS", {})["options"] = options
        connections[alias].close()


def is_busy(exc: BaseException) -> bool:
    """True for a database error caused by a lock or statement timeout."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc
    return getattr(cause, "pgcode", None) in (LOCK_NOT_AVAILABLE, QUERY_CANCELED)
