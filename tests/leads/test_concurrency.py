"""Claim races on the real PostgreSQL: many reps, each on their own connection.

32 reps (four of them from two tabs at once: 36 connections) race over the same 200 pool
leads for three rounds; between rounds each rep gives back half of what they hold. The
cap (6) and daily limit (11) are set so that each round ends on a different refusal:
round 1 fills every rep to the cap, round 2 after the releases does again, round 3 ends on
the daily limit. Whatever the interleaving: every lead has one owner with one
acquiring event, nobody passes the pool cap or the daily limit, every claim the service
reports has exactly one event, and every loser is told why.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads import services
from leads.models import Lead, LeadEvent, LeadPool
from leads.pools.claims import start_of_today
from orgs.models import OrgUnit, Role
from orgs.presets import apply_org_stage
from tests.factories import EmployeeFactory, PositionFactory, add_member, make_unit
from tests.helpers import run_at_once

REPS = 32
LEADS = 200
CAP = 6
DAILY_LIMIT = 11
ROUNDS = 3
TWO_TABS = 4  # reps who also claim from a second connection at the same time
WINDOW = 24  # leads each rep tries per round: ~4 reps contend for every lead
# already_yours: a rep walking over a lead they won in an earlier round.
EXPECTED_REFUSALS = {"taken", "pool_cap", "daily_limit", "cooldown", "already_yours"}


@pytest.fixture
def race(transactional_db):
    apply_org_stage(1)
    team = make_unit("race_team", parent=OrgUnit.objects.get(code="sales"), name="抢单组")
    position = PositionFactory(org_unit=team, roles=[Role.objects.get(code="sales_rep")])
    reps = []
    for number in range(REPS):
        employee = EmployeeFactory(user__username=f"racer{number:02d}")
        add_member(employee, team, position, is_primary=True)
        reps.append(employee.user_id)
    pool = LeadPool.objects.create(code="race_pool", name="抢单池", org_unit=team,
                                   owned_cap=CAP, daily_claim_limit=DAILY_LIMIT,
                                   cooldown_days=7)
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        Lead(pool=pool, name=f"客户{n}", mobile=f"1770000{n:04d}", mobile_key=f"1770000{n:04d}",
             created_at=now)
        for n in range(LEADS)
    )
    LeadEvent.objects.bulk_create(
        LeadEvent(lead=lead, kind=LeadEvent.Kind.CREATED, to_pool=pool, created_at=now)
        for lead in leads
    )
    return pool, reps


def _claimer(user_id, candidates, released, successes, refusals):
    """Claim the leads just released (the cool-down must refuse), then a window of the pool."""
    user = get_user_model().objects.get(pk=user_id)
    for lead_id in released + candidates:
        try:
            lead = services.lead_claim(lead_id=lead_id, user=user)
        except services.LeadActionRefused as refused:
            refusals.append((user_id, lead_id, refused.code))
            if refused.code in ("pool_cap", "daily_limit"):
                return
        else:
            assert lead.owner_id == user_id
            successes.append((user_id, lead_id))


def _check_invariants(pool, reps, all_successes):
    leads = {lead.pk: lead for lead in Lead.objects.filter(pool=pool)}
    history = defaultdict(list)
    for event in LeadEvent.objects.filter(lead__pool=pool).order_by("created_at", "pk"):
        history[event.lead_id].append(event)

    for lead_id, lead in leads.items():
        kinds = [event.kind for event in history[lead_id]]
        claimed = kinds.count(LeadEvent.Kind.CLAIMED)
        released = kinds.count(LeadEvent.Kind.RELEASED)
        if lead.owner_id is None:
            assert lead.status == Lead.Status.IN_POOL
            assert claimed == released, (lead_id, kinds)
        else:
            assert lead.status == Lead.Status.ASSIGNED
            # Exactly one acquiring event since the lead last left for the pool...
            since_pool = []
            for event in history[lead_id]:
                if event.kind == LeadEvent.Kind.RELEASED:
                    since_pool = []
                elif event.kind in LeadEvent.ACQUIRING:
                    since_pool.append(event)
            assert len(since_pool) == 1, (lead_id, kinds)
            # ...and it names the current owner.
            assert since_pool[0].to_owner_id == since_pool[0].actor_id == lead.owner_id
            assert claimed == released + 1, (lead_id, kinds)

    owned = Counter(lead.owner_id for lead in leads.values() if lead.owner_id)
    assert max(owned.values()) <= CAP
    claims_today = Counter(
        LeadEvent.objects.filter(lead__pool=pool, kind=LeadEvent.Kind.CLAIMED,
                                 created_at__gte=start_of_today())
        .values_list("actor_id", flat=True)
    )
    assert max(claims_today.values()) <= DAILY_LIMIT
    # Every claim the service reported has exactly one event, and there are no others.
    events = Counter(
        LeadEvent.objects.filter(lead__pool=pool, kind=LeadEvent.Kind.CLAIMED)
        .values_list("actor_id", "lead_id")
    )
    assert events == Counter(all_successes)
    assert set(owned) <= set(reps)


@pytest.mark.django_db(transaction=True)
def test_racing_claimers_never_share_a_lead_nor_pass_a_cap(race):
    pool, reps = race
    all_successes: list[tuple[int, int]] = []
    all_refusals: list[tuple[int, int, str]] = []
    released: dict[int, list[int]] = defaultdict(list)
    for round_number in range(ROUNDS):
        in_pool = list(Lead.objects.filter(pool=pool, owner__isnull=True)
                       .order_by("pk").values_list("pk", flat=True))
        successes: list[tuple[int, int]] = []
        refusals: list[tuple[int, int, str]] = []
        # Everyone walks the same list from a different place, so neighbours collide; a
        # few reps claim from two tabs at once, racing against their own cap.
        claimers = [(rep, released[rep]) for rep in reps] + [(rep, []) for rep in
                                                             reps[:TWO_TABS]]
        step = len(in_pool) / len(claimers)
        errors = run_at_once(
            [partial(_claimer, rep, (in_pool[int(i * step):] + in_pool[:int(i * step)])[:WINDOW],
                     own, successes, refusals)
             for i, (rep, own) in enumerate(claimers)],
        ).errors
        assert errors == [], errors[:3]
        won = Counter(lead_id for _, lead_id in successes)
        assert max(won.values(), default=1) == 1  # one winner per lead
        assert {code for _, _, code in refusals} <= EXPECTED_REFUSALS
        if round_number == 0:
            assert any(code == "taken" for _, _, code in refusals)  # they did collide
        all_successes += successes
        all_refusals += refusals
        _check_invariants(pool, reps, all_successes)
        # Between rounds each rep gives back half of what they hold.
        released.clear()
        for rep in reps:
            user = get_user_model().objects.get(pk=rep)
            held = sorted(Lead.objects.filter(pool=pool, owner_id=rep)
                          .values_list("pk", flat=True))
            for lead_id in held[: len(held) // 2]:
                services.lead_release(lead_id=lead_id, user=user, reason="capacity")
                released[rep].append(lead_id)
    codes = Counter(code for _, _, code in all_refusals)
    assert codes["cooldown"] and codes["pool_cap"] and codes["daily_limit"], codes
