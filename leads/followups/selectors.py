"""Scoped reads for follow-ups on any subject (lead, customer, opportunity) and the rep's
follow-up agenda (overdue, due today, upcoming).

A subject is reached only through the scoped selector its app registered
(``leads.subjects``): a lead as ``leads.selectors.lead_get`` allows, a customer or
opportunity as its own pages allow. Anything else is a 404, the same as a record that does
not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import CharField, F, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import FollowUp, Lead
from ..selectors import lead_get
from ..subjects import get_subject, subject_of


def visible_subjects(user, code: str) -> QuerySet:
    """Every record of kind ``code`` the user may open (its registered rule)."""
    subject = get_subject(code)
    if subject is None:
        raise Http404
    return subject.visible(user)


def subject_get(*, user, code: str, pk: int):
    """The record, if ``user`` may open it; 404 otherwise (as for a missing one)."""
    if code == "lead":
        return lead_get(user=user, lead_id=pk)
    record = visible_subjects(user, code).filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


def subject_followups(record, *, limit: int = 100) -> list[FollowUp]:
    """The follow-ups written on ``record``, newest first (one query)."""
    subject = subject_of(record)
    return list(FollowUp.objects.filter(subject.plans_q(record.pk))
                .select_related("author", "author__employee")[:limit])


def can_write_followups(user, record) -> bool:
    """Only the owner of an open record writes its follow-ups."""
    if record.owner_id != user.pk:
        return False
    return subject_of(record).is_open(record)


# --- the rep's agenda ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    subject: str
    subject_label: str
    pk: int
    name: str
    due: datetime
    url: str


def _owned_with_plans(user) -> list[QuerySet]:
    """Per kind, the open records ``user`` owns that have a next follow-up, as one shape."""
    Customer = get_subject("customer").model
    Opportunity = get_subject("opportunity").model
    fields = ("pk", "name", "next_followup_at", "kind_code")
    return [
        Lead.objects.filter(owner=user, status__in=Lead.OPEN_STATUSES,
                            next_followup_at__isnull=False)
        .annotate(kind_code=Value("lead", output_field=CharField())).values_list(*fields),
        Customer.objects.filter(owner=user, merged_into__isnull=True,
                                next_followup_at__isnull=False)
        .annotate(kind_code=Value("customer", output_field=CharField())).values_list(*fields),
        Opportunity.objects.filter(owner=user, status="open", next_followup_at__isnull=False)
        .annotate(kind_code=Value("opportunity", output_field=CharField()))
        .values_list(*fields),
    ]


def _bucket(user, *, after: datetime | None, before: datetime | None, limit: int
            ) -> list[AgendaItem]:
    parts = []
    for queryset in _owned_with_plans(user):
        if after is not None:
            queryset = queryset.filter(next_followup_at__gte=after)
        if before is not None:
            queryset = queryset.filter(next_followup_at__lt=before)
        # Each part is cut to ``limit`` on its own index first: the union stays small.
        parts.append(queryset.order_by("next_followup_at", "pk")[:limit])
    first, *rest = parts
    rows = first.union(*rest, all=True).order_by(F("next_followup_at").asc())[:limit]
    return [
        AgendaItem(subject=code, subject_label=str(get_subject(code).label), pk=pk, name=name,
                   due=due, url=get_subject(code).url(pk))
        for pk, name, due, code in rows
    ]


def followup_agenda(*, user, now: datetime | None = None, limit: int = 8,
                    upcoming_days: int = 7) -> dict[str, list[AgendaItem]]:
    """The rep's follow-ups across leads, customers and opportunities: overdue, due today
    (from now to midnight, in the user's zone) and upcoming (the next ``upcoming_days``).

    Three queries whatever the number of records (one ``UNION ALL`` per bucket).
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    end_of_day = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                     microsecond=0)
    return {
        "overdue": _bucket(user, after=None, before=now, limit=limit),
        "due_today": _bucket(user, after=now, before=end_of_day, limit=limit),
        "upcoming": _bucket(user, after=end_of_day,
                            before=end_of_day + timedelta(days=upcoming_days), limit=limit),
    }


def agenda_buckets(*, user, limit: int = 8) -> list[dict]:
    """The agenda as the workbench shows it: three titled cards."""
    agenda = followup_agenda(user=user, limit=limit)
    return [
        {"code": "overdue", "testid": "overdue", "items": agenda["overdue"],
         "title": _("Overdue follow-ups"), "icon": "bi-alarm text-danger",
         "badge": "text-bg-danger", "empty": _("Nothing overdue.")},
        {"code": "due_today", "testid": "due-today", "items": agenda["due_today"],
         "title": _("Due today"), "icon": "bi-calendar-check text-primary",
         "badge": "text-bg-primary", "empty": _("No more follow-ups due today.")},
        {"code": "upcoming", "testid": "upcoming", "items": agenda["upcoming"],
         "title": _("Upcoming follow-ups (next 7 days)"), "icon": "bi-calendar-week text-info",
         "badge": "text-bg-info", "empty": _("Nothing planned for the coming week.")},
    ]
