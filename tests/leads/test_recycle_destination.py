"""The set-based recycle sweep sends every record where the Python rule says it goes.

``clock.Destination`` (through ``recycle_destination``) is the one statement of where a
recycled lead goes; the sweep carries its bands to SQL. Generated rules, pools and recycle
counts, swept on the real database, must land exactly where ``for_count`` says.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Lead, LeadEvent, LeadPool, RecycleRule
from leads.pools.config import RunReport
from leads.pools.recycle import dormant_default_pool, recycle_destination, recycle_due_batches
from leads.subjects import LEADS

from .conftest import make_lead

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    """Undoes one generated example's rows."""


cases = st.fixed_dictionaries({
    "target": st.sampled_from(list(RecycleRule.Target.values)),
    "has_parent": st.booleans(),
    "chosen_pool": st.booleans(),
    "max_recycles": st.none() | st.integers(min_value=0, max_value=4),
    "own_dormant": st.booleans(),
    "default_dormant": st.booleans(),
    "counts": st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=5),
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(case=cases)
def test_the_sweep_sends_each_record_where_the_python_rule_says(case, demo_org, wangfang):
    try:
        with transaction.atomic():
            _check(case, wangfang)
            raise _Rollback
    except _Rollback:
        pass


def _check(case, owner):
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    if not case["default_dormant"]:
        LeadPool.objects.filter(kind=LeadPool.Kind.DORMANT).update(is_active=False)
    origin = LeadPool.objects.create(code="h_origin", name="来源池",
                                     parent=master if case["has_parent"] else None)
    chosen = (LeadPool.objects.create(code="h_chosen", name="指定池")
              if case["chosen_pool"] else None)
    own_dormant = (LeadPool.objects.create(code="h_dormant", name="休眠",
                                           kind=LeadPool.Kind.DORMANT)
                   if case["own_dormant"] else None)
    rule = RecycleRule.objects.create(pool=origin, name="规则", kind="no_followup",
                                      threshold=1, target=case["target"], target_pool=chosen,
                                      max_recycles=case["max_recycles"],
                                      dormant_pool=own_dormant)
    now = timezone.now()
    leads = []
    for count in case["counts"]:
        lead = make_lead(origin, owner=owner)
        Lead.objects.filter(pk=lead.pk).update(recycle_count=count, recycle_rule=rule,
                                               recycle_due_at=now - timedelta(hours=1))
        leads.append((lead, count))
    destination = recycle_destination(rule, origin, dormant_default_pool())
    report = RunReport()
    recycle_due_batches(LEADS, [rule.pk], pool=None, now=now, limit=None, report=report)

    expected = {lead.pk: destination.for_count(count) for lead, count in leads}
    landed = {pk: (pool_id, dormant) for pk, pool_id, dormant in LeadEvent.objects.filter(
        lead__in=[lead for lead, _count in leads], kind=LeadEvent.Kind.RECYCLED,
    ).values_list("lead_id", "to_pool_id", "detail__dormant")}
    assert landed == expected
    assert dict(Lead.objects.filter(pk__in=expected).values_list("pk", "pool_id")) == {
        pk: pool_id for pk, (pool_id, _dormant) in expected.items()}
    assert report.recycled[rule.pk] == len(leads)
    assert report.dormant == sum(dormant for _pool, dormant in expected.values())
