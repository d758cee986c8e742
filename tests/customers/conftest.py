"""Fixtures of the customers suite: the demo organisation and hand-made customers."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.customers.services import method_key
from opportunities.models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
)
from tests.helpers import user
from tests.leads.conftest import make_lead, pool  # noqa: F401

_numbers = itertools.count(1)


def make_customer(owner, name: str | None = None, **fields) -> Customer:
    from leads.normalize import normalize_company

    name = name or f"测试客户{next(_numbers)}有限公司"
    now = timezone.now()
    customer = Customer.objects.create(name=name, name_key=normalize_company(name), owner=owner,
                                       created_by=owner, created_at=now, updated_at=now,
                                       **fields)
    return customer


def make_contact(customer: Customer | None, name: str = "联系人", *, mobile: str | None = None,
                 email: str = "", role: str = "", primary: bool = True) -> Contact:
    contact = Contact.objects.create(name=name)
    mobile = mobile or f"1370000{next(_numbers):04d}"
    ContactMethod.objects.create(contact=contact, kind="mobile", value=mobile,
                                 value_key=method_key("mobile", mobile), is_primary=True)
    if email:
        ContactMethod.objects.create(contact=contact, kind="email", value=email,
                                     value_key=method_key("email", email))
    if customer is not None:
        CustomerContact.objects.create(customer=customer, contact=contact, role=role,
                                       is_primary=primary)
    return contact


def make_opportunity(customer: Customer, owner, *, amount="1000", status="open",
                     closed_at=None, stage="prospecting") -> Opportunity:
    return Opportunity.objects.create(name=f"商机 {customer.name}", customer=customer,
                                      owner=owner, amount=Decimal(amount), status=status,
                                      stage=stage, closed_at=closed_at)


@pytest.fixture
def mgr_shanghai(demo_org):
    return user("mgr_shanghai")
