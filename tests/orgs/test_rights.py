"""Effective rights: entries, operations and data boundaries from positions and roles."""

import pytest

from orgs.models import Employee, Role
from orgs.rights import DataScope, Entry, Operation
from orgs.selectors import data_scope_for, holders_of_role, rights_for
from orgs.services import employee_depart
from tests.factories import EmployeeFactory, PositionFactory, UserFactory, add_member

from .conftest import fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_role(role):
    return role(code="t-rep", entries=[Entry.WORKBENCH], operations=[Operation.CLAIM],
                scope=DataScope.SELF)


@pytest.fixture
def team_role(role):
    return role(code="t-team", entries=[Entry.TEAM], operations=[Operation.EXPORT],
                scope=DataScope.OWN_UNIT)


@pytest.fixture
def qa_role(role):
    return role(code="t-qa", entries=[Entry.QA_HOME], operations=[Operation.INSPECT],
                scope=DataScope.ALL)


def test_union_over_memberships_and_roles(tree, rep_role, team_role, qa_role):
    employee = EmployeeFactory()
    add_member(employee, tree["east"], PositionFactory(org_unit=tree["east"], roles=[rep_role]))
    second = add_member(
        employee, tree["south"], PositionFactory(org_unit=tree["south"], roles=[team_role])
    )
    second.extra_roles.add(qa_role)

    rights = rights_for(fresh(employee))

    assert rights.entries == {Entry.WORKBENCH, Entry.TEAM, Entry.QA_HOME}
    assert rights.operations == {Operation.CLAIM, Operation.EXPORT, Operation.INSPECT}
    assert {r.code for r in rights.roles} == {"t-rep", "t-team", "t-qa"}
    assert rights.widest_scope == DataScope.ALL
    assert rights.opens(Entry.TEAM) and not rights.opens(Entry.MANAGER_HOME)
    assert rights.can(Operation.INSPECT) and not rights.can(Operation.ASSIGN)


def test_each_membership_keeps_its_own_boundary(tree, rep_role, team_role):
    employee = EmployeeFactory()
    add_member(employee, tree["east"], PositionFactory(org_unit=tree["east"], roles=[rep_role]))
    add_member(employee, tree["south"], PositionFactory(org_unit=tree["south"], roles=[team_role]))

    grants = {g.unit_id: g.scope for g in rights_for(fresh(employee)).grants}

    assert grants == {tree["east"].pk: DataScope.SELF, tree["south"].pk: DataScope.OWN_UNIT}


def test_position_default_roles_are_inherited(tree, rep_role):
    position = PositionFactory(org_unit=tree["east"], roles=[rep_role])
    employee = EmployeeFactory()
    assert not rights_for(fresh(employee)).opens(Entry.WORKBENCH)

    add_member(employee, tree["east_team"], position)

    rights = rights_for(fresh(employee))
    assert rights.opens(Entry.WORKBENCH)
    assert rights.can(Operation.CLAIM)

    # A later change to the position reaches every holder.
    position.default_roles.add(Role.objects.create(code="t-late", name="后加",
                                                   entries=[Entry.TEAM]))
    assert rights_for(fresh(employee)).opens(Entry.TEAM)


def test_extra_roles_add_and_revoked_roles_remove(tree, rep_role, team_role):
    employee = EmployeeFactory()
    membership = add_member(
        employee, tree["east"], PositionFactory(org_unit=tree["east"], roles=[rep_role])
    )

    membership.extra_roles.add(team_role)
    rights = rights_for(fresh(employee))
    assert rights.entries == {Entry.WORKBENCH, Entry.TEAM}

    membership.revoked_roles.add(rep_role)
    rights = rights_for(fresh(employee))
    assert rights.entries == {Entry.TEAM}
    assert not rights.can(Operation.CLAIM)

    # Revoking wins even over the same role granted as an extra.
    membership.extra_roles.add(rep_role)
    assert not rights_for(fresh(employee)).opens(Entry.WORKBENCH)


def test_inactive_role_grants_nothing(tree, qa_role, rep_role):
    employee = EmployeeFactory()
    add_member(employee, tree["east"], PositionFactory(org_unit=tree["east"], roles=[qa_role]))
    assert data_scope_for(fresh(employee)).sees_all

    Role.objects.filter(pk=qa_role.pk).update(is_active=False)

    rights = rights_for(fresh(employee))
    assert rights.entries == frozenset()
    assert rights.operations == frozenset()
    assert rights.grants == ()
    assert data_scope_for(fresh(employee)).is_empty


def test_inactive_role_does_not_widen_a_membership(tree, qa_role, rep_role):
    employee = EmployeeFactory()
    position = PositionFactory(org_unit=tree["east"], roles=[rep_role, qa_role])
    add_member(employee, tree["east"], position)
    Role.objects.filter(pk=qa_role.pk).update(is_active=False)

    rights = rights_for(fresh(employee))
    assert rights.widest_scope == DataScope.SELF
    assert not data_scope_for(fresh(employee)).sees_all


def test_superuser_gets_everything(db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    rights = rights_for(fresh(admin))
    assert rights.entries == set(Entry.values)
    assert rights.operations == set(Operation.values)
    assert data_scope_for(fresh(admin)).sees_all


def test_departed_gets_nothing(tree, qa_role):
    employee = EmployeeFactory()
    add_member(employee, tree["east"], PositionFactory(org_unit=tree["east"], roles=[qa_role]))
    assert rights_for(fresh(employee)).entries

    employee_depart(employee_id=employee.pk)

    rights = rights_for(fresh(employee))
    assert rights.entries == frozenset() and rights.operations == frozenset()
    assert rights.grants == ()


def test_anonymous_and_none_get_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    assert rights_for(AnonymousUser()).entries == frozenset()
    assert rights_for(None).operations == frozenset()


def test_holders_of_role_respects_revoked_roles(tree, rep_role, team_role):
    position = PositionFactory(org_unit=tree["east"], roles=[rep_role])
    by_position = EmployeeFactory()
    add_member(by_position, tree["east"], position)
    revoked = EmployeeFactory()
    add_member(revoked, tree["east"], position).revoked_roles.add(rep_role)
    by_extra = EmployeeFactory()
    other_position = PositionFactory(org_unit=tree["south"], roles=[team_role])
    add_member(by_extra, tree["south"], other_position).extra_roles.add(rep_role)
    # Revoked in one membership but held through another: still a holder.
    both = EmployeeFactory()
    add_member(both, tree["east"], position).revoked_roles.add(rep_role)
    add_member(both, tree["south"], other_position).extra_roles.add(rep_role)
    departed = EmployeeFactory(status=Employee.Status.DEPARTED)
    add_member(departed, tree["east"], position)

    holders = set(holders_of_role(rep_role).values_list("pk", flat=True))

    assert holders == {by_position.pk, by_extra.pk, both.pk}
    # The reverse lookup agrees with what each person's rights say.
    for employee in (by_position, revoked, by_extra, both):
        held = rep_role in rights_for(fresh(employee)).roles
        assert held == (employee.pk in holders), employee
