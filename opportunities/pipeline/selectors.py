"""Scoped reads of the pipeline: the board, the list, an opportunity's page, the pool.

A user sees the opportunities owned by anyone in their data scope (a rep: their own; a
manager: their units) and the waiting opportunities of opportunity pools they may view.
Contact data on cards, rows and exports passes the masking helper.

The board costs a fixed number of queries whatever the data size: one aggregate over
the scope grouped by stage (count, total), and one ``UNION ALL`` of a small page of cards
per stage, each served by the ``(owner, stage, id)`` index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import ngettext

from crm_site.lib.inputs import parse_id
from crm_site.lib.keyset import Page, keyset_page
from crm_site.lib.masking import mask
from leads.models import LeadPool
from leads.permissions import pools_for
from orgs.access import can_unmask
from orgs.rights import Entry
from orgs.selectors import data_scope_for, rights_for

from .. import stages as stage_dictionary
from ..models import ContactMethod, Opportunity, OpportunityEvent, OpportunityStageChange

CARDS_PER_COLUMN = 20
_DETAIL_PREFIX = "/opportunities/"


def _primary_mobile():
    return Subquery(ContactMethod.objects.filter(
        contact_id=OuterRef("contact_id"),
        kind__in=[ContactMethod.Kind.MOBILE, ContactMethod.Kind.PHONE],
    ).order_by("-is_primary", "pk").values("value")[:1])


def owned_in_scope(user) -> QuerySet:
    """Owned opportunities of everyone in ``user``'s data scope (the board and the list).

    The owners in scope are resolved to a list once (one small query): an ``owner_id IN
    (…)`` list lets PostgreSQL use the owner indexes, a subquery would not.
    """
    scope = data_scope_for(user)
    queryset = Opportunity.objects.filter(owner__isnull=False)
    if scope.sees_all:
        return queryset
    cache = user.__dict__.setdefault("_pipeline_owner_ids", None)
    if cache is None:
        cache = sorted(scope.users().values_list("pk", flat=True))
        user.__dict__["_pipeline_owner_ids"] = cache
    return queryset.filter(owner_id__in=cache)


def opportunity_pools(user, perm: str = "view_pool_leads") -> QuerySet:
    return pools_for(user, perm).filter(kind=LeadPool.Kind.OPPORTUNITY)


def visible_opportunities(user) -> QuerySet:
    """Everything ``user`` may open: owned within scope, or waiting in a visible pool."""
    return Opportunity.objects.filter(
        data_scope_for(user).owners_q("owner")
        | Q(owner__isnull=True, status=Opportunity.Status.IN_POOL,
            pool__in=opportunity_pools(user))
    )


def openable_opportunity_ids(user, *, customer_id: int) -> set[int]:
    """Which of a customer's opportunities ``user`` may open (links on the customer page;
    one query, none without the Opportunities entry)."""
    if not rights_for(user).opens(Entry.OPPORTUNITIES):
        return set()
    return set(visible_opportunities(user).filter(customer_id=customer_id)
               .values_list("pk", flat=True))


def opportunity_get(*, user, opportunity_id: int) -> Opportunity:
    found = (visible_opportunities(user)
             .select_related("customer", "contact", "owner__employee", "pool",
                             "recycle_rule", "created_by__employee")
             .filter(pk=opportunity_id).first())
    if found is None:
        raise Http404
    return found


def contact_clear(user, opportunity: Opportunity, scenario: str) -> bool:
    """Contact data in clear needs the unmask right of the scenario and an owner in scope
    (a pool opportunity's contacts stay masked until it is claimed)."""
    if not can_unmask(user, scenario) or opportunity.owner_id is None:
        return False
    return opportunity.owner_id == user.pk or data_scope_for(user).sees_all or \
        owned_in_scope(user).filter(pk=opportunity.pk).exists()


def masked(value: str, clear: bool) -> str:
    if not value:
        return ""
    return value if clear else mask(value, "phone")


def contact_methods(opportunity: Opportunity) -> list[ContactMethod]:
    if opportunity.contact_id is None:
        return []
    return list(ContactMethod.objects.filter(contact_id=opportunity.contact_id)
                .order_by("-is_primary", "pk"))


# --- filters of the list and the board ------------------------------------------------------


@dataclass
class Filters:
    stage: str = ""
    status: str = ""
    owner: int | None = None
    type: str = ""
    close_from: date | None = None
    close_to: date | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params) -> Filters:
        def _date(name):
            try:
                return date.fromisoformat(params.get(name) or "")
            except ValueError:
                return None

        owner = params.get("owner") or ""
        return cls(stage=(params.get("stage") or "")[:64],
                   status=params.get("status") if params.get("status") in
                   Opportunity.Status.values else "",
                   owner=parse_id(owner),
                   type=params.get("type") if params.get("type") in Opportunity.Type.values
                   else "",
                   close_from=_date("close_from"), close_to=_date("close_to"),
                   q=(params.get("q") or "").strip()[:100])

    def apply(self, queryset: QuerySet, *, stage: bool = True) -> QuerySet:
        if stage and self.stage:
            queryset = queryset.filter(stage=self.stage)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.owner:
            queryset = queryset.filter(owner_id=self.owner)
        if self.type:
            queryset = queryset.filter(type=self.type)
        if self.close_from:
            queryset = queryset.filter(expected_close__gte=self.close_from)
        if self.close_to:
            queryset = queryset.filter(expected_close__lte=self.close_to)
        if self.q:
            queryset = queryset.filter(Q(name__icontains=self.q)
                                       | Q(customer__name__icontains=self.q))
        return queryset

    def querystring(self) -> str:
        from urllib.parse import urlencode

        pairs = {"stage": self.stage, "status": self.status, "owner": self.owner or "",
                 "type": self.type, "close_from": self.close_from or "",
                 "close_to": self.close_to or "", "q": self.q}
        return urlencode({k: v for k, v in pairs.items() if v})


