"""Scoped reads for customers and contacts: every list and detail goes through here.

A user sees the customers owned by anyone in their data scope (themselves included) and
the unowned customers they created. A contact is seen through a visible customer it acts
for (or, while it acts for none, by the person who entered it). Records merged into
another one are gone from every list; their pages send the reader to the survivor.
Contact methods are shown in clear only when the viewer holds the unmask right of the
scenario (list, detail, export) — everything visible is already inside their scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from crm_site.lib.keyset import Page, keyset_page
from leads.models import FollowUp, Lead, LeadEvent
from leads.selectors import ownership_stints
from orgs.access import show
from orgs.rights import Entry
from orgs.selectors import data_scope_for, rights_for

from .models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)

METHOD_MASK = {ContactMethod.Kind.MOBILE: "phone", ContactMethod.Kind.PHONE: "phone",
               ContactMethod.Kind.EMAIL: "email", ContactMethod.Kind.WECHAT: "address"}

CUSTOMER_SORTS = {
    "newest": ("created_at", True),
    "name": ("name_key", False),
    "next": ("next_followup_at", False),
}


# --- visibility ---------------------------------------------------------------------------


def customer_url_for(user, customer_id: int) -> str | None:
    """The customer page's address if ``user`` may open it, else ``None`` (one query)."""
    if not rights_for(user).opens(Entry.CUSTOMERS):
        return None
    if not visible_customers(user).filter(pk=customer_id).exists():
        return None
    return reverse("customer_detail", args=[customer_id])


def visible_customers(user) -> QuerySet:
    """Every live customer ``user`` may open (and so edit, if it is theirs or their team's)."""
    scope = data_scope_for(user)
    return Customer.objects.filter(
        scope.owners_q("owner") | Q(owner__isnull=True, created_by_id=user.pk),
        merged_into__isnull=True,
    )


def visible_contacts(user) -> QuerySet:
    """Every live contact acting for a visible customer, or entered by ``user`` unlinked."""
    links = CustomerContact.objects.filter(contact=OuterRef("pk"),
                                           customer__in=visible_customers(user))
    any_link = CustomerContact.objects.filter(contact=OuterRef("pk"))
    return Contact.objects.filter(
        Q(Exists(links)) | Q(~Exists(any_link), created_by_id=user.pk),
        merged_into__isnull=True,
    )


def method_display(user, method: ContactMethod, scenario: str,
                   clear: bool | None = None) -> str:
    """A contact method's value as ``user`` may see it in ``scenario``."""
    return show(user, method.value, METHOD_MASK.get(method.kind, "address"), scenario,
                clear=clear)


# --- customers ----------------------------------------------------------------------------


def customer_list(*, user, grade: str = "", starred: bool = False, region: str = "",
                  industry: str = "", owner_id: int | None = None, search: str = "",
                  sort: str = "newest", cursor: str | None = None, size: int = 50) -> Page:
    field, descending = CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS["newest"])
    queryset = visible_customers(user).select_related("owner", "owner__employee")
    if grade:
        queryset = queryset.filter(grade=grade)
    if starred:
        queryset = queryset.filter(is_starred=True)
    if region:
        queryset = queryset.filter(region=region)
    if industry:
        queryset = queryset.filter(industry=industry)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id=search))
    page = keyset_page(queryset, field=field, descending=descending, cursor=cursor, size=size)
    _attach_primary_contacts(page.rows)
    return page


def _attach_primary_contacts(customers: list[Customer]) -> None:
    """Each customer's primary contact and that contact's primary method (two queries)."""
    links = {}
    for link in (CustomerContact.objects.filter(customer__in=customers,
                                                contact__merged_into__isnull=True)
                 .select_related("contact").order_by("customer_id", "-is_primary", "pk")):
        links.setdefault(link.customer_id, link)
    methods = {}
    for method in (ContactMethod.objects.filter(contact_id__in=[lk.contact_id
                                                                for lk in links.values()])
                   .order_by("contact_id", "-is_primary", "pk")):
        methods.setdefault(method.contact_id, method)
    for customer in customers:
        link = links.get(customer.pk)
        customer.primary_link = link
        customer.primary_method = methods.get(link.contact_id) if link else None


def customer_get(*, user, customer_id: int) -> Customer:
    customer = (visible_customers(user).select_related("owner", "owner__employee",
                                                       "created_by")
                .filter(pk=customer_id).first())
    if customer is None:
        raise Http404
    return customer


def merged_survivor_id(model, pk: int) -> int | None:
    """Where a merged record went (its survivor's id), or None when it was not merged."""
    return model.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()


