"""Scoped reads for follow-ups on any subject (lead, customer, opportunity) and the rep's
follow-up agenda (overdue, due today, upcoming).

A subject is reached only through the scoped selector of its kind: a lead as
``leads.selectors.lead_get`` allows, a customer or opportunity when its owner is inside
the viewer's data boundary (or, for an opportunity waiting in the opportunity pool, when
the viewer reaches that pool). Anything else is a 404, the same as a record that does not
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import CharField, F, Q, QuerySet, Value
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.access import visible

from .models import FollowUp, Lead


@dataclass(frozen=True)
class FollowUpSubject:
    """What follow-ups can be written on: which table, which link, which records are open."""

    code: str
    model_label: str
    label: object  # lazy translation
    url_name: str
    open_statuses: tuple[str, ...] | None  # None: the kind has no status (customers)

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def url(self, pk: int) -> str:
        """The record's page; empty while no page of that kind is installed."""
        try:
            return reverse(self.url_name, args=[pk])
        except NoReverseMatch:
            return ""

    def plans_q(self, pk: int) -> Q:
        """The follow-ups written on this very record (its plans)."""
        if self.code == "customer":
            # A follow-up on one of the customer's opportunities also names the customer
            # (for its timeline) but plans for the opportunity, not for the customer.
            return Q(customer_id=pk, opportunity__isnull=True, lead__isnull=True)
        return Q(**{f"{self.code}_id": pk})


SUBJECTS: dict[str, FollowUpSubject] = {
    "lead": FollowUpSubject("lead", "leads.Lead", _("Lead"), "lead_detail",
                            tuple(Lead.OPEN_STATUSES)),
    "customer": FollowUpSubject("customer", "opportunities.Customer", _("Customer"),
                                "customer_detail", None),
    "opportunity": FollowUpSubject("opportunity", "opportunities.Opportunity",
                                   _("Opportunity"), "opportunity_detail", ("open",)),
}


def subject_of(record) -> FollowUpSubject:
    label = record._meta.label
    for subject in SUBJECTS.values():
        if subject.model_label == label:
            return subject
    raise ValueError(f"follow-ups cannot be written on {label}")


def visible_subjects(user, code: str) -> QuerySet:
    """Every record of kind ``code`` the user may open: the same rule as the record's own
    pages, registered by the app that owns the kind (``orgs.access``); a kind whose app is
    not installed opens to nobody."""
    subject = SUBJECTS.get(code)
    if subject is None:
        raise Http404
    return visible(user, subject.model_label)


def subject_get(*, user, code: str, pk: int):
    """The record, if ``user`` may open it; 404 otherwise (as for a missing one)."""
    if code == "lead":
        from .selectors import lead_get

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
    subject = subject_of(record)
    if record.owner_id != user.pk:
        return False
    if subject.open_statuses is None:
        return getattr(record, "merged_into_id", None) is None
    return record.status in subject.open_statuses


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
    Customer = SUBJECTS["customer"].model
    Opportunity = SUBJECTS["opportunity"].model
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
        AgendaItem(subject=code, subject_label=str(SUBJECTS[code].label), pk=pk, name=name,
                   due=due, url=SUBJECTS[code].url(pk))
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
