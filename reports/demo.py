"""Demo data of the reports: the daily snapshots of the demo's history, so every report
has something to show from the first sign-in (the nightly task carries on from there)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from leads.models import LeadEvent
from orgs.demo import DemoReport

from .models import RepDay
from .snapshots import snapshot_backfill

# The demo's history is a few months; a longer log is left to ``report_backfill``.
MAX_DAYS = 400


def seed_demo() -> DemoReport:
    """Write the snapshot of every day from the demo's first event to yesterday (a rerun
    rewrites them, with the same figures)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    first = LeadEvent.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return DemoReport({"daily snapshots": 0}, added=False)
    start = max(timezone.localdate(first), yesterday - timedelta(days=MAX_DAYS))
    had = RepDay.objects.exists()
    snapshot_backfill(start=start, end=yesterday)
    return DemoReport({"daily snapshots": RepDay.objects.count()}, added=not had)
