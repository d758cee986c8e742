"""The pool's daily open limit holds when a rep opens many pool leads at the same moment.

Real threads, each on its own PostgreSQL connection, open different leads of one pool for
the same rep at once (many tabs, a script): whatever the interleaving, exactly the limit
is counted, every other open is refused with the limit message, and another rep's count is
their own.
"""

from __future__ import annotations

from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads import services
from leads.models import Lead, LeadPool, PoolLeadOpen
from orgs.models import OrgUnit
from tests.helpers import run_at_once

LIMIT = 3
THREADS = 12  # opens per rep per round, all at once
ROUNDS = 3


def _open_all(pairs):
    """Open each (lead, user) from its own thread and connection, all after one barrier."""
    opened, refused = [], []

    def attempt(lead, user):
        try:
            if services.pool_lead_open(lead=lead, user=user):
                opened.append((user.pk, lead.pk))
        except services.LeadActionRefused as refusal:
            refused.append((user.pk, refusal.code, refusal.message))

    errors = run_at_once([partial(attempt, *pair) for pair in pairs], timeout=60,
                         language="en").errors
    assert not errors, errors
    return opened, refused


@pytest.mark.django_db(transaction=True)
def test_parallel_opens_never_pass_the_daily_open_limit():
    unit = OrgUnit.objects.add_root(create_kwargs={"code": "open_race", "name": "打开竞争组",
                                                   "kind": OrgUnit.Kind.TEAM})
    User = get_user_model()
    reps = [User.objects.create_user(username=f"opener{n}") for n in range(2)]
    now = timezone.now()
    for round_number in range(ROUNDS):
        pool = LeadPool.objects.create(code=f"open_race_{round_number}", name="打开竞争池",
                                       org_unit=unit, daily_open_limit=LIMIT)
        leads = Lead.objects.bulk_create(
            Lead(pool=pool, name=f"客户{n}", mobile=f"17{round_number}0000{n:04d}",
                 created_at=now)
            for n in range(THREADS * len(reps)))
        pairs = [(lead, reps[index % len(reps)]) for index, lead in enumerate(leads)]

        opened, refused = _open_all(pairs)

        for rep in reps:
            counted = PoolLeadOpen.objects.filter(user=rep, lead__pool=pool).count()
            assert counted == LIMIT, (round_number, rep.username, counted)
            assert sum(1 for user_id, _ in opened if user_id == rep.pk) == LIMIT
            mine = [r for r in refused if r[0] == rep.pk]
            assert len(mine) == THREADS - LIMIT
            assert {code for _, code, _ in mine} == {"open_limit"}
            assert all(f"{LIMIT} pool leads today" in message for _, _, message in mine)
    # Re-opening a lead counted today is free, even at the limit.
    lead_id = opened[0][1]
    rep = User.objects.get(pk=opened[0][0])
    assert services.pool_lead_open(lead=Lead.objects.get(pk=lead_id), user=rep) is False
