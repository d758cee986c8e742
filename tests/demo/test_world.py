"""The demo's history simulation: seeded, so the same moment gives the same history."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

REPS = ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang", "rep_chenjing",
        "rep_yangfan", "rep_zhaomin", "rep_sunli"]


def _history(world) -> list:
    return [(life.number, life.data["name"], life.data["mobile"], life.data["channel"],
             life.status, life.owner, [(e.kind, e.at, e.to_owner, e.reason) for e in life.events],
             [(n.at, n.author, n.content, n.next_at) for n in life.notes])
            for life in world.lives]


def test_the_same_moment_gives_the_same_history(demo_org):
    from leads.demo import SEED, _arrivals, _configure_pools, _policy
    from leads.demo.world import World

    policy = _policy(_configure_pools(engine=True))
    now = timezone.now()
    runs = []
    for moment in (now, now, now + timedelta(days=3)):
        world = World(policy, now=moment, seed=SEED, can_convert=True)
        _arrivals(world, count=400, now=moment)
        world.run()
        runs.append(world)
    first, second, later = (_history(w) for w in runs)
    assert first == second
    assert len(runs[0].conversions) == len(runs[1].conversions) > 0
    # Laid out back from the moment it is seeded (weekends and office hours fall on other
    # days three days later): another history, as many leads.
    assert first != later and len(first) == len(later) == 400


@pytest.mark.parametrize("shift", [timedelta(days=1, hours=7), timedelta(days=3, hours=15),
                                   timedelta(days=5, hours=2), timedelta(days=6, hours=11)])
def test_what_the_walkthrough_needs_is_there_whatever_the_day_and_hour(db, shift):
    """The history is laid out back from the moment it is seeded (weekends, office hours):
    seeded at other moments of the week, the demo still has what the README walks through."""
    from contracts.models import ApprovalStep, Contract, Order
    from contracts.selectors import renewals_for
    from leads.models import Lead
    from leads.permissions import pools_for
    from leads.pools.runs import run_all

    moment = timezone.now() + shift
    with mock.patch("django.utils.timezone.now", return_value=moment):
        call_command("seed_demo", stdout=StringIO())
        run_all()
        users = {u.username: u for u in get_user_model().objects.all()}
        assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
        assert set(Contract.objects.values_list("status", flat=True)) == set(
            Contract.Status.values)
        for name in REPS:
            assert renewals_for(user=users[name]), name
            assert Lead.objects.in_pool().filter(
                pool__in=pools_for(users[name], "claim_from_pool")).exists(), name
        waiting = ApprovalStep.objects.filter(approver__username="mgr_shanghai",
                                              status="current")
        assert waiting.filter(request__subject="contract", request__amount__gte=500_000).exists()
        assert waiting.filter(request__subject="order").exists()
        assert Order.objects.filter(owner__username="rep_wangfang").order_by(
            "-created_at").first().status == Order.Status.DRAFT
        assert Lead.objects.in_pool().filter(pool__kind="master", region="north").exists()
        assert Lead.objects.filter(owner__username="rep_wangfang", status="assigned").exists()
