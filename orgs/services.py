"""Writes for the organisation: departures, role maintenance, org-stage presets.

Every function here is atomic and leaves an audit entry (django-auditlog) with who,
when, and before/after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .handover import HandoverResult, run_handover
from .models import Employee, Membership, Position, Role, TeamStint, UserSession

# A first stint covers every day before it too: nothing earlier is known, and reports of
# past days (backfills, imported history) should find the rep's team rather than none.
HISTORY_START = date(2000, 1, 1)


def team_history_sync(*, employee_id: int, on: date | None = None) -> None:
    """Bring the employee's team history in line with their memberships as of ``on``
    (today by default): the unit of the primary membership (else the oldest) is their
    team from that day on. Safe to call any number of times; a no-op if nothing changed.
    """
    day = on or timezone.localdate()
    with transaction.atomic():
        # The employee's row serialises concurrent changes of their memberships.
        if not Employee.objects.select_for_update().filter(pk=employee_id).exists():
            return
        unit_id = (Membership.objects.filter(employee_id=employee_id)
                   .order_by("-is_primary", "pk").values_list("org_unit_id", flat=True).first())
        stints = TeamStint.objects.filter(employee_id=employee_id)
        current = stints.filter(ended_on__isnull=True).first()
        if current is not None and current.org_unit_id == unit_id:
            return
        if current is not None:
            if current.started_on >= day:
                current.delete()  # changed again the same day: the day's last team counts
            else:
                stints.filter(pk=current.pk).update(ended_on=day)
        if unit_id is None:
            return
        previous = stints.filter(ended_on__gte=day).order_by("-started_on").first()
        if previous is not None and previous.org_unit_id == unit_id:
            stints.filter(pk=previous.pk).update(ended_on=None)  # back to the same team
        else:
            started = day if stints.exists() else HISTORY_START
            TeamStint.objects.create(employee_id=employee_id, org_unit_id=unit_id,
                                     started_on=started)


def _audit(instance, changes: dict, actor=None, action=LogEntry.Action.UPDATE) -> None:
    LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=action,
        changes=changes,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _session_store() -> type[SessionBase]:
    from django.conf import settings

    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")


def user_sessions_end(*, user_id: int) -> int:
    """End every open session of a user (whatever the session backend)."""
    store = _session_store()
    keys = list(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user_id=user_id).delete()
    return len(keys)


@dataclass(frozen=True)
class DepartureReport:
    employee: Employee
    successor: Employee | None
    sessions_ended: int
    handover: list[HandoverResult]


def employee_depart(
    *, employee_id: int, successor_id: int | None = None, actor=None
) -> DepartureReport:
    """Mark an employee departed (离职): block login, end sessions, hand over their work.

    Nothing is deleted: memberships and history stay, so managers keep seeing the
    records in their scope. Raises ``ValidationError`` for an invalid successor or an
    employee who already left.
    """
    with transaction.atomic():
        employee = Employee.objects.select_for_update().get(pk=employee_id)
        if employee.status == Employee.Status.DEPARTED:
            raise ValidationError(
                _("%(name)s has already departed.") % {"name": employee.display_name}
            )
        successor = None
        if successor_id is not None:
            if successor_id == employee.pk:
                raise ValidationError(_("An employee cannot be their own successor."))
            successor = Employee.objects.filter(pk=successor_id).first()
            if successor is None or successor.status == Employee.Status.DEPARTED:
                raise ValidationError(_("The successor must be an employee who has not departed."))
        before = {"status": employee.status, "successor": None}
        employee.status = Employee.Status.DEPARTED
        employee.departed_at = timezone.now()
        employee.successor = successor
        employee.save(update_fields=["status", "departed_at", "successor"])
        get_user_model().objects.filter(pk=employee.user_id).update(is_active=False)
        # Their direct reports now report to the successor (or to nobody).
        Employee.objects.filter(supervisor=employee).update(supervisor=successor)
        results = run_handover(employee=employee, successor=successor, actor=actor)
        sessions_ended = user_sessions_end(user_id=employee.user_id)
        _audit(
            employee,
            {
                "status": [before["status"], employee.status],
                "successor": [before["successor"], str(successor) if successor else None],
                "handover": [None, {r.name: r.moved for r in results}],
            },
            actor,
        )
    return DepartureReport(
        employee=employee, successor=successor, sessions_ended=sessions_ended, handover=results
    )


def role_remove_from_everyone(*, role_id: int, actor=None) -> int:
    """Forced removal: take a role from every position default and every membership.

    Returns the number of memberships and positions that lost the role. The role itself
    stays in the role pool.
    """
    with transaction.atomic():
        role = Role.objects.select_for_update().get(pk=role_id)
        granted = Membership.extra_roles.through.objects.filter(role=role)
        positions = Position.default_roles.through.objects.filter(role=role)
        affected_memberships = list(granted.values_list("membership_id", flat=True))
        affected_positions = list(positions.values_list("position_id", flat=True))
        granted.delete()
        positions.delete()
        _audit(
            role,
            {
                "removed_from_positions": [affected_positions, []],
                "removed_from_memberships": [affected_memberships, []],
            },
            actor,
        )
    return len(affected_memberships) + len(affected_positions)


def position_restore_default_roles(*, position_id: int, actor=None) -> int:
    """Every holder of the position goes back to exactly the position's default roles."""
    with transaction.atomic():
        position = Position.objects.select_for_update().get(pk=position_id)
        memberships = Membership.objects.filter(position=position)
        ids = list(memberships.values_list("pk", flat=True))
        extra = Membership.extra_roles.through.objects.filter(membership_id__in=ids)
        revoked = Membership.revoked_roles.through.objects.filter(membership_id__in=ids)
        before = {
            "extra_roles": sorted(extra.values_list("role__code", flat=True)),
            "revoked_roles": sorted(revoked.values_list("role__code", flat=True)),
        }
        extra.delete()
        revoked.delete()
        _audit(
            position,
            {
                "restored_memberships": [None, ids],
                "extra_roles": [before["extra_roles"], []],
                "revoked_roles": [before["revoked_roles"], []],
            },
            actor,
        )
    return len(ids)


def unit_roles_validate(*, unit, roles) -> None:
    """Refuse roles ``unit`` does not allow (role pool → unit → position → membership)."""
    allowed = set(unit.effective_allowed_roles().values_list("pk", flat=True))
    refused = [r for r in roles if r.pk not in allowed]
    if refused:
        raise ValidationError(
            _("%(unit)s does not allow these roles: %(roles)s")
            % {"unit": unit.display_name, "roles": ", ".join(r.display_name for r in refused)}
        )


def membership_roles_validate(*, membership: Membership, roles) -> None:
    """Refuse roles the membership's unit does not allow."""
    unit_roles_validate(unit=membership.org_unit, roles=roles)
