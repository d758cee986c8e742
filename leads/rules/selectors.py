"""Reads of the pool rules pages: managed pools, the assignment log, the distribution of
leads against weights, pool heat and extension requests — each in a fixed number of
queries whatever the pool's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.lib.keyset import Page, keyset_page
from orgs.models import Employee
from orgs.selectors import data_scope_for

from ..engine import strategies
from ..models import ExtensionRequest, LeadEvent, LeadPool, PoolMember, RecycleRule, RoutingRule
from ..models_rules import rule_name
from ..permissions import pools_for
from ..pools.assign import simulate_next
from ..pools.candidates import member_weights, pool_claimer_ids
from ..subjects import LEADS, subject_for_pool


def managed_pools(user) -> list[dict]:
    """Pools whose rules ``user`` manages, with their figures (five grouped queries)."""
    pools = list(pools_for(user, "manage_pool").select_related("parent")
                 .order_by("kind", "code"))
    ids = [p.pk for p in pools]
    leads = LEADS.model.objects.filter(pool_id__in=ids)
    waiting = dict(leads.filter(owner__isnull=True, status=LEADS.in_pool_status)
                   .values_list("pool_id").annotate(n=Count("pk")).values_list("pool_id", "n"))
    owned = dict(leads.filter(owner__isnull=False, status__in=LEADS.open_statuses)
                 .values_list("pool_id").annotate(n=Count("pk")).values_list("pool_id", "n"))
    members = dict(PoolMember.objects.filter(pool_id__in=ids).values_list("pool_id")
                   .annotate(n=Count("pk")).values_list("pool_id", "n"))
    recycle = dict(RecycleRule.objects.filter(pool_id__in=ids, is_active=True)
                   .values_list("pool_id").annotate(n=Count("pk")).values_list("pool_id", "n"))
    routing = dict(RoutingRule.objects.filter(source_pool_id__in=ids, is_active=True)
                   .values_list("source_pool_id").annotate(n=Count("pk"))
                   .values_list("source_pool_id", "n"))
    return [{"pool": p, "waiting": waiting.get(p.pk, 0), "owned": owned.get(p.pk, 0),
             "members": members.get(p.pk, 0), "recycle_rules": recycle.get(p.pk, 0),
             "routing_rules": routing.get(p.pk, 0)} for p in pools]


def managed_pool(user, code: str) -> LeadPool:
    pool = pools_for(user, "manage_pool").filter(code=code).first()
    if pool is None:
        raise Http404
    return pool


def display_names(user_ids) -> dict[int, str]:
    """Employees' names in the viewer's language (one query)."""
    ids = {u for u in user_ids if u}
    if not ids:
        return {}
    names = {e.user_id: e.display_name for e in Employee.objects.filter(user_id__in=ids)}
    for user in get_user_model().objects.filter(pk__in=ids - set(names)):
        names[user.pk] = user.get_username()
    return names


def pool_members(pool: LeadPool) -> list[dict]:
    """The member list with names and current loads (three queries)."""
    members = list(pool.members.order_by("user_id"))
    names = display_names(m.user_id for m in members)
    subject = subject_for_pool(pool)
    held = dict(subject.model.objects.filter(owner_id__in=[m.user_id for m in members],
                                             pool_id=pool.pk, status__in=subject.open_statuses)
                .values_list("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))
    away = set(Employee.objects.filter(user_id__in=[m.user_id for m in members])
               .exclude(status=Employee.Status.ACTIVE).values_list("user_id", flat=True))
    return [{"member": m, "name": names.get(m.user_id, ""), "held": held.get(m.user_id, 0),
             "away": m.user_id in away} for m in members]


def member_candidates(pool: LeadPool):
    """Users who may claim from the pool and are not members yet."""
    taken = set(pool.members.values_list("user_id", flat=True))
    ids = [u for u in pool_claimer_ids(pool) if u not in taken]
    return get_user_model().objects.filter(pk__in=ids).order_by("pk")


@dataclass(frozen=True)
class NextDecision:
    position: int
    lead_id: int | None
    lead_name: str
    user_id: int
    name: str
    why: str


def who_gets_next(pool: LeadPool, count: int = 10) -> list[NextDecision]:
    decisions = simulate_next(pool, count)
    subject = subject_for_pool(pool)
    real = [d.item_id for d in decisions if d.item_id > 0]
    titles = dict(subject.model.objects.filter(pk__in=real).values_list("pk", "name"))
    names = display_names(d.user_id for d in decisions)
    return [NextDecision(n, d.item_id if d.item_id > 0 else None,
                         titles.get(d.item_id, _("(a new lead)")), d.user_id,
                         names.get(d.user_id, ""), why(d.detail, names))
            for n, d in enumerate(decisions, start=1)]


# --- the assignment log ---------------------------------------------------------------------

PASSED_OVER = {
    strategies.UNAVAILABLE: gettext_lazy("away or not receiving leads"),
    strategies.REGION: gettext_lazy("outside their regions"),
    strategies.CATEGORY: gettext_lazy("outside their product categories"),
    strategies.POOL_CAP: gettext_lazy("pool cap reached"),
    strategies.OVERALL_CAP: gettext_lazy("overall cap reached"),
    strategies.GRADE_CAP: gettext_lazy("grade cap reached"),
    strategies.COOLDOWN: gettext_lazy("held it before (cool-down)"),
}


def why(detail: dict | None, names: dict[int, str]) -> str:
    """An automatic decision explained in the viewer's language."""
    if not detail:
        return ""
    parts = []
    strategy = detail.get("s")
    if strategy == strategies.ROUND_ROBIN:
        after = detail.get("after")
        parts.append(_("Round-robin: next in turn after %(name)s.")
                     % {"name": names.get(after, "—")} if after else
                     _("Round-robin: first in turn."))
    elif strategy == strategies.WEIGHTED:
        parts.append(_("Weighted: weight %(w)s of %(total)s among the eligible reps.")
                     % {"w": detail.get("w"), "total": detail.get("total_w")})
    elif strategy == strategies.LEAST_LOADED:
        parts.append(_("Least-loaded: fewest open leads among %(n)s eligible reps.")
                     % {"n": detail.get("eligible")})
    if "load" in detail:
        held = _("Held %(load)s open before.") % {"load": detail["load"]}
        if detail.get("cap") is not None:
            held = _("Held %(load)s open before (%(in_pool)s of %(cap)s allowed from this "
                     "pool).") % {"load": detail["load"], "in_pool": detail.get("in_pool"),
                                  "cap": detail["cap"]}
        parts.append(held)
    skipped = detail.get("skipped") or {}
    if skipped:
        listed = _("; ").join(_("%(name)s (%(reason)s)")
                              % {"name": names.get(int(u), u), "reason": PASSED_OVER.get(r, r)}
                              for u, r in skipped.items())
        more = detail.get("skipped_more")
        parts.append(_("Passed over: %(list)s%(more)s.")
                     % {"list": listed, "more": _(" and %(n)s more") % {"n": more} if more
                        else ""})
    if detail.get("sla"):
        parts.append(_("The previous owner did not make contact in time (%(rule)s).")
                     % {"rule": rule_name(detail["sla"], detail.get("sla_en", ""))})
    return " ".join(str(p) for p in parts)


