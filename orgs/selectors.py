"""Scoped reads for the organisation: effective rights and data scope.

``rights_for(user)`` is the union of every role over every membership of the user's
employee. ``data_scope_for(user)`` turns the data boundaries of those memberships into
filters that other apps apply to their own querysets. Both are computed from the org tree
at query time, so a unit created below a granted unit is covered at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from .models import Employee, Membership, OrgUnit, Role
from .rights import DataScope, Entry, Operation

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


def subordinate_employee_ids(employee_id: int) -> list[int]:
    """Every employee whose chain of direct supervisors reaches ``employee_id`` (one query)."""
    table = Employee._meta.db_table
    sql = f"""
        WITH RECURSIVE chain(id) AS (
            SELECT id FROM {table} WHERE supervisor_id = %s
            UNION
            SELECT e.id FROM {table} e JOIN chain c ON e.supervisor_id = c.id
        )
        SELECT id FROM chain
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [employee_id])
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class DataScopeFilter:
    """The records a user may see, as filters over owners and over org units.

    Records owned by a person are matched on their owner (a user); records that belong
    to a unit (a pool, a team target) are matched on the unit.
    """

    sees_all: bool
    user_ids: frozenset[int]
    unit_ids: frozenset[int]
    unit_paths: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.sees_all or self.user_ids or self.unit_ids or self.unit_paths)

    def _unit_match(self, prefix: str) -> Q:
        q = Q(pk__in=[])
        if self.unit_ids:
            q |= Q(**{f"{prefix}id__in": sorted(self.unit_ids)})
        for path in self.unit_paths:
            q |= Q(**{f"{prefix}path__startswith": path})
        return q

    def units_q(self, field_name: str = "org_unit") -> Q:
        """Filter for records attached to an org unit through ``field_name``."""
        if self.sees_all:
            return Q(pk__isnull=False)  # everything; unlike Q(), survives being OR-ed
        return self._unit_match(f"{field_name}__") if field_name else self._unit_match("")

    def owners_q(self, field_name: str = "owner") -> Q:
        """Filter for records owned by a user through ``field_name``."""
        if self.sees_all:
            return Q(pk__isnull=False)  # everything; unlike Q(), survives being OR-ed
        q = Q(pk__in=[])
        if self.user_ids:
            q |= Q(**{f"{field_name}_id__in": sorted(self.user_ids)})
        if self.unit_ids or self.unit_paths:
            members = Membership.objects.filter(self._unit_match("org_unit__")).values(
                "employee__user_id"
            )
            q |= Q(**{f"{field_name}_id__in": members})
        return q

    def users(self) -> QuerySet:
        """The users whose records are visible."""
        return _users_in_scope(self)

    def units(self) -> QuerySet:
        """The org units whose records are visible."""
        return OrgUnit.objects.filter(self.units_q(""))

    def filter(self, queryset: QuerySet, *, owner_field: str = "owner") -> QuerySet:
        return queryset.filter(self.owners_q(owner_field))


def _users_in_scope(scope: DataScopeFilter) -> QuerySet:
    users = get_user_model().objects.all()
    if scope.sees_all:
        return users
    q = Q(pk__in=[])
    if scope.user_ids:
        q |= Q(pk__in=sorted(scope.user_ids))
    if scope.unit_ids or scope.unit_paths:
        q |= Q(
            pk__in=Membership.objects.filter(scope._unit_match("org_unit__")).values(
                "employee__user_id"
            )
        )
    return users.filter(q)


EMPTY_SCOPE = DataScopeFilter(sees_all=False, user_ids=frozenset(), unit_ids=frozenset(),
                              unit_paths=())


def data_scope_for(user) -> DataScopeFilter:
    """The data boundary of ``user`` as filters, from all memberships' widest roles."""
    rights = rights_for(user)
    if not rights.grants:
        return EMPTY_SCOPE
    if any(g.scope == DataScope.ALL for g in rights.grants):
        return DataScopeFilter(sees_all=True, user_ids=frozenset(), unit_ids=frozenset(),
                               unit_paths=())
    user_ids: set[int] = {rights.user_id}
    unit_ids: set[int] = set()
    paths: set[str] = set()
    if any(g.scope == DataScope.SELF_AND_SUBORDINATES for g in rights.grants):
        subordinate_ids = subordinate_employee_ids(rights.employee_id)
        if subordinate_ids:
            user_ids.update(
                Employee.objects.filter(pk__in=subordinate_ids).values_list("user_id", flat=True)
            )
    for grant in rights.grants:
        if grant.scope == DataScope.OWN_UNIT:
            unit_ids.add(grant.unit_id)
        elif grant.scope == DataScope.UNIT_AND_BELOW:
            paths.add(grant.unit_path)
    return DataScopeFilter(
        sees_all=False,
        user_ids=frozenset(user_ids),
        unit_ids=frozenset(unit_ids),
        unit_paths=tuple(sorted(_outermost(paths))),
    )


def _outermost(paths: Iterable[str]) -> set[str]:
    """Drop paths already covered by a shorter prefix in the set."""
    result: set[str] = set()
    for path in sorted(paths, key=len):
        if not any(path.startswith(kept) for kept in result):
            result.add(path)
    return result


def employee_list(*, user, unit_id: int | None = None) -> QuerySet:
    """Employees the viewer may see, with their primary unit and position preloaded."""
    scope = data_scope_for(user)
    queryset = Employee.objects.filter(user__in=scope.users()).select_related(
        "user", "supervisor"
    ).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("org_unit", "position").order_by(
                "-is_primary", "pk"
            ),
        )
    )
    if unit_id:
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        if unit is None:
            return queryset.none()
        queryset = queryset.filter(memberships__org_unit__path__startswith=unit.path).distinct()
    return queryset.order_by("employee_no")


def holders_of_role(role: Role) -> QuerySet:
    """Employees who hold ``role`` through any membership (reverse lookup for admin)."""
    holding = Membership.objects.filter(
        Q(position__default_roles=role) | Q(extra_roles=role)
    ).exclude(revoked_roles=role)
    return (
        Employee.objects.filter(memberships__in=holding)
        .exclude(status=Employee.Status.DEPARTED)
        .select_related("user")
        .distinct()
        .order_by("employee_no")
    )
