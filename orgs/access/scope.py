"""Data boundaries: which records a user may see, as filters other apps apply to their
own querysets (records owned by a person are matched on their owner, records that belong
to a unit on the unit). A unit created below a granted unit is covered at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet

from orgs.models import Employee, Membership, OrgUnit
from orgs.rights import DataScope

from .rights import rights_for


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
