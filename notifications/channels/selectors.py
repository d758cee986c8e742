"""Scoped reads of the messaging channels: a person's own settings, a manager's team robots."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from orgs.models import Employee, Membership, OrgUnit

from . import topics
from .models import EMPLOYEE_ID_FIELDS, ChannelConfig, Delivery, ImPreference, TeamRobot


@dataclass(frozen=True)
class Account:
    platform: str
    label: str
    user_id: str


@dataclass(frozen=True)
class ImSettings:
    channels: list[Account]      # the enabled platforms, with the person's account in each
    topics: list                 # every topic a person can choose
    chosen: frozenset[str]
    language: str

    @property
    def reachable(self) -> bool:
        return any(account.user_id for account in self.channels)


def im_settings(user, *, default_language: str | None = None) -> ImSettings:
    """What the notifications page shows of the person's messaging channels (3 queries)."""
    enabled = list(ChannelConfig.objects.filter(is_enabled=True))
    employee = Employee.objects.filter(user=user).only(*EMPLOYEE_ID_FIELDS.values()).first()
    preference = ImPreference.objects.filter(user=user).first()
    accounts = [Account(c.platform, c.get_platform_display(),
                        getattr(employee, EMPLOYEE_ID_FIELDS[c.platform], "") if employee
                        else "") for c in enabled]
    return ImSettings(
        channels=accounts, topics=topics.topics(),
        chosen=frozenset(preference.topics if preference else ()),
        language=(preference.language if preference
                  else default_language or settings.LANGUAGE_CODE))


def managed_units(user) -> QuerySet:
    """The units ``user`` manages (a manager position there) and every unit below them."""
    if not user.is_authenticated:
        return OrgUnit.objects.none()
    if user.is_superuser:
        return OrgUnit.objects.filter(is_active=True)
    paths = list(Membership.objects.filter(
        employee__user=user, position__is_manager=True, org_unit__is_active=True,
    ).exclude(employee__status=Employee.Status.DEPARTED).values_list("org_unit__path",
                                                                     flat=True))
    if not paths:
        return OrgUnit.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return OrgUnit.objects.filter(condition, is_active=True)


def manages_a_team(user) -> bool:
    return managed_units(user).exists()


def team_robots(user) -> list[TeamRobot]:
    return list(TeamRobot.objects.filter(org_unit__in=managed_units(user))
                .select_related("org_unit").order_by("org_unit__path", "name"))


def team_robot_get(*, user, pk: int) -> TeamRobot:
    robot = (TeamRobot.objects.filter(pk=pk, org_unit__in=managed_units(user))
             .select_related("org_unit").first())
    if robot is None:
        raise Http404
    return robot


def team_robots_with_recent(user, *, per_robot: int = 5) -> list[TeamRobot]:
    """The manager's robots, each with ``recent_deliveries`` (two queries in all)."""
    robots = team_robots(user)
    recent = (Delivery.objects.filter(robot__in=robots)
              .annotate(rank=Window(RowNumber(), partition_by=F("robot_id"),
                                    order_by=[F("created_at").desc(), F("id").desc()]))
              .filter(rank__lte=per_robot).order_by("robot_id", "rank")) if robots else []
    by_robot: dict[int, list[Delivery]] = {}
    for delivery in recent:
        by_robot.setdefault(delivery.robot_id, []).append(delivery)
    for robot in robots:
        robot.recent_deliveries = by_robot.get(robot.pk, [])
    return robots


def robot_platform_choices() -> list[tuple[str, str]]:
    """Platforms a manager can add a robot for: those an administrator switched on."""
    return [(c.platform, c.get_platform_display())
            for c in ChannelConfig.objects.filter(is_enabled=True)]
