"""Staying inside each platform's documented sending limits, across every worker.

A limit is "at most ``count`` messages in any ``seconds``" (a sliding window, which is what
"20 per minute" has to mean for a robot that refuses the 21st). The send times of each
destination live in the shared cache (Redis in production), guarded by a short lock taken
with an atomic ``add``. ``reserve`` either records a send now, or says how long to wait;
the sweep then leaves the message waiting until that time instead of being refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

LOCK_SECONDS = 5


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float


def reserve(buckets: list[tuple[str, tuple[Limit, ...]]], *, now: float) -> float:
    """Record one send in every bucket and return 0, or return the seconds to wait.

    Nothing is recorded when any bucket is full, so a message that waits takes no slot.
    """
    keys = sorted(key for key, _limits in buckets)
    locks = []
    try:
        for key in keys:
            lock = f"im:rl:{key}:lock"
            if not cache.add(lock, 1, timeout=LOCK_SECONDS):
                return 0.5  # another worker is sending to the same place: try again shortly
            locks.append(lock)
        stamps = {key: cache.get(f"im:rl:{key}") or [] for key in keys}
        wait = 0.0
        for key, limits in buckets:
            wait = max(wait, _wait(stamps[key], limits, now))
        if wait > 0:
            return wait
        for key, limits in buckets:
            window = max(limit.seconds for limit in limits)
            kept = [s for s in stamps[key] if s > now - window]
            kept.append(now)
            cache.set(f"im:rl:{key}", kept, timeout=int(window) + 5)
        return 0.0
    finally:
        for lock in locks:
            cache.delete(lock)


def _wait(stamps: list[float], limits: tuple[Limit, ...], now: float) -> float:
    wait = 0.0
    for limit in limits:
        recent = sorted(s for s in stamps if s > now - limit.seconds)
        if len(recent) >= limit.count:
            # The send that frees a slot is the oldest of the last ``count`` ones.
            wait = max(wait, recent[len(recent) - limit.count] + limit.seconds - now)
    return wait


def clear(key: str) -> None:
    cache.delete(f"im:rl:{key}")
