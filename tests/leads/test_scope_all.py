"""A viewer whose data boundary is "everything" sees every lead, owned or pooled."""

import pytest

from leads.models import Lead, LeadPool
from leads.selectors import visible_leads
from tests.helpers import user
from tests.leads.conftest import make_lead

pytestmark = pytest.mark.django_db


def test_director_sees_owned_and_pool_leads_of_every_team(demo_org):
    pool = LeadPool.objects.get(code="sales_pool")
    owned = make_lead(pool, owner=user("rep_sunli"))
    pooled = make_lead(pool)
    seen = set(visible_leads(user("director")).values_list("pk", flat=True))
    assert {owned.pk, pooled.pk} <= seen
    assert seen == set(Lead.objects.values_list("pk", flat=True))
    rep_sees = set(visible_leads(user("rep_wangfang")).values_list("pk", flat=True))
    assert owned.pk not in rep_sees and pooled.pk in rep_sees
