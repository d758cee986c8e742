"""Fixtures of the follow-up suite: the leads suite's org, pool and reps, plus customers and
opportunities made straight in the tables."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from opportunities.models import Customer, Opportunity
from tests.leads import conftest as _leads
from tests.leads.conftest import make_lead  # noqa: F401  (re-exported for the tests)

# The leads suite's pool (the demo reps and signed-in clients are the shared fixtures of
# tests/conftest.py).
pool = _leads.pool

_numbers = itertools.count(1)


def make_customer(owner=None, **fields) -> Customer:
    fields.setdefault("name", f"客户公司{next(_numbers)}")
    return Customer.objects.create(owner=owner, **fields)


def make_opportunity(owner=None, *, customer=None, **fields) -> Opportunity:
    customer = customer or make_customer(owner)
    fields.setdefault("name", f"商机{next(_numbers)}")
    fields.setdefault("stage", "prospecting")
    fields.setdefault("status", Opportunity.Status.OPEN if owner else
                      Opportunity.Status.IN_POOL)
    fields.setdefault("assigned_at", timezone.now() if owner else None)
    return Opportunity.objects.create(owner=owner, customer=customer, **fields)


@pytest.fixture
def customer(wangfang):
    return make_customer(wangfang)


@pytest.fixture
def opportunity(wangfang, customer):
    return make_opportunity(wangfang, customer=customer)
