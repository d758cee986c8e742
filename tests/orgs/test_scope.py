"""Data scope: which people (and so whose records) a viewer may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.models import Employee
from orgs.rights import DataScope
from orgs.selectors import data_scope_for, employee_list
from orgs.services import employee_depart
from tests.factories import (
    EmployeeFactory,
    PositionFactory,
    UserFactory,
    add_member,
    make_unit,
    person_with_role,
)

from .conftest import fresh

pytestmark = pytest.mark.django_db


def visible(viewer) -> set[int]:
    """Employees whose rows (owned through ``Employee.user``) the viewer's scope lets through."""
    scope = data_scope_for(fresh(viewer))
    rows = scope.filter(Employee.objects.all(), owner_field="user")
    return set(rows.values_list("pk", flat=True))


def listed(viewer) -> set[int]:
    return {e.pk for e in employee_list(user=fresh(viewer))}


def ids(*employees) -> set[int]:
    return {e.pk for e in employees}


@pytest.fixture
def people(tree, role):
    """One plain rep (SELF) in each unit of the tree."""
    rep_role = role(scope=DataScope.SELF)
    return {code: person_with_role(unit, rep_role) for code, unit in tree.items()}


def test_self_sees_only_own_records(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.SELF))
    assert visible(viewer) == ids(viewer)
    assert listed(viewer) == ids(viewer)


def test_self_and_subordinates_follows_the_supervisor_chain(tree, people, role):
    boss = person_with_role(tree["east"], role(scope=DataScope.SELF_AND_SUBORDINATES))
    direct = person_with_role(tree["south"], role(scope=DataScope.SELF), supervisor=boss)
    grand = person_with_role(tree["east_team"], role(scope=DataScope.SELF), supervisor=direct)
    # A colleague in the same unit who reports elsewhere stays out of sight.
    peer = people["east"]
    expected = ids(boss, direct, grand)
    assert visible(boss) == expected
    assert listed(boss) == expected
    assert peer.pk not in visible(boss)
    # The subordinate does not see up the chain.
    assert visible(direct) == ids(direct)


def test_own_unit_excludes_the_unit_below(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.OWN_UNIT))
    expected = ids(viewer, people["east"])
    assert visible(viewer) == expected
    assert listed(viewer) == expected
    assert people["east_team"].pk not in listed(viewer)


def test_unit_and_below_covers_the_whole_subtree_only(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.UNIT_AND_BELOW))
    expected = ids(viewer, people["east"], people["east_team"])
    assert visible(viewer) == expected
    assert listed(viewer) == expected
    assert people["south"].pk not in listed(viewer)
    assert people["sales"].pk not in listed(viewer)


def test_everything_includes_people_without_any_unit(tree, people, role):
    viewer = person_with_role(tree["south"], role(scope=DataScope.ALL))
    loner = EmployeeFactory()
    everyone = set(Employee.objects.values_list("pk", flat=True))
    assert loner.pk in everyone
    assert visible(viewer) == everyone
    assert listed(viewer) == everyone


def test_two_memberships_give_the_union(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.OWN_UNIT))
    south_role = role(scope=DataScope.UNIT_AND_BELOW)
    add_member(viewer, tree["south"], PositionFactory(org_unit=tree["south"], roles=[south_role]))
    expected = ids(viewer, people["east"], people["south"])
    assert visible(viewer) == expected
    assert listed(viewer) == expected


def test_unit_created_after_the_grant_is_covered(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.UNIT_AND_BELOW))
    before = listed(viewer)

    new_team = make_unit("t_east_team_new", tree["east_team"])
    newcomer = person_with_role(new_team, role(scope=DataScope.SELF))

    assert newcomer.pk not in before
    assert newcomer.pk in listed(viewer)
    assert newcomer.pk in visible(viewer)
    assert new_team.pk in set(data_scope_for(fresh(viewer)).units().values_list("pk", flat=True))


def test_departed_employee_sees_nothing_and_stays_visible_to_the_manager(tree, role):
    manager = person_with_role(tree["east"], role(scope=DataScope.UNIT_AND_BELOW))
    rep = person_with_role(tree["east_team"], role(scope=DataScope.OWN_UNIT), supervisor=manager)
    assert visible(rep) == ids(rep)

    employee_depart(employee_id=rep.pk)

    assert data_scope_for(fresh(rep)).is_empty
    assert visible(rep) == set()
    assert listed(rep) == set()
    assert rep.pk in visible(manager)
    assert rep.pk in listed(manager)


def test_departed_status_alone_removes_the_scope(tree, role):
    """Even if the login was somehow left active, a departed employee sees nothing."""
    rep = person_with_role(tree["east"], role(scope=DataScope.ALL))
    Employee.objects.filter(pk=rep.pk).update(status=Employee.Status.DEPARTED)
    assert fresh(rep).is_active
    assert visible(rep) == set()
    assert listed(rep) == set()


def test_user_without_employee_sees_nothing(people):
    stranger = UserFactory()
    scope = data_scope_for(fresh(stranger))
    assert scope.is_empty
    assert not scope.filter(Employee.objects.all(), owner_field="user").exists()
    assert list(employee_list(user=fresh(stranger))) == []


def test_unit_filter_of_the_list_stays_inside_the_scope(tree, people, role):
    viewer = person_with_role(tree["east"], role(scope=DataScope.UNIT_AND_BELOW))
    # Filtering on a unit outside the scope shows nobody, not that unit's people.
    outside = {e.pk for e in employee_list(user=fresh(viewer), unit_id=tree["south"].pk)}
    assert outside == set()
    inside = {e.pk for e in employee_list(user=fresh(viewer), unit_id=tree["east_team"].pk)}
    assert inside == ids(people["east_team"])


def _evaluate_scope_and_list(user) -> list:
    scope = data_scope_for(user)
    rows = list(scope.filter(Employee.objects.all(), owner_field="user"))
    employees = list(employee_list(user=user))
    for employee in employees:
        for membership in employee.memberships.all():
            _ = (membership.org_unit.display_name, membership.position)
        _ = (employee.user.email, employee.supervisor)
    return [rows, employees]


@pytest.mark.parametrize(
    "scope",
    [DataScope.SELF_AND_SUBORDINATES, DataScope.OWN_UNIT, DataScope.UNIT_AND_BELOW, DataScope.ALL],
    ids=lambda scope: scope.name.lower(),
)
def test_query_count_does_not_grow_with_employees(tree, role, scope, django_assert_max_num_queries):
    viewer = person_with_role(tree["east"], role(scope=scope))
    rep_role = role(scope=DataScope.SELF)

    def grow_to(n):
        while Employee.objects.count() < n + 1:
            person_with_role(tree["east"], rep_role, supervisor=viewer)

    grow_to(5)
    user = fresh(viewer)
    with CaptureQueriesContext(connection) as small:
        rows, employees = _evaluate_scope_and_list(user)
    assert len(employees) == 6

    grow_to(40)
    user = fresh(viewer)
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows, employees = _evaluate_scope_and_list(user)
    assert len(employees) == 41
    assert len(rows) == 41
