"""Helpers shared by the suites: fresh users by username, and running work from several
threads at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import translation

# Test clients sign in without the login form (no rate limit, no password hashing).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def user(username: str):
    """A fresh user object (no cached rights or pool permissions from earlier calls)."""
    return get_user_model().objects.get(username=username)


@dataclass
class Race:
    """What the racing jobs returned (in finishing order) and what they raised."""

    results: list = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def run_at_once(jobs: Sequence[Callable[[], object]], *, timeout: float = 120,
                language: str | None = None) -> Race:
    """Run each job in its own thread and database connection, all released by one barrier.

    Nothing is re-raised: the test looks at ``errors`` (a refusal it expects, or a real
    failure). A job still running after ``timeout`` seconds fails the test (a deadlock).
    ``language`` activates a language in every thread, for asserting messages.
    """
    barrier = threading.Barrier(len(jobs))
    race = Race()

    def wrapper(job):
        if language:
            translation.activate(language)
        try:
            barrier.wait(timeout=30)
            race.results.append(job())
        except BaseException as exc:  # reported by the test, whatever it is
            race.errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapper, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing job hung"
    return race
