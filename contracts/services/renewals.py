"""Renewals and expiry: a follow-up planned before an active contract ends, and the
sweep that marks ended contracts expired.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many

from ..models import (
    Contract,
)

register_kind("contract_renewal",
              gettext_lazy("Contract %(number)s with %(customer)s ends on %(end)s: "
                           "a renewal follow-up is planned."),
              icon="bi-arrow-repeat")

def renewal_days() -> int:
    return int(getattr(settings, "CONTRACT_RENEWAL_DAYS", 30))


def renewal_sweep(*, today: date | None = None, days: int | None = None,
                  limit: int = 20000) -> int:
    """Active contracts ending within ``days`` get a renewal plan once: an open follow-up
    plan on the customer for the owner (due ``days`` before the end, or today) and a
    notification. Set-based and safe to run twice at once (SKIP LOCKED, marked in the
    same transaction)."""
    from leads.models import FollowUp

    today = today or timezone.localdate()
    days = renewal_days() if days is None else days
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Contract.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Contract.Status.ACTIVE, renewal_planned_at__isnull=True,
                    end_on__lte=today + timedelta(days=days), end_on__gte=today)
            .select_related("customer").order_by("end_on", "pk")[:limit])
        if not due:
            return 0
        Contract.objects.filter(pk__in=[c.pk for c in due]).update(renewal_planned_at=now)
        FollowUp.objects.bulk_create(
            FollowUp(customer_id=c.customer_id, author_id=c.owner_id, kind="call",
                     outcome=FollowUp.Outcome.OTHER,
                     content=_("Renewal of contract %(number)s (ends %(end)s)")
                     % {"number": c.number, "end": c.end_on.isoformat()},
                     next_at=now, plan_open=True, created_at=now)
            for c in due)
        # The plan shows in the owner's agenda, which reads the customer's next follow-up.
        from opportunities.models import Customer

        Customer.objects.filter(pk__in={c.customer_id for c in due}).filter(
            Q(next_followup_at__isnull=True) | Q(next_followup_at__gt=now)
        ).update(next_followup_at=now)
        messages = [Message(c.owner_id, "contract_renewal",
                            {"number": c.number, "customer": c.customer.name,
                             "end": c.end_on.isoformat()},
                            reverse("contract_detail", args=[c.pk]), key=f"renewal:{c.pk}")
                    for c in due]
        transaction.on_commit(lambda: notify_many(messages))
    return len(due)


def expiry_sweep(*, today: date | None = None) -> int:
    """Active contracts past their end date become expired (one UPDATE)."""
    today = today or timezone.localdate()
    return Contract.objects.filter(status=Contract.Status.ACTIVE, end_on__lt=today).update(
        status=Contract.Status.EXPIRED)
