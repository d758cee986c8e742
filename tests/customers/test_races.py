"""Two people acting on the same customers at once, each on their own connection."""

from __future__ import annotations

from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from leads.models import FollowUp
from opportunities.customers import services
from opportunities.models import Customer
from tests.customers.conftest import make_customer
from tests.helpers import run_at_once


@pytest.mark.django_db(transaction=True)
def test_crossed_merges_never_lose_history(demo_org):
    """Rep and manager merge A→B and B→A at the same moment: exactly one merge happens,
    the other is refused, and every follow-up ends on the live customer."""
    User = get_user_model()
    rep, manager = User.objects.get(username="rep_wangfang"), User.objects.get(
        username="mgr_shanghai")
    a, b = make_customer(rep, "甲公司"), make_customer(rep, "甲 公司")
    for customer in (a, b):
        FollowUp.objects.create(customer=customer, author=rep, kind="call",
                                outcome="connected", content="记录")
    outcomes = []

    def merge(user_id, survivor, other):
        user = User.objects.get(pk=user_id)
        try:
            services.customer_merge(user=user, survivor_id=survivor, other_id=other)
            outcomes.append("merged")
        except services.CustomerActionRefused as refused:
            outcomes.append(refused.code)

    errors = run_at_once([partial(merge, rep.pk, a.pk, b.pk),
                          partial(merge, manager.pk, b.pk, a.pk)]).errors
    assert not errors
    assert sorted(outcomes) == ["forbidden", "merged"]
    live = Customer.objects.filter(pk__in=[a.pk, b.pk], merged_into__isnull=True)
    assert live.count() == 1
    assert FollowUp.objects.filter(customer=live.get()).count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_stars_never_pass_the_cap(demo_org):
    User = get_user_model()
    rep = User.objects.get(username="rep_wangfang")
    customers = [make_customer(rep) for _ in range(6)]
    refused = []

    def star(customer_id):
        try:
            services.customer_star(customer_id=customer_id,
                                   user=User.objects.get(pk=rep.pk), starred=True)
        except services.CustomerActionRefused as exc:
            refused.append(exc.code)

    with override_settings(CUSTOMER_STAR_CAP=2):
        errors = run_at_once([partial(star, c.pk) for c in customers]).errors
    assert not errors
    assert Customer.objects.filter(owner=rep, is_starred=True).count() == 2
    assert refused == ["star_cap"] * 4