def customer_contacts(customer: Customer) -> list[CustomerContact]:
    """The customer's contacts with role, primary flag and methods (two queries)."""
    return list(
        CustomerContact.objects.filter(customer=customer, contact__merged_into__isnull=True)
        .select_related("contact")
        .prefetch_related(Prefetch("contact__methods",
                                   queryset=ContactMethod.objects.order_by("-is_primary", "pk")))
        .order_by("-is_primary", "contact__name", "pk")
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a customer's history, whatever it comes from."""

    at: datetime
    kind: str  # "followup", "lead_event", "opportunity", "stage", "opportunity_event"
    obj: object
    lead: Lead | None = None
    opportunity: Opportunity | None = None


def customer_timeline(customer: Customer, *, limit: int = 200) -> dict:
    """One history across the customer's leads (with their ownership stints), follow-ups,
    opportunities and their stage changes, newest first. A fixed number of queries."""
    leads = list(Lead.objects.filter(customer=customer).select_related("pool").order_by("pk"))
    lead_by_id = {lead.pk: lead for lead in leads}
    events = list(
        LeadEvent.objects.filter(lead_id__in=list(lead_by_id))
        .select_related("actor", "actor__employee", "from_owner", "from_owner__employee",
                        "to_owner", "to_owner__employee", "from_pool", "to_pool")
        .order_by("lead_id", "created_at", "pk")
    )
    per_lead: dict[int, list] = {}
    for event in events:
        per_lead.setdefault(event.lead_id, []).append(event)
    lead_stints = [{"lead": lead, "stints": ownership_stints(per_lead.get(lead.pk, []))}
                   for lead in leads]
    opportunities = list(Opportunity.objects.filter(customer=customer)
                         .select_related("owner", "owner__employee").order_by("-created_at"))
    opp_by_id = {o.pk: o for o in opportunities}
    changes = list(OpportunityStageChange.objects.filter(opportunity_id__in=list(opp_by_id))
                   .select_related("changed_by", "changed_by__employee"))
    opp_events = list(OpportunityEvent.objects.filter(opportunity_id__in=list(opp_by_id))
                      .select_related("actor", "actor__employee", "to_owner",
                                      "to_owner__employee", "from_owner",
                                      "from_owner__employee"))
    followups = list(
        FollowUp.objects.filter(Q(customer=customer) | Q(opportunity_id__in=list(opp_by_id))
                                | Q(lead_id__in=list(lead_by_id)))
        .select_related("author", "author__employee").order_by("-created_at", "-pk")[:limit]
    )
    entries = [TimelineEntry(f.created_at, "followup", f, lead=lead_by_id.get(f.lead_id),
                             opportunity=opp_by_id.get(f.opportunity_id)) for f in followups]
    entries += [TimelineEntry(e.created_at, "lead_event", e, lead=lead_by_id[e.lead_id])
                for e in events]
    entries += [TimelineEntry(o.created_at, "opportunity", o, opportunity=o)
                for o in opportunities]
    entries += [TimelineEntry(c.changed_at, "stage", c, opportunity=opp_by_id[c.opportunity_id])
                for c in changes]
    entries += [TimelineEntry(e.created_at, "opportunity_event", e,
                              opportunity=opp_by_id[e.opportunity_id]) for e in opp_events]
    entries.sort(key=lambda e: (e.at, e.kind, getattr(e.obj, "pk", 0)), reverse=True)
    return {"entries": entries[:limit], "leads": lead_stints, "opportunities": opportunities}


# --- contacts ---------------------------------------------------------------------------------


def contact_list(*, user, search: str = "", cursor: str | None = None,
                 size: int = 50) -> Page:
    queryset = visible_contacts(user)
    if search:
        queryset = queryset.filter(name__icontains=search)
    page = keyset_page(queryset, field="created_at", descending=True, cursor=cursor,
                       size=size)
    contacts = page.rows
    links: dict[int, list] = {}
    for link in (CustomerContact.objects.filter(contact__in=contacts,
                                                customer__in=visible_customers(user))
                 .select_related("customer").order_by("-is_primary", "pk")):
        links.setdefault(link.contact_id, []).append(link)
    methods: dict[int, ContactMethod] = {}
    for method in ContactMethod.objects.filter(contact__in=contacts).order_by(
            "contact_id", "-is_primary", "pk"):
        methods.setdefault(method.contact_id, method)
    for contact in contacts:
        contact.visible_links = links.get(contact.pk, [])
        contact.primary_method = methods.get(contact.pk)
    return page


def contact_get(*, user, contact_id: int) -> Contact:
    contact = visible_contacts(user).filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


def contact_links(*, user, contact: Contact) -> list[CustomerContact]:
    """The customers (visible to ``user``) this contact acts for, with role and flag."""
    return list(CustomerContact.objects.filter(contact=contact,
                                               customer__in=visible_customers(user))
                .select_related("customer", "customer__owner", "customer__owner__employee")
                .order_by("-is_primary", "customer__name"))


def contact_methods(contact: Contact) -> list[ContactMethod]:
    return list(contact.methods.order_by("-is_primary", "pk"))


# --- possible duplicates ------------------------------------------------------------------


def customer_duplicates(*, user, customer: Customer, limit: int = 10) -> list[dict]:
    """Visible customers that are likely the same company: the same normalised name, or a
    contact reachable by the same normalised phone or e-mail."""
    keys = list(ContactMethod.objects.filter(
        contact__customer_links__customer=customer).exclude(value_key="")
        .values_list("value_key", flat=True).distinct()[:50])
    q = Q(pk__in=[])
    if customer.name_key:
        q |= Q(name_key=customer.name_key)
    if keys:
        shared = CustomerContact.objects.filter(
            customer=OuterRef("pk"), contact__methods__value_key__in=keys)
        q |= Q(Exists(shared))
    found = list(visible_customers(user).filter(q).exclude(pk=customer.pk)
                 .select_related("owner", "owner__employee").order_by("pk")[:limit])
    return [{"record": c, "why": "name" if customer.name_key and c.name_key ==
             customer.name_key else "contact"} for c in found]


def contact_duplicates(*, user, contact: Contact, limit: int = 10) -> list[dict]:
    """Visible contacts reachable by the same normalised phone, e-mail or WeChat ID."""
    keys = list(contact.methods.exclude(value_key="").values_list("value_key", flat=True))
    if not keys:
        return []
    found = list(visible_contacts(user).filter(methods__value_key__in=keys)
                 .exclude(pk=contact.pk).distinct().order_by("pk")[:limit])
    return [{"record": c, "why": "contact"} for c in found]
