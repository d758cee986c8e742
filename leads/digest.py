"""The sections leads offer to a team's daily digest in WeCom, DingTalk or Feishu
(``notifications.channels.digest``): follow-ups overdue and due today across leads,
customers and opportunities, and leads and opportunities about to go back to a pool.

Each section counts for every team member at once (a grouped query per kind of record).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from notifications.channels.digest import register_digest_section, set_digest_link

from .models import Lead
from .subjects import get_subject

# "About to be recycled" in a daily digest: before the next day's digest.
RECYCLE_HORIZON = timedelta(hours=24)


def _grouped(queryset, user_ids: list[int]) -> Counter:
    rows = (queryset.filter(owner_id__in=user_ids).order_by().values("owner_id")
            .annotate(n=Count("pk")).values_list("owner_id", "n"))
    return Counter(dict(rows))


def _open_records():
    Customer = get_subject("customer").model
    Opportunity = get_subject("opportunity").model
    return [
        Lead.objects.filter(status__in=Lead.OPEN_STATUSES),
        Customer.objects.filter(merged_into__isnull=True),
        Opportunity.objects.filter(status__in=Opportunity.OPEN_STATUSES),
    ]


def _followups(user_ids: list[int], when: Q) -> dict[int, int]:
    total = Counter()
    for queryset in _open_records():
        total.update(_grouped(queryset.filter(when), user_ids))
    return dict(total)


def _end_of_day(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def overdue_counts(user_ids: list[int], now: datetime) -> dict[int, int]:
    return _followups(user_ids, Q(next_followup_at__lt=now))


def due_today_counts(user_ids: list[int], now: datetime) -> dict[int, int]:
    return _followups(user_ids, Q(next_followup_at__gte=now,
                                  next_followup_at__lt=_end_of_day(now)))


def recycling_counts(user_ids: list[int], now: datetime) -> dict[int, int]:
    Opportunity = get_subject("opportunity").model
    total = Counter()
    soon = Q(recycle_due_at__lte=now + RECYCLE_HORIZON, clock_paused_at__isnull=True)
    total.update(_grouped(Lead.objects.filter(soon, status__in=Lead.OPEN_STATUSES), user_ids))
    total.update(_grouped(Opportunity.objects.filter(soon, status__in=Opportunity.OPEN_STATUSES),
                          user_ids))
    return dict(total)


register_digest_section("overdue", pgettext_lazy("digest", "overdue"),
                        counts=overdue_counts, order=10)
register_digest_section("due_today", pgettext_lazy("digest", "due today"),
                        counts=due_today_counts, order=20)
register_digest_section("recycling", pgettext_lazy("digest", "back to the pool within 24 h"),
                        counts=recycling_counts, order=30)
# Each reader lands on their own home: a rep's workbench lists what is due for them.
set_digest_link("home")
