"""Scoped reads for leads: every list and detail goes through here.

A user sees the leads owned by anyone in their data scope (themselves included) and the
pool leads of pools they may view. Contact data is shown in clear only as
``lead_contact_clear`` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from crm_site.lib.keyset import Page, keyset_page
from crm_site.lib.masking import mask
from orgs.access import can_unmask
from orgs.models import DictionaryItem, Employee
from orgs.rights import Operation
from orgs.selectors import data_scope_for, rights_for_many

from .models import FollowUp, Lead, LeadEvent, LeadPool
from .permissions import claimer_ids, pools_for

MY_LEADS_SORTS = {
    "next": ("next_followup_at", False),
    "age": ("created_at", False),
    "newest": ("created_at", True),
    "grade": ("grade", False),
    "star": ("is_starred", True),
    "recycle": ("recycle_due_at", False),
}


def visible_leads(user) -> QuerySet:
    """Every lead ``user`` may open: owned within their scope, or waiting in a visible pool."""
    scope = data_scope_for(user)
    return Lead.objects.filter(
        scope.owners_q("owner")
        | Q(owner__isnull=True, status=Lead.Status.IN_POOL, pool__in=pools_for(user))
    )


def lead_get(*, user, lead_id: int) -> Lead:
    lead = (
        visible_leads(user).select_related("pool", "owner", "owner__employee", "created_by",
                                           "recycle_rule")
        .filter(pk=lead_id).first()
    )
    if lead is None:
        raise Http404
    return lead


def my_leads(*, user, sort: str = "next", status: str = "", starred: bool = False,
             search: str = "", cursor: str | None = None, size: int = 50) -> Page:
    field, descending = MY_LEADS_SORTS.get(sort, MY_LEADS_SORTS["next"])
    queryset = Lead.objects.filter(owner=user, status__in=Lead.OPEN_STATUSES).select_related(
        "pool", "recycle_rule")
    if status in Lead.OPEN_STATUSES:
        queryset = queryset.filter(status=status)
    if starred:
        queryset = queryset.filter(is_starred=True)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(company__icontains=search))
    return keyset_page(queryset, field=field, descending=descending, cursor=cursor, size=size)


def pool_leads(*, user, pool: LeadPool, search: str = "", cursor: str | None = None,
               size: int = 50) -> Page:
    queryset = Lead.objects.in_pool().filter(pool=pool).select_related("pool")
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(company__icontains=search))
    return keyset_page(queryset, field="pooled_at", descending=True, cursor=cursor,
                       size=size)


@dataclass(frozen=True)
class PoolRow:
    """One line of the pool list, every value ready to print (no per-row template work)."""

    pk: int
    name: str
    company: str
    mobile: str
    region: str
    channel: str
    pooled_on: str
    detail_url: str
    claim_url: str


def _url_for_pk(name: str):
    """A ``pk → URL`` function for a one-pk route, reversed once instead of once per row."""
    sentinel = 987654321
    pattern = reverse(name, args=[sentinel]).replace(str(sentinel), "{}")
    return pattern.format


def _labels(dictionary: str) -> dict[str, str]:
    return {item.code: item.display_label for item in DictionaryItem.objects.of(dictionary)}


def pool_rows(user, leads, former: set[int]) -> list[PoolRow]:
    """The pool list's lines for ``leads`` (one page), contact data masked as
    ``lead_contact_clear`` decides; two queries (the region and channel labels)."""
    if not leads:
        return []
    detail_url, claim_url = _url_for_pk("lead_detail"), _url_for_pk("lead_claim")
    regions, channels = _labels("region"), _labels("channel")
    rows = []
    for lead in leads:
        mobile = lead.mobile
        if mobile and not lead_contact_clear(user, lead, "list", former=lead.pk in former):
            mobile = mask(mobile, "phone")
        pooled = timezone.localtime(lead.pooled_at).strftime("%Y-%m-%d") if lead.pooled_at else ""
        rows.append(PoolRow(
            pk=lead.pk, name=lead.name, company=lead.company, mobile=mobile,
            region=regions.get(lead.region, lead.region) if lead.region else "—",
            channel=channels.get(lead.channel, lead.channel) if lead.channel else "—",
            pooled_on=pooled, detail_url=detail_url(lead.pk), claim_url=claim_url(lead.pk)))
    return rows


def scope_owned_leads(*, user, owner_id: int | None = None, cursor: str | None = None,
                      size: int = 50) -> Page:
    """Owned leads of everyone in the manager's scope (for transfers)."""
    scope = data_scope_for(user)
    queryset = Lead.objects.filter(scope.owners_q("owner"), status__in=Lead.OPEN_STATUSES)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    queryset = queryset.select_related("pool", "owner", "owner__employee")
    return keyset_page(queryset, field="assigned_at", descending=True, cursor=cursor,
                       size=size)


