"""Celery tasks of quality inspection: thin wrappers over its services."""

from celery import shared_task

from .sampling import queue_fill
from .scanning import rescan_all


# Budget: one day of 100,000 follow-ups samples in well under 20 s (``qa_sample_s``).
@shared_task(name="qa.queue_fill", time_limit=900, soft_time_limit=840)
def fill_queue() -> dict:
    """The nightly sampling of yesterday's follow-ups (safe to run twice, even at once)."""
    report = queue_fill()
    return {"day": report.day.isoformat(), "queued": dict(report.queued),
            "unassigned": report.unassigned}


# Budget: 1,000,000 follow-ups rescan in ~20 s at 50,000 a second (``qa_scan_rows_per_s``).
@shared_task(name="qa.rescan_words", bind=True, time_limit=1800, soft_time_limit=1700,
             max_retries=20)
def rescan_words(self) -> dict:
    """Rescan every follow-up after the sensitive-word list changed; if a rescan is already
    running, try again in a minute so the newest list is the one that counts."""
    report = rescan_all()
    if report.skipped:
        raise self.retry(countdown=60)
    return {"scanned": report.scanned, "hits": report.hits}