def assignment_log(pool: LeadPool, *, cursor: str | None = None, size: int = 30) -> Page:
    """Who received which lead of the pool, when, how and why (newest first)."""
    subject = subject_for_pool(pool)
    queryset = (subject.event_model.objects
                .filter(to_pool=pool, kind__in=[LeadEvent.Kind.ASSIGNED, LeadEvent.Kind.CLAIMED])
                .select_related(subject.event_fk))
    return keyset_page(queryset, field="created_at", descending=True, cursor=cursor, size=size)


def log_rows(pool: LeadPool, page: Page) -> list[dict]:
    subject = subject_for_pool(pool)
    names = display_names({e.to_owner_id for e in page.rows} | {e.actor_id for e in page.rows}
                          | {int(u) for e in page.rows for u in ((e.detail or {})
                                                                 .get("skipped") or {})}
                          | {(e.detail or {}).get("after") for e in page.rows})
    rows = []
    for event in page.rows:
        record = getattr(event, subject.event_fk)
        if event.kind == LeadEvent.Kind.CLAIMED:
            how = _("Claimed from the pool")
        elif event.actor_id:
            how = _("Assigned by %(name)s") % {"name": names.get(event.actor_id, "")}
        else:
            how = _("Assigned by the rules")
        rows.append({"event": event, "record": record, "to": names.get(event.to_owner_id, ""),
                     "how": how, "why": why(event.detail, names),
                     "url": subject.url(record.pk)})
    return rows


# --- distribution and heat -----------------------------------------------------------------


