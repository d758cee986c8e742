"""Team history: which unit an employee was in on any day, kept as memberships change."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from orgs.models import Membership, TeamStint
from orgs.services import HISTORY_START, team_history_sync
from tests.factories import EmployeeFactory, add_member, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def units():
    company = make_unit("co")
    return make_unit("team-a", company), make_unit("team-b", company)


def _history(employee):
    return list(TeamStint.objects.filter(employee=employee).order_by("started_on")
                .values_list("org_unit__code", "started_on", "ended_on"))


def test_a_first_membership_counts_since_always(units):
    team_a, _ = units
    rep = EmployeeFactory()
    add_member(rep, team_a, is_primary=True)
    assert _history(rep) == [("team-a", HISTORY_START, None)]


def test_a_move_closes_the_old_team_on_the_day_of_the_move(units):
    team_a, team_b = units
    rep = EmployeeFactory()
    membership = add_member(rep, team_a, is_primary=True)
    today = timezone.localdate()
    membership.org_unit = team_b
    membership.save()
    assert _history(rep) == [("team-a", HISTORY_START, today), ("team-b", today, None)]
    # Saving again changes nothing.
    membership.save()
    assert len(_history(rep)) == 2


def test_the_primary_membership_decides_and_a_same_day_change_keeps_the_last(units):
    team_a, team_b = units
    rep = EmployeeFactory()
    add_member(rep, team_a, is_primary=True)
    day1 = date(2026, 3, 2)
    day2 = day1 + timedelta(days=10)
    # A second, non-primary membership does not change the team.
    second = Membership.objects.create(employee=rep, org_unit=team_b, is_primary=False)
    assert _history(rep) == [("team-a", HISTORY_START, None)]
    Membership.objects.filter(pk=second.pk).update(is_primary=True)
    Membership.objects.filter(employee=rep).exclude(pk=second.pk).update(is_primary=False)
    team_history_sync(employee_id=rep.pk, on=day1)
    # Moved back on a later day: the old stint of team A is not reopened, a new one starts.
    Membership.objects.filter(pk=second.pk).update(is_primary=False)
    Membership.objects.filter(employee=rep).exclude(pk=second.pk).update(is_primary=True)
    team_history_sync(employee_id=rep.pk, on=day2)
    assert _history(rep) == [("team-a", HISTORY_START, day1), ("team-b", day1, day2),
                             ("team-a", day2, None)]
    # Back to team B and again to A the same day: the day's last team counts, the
    # stint of A that ended that day carries on.
    Membership.objects.filter(pk=second.pk).update(is_primary=True)
    Membership.objects.filter(employee=rep).exclude(pk=second.pk).update(is_primary=False)
    day3 = day2 + timedelta(days=5)
    team_history_sync(employee_id=rep.pk, on=day3)
    Membership.objects.filter(pk=second.pk).update(is_primary=False)
    Membership.objects.filter(employee=rep).exclude(pk=second.pk).update(is_primary=True)
    team_history_sync(employee_id=rep.pk, on=day3)
    assert _history(rep) == [("team-a", HISTORY_START, day1), ("team-b", day1, day2),
                             ("team-a", day2, None)]


def test_leaving_every_unit_ends_the_history_and_deleting_the_employee_drops_it(units):
    team_a, _ = units
    rep = EmployeeFactory()
    membership = add_member(rep, team_a, is_primary=True)
    membership.delete()
    assert _history(rep) == [("team-a", HISTORY_START, timezone.localdate())]
    other = EmployeeFactory()
    add_member(other, team_a, is_primary=True)
    other.delete()
    assert not TeamStint.objects.filter(employee_id=other.pk).exists()