def opportunity_list(*, user, filters: Filters, cursor: str | None = None,
                     size: int = 50) -> Page:
    queryset = filters.apply(owned_in_scope(user)).select_related(
        "customer", "contact", "owner__employee").annotate(mobile=_primary_mobile())
    return keyset_page(queryset, field="id", descending=True, cursor=cursor, size=size)


def export_rows(*, user, filters: Filters) -> QuerySet:
    return (filters.apply(owned_in_scope(user))
            .select_related("customer", "contact", "owner__employee")
            .annotate(mobile=_primary_mobile()).order_by("pk"))


# --- the board -------------------------------------------------------------------------------


@dataclass
class Card:
    """One card of the board, with its text ready to print (a board prints ~120 of them:
    no per-card URL reversing or template translation)."""

    id: int
    name: str
    customer: str
    contact: str
    mobile: str
    amount: Decimal
    owner: str
    version: int
    stage: str
    status: str
    in_stage_days: int
    age_days: int
    expected_close: date | None
    key: str = ""
    url: str = ""
    in_stage_label: str = ""


@dataclass
class Column:
    stage: stage_dictionary.Stage
    count: int = 0
    total: Decimal = Decimal("0")
    cards: list[Card] = field(default_factory=list)
    next_cursor: int | None = None

    @property
    def weighted(self) -> Decimal:
        return (self.total * self.stage.weight).quantize(Decimal("0.01"))


_CARD_FIELDS = ("pk", "name", "customer__name", "contact__name", "mobile", "amount",
                "owner_id", "version", "stage", "status", "stage_changed_at", "created_at",
                "expected_close")


def _owner_names(owner_ids, english: bool) -> dict[int, str]:
    """Display names of the cards' owners (one query; keeps the card query's joins few —
    its planning time grows with every join of every column)."""
    from orgs.models import Employee

    names = {}
    for user_id, name, name_en in Employee.objects.filter(
            user_id__in=set(owner_ids)).values_list("user_id", "name", "name_en"):
        names[user_id] = (name_en if english and name_en else name)
    return names


def _to_card(row: dict, *, clear: bool, english: bool, now, names: dict[int, str]) -> Card:
    owner = names.get(row["owner_id"], "")
    days = (now - row["stage_changed_at"]).days
    return Card(id=row["pk"], key=str(row["pk"]), url=f"{_DETAIL_PREFIX}{row['pk']}/",
                in_stage_label=ngettext("%(d)s day", "%(d)s days", days) % {"d": days},
                name=row["name"], customer=row["customer__name"],
                contact=row["contact__name"] or "", mobile=masked(row["mobile"] or "", clear),
                amount=row["amount"], owner=owner, version=row["version"],
                stage=row["stage"], status=row["status"],
                in_stage_days=days,
                age_days=(now - row["created_at"]).days,
                expected_close=row["expected_close"])


def _cards_queryset(user, filters: Filters):
    return (filters.apply(owned_in_scope(user), stage=False)
            .annotate(mobile=_primary_mobile()).values(*_CARD_FIELDS))


