"""Pool health across the pools a viewer reaches: idle leads by waiting age, flows in the
period (received, claims, releases, recycles, conversions), recycles per rule, and leads
each member received against their share — six grouped queries whatever the pool count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from leads.models import Lead, LeadEvent, LeadPool, PoolMember, RecycleRule
from leads.permissions import pools_for
from orgs.selectors import DataScopeFilter

from .snapshots import day_bounds

AGE_BUCKETS = (("day", 1), ("week", 7), ("month", 30))  # under 1 day, 1–7, 7–30, older


@dataclass
class PoolHealth:
    pool: LeadPool
    ages: dict = field(default_factory=dict)
    flows: dict = field(default_factory=dict)
    rules: list = field(default_factory=list)
    members: list = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return sum(self.ages.values())


def pool_health(*, user, scope: DataScopeFilter, start: date, end: date) -> list[PoolHealth]:
    """Each lead pool the viewer reaches, with its health figures over ``start``–``end``."""
    pools = list(pools_for(user).filter(kind__in=[LeadPool.Kind.MASTER, LeadPool.Kind.SUB,
                                                  LeadPool.Kind.DORMANT]).order_by("code"))
    if not pools:
        return []
    ids = [p.pk for p in pools]
    now = timezone.now()
    period_start, _ = day_bounds(start)
    _, period_end = day_bounds(end)
    result = {p.pk: PoolHealth(pool=p) for p in pools}
    buckets = {"day": Q(pooled_at__gte=now - timedelta(days=1)),
               "week": Q(pooled_at__lt=now - timedelta(days=1),
                         pooled_at__gte=now - timedelta(days=7)),
               "month": Q(pooled_at__lt=now - timedelta(days=7),
                          pooled_at__gte=now - timedelta(days=30)),
               "older": Q(pooled_at__lt=now - timedelta(days=30))}
    waiting = (Lead.objects.filter(pool_id__in=ids, owner__isnull=True, status="in_pool")
               .values("pool_id").annotate(**{k: Count("pk", filter=q)
                                              for k, q in buckets.items()}))
    for row in waiting:
        result[row.pop("pool_id")].ages = row
    for health in result.values():
        health.ages = health.ages or dict.fromkeys(buckets, 0)
    events = LeadEvent.objects.filter(created_at__gte=period_start, created_at__lt=period_end)
    flows = (events.filter(Q(to_pool_id__in=ids) | Q(from_pool_id__in=ids))
             .values("kind", "from_pool_id", "to_pool_id").annotate(n=Count("pk")))
    for row in flows:
        kind = row["kind"]
        pool_id = row["to_pool_id"] if kind in ("assigned", "claimed") else row["from_pool_id"]
        if pool_id in result and kind in ("assigned", "claimed", "released", "recycled",
                                          "converted"):
            figures = result[pool_id].flows
            figures[kind] = figures.get(kind, 0) + row["n"]
    recycles = (events.filter(kind="recycled", from_pool_id__in=ids)
                .values("from_pool_id", "rule_id").annotate(n=Count("pk")).order_by("-n"))
    names = {r.pk: r.display_name for r in RecycleRule.objects.filter(
        pk__in={row["rule_id"] for row in recycles if row["rule_id"]})}
    for row in recycles:
        result[row["from_pool_id"]].rules.append((names.get(row["rule_id"], "—"), row["n"]))
    # Leads each member received from the pool against their weight's share.
    received = defaultdict(dict)
    for row in (events.filter(kind__in=["assigned", "claimed"], to_pool_id__in=ids)
                .filter(scope.owners_q("to_owner"))
                .values("to_pool_id", "to_owner_id", "kind").annotate(n=Count("pk"))):
        per = received[row["to_pool_id"]].setdefault(row["to_owner_id"], {})
        per[row["kind"]] = row["n"]
    released = {(row["from_pool_id"], row["from_owner_id"]): row["n"] for row in (
        events.filter(kind="released", from_pool_id__in=ids).filter(scope.owners_q("from_owner"))
        .values("from_pool_id", "from_owner_id").annotate(n=Count("pk")))}
    members = list(PoolMember.objects.filter(pool_id__in=ids, is_active=True)
                   .filter(scope.owners_q("user")).select_related("user__employee"))
    weights = dict(PoolMember.objects.filter(pool_id__in=ids, is_active=True)
                   .values("pool_id").annotate(w=Sum("weight")).values_list("pool_id", "w"))
    for member in members:
        pool_received = sum(sum(v.values()) for v in received[member.pool_id].values())
        got = received[member.pool_id].get(member.user_id, {})
        share = member.weight / weights[member.pool_id] if weights.get(member.pool_id) else None
        employee = getattr(member.user, "employee", None)
        result[member.pool_id].members.append({
            "user_id": member.user_id,
            "name": employee.display_name if employee else member.user.get_username(),
            "assigned": got.get("assigned", 0), "claimed": got.get("claimed", 0),
            "released": released.get((member.pool_id, member.user_id), 0),
            "share": share,
            "expected": round(share * pool_received, 1) if share is not None else None})
    return list(result.values())
