"""The rules of leads and pools, asked through ``orgs.access`` (the one place)."""

import pytest

from leads.models import Lead
from leads.selectors_followups import visible_subjects
from orgs import access
from orgs.access import Scenario

from .conftest import make_lead, user

pytestmark = pytest.mark.django_db


def test_leads_and_pools_answer_through_the_one_place(pool, wangfang):
    mobile = "13811113333"
    lead = make_lead(pool, mobile=mobile)
    rep, admin = user("rep_wangfang"), user("admin")
    assert access.may_see(rep, lead) and access.may_see(admin, lead)
    assert access.may_act(rep, pool, "claim_from_pool")
    assert access.may_unmask(rep, lead, Scenario.DETAIL)
    assert access.show(rep, mobile, "phone", Scenario.DETAIL, record=lead) == mobile

    pool.hide_contact_until_claimed = True
    pool.save()
    rep, admin = user("rep_wangfang"), user("admin")
    lead = Lead.objects.select_related("pool").get(pk=lead.pk)
    for viewer in (rep, admin):  # whatever the rights: hidden until claimed
        assert not access.may_unmask(viewer, lead, Scenario.DETAIL)
        assert access.show(viewer, mobile, "phone", Scenario.DETAIL,
                           record=lead) == "138****3333"
        assert access.show_bag(viewer, {"备用手机": mobile}, record=lead) == {
            "备用手机": "138****3333"}


def test_follow_up_subjects_open_as_their_own_pages(pool, wangfang):
    """Customers and opportunities are reached through the rules their app registered."""
    from opportunities.selectors_customers import visible_customers
    from opportunities.selectors_pipeline import visible_opportunities

    rep = user("rep_wangfang")
    assert str(visible_subjects(rep, "customer").query) == str(visible_customers(rep).query)
    assert str(visible_subjects(rep, "opportunity").query) == str(
        visible_opportunities(rep).query)
    lead = make_lead(pool, owner=wangfang)
    assert list(visible_subjects(rep, "lead").filter(pk=lead.pk)) == [lead]
