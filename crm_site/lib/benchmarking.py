"""Helpers shared by the apps' ``crm_bench`` modules."""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction


def checkpoint() -> bool:
    """Write out every dirty page (``CHECKPOINT``) before a timed step.

    Without it a step pays, by chance, for the writes of the steps before it (the
    background writer flushing their pages, a checkpoint falling in the middle); with it
    each step starts from the same state and pays the same full-page writes for the pages
    it is first to touch, so that two steps compared with each other are compared fairly.
    Needs a superuser or the ``pg_checkpoint`` role; without them nothing happens (False).
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        return False
    return True