def board(*, user, filters: Filters, size: int = CARDS_PER_COLUMN,
          cards: bool = True) -> list[Column]:
    """The columns of the user's board, in dictionary order, with their first cards.

    Three queries whatever the data size: the stage dictionary, one aggregate (count and
    total per stage), one UNION ALL of each stage's first ``size`` + 1 cards.
    """
    from django.utils.translation import get_language

    found = stage_dictionary.stages()
    columns = {stage.code: Column(stage=stage) for stage in found}
    scoped = filters.apply(owned_in_scope(user), stage=False)
    for stage, n, total in (scoped.order_by().values_list("stage")
                            .annotate(n=Count("*"), total=Sum("amount"))
                            .values_list("stage", "n", "total")):
        if stage not in columns:
            # A stage an admin deactivated, or an imported code the dictionary lacks: its
            # opportunities stay visible, in a column at the end, until they are moved.
            columns[stage] = Column(stage=stage_dictionary.Stage(
                code=stage, label=stage, order=len(columns), probability=0, closed=""))
        columns[stage].count, columns[stage].total = n, total or Decimal("0")
    wanted = [code for code, column in columns.items() if column.count]
    if wanted and cards:
        base = _cards_queryset(user, filters)
        parts = [base.filter(stage=code).order_by("-pk")[:size + 1] for code in wanted]
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        clear = can_unmask(user, "list")
        english = (get_language() or "").startswith("en")
        now = timezone.now()
        rows = list(query)
        names = _owner_names([row["owner_id"] for row in rows], english)
        for row in rows:
            column = columns[row["stage"]]
            column.cards.append(_to_card(row, clear=clear, english=english, now=now,
                                         names=names))
        for column in columns.values():
            column.cards.sort(key=lambda card: -card.id)
            if len(column.cards) > size:
                column.cards = column.cards[:size]
                column.next_cursor = column.cards[-1].id
    return list(columns.values())


def board_column_page(*, user, filters: Filters, stage: str, after: int | None,
                      size: int = CARDS_PER_COLUMN) -> tuple[list[Card], int | None]:
    """The next cards of one column ("more")."""
    from django.utils.translation import get_language

    queryset = _cards_queryset(user, filters).filter(stage=stage)
    if after:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[:size + 1])
    clear = can_unmask(user, "list")
    english = (get_language() or "").startswith("en")
    now = timezone.now()
    names = _owner_names([row["owner_id"] for row in rows], english)
    cards = [_to_card(row, clear=clear, english=english, now=now, names=names)
             for row in rows[:size]]
    return cards, (cards[-1].id if len(rows) > size else None)


# --- an opportunity's page ---------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    change: OpportunityStageChange
    from_label: str
    to_label: str
    held_for: timedelta | None  # how long the opportunity then stayed at ``to_stage``


def stage_history(opportunity: Opportunity) -> list[HistoryRow]:
    labels = {stage.code: stage.label for stage in stage_dictionary.stages(
        include_inactive=True)}
    changes = list(opportunity.stage_changes.select_related("changed_by__employee")
                   .order_by("changed_at", "pk"))
    rows = []
    for index, change in enumerate(changes):
        until = (changes[index + 1].changed_at if index + 1 < len(changes)
                 else (opportunity.closed_at if opportunity.closed_at
                       and opportunity.status in (Opportunity.Status.WON,
                                                  Opportunity.Status.LOST) else None))
        held = (until - change.changed_at) if until else (timezone.now() - change.changed_at)
        rows.append(HistoryRow(change, labels.get(change.from_stage, change.from_stage),
                               labels.get(change.to_stage, change.to_stage), held))
    return rows


def opportunity_events(opportunity: Opportunity) -> list[OpportunityEvent]:
    return list(opportunity.events.select_related(
        "actor__employee", "from_owner__employee", "to_owner__employee", "from_pool",
        "to_pool").order_by("created_at", "pk"))


# --- the opportunity pool --------------------------------------------------------------------


def pool_opportunities(*, pool: LeadPool, search: str = "", cursor: str | None = None,
                       size: int = 50) -> Page:
    queryset = (Opportunity.objects.filter(pool=pool, owner__isnull=True,
                                           status=Opportunity.Status.IN_POOL)
                .select_related("customer"))
    if search:
        queryset = queryset.filter(Q(name__icontains=search)
                                   | Q(customer__name__icontains=search))
    return keyset_page(queryset, field="id", descending=True, cursor=cursor, size=size)
