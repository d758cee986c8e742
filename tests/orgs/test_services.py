"""Writes of the orgs app: departure with handover, forced role removal, role restore."""

import pytest
from auditlog.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.translation import gettext as _

from orgs.handover import register_handover_step, unregister_handover_step
from orgs.models import Employee, Membership, Position, Role, UserSession
from orgs.rights import DataScope, Entry, Operation
from orgs.selectors import holders_of_role, rights_for
from orgs.services import (
    employee_depart,
    membership_roles_validate,
    position_restore_default_roles,
    role_remove_from_everyone,
)
from tests.factories import EmployeeFactory, PositionFactory, UserFactory, person_with_role

from .conftest import fresh

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def signed_in_client(employee) -> Client:
    client = Client()
    response = client.post("/login/", {"username": employee.user.username, "password": PASSWORD})
    assert response.status_code == 302, "sign-in before the departure should work"
    return client


@pytest.fixture
def rep_role(role):
    return role(code="t-rep", entries=[Entry.WORKBENCH], operations=[Operation.CLAIM],
                scope=DataScope.SELF)


@pytest.fixture
def team(tree, rep_role, role):
    manager_role = role(code="t-mgr", entries=[Entry.MANAGER_HOME, Entry.TEAM],
                        scope=DataScope.UNIT_AND_BELOW)
    manager = person_with_role(tree["east"], manager_role)
    rep = person_with_role(tree["east"], rep_role, supervisor=manager)
    junior = person_with_role(tree["east_team"], rep_role, supervisor=rep)
    junior2 = person_with_role(tree["east_team"], rep_role, supervisor=rep)
    grand = person_with_role(tree["east_team"], rep_role, supervisor=junior)
    successor = person_with_role(tree["east"], rep_role, supervisor=manager)
    return {"manager": manager, "rep": rep, "junior": junior, "junior2": junior2,
            "grand": grand, "successor": successor}


@pytest.fixture
def recorded_handover():
    calls = []

    @register_handover_step("t_test_step", "Test records")
    def step(*, employee, successor, actor):
        calls.append({"employee": employee, "successor": successor, "actor": actor})
        return 7

    yield calls
    unregister_handover_step("t_test_step")