def assignable_reps(*, user) -> QuerySet:
    """Active employees in the viewer's scope who can receive leads."""
    scope = data_scope_for(user)
    return (
        Employee.objects.filter(user__in=scope.users(), status=Employee.Status.ACTIVE,
                                user__is_active=True)
        .select_related("user").order_by("employee_no")
    )


@dataclass(frozen=True)
class Receivers:
    """People leads of a pool may be handed to: those who claim from it (``pool`` set), or
    others in the assigner's scope who may claim (``pool`` None)."""

    pool: LeadPool | None
    people: list[Employee]


def lead_receivers(*, user, pool: LeadPool) -> list[Receivers]:
    """Who ``user`` may hand leads of ``pool`` to — the people who may work them: active
    employees who may claim from the pool, then the others in ``user``'s scope who may
    claim at all (``services.lead_assign`` accepts exactly these). Nobody who cannot work
    leads (marketing herself on the master pool, an inspector) is offered. A fixed number
    of queries."""
    claimers = claimer_ids([pool])[pool.pk]
    in_scope = set(data_scope_for(user).users().filter(is_active=True)
                   .values_list("pk", flat=True)) - claimers
    others = {u for u, rights in rights_for_many(in_scope).items()
              if rights.can(Operation.CLAIM)}
    people = {e.user_id: e for e in Employee.objects.filter(
        user_id__in=claimers | others, status=Employee.Status.ACTIVE,
        user__is_active=True).select_related("user").order_by("employee_no")}
    groups = [Receivers(pool, [e for u, e in people.items() if u in claimers]),
              Receivers(None, [e for u, e in people.items() if u in others])]
    return [group for group in groups if group.people]


def rep_loads(*, user) -> list[dict]:
    """Each rep in scope with the open leads they own (one grouped query)."""
    reps = list(assignable_reps(user=user))
    counts = dict(
        Lead.objects.filter(owner__in=[r.user_id for r in reps], status__in=Lead.OPEN_STATUSES)
        .values_list("owner").annotate(n=Count("pk")).values_list("owner", "n")
    )
    from .services import OVERALL_CAP

    return [{"employee": r, "owned": counts.get(r.user_id, 0), "cap": OVERALL_CAP}
            for r in reps]


def former_owner_lead_ids(user, lead_ids: list[int]) -> set[int]:
    """Which of these leads ``user`` owned before (and so no longer sees contacts of)."""
    if not lead_ids:
        return set()
    return set(
        LeadEvent.objects.filter(lead_id__in=lead_ids, from_owner=user,
                                 kind__in=LeadEvent.LOSING)
        .values_list("lead_id", flat=True)
    )


