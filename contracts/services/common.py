"""What the contract services share: the refusal a user sees, and a status move taken once
under a row lock.
"""

from __future__ import annotations

from django.db import transaction


class ActionRefused(Exception):
    """An action the user may not take now; ``message`` says why, in their language."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def actor_name(user) -> str:
    employee = getattr(user, "employee", None)
    return employee.display_name if employee else user.get_username()


def transition_status(model, pk: int, allowed_from, to: str, **extra) -> bool:
    """Move the status only if it still is one of ``allowed_from``, under a row lock (so
    two clicks at once move it once) and through ``save`` (so the audit log records it)."""
    with transaction.atomic():
        row = (model.objects.select_for_update().filter(pk=pk, status__in=list(allowed_from))
               .first())
        if row is None:
            return False
        row.status = to
        for name, value in extra.items():
            setattr(row, name, value)
        row.save(update_fields=["status", *extra])
    return True
