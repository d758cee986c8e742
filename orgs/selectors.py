"""Scoped reads for the organisation: the employee directory and role holders.

Rights and data boundaries live in :mod:`orgs.access`; they are named here too because
every app reads them together with the directory.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from .access.rights import (  # noqa: F401  (the names other apps read from here)
    NO_RIGHTS,
    Grant,
    Rights,
    employee_memberships,
    forget_rights,
    rights_for,
    rights_for_many,
)
from .access.scope import (  # noqa: F401
    EMPTY_SCOPE,
    DataScopeFilter,
    data_scope_for,
    subordinate_employee_ids,
)
from .models import Employee, Membership, OrgUnit, Role


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
