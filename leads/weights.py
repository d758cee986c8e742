"""Members' recent results, for pools that compute weights instead of setting them.

A source maps users to a score over a period (higher is better); the weighted strategy
turns scores into weights 1–10 (``engine.strategies.weights_from_scores``). The leads app
provides ``conversion_rate``; the opportunities and contracts apps register ``win_rate``
and ``signed_amount``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

Source = Callable[[Sequence[int], datetime], dict[int, float]]

_SOURCES: dict[str, tuple[object, Source]] = {}


def register(code: str, label) -> Callable[[Source], Source]:
    def decorator(fn: Source) -> Source:
        _SOURCES[code] = (label, fn)
        return fn

    return decorator


def choices() -> list[tuple[str, object]]:
    return [("configured", _("Weights set per member")),
            *[(code, label) for code, (label, _fn) in _SOURCES.items()]]


def scores(code: str, user_ids: Sequence[int], *, since: datetime) -> dict[int, float]:
    source = _SOURCES.get(code)
    if source is None:
        return dict.fromkeys(user_ids, 1.0)
    found = source[1](user_ids, since)
    return {user: float(found.get(user) or 0) for user in user_ids}


@register("conversion_rate", _("Lead conversion rate, last 30 days"))
def conversion_rate(user_ids: Sequence[int], since: datetime) -> dict[int, float]:
    """Leads each member converted per lead they received since ``since`` (events)."""
    from .models import LeadEvent

    recent = LeadEvent.objects.filter(created_at__gte=since)
    received = dict(recent.filter(to_owner_id__in=user_ids, kind__in=LeadEvent.ACQUIRING)
                    .values_list("to_owner_id").annotate(n=Count("pk"))
                    .values_list("to_owner_id", "n"))
    converted = dict(recent.filter(from_owner_id__in=user_ids,
                                   kind=LeadEvent.Kind.CONVERTED)
                     .values_list("from_owner_id").annotate(n=Count("pk"))
                     .values_list("from_owner_id", "n"))
    return {user: converted.get(user, 0) / received[user] if received.get(user) else 0.0
            for user in user_ids}
