"""The ``win_rate`` weight source: opportunities each rep won per opportunity they closed
over the period (won ÷ (won + lost)), for pools whose weights follow results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from leads.weights import register


@register("win_rate", _("Opportunity win rate, last 30 days"))
def win_rate(user_ids: Sequence[int], since: datetime) -> dict[int, float]:
    from .models import Opportunity

    rows = (Opportunity.objects.filter(owner_id__in=list(user_ids), closed_at__gte=since,
                                       status__in=[Opportunity.Status.WON,
                                                   Opportunity.Status.LOST])
            .values_list("owner_id")
            .annotate(won=Count("pk", filter=Q(status=Opportunity.Status.WON)),
                      closed=Count("pk"))
            .values_list("owner_id", "won", "closed"))
    found = {owner: won / closed for owner, won, closed in rows if closed}
    return {user: found.get(user, 0.0) for user in user_ids}
