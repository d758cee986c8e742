"""Overlapping the stages of a file import: checking rows ahead, writing side by side.

A file import checks rows in Python and writes them in PostgreSQL. ``read_ahead`` checks
the next batch in a thread of its own while the current one is written; ``side_by_side``
writes batches on two connections at once (each batch in its own transaction), so that
both cores work: PostgreSQL on one batch, and on another, while Python checks a third.
Threads waiting on the database hold no GIL.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.db import connection
from django.utils import translation

T = TypeVar("T")
R = TypeVar("R")

_END = object()


def _put(handoff: queue.Queue, entry, stop: threading.Event) -> bool:
    """Put ``entry`` unless ``stop`` is set first (the other side gave up)."""
    while not stop.is_set():
        try:
            handoff.put(entry, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False


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

    def produce() -> None:
        try:
            with translation.override(language):
                for item in items:
                    if not _put(handoff, (item, None), stop):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            _put(handoff, (_END, exc), stop)
            return
        _put(handoff, (_END, None), stop)

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


def side_by_side(items: Iterable[T], work: Callable[[T], R], *,
                 workers: int = 2) -> Iterator[tuple[T, R]]:
    """``(item, work(item))`` for every item, ``workers`` items being worked at a time,
    each worker thread on a database connection of its own (closed when it is done).

    Results come in the order they finish. The first exception of a worker is raised here
    once the items in hand are finished; no further item is started. Only for work that is
    complete in itself (its own transaction): the workers' connections are not the
    caller's and see only what is committed.
    """
    todo: queue.Queue = queue.Queue(maxsize=workers)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    language = translation.get_language()

    def run() -> None:
        try:
            with translation.override(language):
                while True:
                    item = todo.get()
                    if item is _END:
                        return
                    if stop.is_set():
                        continue  # a sibling failed: finish nothing more
                    try:
                        done.put((item, work(item), None))
                    except BaseException as exc:
                        stop.set()
                        done.put((item, None, exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=f"side-by-side-{n}", daemon=True)
               for n in range(workers)]
    for thread in threads:
        thread.start()
    in_hand, error, pending = 0, None, iter(items)
    try:
        while True:
            # Keep every worker busy while there are items and nobody failed; then take
            # the next result.
            if pending is not None and in_hand < workers:
                item = next(pending, _END)
                if item is not _END and _put(todo, item, stop):
                    in_hand += 1
                    continue
                pending = None  # no more items, or a worker failed
            if not in_hand:
                break
            finished, result, failure = done.get()
            in_hand -= 1
            if failure is not None:
                error, pending = error or failure, None
            else:
                yield finished, result
    finally:
        stop.set()
        for _thread in threads:
            todo.put(_END)
        for thread in threads:
            thread.join()
    if error is not None:
        raise error