def distribution(pool: LeadPool, since: datetime) -> dict:
    """Leads each rep received from the pool since ``since`` — by the rules, by a manager,
    by claiming — against the share their weight gives them (three queries)."""
    subject = subject_for_pool(pool)
    events = subject.event_model.objects.filter(
        to_pool=pool, created_at__gte=since,
        kind__in=[LeadEvent.Kind.ASSIGNED, LeadEvent.Kind.CLAIMED])
    counts: dict[int, dict[str, int]] = {}
    grouped = (events.annotate(by_rules=ExpressionWrapper(Q(actor__isnull=True),
                                                          output_field=BooleanField()))
               .values("to_owner_id", "kind", "by_rules").annotate(n=Count("pk"))
               .values_list("to_owner_id", "kind", "by_rules", "n"))
    for owner, kind, by_rules, n in grouped:
        row = counts.setdefault(owner, {"rules": 0, "manual": 0, "claimed": 0})
        if kind == LeadEvent.Kind.CLAIMED:
            row["claimed"] += n
        elif by_rules:
            row["rules"] += n
        else:
            row["manual"] += n
    members = {m.user_id: m for m in pool.members.all()}
    weights = member_weights(pool, list(members.values()), timezone.now()) if members \
        else {}
    if pool.strategy != LeadPool.Strategy.WEIGHTED:
        weights = dict.fromkeys(weights, 1)
    total_weight = sum(w for u, w in weights.items() if members[u].is_active) or 0
    by_rules_total = sum(c["rules"] for c in counts.values())
    users = set(counts) | set(members)
    names = display_names(users)
    rows = []
    for user in sorted(users, key=lambda u: names.get(u, "")):
        got = counts.get(user, {"rules": 0, "manual": 0, "claimed": 0})
        member = members.get(user)
        weight = weights.get(user) if member and member.is_active else None
        share = (weight / total_weight) if weight and total_weight else None
        expected = share * by_rules_total if share is not None else None
        rows.append({"user_id": user, "name": names.get(user, ""), "member": member is not None,
                     "weight": weight, "share": share, "expected": expected, **got,
                     "deviation": (got["rules"] - expected) if expected is not None else None,
                     "total": got["rules"] + got["manual"] + got["claimed"]})
    return {"rows": rows, "by_rules": by_rules_total, "total_weight": total_weight,
            "max_total": max((r["total"] for r in rows), default=0)}


def pool_heat(pool: LeadPool, since: datetime) -> dict:
    """How warm the pool is: waiting leads by age, claims, recycles per rule, conversions."""
    subject = subject_for_pool(pool)
    now = timezone.now()
    waiting = subject.model.objects.filter(pool=pool, owner__isnull=True,
                                           status=subject.in_pool_status)
    ages = waiting.aggregate(
        total=Count("pk"),
        day=Count("pk", filter=Q(pooled_at__gte=now - timedelta(days=1))),
        week=Count("pk", filter=Q(pooled_at__lt=now - timedelta(days=1),
                                  pooled_at__gte=now - timedelta(days=7))),
        month=Count("pk", filter=Q(pooled_at__lt=now - timedelta(days=7),
                                   pooled_at__gte=now - timedelta(days=30))),
        older=Count("pk", filter=Q(pooled_at__lt=now - timedelta(days=30))),
    )
    outflow = dict(subject.event_model.objects.filter(
        from_pool=pool, created_at__gte=since,
        kind__in=[LeadEvent.Kind.RECYCLED, LeadEvent.Kind.RELEASED, LeadEvent.Kind.CONVERTED])
        .values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    recycled_by_rule = dict(subject.event_model.objects.filter(
        from_pool=pool, created_at__gte=since, kind=LeadEvent.Kind.RECYCLED)
        .values_list("rule_id").annotate(n=Count("pk")).values_list("rule_id", "n"))
    rules = {r.pk: r.display_name
             for r in RecycleRule.objects.filter(pk__in=list(recycled_by_rule))}
    return {"ages": ages,
            "recycled": outflow.get(LeadEvent.Kind.RECYCLED, 0),
            "released": outflow.get(LeadEvent.Kind.RELEASED, 0),
            "converted": outflow.get(LeadEvent.Kind.CONVERTED, 0),
            "by_rule": [(rules.get(k, _("(deleted rule)")), n)
                        for k, n in sorted(recycled_by_rule.items(), key=lambda x: -x[1])]}


# --- extension requests ---------------------------------------------------------------------


def extension_requests(user, *, pending: bool = True, limit: int = 100) -> list[ExtensionRequest]:
    """Requests of reps in the viewer's scope (pending ones, or the latest decided)."""
    scope = data_scope_for(user)
    queryset = (ExtensionRequest.objects.filter(scope.owners_q("requested_by"))
                .exclude(requested_by=user)
                .select_related("lead", "lead__pool", "opportunity", "requested_by__employee",
                                "decided_by__employee"))
    if pending:
        queryset = queryset.filter(status=ExtensionRequest.Status.PENDING).order_by("created_at")
    else:
        queryset = queryset.exclude(status=ExtensionRequest.Status.PENDING).order_by(
            "-decided_at")
    return list(queryset[:limit])
