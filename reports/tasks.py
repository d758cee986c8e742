"""Celery tasks of reports: thin wrappers over the snapshot writer."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .snapshots import snapshot_write


# Budget: one INSERT … SELECT over a day's events, follow-ups and orders; ≤ 60 s at
# 5 M leads / 50 M events (see crm_bench snapshot_day_s).
@shared_task(name="reports.snapshot_yesterday", time_limit=900, soft_time_limit=840)
def snapshot_yesterday() -> dict:
    """Nightly: write yesterday's daily snapshot. Safe to run twice, even at once."""
    day = timezone.localdate() - timedelta(days=1)
    return {"day": day.isoformat(), "rows": snapshot_write(day=day)}