def test_departure_blocks_login_at_once(team, client):
    rep = team["rep"]
    employee_depart(employee_id=rep.pk, successor_id=team["successor"].pk)

    rep.refresh_from_db()
    assert rep.status == Employee.Status.DEPARTED
    assert rep.departed_at is not None
    assert rep.successor_id == team["successor"].pk
    assert not fresh(rep).is_active

    response = client.post("/login/", {"username": rep.user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_departure_ends_every_open_session(team):
    rep = team["rep"]
    browser, phone = signed_in_client(rep), signed_in_client(rep)
    keys = [browser.session.session_key, phone.session.session_key]
    assert browser.get("/workbench/").status_code == 200

    report = employee_depart(employee_id=rep.pk)

    assert report.sessions_ended == 2
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user_id=rep.user_id).exists()
    for client in (browser, phone):
        response = client.get("/workbench/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_departure_leaves_other_peoples_sessions_alone(team):
    other = signed_in_client(team["successor"])
    employee_depart(employee_id=team["rep"].pk)
    assert other.get("/workbench/").status_code == 200


def test_direct_reports_move_to_the_successor(team):
    employee_depart(employee_id=team["rep"].pk, successor_id=team["successor"].pk)

    supervisors = dict(Employee.objects.values_list("pk", "supervisor_id"))
    assert supervisors[team["junior"].pk] == team["successor"].pk
    assert supervisors[team["junior2"].pk] == team["successor"].pk
    # The grand-report keeps their own direct supervisor.
    assert supervisors[team["grand"].pk] == team["junior"].pk
    # The departed keeps their supervisor, so the manager's line still shows them.
    assert supervisors[team["rep"].pk] == team["manager"].pk


def test_without_a_successor_reports_have_no_supervisor(team):
    employee_depart(employee_id=team["rep"].pk)
    assert Employee.objects.get(pk=team["junior"].pk).supervisor_id is None


def test_registered_handover_step_runs_with_employee_and_successor(team, recorded_handover):
    actor = UserFactory(is_staff=True)
    report = employee_depart(
        employee_id=team["rep"].pk, successor_id=team["successor"].pk, actor=actor
    )

    assert len(recorded_handover) == 1
    call = recorded_handover[0]
    assert call["employee"].pk == team["rep"].pk
    assert call["successor"].pk == team["successor"].pk
    assert call["actor"] == actor
    step = next(r for r in report.handover if r.name == "t_test_step")
    assert (step.label, step.moved) == ("Test records", 7)


def test_failing_handover_step_leaves_nothing_half_done(team):
    signed_in = signed_in_client(team["rep"])

    @register_handover_step("t_broken", "Broken")
    def broken(*, employee, successor, actor):
        raise RuntimeError("handover failed")

    try:
        with pytest.raises(RuntimeError):
            employee_depart(employee_id=team["rep"].pk, successor_id=team["successor"].pk)
    finally:
        unregister_handover_step("t_broken")

    rep = Employee.objects.get(pk=team["rep"].pk)
    assert rep.status == Employee.Status.ACTIVE
    assert fresh(rep).is_active
    assert Employee.objects.get(pk=team["junior"].pk).supervisor_id == rep.pk
    assert signed_in.get("/workbench/").status_code == 200


def test_departing_twice_is_refused(team):
    rep = team["rep"]
    employee_depart(employee_id=rep.pk)
    departed_at = Employee.objects.get(pk=rep.pk).departed_at

    with pytest.raises(ValidationError) as excinfo:
        employee_depart(employee_id=rep.pk, successor_id=team["successor"].pk)

    assert excinfo.value.messages == [_("%(name)s has already departed.") % {"name": rep.name}]
    rep.refresh_from_db()
    assert rep.departed_at == departed_at
    assert rep.successor_id is None


def test_self_as_successor_is_refused(team):
    rep = team["rep"]
    with pytest.raises(ValidationError) as excinfo:
        employee_depart(employee_id=rep.pk, successor_id=rep.pk)
    assert excinfo.value.messages == [_("An employee cannot be their own successor.")]
    assert Employee.objects.get(pk=rep.pk).status == Employee.Status.ACTIVE
    assert fresh(rep).is_active


@pytest.mark.parametrize("kind", ["departed", "missing"])
def test_invalid_successor_is_refused(team, kind):
    if kind == "departed":
        employee_depart(employee_id=team["successor"].pk)
        successor_id = team["successor"].pk
    else:
        successor_id = Employee.objects.order_by("-pk").first().pk + 1000
    rep = team["rep"]

    with pytest.raises(ValidationError) as excinfo:
        employee_depart(employee_id=rep.pk, successor_id=successor_id)

    assert excinfo.value.messages == [
        _("The successor must be an employee who has not departed.")
    ]
    assert Employee.objects.get(pk=rep.pk).status == Employee.Status.ACTIVE
    assert Employee.objects.get(pk=team["junior"].pk).supervisor_id == rep.pk


def test_departure_deletes_nothing(team):
    rep = team["rep"]
    memberships = set(Membership.objects.filter(employee=rep).values_list("pk", flat=True))
    counts = (Employee.objects.count(), Membership.objects.count(), Position.objects.count())

    employee_depart(employee_id=rep.pk, successor_id=team["successor"].pk)

    assert set(Membership.objects.filter(employee=rep).values_list("pk", flat=True)) == memberships
    assert (Employee.objects.count(), Membership.objects.count(),
            Position.objects.count()) == counts
    assert fresh(rep).pk == rep.user_id


def test_departure_is_audited_with_before_and_after(team, recorded_handover):
    actor = UserFactory(is_staff=True)
    rep, successor = team["rep"], team["successor"]

    employee_depart(employee_id=rep.pk, successor_id=successor.pk, actor=actor)

    entries = LogEntry.objects.get_for_object(rep).filter(changes__has_key="handover")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.actor == actor
    assert entry.changes["status"] == [Employee.Status.ACTIVE, Employee.Status.DEPARTED]
    assert entry.changes["successor"] == [None, str(successor)]
    # Every registered step reports how much it moved (the leads step included).
    assert entry.changes["handover"][1]["t_test_step"] == 7
    assert entry.changes["handover"][1]["leads"] == 0


def test_role_remove_from_everyone(tree, rep_role, role):
    other = role(code="t-other", entries=[Entry.TEAM])
    position = PositionFactory(org_unit=tree["east"], roles=[rep_role, other])
    by_position = person_with_role(tree["east"], other)
    by_position.memberships.update(position=position)
    by_extra = EmployeeFactory()
    by_extra.memberships.create(org_unit=tree["south"]).extra_roles.add(rep_role)
    assert rights_for(fresh(by_position)).opens(Entry.WORKBENCH)
    assert rights_for(fresh(by_extra)).opens(Entry.WORKBENCH)
    actor = UserFactory(is_staff=True)

    affected = role_remove_from_everyone(role_id=rep_role.pk, actor=actor)

    assert affected == 2
    assert not rights_for(fresh(by_position)).opens(Entry.WORKBENCH)
    assert not rights_for(fresh(by_extra)).opens(Entry.WORKBENCH)
    # Other roles of the same position stay; the role itself stays in the pool.
    assert rights_for(fresh(by_position)).opens(Entry.TEAM)
    assert Role.objects.filter(pk=rep_role.pk, is_active=True).exists()
    assert not holders_of_role(rep_role).exists()
    entry = LogEntry.objects.get_for_object(rep_role).latest("timestamp")
    assert entry.actor == actor
    assert entry.changes["removed_from_positions"] == [[position.pk], []]
    assert entry.changes["removed_from_memberships"][0] == [by_extra.memberships.get().pk]


def test_position_restore_default_roles(tree, rep_role, role):
    extra = role(code="t-extra", entries=[Entry.QA_HOME], operations=[Operation.INSPECT])
    position = PositionFactory(org_unit=tree["east"], roles=[rep_role])
    employee = EmployeeFactory()
    membership = employee.memberships.create(org_unit=tree["east"], position=position)
    membership.extra_roles.add(extra)
    membership.revoked_roles.add(rep_role)
    rights = rights_for(fresh(employee))
    assert rights.entries == {Entry.QA_HOME}

    restored = position_restore_default_roles(position_id=position.pk)

    assert restored == 1
    rights = rights_for(fresh(employee))
    assert rights.entries == {Entry.WORKBENCH}
    assert rights.operations == {Operation.CLAIM}
    entry = LogEntry.objects.get_for_object(position).latest("timestamp")
    assert entry.changes["extra_roles"] == [["t-extra"], []]
    assert entry.changes["revoked_roles"] == [["t-rep"], []]
    assert entry.changes["restored_memberships"] == [None, [membership.pk]]


def test_membership_roles_validate_refuses_roles_the_unit_does_not_allow(tree, rep_role, role):
    other = role(code="t-not-allowed")
    tree["east"].allowed_roles.add(rep_role)
    employee = EmployeeFactory()
    # A team below inherits its parent's allowed roles.
    membership = employee.memberships.create(org_unit=tree["east_team"])

    membership_roles_validate(membership=membership, roles=[rep_role])
    with pytest.raises(ValidationError) as excinfo:
        membership_roles_validate(membership=membership, roles=[rep_role, other])
    assert other.display_name in excinfo.value.messages[0]
    assert rep_role.display_name not in excinfo.value.messages[0]
