"""Produce a sequence's items in a background thread, a few items ahead of their consumer.

A file import checks the rows of its next batch (pure Python) while the current batch is
written (the database works and the writing thread waits on its socket, without the
GIL): on two cores the checks cost no time of their own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.utils import translation

T = TypeVar("T")

_END = object()


def read_ahead(items: Iterable[T], *, depth: int = 2) -> Iterator[T]:
    """Yield the items of ``items``, produced by a background thread up to ``depth`` ahead.

    The producer's exception is raised here, in the consumer; a consumer that stops early
    (or fails) stops the producer. The active language carries over to the producer. The
    producer must not touch the database: its thread would open a connection of its own,
    outside the caller's transaction.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            with translation.override(language):
                for item in items:
                    if not put((item, None)):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            put((_END, exc))
            return
        put((_END, None))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()