def lead_contact_clear(user, lead: Lead, scenario: str, *, former: bool | None = None) -> bool:
    """Whether ``user`` sees ``lead``'s contact data in clear in ``scenario``.

    Needs the unmask right for the scenario, and then: the owner does; someone whose
    scope covers the owner does; for a pool lead, nobody does while the pool hides contact
    data until claimed, and a former owner never does.
    """
    if not can_unmask(user, scenario):
        return False
    if lead.owner_id is not None:
        return lead.owner_id == user.pk or data_scope_for(user).sees_all or (
            Lead.objects.filter(data_scope_for(user).owners_q("owner"), pk=lead.pk).exists()
        )
    if lead.pool.hide_contact_until_claimed:
        return False
    if former is None:
        former = lead.pk in former_owner_lead_ids(user, [lead.pk])
    return not former


@dataclass(frozen=True)
class Stint:
    """One period of ownership: who, from when to when, and how they got the lead."""

    owner_id: int
    owner_name: str
    started: datetime
    ended: datetime | None
    acquired: str
    ended_by: str | None


def lead_events(lead: Lead) -> list[LeadEvent]:
    return list(
        lead.events.select_related("actor", "from_owner", "to_owner", "from_pool", "to_pool")
        .order_by("created_at", "pk")
    )


def ownership_stints(events: list[LeadEvent]) -> list[Stint]:
    """Fold the event history into ownership stints (pure; events in time order)."""
    names = {}
    for event in events:
        for user in (event.from_owner, event.to_owner):
            if user is not None and user.pk not in names:
                employee = getattr(user, "employee", None)
                names[user.pk] = employee.display_name if employee else user.get_username()
    stints: list[Stint] = []
    current: dict | None = None
    for event in events:
        if current and event.from_owner_id == current["owner_id"] and (
            event.kind in LeadEvent.LOSING
        ):
            stints.append(Stint(ended=event.created_at, ended_by=event.get_kind_display(),
                                **current))
            current = None
        if event.to_owner_id and (event.kind in LeadEvent.ACQUIRING or
                                  event.kind == LeadEvent.Kind.CREATED):
            if current:
                stints.append(Stint(ended=event.created_at, ended_by=event.get_kind_display(),
                                    **current))
            current = {"owner_id": event.to_owner_id, "owner_name": names[event.to_owner_id],
                       "started": event.created_at, "acquired": event.get_kind_display()}
    if current:
        stints.append(Stint(ended=None, ended_by=None, **current))
    return stints


def lead_followups(lead: Lead) -> list[FollowUp]:
    return list(lead.followups.select_related("author", "author__employee")[:100])


def workbench_summary(*, user, limit: int = 8) -> dict:
    """The rep's day in leads: assigned but not touched, about to be recycled, owned.

    (Follow-ups due and overdue span customers and opportunities too:
    ``selectors_followups.followup_agenda``.)
    """
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    mine = Lead.objects.filter(owner=user, status__in=Lead.OPEN_STATUSES).select_related("pool")
    return {
        "untouched": list(mine.filter(status=Lead.Status.ASSIGNED,
                                      assigned_at__gte=now - timedelta(days=7))
                          .order_by("-assigned_at")[:limit]),
        # Leads a recycle rule takes back within three days unless followed up.
        "recycling": list(mine.filter(recycle_due_at__lte=now + timedelta(days=3),
                                      clock_paused_at__isnull=True)
                          .select_related("recycle_rule").order_by("recycle_due_at")[:limit]),
        "owned": mine.count(),
    }


def pool_overview(*, user, perm: str = "view_pool_leads") -> list[dict]:
    """Pools the viewer reaches, with how many leads wait in each (one grouped query)."""
    # Opportunity pools hold opportunities, listed on the opportunity pool page.
    pools = list(pools_for(user, perm).exclude(kind__in=[LeadPool.Kind.DORMANT,
                                                         LeadPool.Kind.OPPORTUNITY])
                 .order_by("kind", "code"))
    waiting = dict(
        Lead.objects.in_pool().filter(pool__in=pools).values_list("pool")
        .annotate(n=Count("pk")).values_list("pool", "n")
    )
    return [{"pool": p, "waiting": waiting.get(p.pk, 0)} for p in pools]
