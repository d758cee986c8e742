"""Scoped reads over the daily snapshots: period figures are sums of days.

Every read is limited to the viewer's data boundary (``orgs.selectors.data_scope_for``):
a rep sees their own rows, a team manager their team's, the director everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from orgs.selectors import DataScopeFilter

from .models import RepDay

# Flows: a period's figure is the sum of its days.
FLOWS = ("received", "transferred_out", "transferred_kept", "kept_in_team", "followups",
         "qualifying_followups", "invitations", "opportunities", "won", "orders")
MONEY_FLOWS = ("orders_amount", "orders_cost", "gross_margin", "payments")


@dataclass(frozen=True)
class SnapshotFigures:
    """One group's figures over a period."""

    key: object
    opening: int
    held: int
    received: int
    transferred_out: int
    transferred_kept: int
    kept_in_team: int
    followups: int
    qualifying_followups: int
    invitations: int
    opportunities: int
    won: int
    orders: int
    orders_amount: Decimal
    orders_cost: Decimal
    gross_margin: Decimal
    payments: Decimal
    is_team: bool = False

    @property
    def customers(self) -> int:
        """The customer count of the transfer-reason rule (seed 003 §4.3, scene 2): held
        at the start of the period, plus received, less what went to another rep for a
        reason other than ineffective follow-up; for a team, a transfer between two of its
        own reps that the sender keeps is not counted twice."""
        count = self.opening + self.received - self.transferred_out
        return count - self.kept_in_team if self.is_team else count


def snapshot_rows(*, scope: DataScopeFilter, start: date, end: date):
    """The rows of the period the viewer may see."""
    return scope.filter(RepDay.objects.filter(day__gte=start, day__lte=end), owner_field="user")


def snapshot_totals(*, scope: DataScopeFilter, start: date, end: date,
                    by: str = "user") -> dict[object, SnapshotFigures]:
    """Figures per ``by`` (``user``, ``team`` or ``day``) over ``start``–``end``: one query.

    Holdings are stocks, not flows: ``opening`` is what was held at the start of each
    group's first day in the period, ``held`` at the end of its last day.
    """
    zero = Decimal("0")
    aggregates = {name: Coalesce(Sum(name), 0) for name in FLOWS}
    aggregates |= {name: Coalesce(Sum(name), zero) for name in MONEY_FLOWS}
    rows = (snapshot_rows(scope=scope, start=start, end=end).values(by)
            .annotate(opening_=Coalesce(Sum("opening", filter=Q(day=start)), 0),
                      held_=Coalesce(Sum("held", filter=Q(day=end)), 0), **aggregates))
    result = {}
    for row in rows:
        key = row.pop(by)
        opening, held = row.pop("opening_"), row.pop("held_")
        result[key] = SnapshotFigures(key=key, opening=opening, held=held,
                                      is_team=by == "team", **row)
    return result

