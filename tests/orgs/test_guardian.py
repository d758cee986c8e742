"""Pool-level object permissions (django-guardian) in the direct foreign-key tables."""

import pytest
from django.contrib.auth.models import Group
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, get_objects_for_user, get_users_with_perms, remove_perm

from leads.models import LeadPool, LeadPoolGroupPermission, LeadPoolUserPermission
from orgs.services import employee_depart
from tests.factories import EmployeeFactory, UserFactory

from .conftest import fresh

pytestmark = pytest.mark.django_db

CLAIM = "leads.claim_from_pool"


@pytest.fixture
def pools(db):
    return {
        "east": LeadPool.objects.create(code="t-east", name="华东子池"),
        "south": LeadPool.objects.create(code="t-south", name="华南子池"),
    }


def test_a_user_grant_opens_that_pool_only(pools):
    user = UserFactory()
    assert not fresh(user).has_perm(CLAIM, pools["east"])

    assign_perm(CLAIM, user, pools["east"])

    user = fresh(user)
    assert user.has_perm(CLAIM, pools["east"])
    assert not user.has_perm(CLAIM, pools["south"])
    assert not user.has_perm("leads.manage_pool", pools["east"])
    # No global permission comes with it.
    assert not user.has_perm(CLAIM)
    assert list(get_objects_for_user(user, CLAIM)) == [pools["east"]]


def test_user_grants_land_in_the_direct_table(pools):
    user = UserFactory()
    assign_perm(CLAIM, user, pools["east"])

    rows = LeadPoolUserPermission.objects.filter(user=user)
    assert [(r.content_object_id, r.permission.codename) for r in rows] == [
        (pools["east"].pk, "claim_from_pool")
    ]
    assert not UserObjectPermission.objects.exists()


def test_a_group_grant_reaches_every_member(pools):
    group = Group.objects.create(name="华东销售")
    members = [UserFactory(), UserFactory()]
    outsider = UserFactory()
    group.user_set.add(*members)

    assign_perm(CLAIM, group, pools["south"])

    assert LeadPoolGroupPermission.objects.filter(
        group=group, content_object=pools["south"]
    ).count() == 1
    assert not GroupObjectPermission.objects.exists()
    for member in members:
        assert fresh(member).has_perm(CLAIM, pools["south"])
        assert not fresh(member).has_perm(CLAIM, pools["east"])
    assert not fresh(outsider).has_perm(CLAIM, pools["south"])
    assert set(get_users_with_perms(pools["south"])) == set(members)


def test_removing_a_grant_closes_the_pool(pools):
    user = UserFactory()
    assign_perm(CLAIM, user, pools["east"])
    remove_perm(CLAIM, user, pools["east"])
    assert not fresh(user).has_perm(CLAIM, pools["east"])
    assert not LeadPoolUserPermission.objects.exists()


def test_a_departed_employee_loses_pool_access(pools):
    rep = EmployeeFactory()
    assign_perm(CLAIM, rep.user, pools["east"])
    assert fresh(rep).has_perm(CLAIM, pools["east"])

    employee_depart(employee_id=rep.pk)

    assert not fresh(rep).has_perm(CLAIM, pools["east"])
    # The grant row stays (nothing is deleted), it just no longer opens anything.
    assert LeadPoolUserPermission.objects.filter(user=rep.user).exists()


def test_grants_go_with_the_pool(pools):
    user = UserFactory()
    assign_perm(CLAIM, user, pools["east"])
    assign_perm(CLAIM, user, pools["south"])
    pools["east"].delete()
    assert list(LeadPoolUserPermission.objects.values_list("content_object_id", flat=True)) == [
        pools["south"].pk
    ]
