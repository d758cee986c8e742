"""The records follow-ups are written on and pools hold: one registry of subjects.

A subject names a table (leads, customers, opportunities), its page, its open statuses and
the rule of who may open one of its records. A subject that circulates (``pool_kind``
set) also tells the pool engine which statuses mean "waiting in a pool" and "owned",
where its ownership events go, and how to read a record's grade and key flag. Pools of
kind ``opportunity`` hold opportunities; every other pool holds leads.

Leads register their own subject; a higher app registers its subjects in its
``AppConfig.ready``, with the scoped selector of its records::

    from leads.subjects import Subject, register_subject

    CUSTOMERS = Subject(code="customer", model_label="opportunities.Customer", ...)

    class OpportunitiesConfig(AppConfig):
        def ready(self):
            register_subject(CUSTOMERS, visible=visible_customers)

``visible(user) -> QuerySet`` returns every record of the kind ``user`` may open (the
same rule as the record's own pages); follow-up panels and writes go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Subject:
    code: str
    model_label: str
    label: object  # lazy translation: "Lead", "Customer", ...
    detail_url: str  # URL name of the record's page
    open_statuses: tuple[str, ...] | None  # None: the kind has no status (customers)
    label_field: str = "name"
    # --- circulation (subjects pools hold) ---
    pool_kind: str | None = None  # the pool kind holding this subject; None: never pooled
    event_label: str = ""
    event_fk: str = ""  # the event model's foreign key to the record
    in_pool_status: str = ""
    owned_status: str = ""  # status of a record handed to a rep
    grade_path: str = ""  # ORM path of the grade that caps and exclusions look at
    starred_path: str = ""  # ORM path of the "key record" flag
    # Extra fields reset when a record goes back to a pool (the owner's own marks).
    reset_on_return: tuple[tuple[str, object], ...] = ()

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def event_model(self):
        return apps.get_model(self.event_label)

    @property
    def circulates(self) -> bool:
        return self.pool_kind is not None

    def url(self, pk: int) -> str:
        """The record's page; empty while no page of that kind is installed."""
        try:
            return reverse(self.detail_url, args=[pk])
        except NoReverseMatch:
            return ""

    def visible(self, user) -> QuerySet:
        """Every record of this kind ``user`` may open (the registered rule)."""
        return _VISIBLE[self.code](user)

    def is_open(self, record) -> bool:
        if self.open_statuses is None:
            return getattr(record, "merged_into_id", None) is None
        return record.status in self.open_statuses

    def plans_q(self, pk: int) -> Q:
        """The follow-ups written on this very record (its plans)."""
        if self.code == "customer":
            # A follow-up on one of the customer's opportunities also names the customer
            # (for its timeline) but plans for the opportunity, not for the customer.
            return Q(customer_id=pk, opportunity__isnull=True, lead__isnull=True)
        return Q(**{f"{self.code}_id": pk})


_SUBJECTS: dict[str, Subject] = {}
_VISIBLE: dict[str, Callable[..., QuerySet]] = {}


def register_subject(subject: Subject, *, visible: Callable[..., QuerySet]) -> Subject:
    """Register ``subject`` with ``visible(user) -> QuerySet``, its scoped read."""
    _SUBJECTS[subject.code] = subject
    _VISIBLE[subject.code] = visible
    return subject


def get_subject(code: str) -> Subject | None:
    return _SUBJECTS.get(code)


def all_subjects() -> list[Subject]:
    return list(_SUBJECTS.values())


def pool_subjects() -> list[Subject]:
    """The subjects the pool engine moves, in registration order (leads first)."""
    return [subject for subject in _SUBJECTS.values() if subject.circulates]


def subject_of(record) -> Subject:
    label = record._meta.label
    for subject in _SUBJECTS.values():
        if subject.model_label == label:
            return subject
    raise ValueError(f"no subject is registered for {label}")


def subject_for_pool(pool) -> Subject:
    """The subject ``pool`` holds: the one registered for its kind, else leads."""
    for subject in _SUBJECTS.values():
        if subject.pool_kind == pool.kind:
            return subject
    return LEADS


LEADS = Subject(
    code="lead", model_label="leads.Lead", label=_("Lead"), detail_url="lead_detail",
    # Master, sub- and dormant pools (every kind no other subject claims) hold leads.
    open_statuses=("assigned", "following"), pool_kind="lead",
    event_label="leads.LeadEvent", event_fk="lead", in_pool_status="in_pool",
    owned_status="assigned", grade_path="grade", starred_path="is_starred",
    reset_on_return=(("is_starred", False), ("next_followup_at", None)),
)
