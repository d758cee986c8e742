"""Converting a lead: one form creates (or links) a customer and a contact and opens an
opportunity; the lead becomes converted and keeps its links.

All of it happens in one transaction: a failure at any step leaves no customer, contact or
opportunity behind and the lead as it was. The lead row is locked first, so two clicks on
"Convert" make one conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from auditlog.models import LogEntry
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Lead, LeadEvent, LeadPool
from leads.normalize import normalize_company, normalize_email, normalize_phone
from leads.permissions import pools_for
from leads.pools.due import refresh_due
from opportunities.subjects import OPPORTUNITIES
from orgs.dictionaries import item_label
from orgs.selectors import data_scope_for

from .. import stages as stage_dictionary
from ..models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from .services import OpportunityActionRefused


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    customer: Customer
    contact: Contact
    opportunity: Opportunity
    customer_created: bool


def customers_in_scope(user):
    """Customers ``user`` may link a conversion to: owned by anyone in their data scope."""
    return Customer.objects.filter(data_scope_for(user).owners_q("owner"),
                                   merged_into__isnull=True)


def customer_search(*, user, query: str, limit: int = 10) -> list[Customer]:
    query = (query or "").strip()
    if len(query) < 1:
        return []
    key = normalize_company(query)
    matches = Q(name__icontains=query) | (Q(name_key__contains=key) if key else Q(pk__in=[]))
    return list(customers_in_scope(user).filter(matches)
                .select_related("owner__employee").order_by("name", "pk")[:limit])


def default_opportunity_pool(user) -> LeadPool | None:
    """The opportunity pool a converted opportunity belongs to (for its recycle rules):
    the nearest one the owner may claim from."""
    return (pools_for(user, "claim_from_pool").filter(kind=LeadPool.Kind.OPPORTUNITY)
            .order_by("-org_unit__depth", "pk").first())


def default_opportunity_name(lead) -> str:
    """What a converted lead's opportunity is called unless the rep names it: the company
    and the product of interest (in the rep's language), else the company and today's date —
    never the company's name alone, which every later deal with it would repeat."""
    company = (lead.company or lead.name or "").strip()
    if lead.product_category:
        what = item_label("product_category", lead.product_category)
    else:
        what = f"{timezone.localdate():%Y-%m-%d}"
    return f"{company} · {what}"[:200]


def lead_convert(*, lead_id: int, user, customer_id: int | None = None,
                 customer_name: str = "", contact_name: str = "", mobile: str = "",
                 email: str = "", opportunity_name: str = "", type: str = "solution",
                 amount: Decimal | int | str = 0, expected_close: date | None = None,
                 stage: str = "") -> Conversion:
    """The owner converts an open lead. Returns what was created or linked."""
    found = stage_dictionary.stage_map()
    stage = stage or stage_dictionary.first_open_stage(list(found.values()))
    if stage not in found or found[stage].closed:
        raise OpportunityActionRefused(_("Choose an open stage for the new opportunity."),
                                       "invalid")
    if type not in Opportunity.Type.values:
        raise OpportunityActionRefused(_("Choose an opportunity type from the list."),
                                       "invalid")
    try:
        amount = Decimal(str(amount or 0))
    except ArithmeticError:
        raise OpportunityActionRefused(_("Enter the amount as a number."), "invalid") from None
    if amount < 0:
        raise OpportunityActionRefused(_("The amount cannot be negative."), "invalid")
    contact_name = (contact_name or "").strip()
    if not contact_name:
        raise OpportunityActionRefused(_("Enter the contact's name."), "invalid")
    if not (mobile or "").strip() and not (email or "").strip():
        raise OpportunityActionRefused(_("Enter a mobile number or an e-mail for the contact."),
                                       "invalid")
    with transaction.atomic():
        lead = (Lead.objects.select_for_update(of=("self",)).select_related("pool")
                .filter(pk=lead_id).first())
        if lead is None or lead.owner_id != user.pk:
            raise OpportunityActionRefused(_("Only the owner can convert this lead."),
                                           "not_owner")
        if lead.status == Lead.Status.CONVERTED:
            raise OpportunityActionRefused(_("This lead was already converted."), "converted")
        if not lead.is_open:
            raise OpportunityActionRefused(_("Only an open lead can be converted."), "closed")
        now = timezone.now()
        created = customer_id is None
        if customer_id is not None:
            customer = customers_in_scope(user).filter(pk=customer_id).first()
            if customer is None:
                raise OpportunityActionRefused(
                    _("That customer is not in your scope; search again."), "forbidden")
        else:
            name = (customer_name or lead.company or lead.name).strip()
            customer = Customer.objects.create(
                kind=Customer.Kind.COMPANY if lead.company else Customer.Kind.PERSON,
                name=name, name_key=normalize_company(name), region=lead.region,
                industry=lead.industry, size=lead.customer_size, owner=user,
                created_by=user, created_at=now, updated_at=now, grade=lead.grade)
        contact = Contact.objects.create(name=contact_name, title=lead.title,
                                         created_by=user, created_at=now)
        methods = []
        if mobile.strip():
            methods.append(ContactMethod(contact=contact, kind=ContactMethod.Kind.MOBILE,
                                         value=mobile.strip(),
                                         value_key=normalize_phone(mobile), is_primary=True))
        if email.strip():
            methods.append(ContactMethod(contact=contact, kind=ContactMethod.Kind.EMAIL,
                                         value=email.strip(), value_key=normalize_email(email),
                                         is_primary=not methods))
        ContactMethod.objects.bulk_create(methods)
        CustomerContact.objects.create(
            customer=customer, contact=contact,
            is_primary=not CustomerContact.objects.filter(customer=customer,
                                                          is_primary=True).exists())
        pool = default_opportunity_pool(user)
        opportunity = Opportunity.objects.create(
            name=(opportunity_name or "").strip() or default_opportunity_name(lead),
            customer=customer, contact=contact, owner=user, pool=pool, type=type,
            amount=amount, expected_close=expected_close, stage=stage, stage_changed_at=now,
            status=Opportunity.Status.OPEN, assigned_at=now, pooled_at=now,
            last_qualified_at=now, created_by=user, created_at=now)
        OpportunityStageChange.objects.create(opportunity=opportunity, from_stage="",
                                              to_stage=stage, changed_by=user, changed_at=now)
        OpportunityEvent.objects.create(opportunity=opportunity,
                                        kind=OpportunityEvent.Kind.CREATED, actor=user,
                                        to_owner=user, to_pool=pool, reason="lead_conversion",
                                        detail={"lead": lead.pk}, created_at=now)
        Lead.objects.filter(pk=lead.pk).update(
            status=Lead.Status.CONVERTED, customer=customer, contact=contact,
            opportunity=opportunity, converted_at=now, recycle_due_at=None,
            recycle_rule=None, recycle_warn_at=None)
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.CONVERTED, actor=user, from_owner=user,
            to_owner=user, from_pool=lead.pool, to_pool=lead.pool, created_at=now,
            detail={"customer": customer.pk, "contact": contact.pk,
                    "opportunity": opportunity.pk, "customer_created": created})
        LogEntry.objects.log_create(
            lead, force_log=True, action=LogEntry.Action.UPDATE, actor=user,
            changes={"status": [lead.status, Lead.Status.CONVERTED],
                     "customer": ["", str(customer.pk)], "contact": ["", str(contact.pk)],
                     "opportunity": ["", str(opportunity.pk)]})
        if pool is not None:
            refresh_due(OPPORTUNITIES, ids=[opportunity.pk], now=now)
    lead.refresh_from_db()
    return Conversion(lead=lead, customer=customer, contact=contact, opportunity=opportunity,
                      customer_created=created)
