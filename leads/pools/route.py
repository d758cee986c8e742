"""Routing: move records from a pool to the sub-pools its routing rules name, and a
manager's manual move of leads to another pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.lib.bulk import update_and_log
from orgs.rights import Operation

from ..engine import routing
from ..models import LeadEvent, LeadPool, RoutingRule
from ..subjects import LEADS
from .config import BATCH, ROUTING_OVERLAP, RunReport, schedule_arrivals


def route_rules(pool: LeadPool, rules: Iterable[RoutingRule] | None = None
                ) -> list[routing.RouteRule]:
    if rules is None:
        rules = RoutingRule.objects.filter(source_pool=pool, is_active=True).order_by(
            "order", "pk")
    return [
        routing.RouteRule(
            id=r.pk or 0, target_pool_id=r.target_pool_id,
            regions=frozenset(r.regions or ()),
            product_categories=frozenset(r.product_categories or ()),
            channels=frozenset(r.channels or ()),
            customer_sizes=frozenset(r.customer_sizes or ()),
            attribute_conditions=tuple(
                (str(c.get("key", "")), str(c.get("op", "equals")), c.get("value"))
                for c in (r.attribute_conditions or []) if isinstance(c, dict)),
        )
        for r in rules
    ]


def route_pool(pool: LeadPool, *, dry_run: bool = False, rules=None, actor=None,
               now: datetime | None = None, everything: bool = False) -> RunReport:
    """Move the pool's waiting leads into sub-pools by its routing rules (first match wins,
    else the default sub-pool, else they wait here to be routed by hand).

    Only leads that entered the pool since the last run (minus a small overlap) are
    looked at, unless ``everything`` (a preview, or rules just changed). ``rules`` lets a
    preview try rules that are not saved yet.
    """
    report = RunReport(dry_run=dry_run)
    if pool.kind == LeadPool.Kind.OPPORTUNITY or not pool.is_active:
        return report
    compiled = route_rules(pool, rules)
    default = pool.default_route_pool_id
    if not compiled and default is None:
        return report
    now = now or timezone.now()
    checked = LeadPool.objects.filter(pk=pool.pk).values_list("routed_until", flat=True).first()
    since = None if (everything or checked is None) else checked - ROUTING_OVERLAP
    after = None
    while True:
        with transaction.atomic():
            queryset = LEADS.model.objects.filter(pool_id=pool.pk, owner__isnull=True,
                                                  status=LEADS.in_pool_status)
            if since is not None:
                queryset = queryset.filter(pooled_at__gte=since)
            if after is not None:
                queryset = queryset.filter(Q(pooled_at__gt=after[0])
                                           | Q(pooled_at=after[0], pk__gt=after[1]))
            if not dry_run:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            rows = list(queryset.order_by("pooled_at", "pk").values_list(
                "pk", "region", "product_category", "channel", "customer_size", "attributes",
                "pooled_at")[:BATCH])
            decisions = routing.route_all(
                (routing.RouteFacts(id=r[0], region=r[1], product_category=r[2], channel=r[3],
                                    customer_size=r[4], attributes=r[5] or {}) for r in rows),
                compiled, default)
            decisions = [d for d in decisions if d.target_pool_id != pool.pk]
            for decision in decisions:
                report.routed[(pool.pk, decision.target_pool_id)] += 1
            if decisions and not dry_run:
                update_and_log(
                    LEADS.model, ["pk", "pool"],
                    [(d.lead_id, d.target_pool_id) for d in decisions],
                    constants={"pooled_at": now}, log_model=LeadEvent,
                    log_names=["lead", "to_pool", "rule_id", "reason"],
                    log_rows=[(d.lead_id, d.target_pool_id, d.rule_id,
                               "routing_rule" if d.rule_id else "default_route")
                              for d in decisions],
                    log_constants={"kind": LeadEvent.Kind.ROUTED,
                                   "actor": getattr(actor, "pk", None), "from_pool": pool.pk,
                                   "created_at": now})
        if rows:
            after = (rows[-1][6], rows[-1][0])
        if len(rows) < BATCH:
            break
    if not dry_run:
        LeadPool.objects.filter(pk=pool.pk).update(routed_until=now)
        pool.routed_until = now
    return report


class RoutingRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def lead_route(*, lead_ids: Sequence[int], to_pool: LeadPool, actor) -> int:
    """Marketing routes waiting leads by hand into a sub-pool (one ROUTED event each)."""
    from orgs.selectors import rights_for

    from ..permissions import pool_allows

    if not rights_for(actor).can(Operation.ROUTE):
        raise RoutingRefused(_("Your roles do not allow routing leads."))
    if to_pool.kind not in (LeadPool.Kind.SUB, LeadPool.Kind.DORMANT) or not to_pool.is_active:
        raise RoutingRefused(_("Leads can only be routed into an active sub-pool."))
    now = timezone.now()
    with transaction.atomic():
        leads = list(LEADS.model.objects.select_for_update(of=("self",))
                     .select_related("pool").filter(pk__in=list(lead_ids), owner__isnull=True,
                                                    status=LEADS.in_pool_status)
                     .order_by("pk"))
        for source in {lead.pool for lead in leads}:
            if not (pool_allows(actor, source, "manage_pool")
                    or pool_allows(actor, source, "assign_from_pool")):
                raise RoutingRefused(_("You may not route leads out of %(pool)s.")
                                     % {"pool": source.display_name})
        moving = [lead for lead in leads if lead.pool_id != to_pool.pk]
        update_and_log(LEADS.model, ["pk", "pool"],
                       [(lead.pk, to_pool.pk) for lead in moving], constants={"pooled_at": now},
                       log_model=LeadEvent, log_names=["lead", "from_pool"],
                       log_rows=[(lead.pk, lead.pool_id) for lead in moving],
                       log_constants={"kind": LeadEvent.Kind.ROUTED, "actor": actor.pk,
                                      "to_pool": to_pool.pk, "reason": "manual",
                                      "created_at": now})
    if moving:
        transaction.on_commit(lambda: schedule_arrivals([to_pool.pk]))
    return len(moving)
