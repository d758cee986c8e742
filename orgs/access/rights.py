"""Effective rights: what one user may open (entries), do (operations) and how far their
data boundary reaches (grants).

``rights_for(user)`` is the union of every role over every membership of the user's
employee, computed from the org tree at query time and cached for the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from crm_site.lib.masking import Scenario
from orgs.models import Employee, Membership, Role
from orgs.rights import DataScope, Entry, Operation

_CACHE_ATTR = "_leadpool_rights"


@dataclass(frozen=True)
class Grant:
    """The widest data boundary one membership gives, anchored at its unit."""

    unit_id: int
    unit_path: str
    scope: int


@dataclass(frozen=True)
class Rights:
    """What one user may open, do and see."""

    user_id: int | None
    employee_id: int | None
    entries: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()
    grants: tuple[Grant, ...] = ()
    roles: tuple[Role, ...] = field(default=(), compare=False)
    is_superuser: bool = False

    def opens(self, entry: str) -> bool:
        return entry in self.entries

    def can(self, operation: str) -> bool:
        return operation in self.operations

    @property
    def widest_scope(self) -> int | None:
        return max((g.scope for g in self.grants), default=None)


NO_RIGHTS = Rights(user_id=None, employee_id=None)


def _membership_roles(membership: Membership) -> set[Role]:
    defaults = set(membership.position.default_roles.all()) if membership.position_id else set()
    granted = set(membership.extra_roles.all())
    revoked = set(membership.revoked_roles.all())
    return {r for r in (defaults | granted) - revoked if r.is_active}


def employee_memberships(employee_id: int) -> list[Membership]:
    """Memberships with everything needed to compute roles, in a fixed number of queries."""
    return _memberships(Membership.objects.filter(employee_id=employee_id))


def _memberships(queryset) -> list[Membership]:
    return list(
        queryset.filter(org_unit__is_active=True)
        .select_related("org_unit", "position")
        .prefetch_related(
            Prefetch("position__default_roles"),
            Prefetch("extra_roles"),
            Prefetch("revoked_roles"),
        )
        .order_by("-is_primary", "pk")
    )


def _rights_of(user, employee, memberships: Iterable[Membership]) -> Rights:
    """Rights from an employee's memberships (``rights_for`` and ``rights_for_many``)."""
    if user.is_superuser:
        return Rights(
            user_id=user.pk,
            employee_id=employee.pk if employee else None,
            entries=frozenset(Entry.values),
            operations=frozenset(Operation.values),
            grants=(Grant(unit_id=0, unit_path="", scope=DataScope.ALL),),
            is_superuser=True,
        )
    if employee is None or employee.status == Employee.Status.DEPARTED:
        return Rights(user_id=user.pk, employee_id=employee.pk if employee else None)
    entries: set[str] = set()
    operations: set[str] = set()
    grants: list[Grant] = []
    all_roles: dict[int, Role] = {}
    for membership in memberships:
        roles = _membership_roles(membership)
        if not roles:
            continue
        for role in roles:
            all_roles[role.pk] = role
            entries.update(role.entries or [])
            operations.update(role.operations or [])
        grants.append(
            Grant(
                unit_id=membership.org_unit_id,
                unit_path=membership.org_unit.path,
                scope=max(r.data_scope for r in roles),
            )
        )
    return Rights(
        user_id=user.pk,
        employee_id=employee.pk,
        entries=frozenset(entries),
        operations=frozenset(operations),
        grants=tuple(grants),
        roles=tuple(sorted(all_roles.values(), key=lambda r: r.code)),
    )


def rights_for(user) -> Rights:
    """Effective rights of ``user``: union over memberships and roles; cached per request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_RIGHTS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    employee = Employee.objects.filter(user_id=user.pk).only("id", "status").first()
    memberships = (employee_memberships(employee.pk)
                   if employee is not None and not user.is_superuser
                   and employee.status != Employee.Status.DEPARTED else [])
    rights = _rights_of(user, employee, memberships)
    setattr(user, _CACHE_ATTR, rights)
    return rights


def rights_for_many(user_ids: Iterable[int]) -> dict[int, Rights]:
    """``rights_for`` of many active users at once, in a fixed number of queries (for
    pages and rules that ask "who may …" about a whole team)."""
    users = list(get_user_model().objects.filter(pk__in=set(user_ids), is_active=True))
    employees = {e.user_id: e for e in Employee.objects.filter(
        user_id__in=[u.pk for u in users]).only("id", "status", "user_id")}
    memberships: dict[int, list[Membership]] = {}
    for membership in _memberships(Membership.objects.filter(
            employee_id__in=[e.pk for e in employees.values()])):
        memberships.setdefault(membership.employee_id, []).append(membership)
    found = {}
    for user in users:
        employee = employees.get(user.pk)
        found[user.pk] = _rights_of(user, employee,
                                    memberships.get(employee.pk, []) if employee else [])
    return found


def forget_rights(user) -> None:
    """Drop the per-request cache, e.g. after a role change in the same request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


# The right each scenario needs. A form pre-fills what a detail page would show and the
# admin shows records as a detail page does; a notification is read like a list line, and
# an import report lists rows.
UNMASK_OPERATION: dict[Scenario, str] = {
    Scenario.LIST: Operation.UNMASK_LIST,
    Scenario.DETAIL: Operation.UNMASK_DETAIL,
    Scenario.EXPORT: Operation.UNMASK_EXPORT,
    Scenario.PRINT: Operation.UNMASK_PRINT,
    Scenario.FORM: Operation.UNMASK_DETAIL,
    Scenario.NOTIFICATION: Operation.UNMASK_LIST,
    Scenario.ADMIN: Operation.UNMASK_DETAIL,
    Scenario.IMPORT_REPORT: Operation.UNMASK_LIST,
}


def unmask_operation(scenario: str) -> str:
    return UNMASK_OPERATION[Scenario(scenario)]


def can_unmask(user, scenario: str) -> bool:
    """Whether ``user`` holds the right to see contact data in clear in ``scenario``."""
    return rights_for(user).can(unmask_operation(scenario))
