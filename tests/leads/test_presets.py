"""Org-stage presets create each stage's pools, and pool access follows the org tree."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm

from leads import services
from leads.models import Lead, LeadPool
from leads.permissions import pool_allows, pools_for
from orgs.models import OrgUnit, Position
from orgs.presets import apply_org_stage, company_root
from tests.factories import EmployeeFactory, UserFactory, add_member, make_unit
from tests.helpers import user

from .conftest import make_lead

pytestmark = pytest.mark.django_db

STAGE_POOLS = {
    1: {"master": "sales", "sales_pool": "sales", "dormant": "sales"},
    2: {"master": "marketing", "sales_pool": "sales", "dormant": "sales"},
    3: {"master": "marketing", "sales_pool": "sales", "dormant": "sales",
        "telesales_pool": "telesales", "key_accounts_pool": "field_sales"},
    4: {"master": "marketing", "sales_pool": "sales", "dormant": "sales",
        "telesales_pool": "telesales", "key_accounts_pool": "field_sales",
        "shared_pool": "company"},
}


def pools_by_unit() -> dict[str, str]:
    return dict(LeadPool.objects.values_list("code", "org_unit__code"))


def test_each_stage_creates_its_pools_once_and_marketing_takes_the_master_pool(db):
    for stage in (1, 2, 3, 4):
        first = apply_org_stage(stage)
        again = apply_org_stage(stage)
        assert pools_by_unit() == STAGE_POOLS[stage], stage
        assert again["pools"] == [] and again["pools_moved"] == []
        if stage == 2:
            assert first["pools_moved"] == ["master"]
    master = LeadPool.objects.get(code="master")
    assert master.kind == LeadPool.Kind.MASTER and master.parent is None
    assert LeadPool.objects.get(code="dormant").kind == LeadPool.Kind.DORMANT
    assert set(LeadPool.objects.exclude(pk=master.pk).values_list("parent", flat=True)) == {
        master.pk}
    assert LeadPool.objects.get(code="shared_pool").org_unit == company_root()


def test_stage_two_leaves_a_master_pool_an_admin_placed_elsewhere(db):
    apply_org_stage(1)
    admin_choice = make_unit("ops", company_root(), kind="department")
    LeadPool.objects.filter(code="master").update(org_unit=admin_choice)
    assert apply_org_stage(2)["pools_moved"] == []
    assert LeadPool.objects.get(code="master").org_unit == admin_choice


def test_a_rep_below_sales_claims_from_the_sales_pool(demo_org):
    rep = user("rep_wangfang")  # sales → east → Shanghai team
    sales_pool = LeadPool.objects.get(code="sales_pool")
    assert pool_allows(rep, sales_pool, "claim_from_pool")
    lead = make_lead(sales_pool)
    assert services.lead_claim(lead_id=lead.pk, user=rep).owner_id == rep.pk
    master = LeadPool.objects.get(code="master")
    assert not pool_allows(user("rep_wangfang"), master, "view_pool_leads")
    assert master not in pools_for(user("rep_wangfang"))


def test_a_new_team_reaches_its_regions_pools_without_a_grant(demo_leads):
    shanghai = OrgUnit.objects.get(code="east_shanghai")
    new_team = make_unit("east_shanghai_2", shanghai, name="上海三组")
    employee = EmployeeFactory(user__username="rep_new")
    add_member(employee, new_team, Position.objects.get(code="sales_rep"), is_primary=True)
    codes = set(pools_for(user("rep_new"), "claim_from_pool").values_list("code", flat=True))
    assert {"east_pool", "sales_pool"} <= codes
    assert "south_pool" not in codes and "master" not in codes


def test_marketing_views_and_assigns_the_master_pool_but_cannot_claim(demo_org, client_for):
    marketing = user("marketing")
    master = LeadPool.objects.get(code="master")
    assert pool_allows(marketing, master, "view_pool_leads")
    assert pool_allows(marketing, master, "assign_from_pool")
    assert not pool_allows(marketing, master, "claim_from_pool")
    assert not pool_allows(marketing, LeadPool.objects.get(code="sales_pool"),
                           "view_pool_leads")

    lead, other = make_lead(master), make_lead(master)
    with pytest.raises(services.LeadActionRefused) as refused:
        services.lead_claim(lead_id=lead.pk, user=user("marketing"))
    assert refused.value.code == "forbidden"
    assert Lead.objects.get(pk=lead.pk).owner_id is None

    page = client_for("marketing").get("/leads/pool/?pool=master").content.decode()
    assert 'data-testid="assign-form"' in page
    assert f'value="{lead.pk}"' in page
    assert 'data-testid="claim"' not in page

    # Master-pool leads reach reps through routing or a sales director, not straight from
    # marketing: a rep outside marketing's scope cannot work the master pool.
    rep = user("rep_wangfang")
    with pytest.raises(services.LeadActionRefused) as refused:
        services.lead_assign(lead_ids=[other.pk], to_user_id=rep.pk, actor=user("marketing"))
    assert refused.value.code == "forbidden"
    assert services.lead_assign(lead_ids=[other.pk], to_user_id=rep.pk,
                                actor=user("director")) == 1
    assert Lead.objects.get(pk=other.pk).owner_id == rep.pk


def test_a_guardian_grant_opens_claiming_from_one_pool_only(demo_leads):
    outsider = UserFactory(username="partner_zhao")
    east, south = demo_leads["east_pool"], demo_leads["south_pool"]
    assert not pools_for(outsider, "claim_from_pool").exists()

    assign_perm("claim_from_pool", outsider, east)

    outsider = user("partner_zhao")
    assert list(pools_for(outsider, "claim_from_pool")) == [east]
    east_lead, south_lead = make_lead(east), make_lead(south)
    assert services.lead_claim(lead_id=east_lead.pk, user=outsider).owner_id == outsider.pk
    with pytest.raises(services.LeadActionRefused) as refused:
        services.lead_claim(lead_id=south_lead.pk, user=outsider)
    assert refused.value.code == "forbidden"
    assert not pool_allows(outsider, east, "assign_from_pool")
