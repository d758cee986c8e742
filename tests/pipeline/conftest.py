"""Fixtures of the pipeline suite: the demo org, its pools, and hand-made opportunities."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import LeadPool
from opportunities.models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from orgs.models import OrgUnit

_numbers = itertools.count(1)


def make_opportunity(*, owner=None, pool=None, stage: str = "prospecting",
                     amount: int = 100_000, mobile: str | None = None, **fields) -> Opportunity:
    """An opportunity with its customer, contact (with a mobile) and first stage change."""
    number = next(_numbers)
    name = fields.pop("customer_name", f"测试客户{number}有限公司")
    customer = Customer.objects.create(name=name, owner=owner)
    contact = Contact.objects.create(name=f"联系人{number}")
    ContactMethod.objects.create(contact=contact, kind=ContactMethod.Kind.MOBILE,
                                 value=mobile or f"1380000{number:04d}", is_primary=True)
    CustomerContact.objects.create(customer=customer, contact=contact, is_primary=True)
    now = timezone.now()
    opportunity = Opportunity.objects.create(
        name=fields.pop("name", f"测试商机{number}"), customer=customer, contact=contact,
        owner=owner, pool=pool, stage=stage, amount=Decimal(amount),
        status=fields.pop("status", Opportunity.Status.OPEN if owner
                          else Opportunity.Status.IN_POOL),
        assigned_at=now if owner else None, **fields)
    OpportunityStageChange.objects.create(opportunity=opportunity, to_stage=stage,
                                          changed_by=owner, changed_at=now)
    OpportunityEvent.objects.create(opportunity=opportunity, kind=OpportunityEvent.Kind.CREATED,
                                    to_pool=pool, created_at=now)
    return opportunity


@pytest.fixture(autouse=True)
def _english_messages():
    """Service messages are asserted in English (pages are checked in both languages)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def opp_pool(demo_org) -> LeadPool:
    """An opportunity pool of the sales department: every rep and manager reaches it."""
    return LeadPool.objects.create(code="t_opp", name="测试商机池", name_en="Test opportunity pool",
                                   kind=LeadPool.Kind.OPPORTUNITY,
                                   org_unit=OrgUnit.objects.get(code="sales"), cooldown_days=7)


