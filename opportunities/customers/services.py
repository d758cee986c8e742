"""Writes for customers and contacts: entry and editing, key-customer stars, transfers with
grade caps, merges of duplicates, the nightly grading and the departure handover.

Every function is atomic. Merges lock both records (in primary-key order), move every
history to the survivor in set-based UPDATEs and leave an audit entry (django-auditlog)
naming who merged what into what and how many rows moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads.models import FollowUp, Lead
from leads.normalize import normalize_company, normalize_email, normalize_phone
from leads.pools.claims import lock_reps
from leads.pools.config import grade_caps
from leads.services import LeadActionRefused, _target_user
from orgs.handover import register_handover_step
from orgs.models import Employee
from orgs.rights import Operation
from orgs.selectors import data_scope_for, rights_for

from ..models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
)
from .selectors import visible_contacts, visible_customers


class CustomerActionRefused(LeadActionRefused):
    """A customer or contact action the user may not take now; ``message`` says why."""


CUSTOMER_FIELDS = ("kind", "name", "industry", "region", "size", "address", "website",
                   "notes", "external_id")
CONTACT_FIELDS = ("name", "title", "notes")


def _audit(instance, changes: dict, actor, action=LogEntry.Action.UPDATE) -> None:
    LogEntry.objects.log_create(
        instance, force_log=True, action=action, changes=changes,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def method_key(kind: str, value: str) -> str:
    """The duplicate-check key of a contact method (the same keys as leads use)."""
    if kind in (ContactMethod.Kind.MOBILE, ContactMethod.Kind.PHONE):
        return normalize_phone(value)
    if kind == ContactMethod.Kind.EMAIL:
        return normalize_email(value)
    return (value or "").strip().casefold()


# --- grade caps and stars ---------------------------------------------------------------------


def check_customer_grade_caps(user_id: int, grades: Sequence[str], *, who: str) -> None:
    """Refuse, naming the cap, if ``user_id`` would hold more customers of a grade than the
    grade dictionary's ``cap_per_rep`` allows (e.g. at most 20 grade-A customers)."""
    adding = Counter(g for g in grades if g)
    if not adding:
        return
    caps = grade_caps()
    capped = {g: n for g, n in adding.items() if g in caps}
    if not capped:
        return
    held = dict(Customer.objects.filter(owner_id=user_id, grade__in=list(capped),
                                        merged_into__isnull=True)
                .values_list("grade").annotate(n=Count("pk")).values_list("grade", "n"))
    for grade, n in sorted(capped.items()):
        if held.get(grade, 0) + n > caps[grade]:
            raise CustomerActionRefused(
                _("%(who)s already holds %(held)d grade-%(grade)s customers, the most one "
                  "rep may hold is %(cap)d.")
                % {"who": who, "held": held.get(grade, 0), "grade": grade, "cap": caps[grade]},
                "grade_cap",
            )


def star_cap() -> int:
    """Most key customers one rep may star (``CUSTOMER_STAR_CAP``, default 20)."""
    return int(getattr(settings, "CUSTOMER_STAR_CAP", 20))


def customer_star(*, customer_id: int, user, starred: bool) -> Customer:
    """The owner marks (or unmarks) a key customer; past the per-rep cap it is refused."""
    with transaction.atomic():
        lock_reps([user.pk])
        customer = (Customer.objects.select_for_update().filter(
            pk=customer_id, owner=user, merged_into__isnull=True).first())
        if customer is None:
            raise CustomerActionRefused(_("Only the owner can star this customer."),
                                        "not_owner")
        if starred and not customer.is_starred:
            held = Customer.objects.filter(owner=user, is_starred=True,
                                           merged_into__isnull=True).count()
            if held >= star_cap():
                raise CustomerActionRefused(
                    _("You already have %(held)d key customers, the most one rep may star "
                      "is %(cap)d. Unstar one first.") % {"held": held, "cap": star_cap()},
                    "star_cap",
                )
        Customer.objects.filter(pk=customer.pk).update(is_starred=starred,
                                                       updated_at=timezone.now())
        _audit(customer, {"is_starred": [str(customer.is_starred), str(starred)]}, user)
    customer.refresh_from_db()
    return customer


# --- entry and editing ---------------------------------------------------------------------


def _clean(data: dict, fields: Sequence[str]) -> dict:
    return {f: (data.get(f) or "").strip() if isinstance(data.get(f, ""), str)
            else data.get(f) for f in fields if f in data}


def _check_external_id(external_id: str, exclude_pk: int | None) -> None:
    if external_id and Customer.objects.filter(external_id=external_id).exclude(
            pk=exclude_pk).exists():
        raise CustomerActionRefused(_("Another customer already has this external ID."),
                                    "invalid")


def customer_create(*, user, data: dict) -> Customer:
    """A rep enters a customer; it is theirs (grade caps apply if a grade is given)."""
    values = _clean(data, CUSTOMER_FIELDS)
    if not values.get("name"):
        raise CustomerActionRefused(_("A customer needs a name."), "invalid")
    with transaction.atomic():
        lock_reps([user.pk])
        _check_external_id(values.get("external_id", ""), None)
        now = timezone.now()
        customer = Customer(owner=user, created_by=user, created_at=now, updated_at=now,
                            **values)
        customer.name_key = normalize_company(customer.name)
        customer.save()
        _audit(customer, {"name": [None, customer.name]}, user, LogEntry.Action.CREATE)
    return customer


def _editable_customer(user, customer_id: int, *, lock: bool = True) -> Customer:
    queryset = visible_customers(user).filter(pk=customer_id)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    customer = queryset.first()
    if customer is None:
        raise CustomerActionRefused(_("This customer is not in your scope."), "forbidden")
    return customer


def customer_update(*, user, customer_id: int, data: dict) -> Customer:
    """Edit a customer in the user's scope; the change is audited field by field."""
    values = _clean(data, CUSTOMER_FIELDS)
    if "name" in values and not values["name"]:
        raise CustomerActionRefused(_("A customer needs a name."), "invalid")
    with transaction.atomic():
        customer = _editable_customer(user, customer_id)
        _check_external_id(values.get("external_id", ""), customer.pk)
        changes = {f: [getattr(customer, f), v] for f, v in values.items()
                   if getattr(customer, f) != v}
        for field, value in values.items():
            setattr(customer, field, value)
        customer.name_key = normalize_company(customer.name)
        customer.updated_at = timezone.now()
        customer.save()
        if changes:
            _audit(customer, changes, user)
    return customer


@dataclass(frozen=True)
class MethodInput:
    kind: str
    value: str
    is_primary: bool = False


def _check_methods(methods: Sequence[MethodInput]) -> list[MethodInput]:
    methods = [m for m in methods if (m.value or "").strip()]
    for m in methods:
        if m.kind not in ContactMethod.Kind.values:
            raise CustomerActionRefused(_("Choose a kind of contact method."), "invalid")
        if m.kind in (ContactMethod.Kind.MOBILE, ContactMethod.Kind.PHONE) and len(
                normalize_phone(m.value)) < 5:
            raise CustomerActionRefused(
                _("“%(value)s” is not a phone number.") % {"value": m.value}, "invalid")
        if m.kind == ContactMethod.Kind.EMAIL and not normalize_email(m.value):
            raise CustomerActionRefused(
                _("“%(value)s” is not an e-mail address.") % {"value": m.value}, "invalid")
    primaries = sum(1 for m in methods if m.is_primary)
    if methods and primaries != 1:
        raise CustomerActionRefused(_("Mark exactly one contact method as primary."),
                                    "invalid")
    return methods


def _write_methods(contact: Contact, methods: Sequence[MethodInput]) -> None:
    contact.methods.all().delete()
    ContactMethod.objects.bulk_create(
        ContactMethod(contact=contact, kind=m.kind, value=m.value.strip(),
                      value_key=method_key(m.kind, m.value), is_primary=m.is_primary)
        for m in methods
    )


def contact_save(*, user, data: dict, methods: Sequence[MethodInput],
                 contact_id: int | None = None, customer_id: int | None = None,
                 role: str = "", is_primary: bool = False) -> Contact:
    """Create a contact (optionally acting for ``customer_id``) or edit one in scope,
    with its contact methods (exactly one primary)."""
    values = _clean(data, CONTACT_FIELDS)
    if not values.get("name"):
        raise CustomerActionRefused(_("A contact needs a name."), "invalid")
    methods = _check_methods(methods)
    with transaction.atomic():
        if contact_id is None:
            contact = Contact.objects.create(created_by=user, **values)
            before = None
        else:
            contact = (visible_contacts(user).select_for_update(of=("self",))
                       .filter(pk=contact_id).first())
            if contact is None:
                raise CustomerActionRefused(_("This contact is not in your scope."),
                                            "forbidden")
            before = {f: getattr(contact, f) for f in values}
            for field, value in values.items():
                setattr(contact, field, value)
            contact.save()
        _write_methods(contact, methods)
        if customer_id is not None:
            contact_link(user=user, contact_id=contact.pk, customer_id=customer_id, role=role,
                         is_primary=is_primary, _contact=contact)
        changes = {f: [before.get(f) if before else None, v] for f, v in values.items()
                   if before is None or before.get(f) != v}
        changes["methods"] = [None, f"{len(methods)}"]
        _audit(contact, changes, user,
               LogEntry.Action.CREATE if before is None else LogEntry.Action.UPDATE)
    return contact


def contact_link(*, user, contact_id: int, customer_id: int, role: str = "",
                 is_primary: bool = False, _contact: Contact | None = None) -> CustomerContact:
    """Let a contact act for a customer (or change the role); one primary per customer."""
    with transaction.atomic():
        customer = _editable_customer(user, customer_id)
        contact = _contact or visible_contacts(user).filter(pk=contact_id).first()
        if contact is None:
            raise CustomerActionRefused(_("This contact is not in your scope."), "forbidden")
        if is_primary:
            CustomerContact.objects.filter(customer=customer).update(is_primary=False)
        elif not CustomerContact.objects.filter(customer=customer).exclude(
                contact=contact).exists():
            is_primary = True  # a customer's only contact is its primary one
        link, _created = CustomerContact.objects.update_or_create(
            customer=customer, contact=contact,
            defaults={"role": (role or "").strip()[:100], "is_primary": is_primary})
    return link


def contact_unlink(*, user, contact_id: int, customer_id: int) -> None:
    with transaction.atomic():
        customer = _editable_customer(user, customer_id)
        CustomerContact.objects.filter(customer=customer, contact_id=contact_id).delete()


# --- transfer ---------------------------------------------------------------------------------


def customer_transfer(*, customer_ids: Sequence[int], to_user_id: int, actor,
                      reason: str = "") -> int:
    """A manager moves customers (with their open opportunities) to a rep in scope.

    Grade caps of the receiving rep apply; opportunities keep their stages and history
    and get a TRANSFERRED event each.
    """
    if not rights_for(actor).can(Operation.TRANSFER):
        raise CustomerActionRefused(_("Your roles do not allow transferring customers."),
                                    "forbidden")
    target = _target_user(to_user_id)
    if not data_scope_for(actor).users().filter(pk=to_user_id).exists():
        raise CustomerActionRefused(
            _("%(name)s is outside your scope: you may transfer customers only to reps you "
              "manage.") % {"name": target.display_name}, "forbidden")
    with transaction.atomic():
        lock_reps([to_user_id])
        customers = list(visible_customers(actor).select_for_update(of=("self",))
                         .filter(pk__in=customer_ids).exclude(owner_id=to_user_id)
                         .order_by("pk"))
        if len(customers) != len(set(customer_ids)):
            raise CustomerActionRefused(
                _("Some of the chosen customers are outside your scope or already with "
                  "%(name)s. Reload the list and try again.") % {"name": target.display_name},
                "stale")
        check_customer_grade_caps(to_user_id, [c.grade for c in customers],
                                  who=target.display_name)
        moved = _move_customers(customers, to_user_id=to_user_id, actor=actor,
                                reason=reason or "rebalance")
    return moved


def _move_customers(customers: list[Customer], *, to_user_id: int | None, actor,
                    reason: str) -> int:
    now = timezone.now()
    ids = [c.pk for c in customers]
    Customer.objects.filter(pk__in=ids).update(owner_id=to_user_id, updated_at=now)
    opps = list(Opportunity.objects.select_for_update(of=("self",))
                .filter(customer_id__in=ids, status=Opportunity.Status.OPEN)
                .exclude(owner_id=to_user_id).values_list("pk", "owner_id", "pool_id")
                .order_by("pk"))
    if to_user_id is not None and opps:
        Opportunity.objects.filter(pk__in=[pk for pk, *_rest in opps]).update(
            owner_id=to_user_id, assigned_at=now)
        actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        OpportunityEvent.objects.bulk_create(
            OpportunityEvent(opportunity_id=pk, kind=OpportunityEvent.Kind.TRANSFERRED,
                             actor_id=actor_id, from_owner_id=owner_id, to_owner_id=to_user_id,
                             from_pool_id=pool_id, to_pool_id=pool_id, reason=reason,
                             created_at=now)
            for pk, owner_id, pool_id in opps)
    for customer in customers:
        _audit(customer, {"owner": [str(customer.owner_id), str(to_user_id)],
                          "reason": [None, reason]}, actor)
    return len(ids)


# --- merge --------------------------------------------------------------------------------------


def _move_relations(model, survivor, other, *, skip: Sequence = ()) -> dict[str, int]:
    """Point every foreign key at ``other`` to ``survivor`` (one UPDATE per relation).

    Walks the model's reverse relations, so histories added by other apps later (orders,
    contracts, payments) move too without this code knowing them.
    """
    moved = {}
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model in skip:
            continue
        field = rel.field
        if not field.concrete:
            continue
        n = rel.related_model._base_manager.filter(**{field.name: other}).update(
            **{field.name: survivor})
        if n:
            moved[rel.related_model._meta.label] = n
    return moved


def _audit_merge(survivor, other, moved: dict, actor) -> None:
    _audit(other, {"merged_into": [None, str(survivor.pk)]}, actor)
    _audit(survivor, {"merged_from": [None, str(other.pk)],
                      "moved": [None, ", ".join(f"{k}: {v}" for k, v in sorted(moved.items()))]},
           actor)


def _lock_pair(queryset, a: int, b: int) -> dict[int, object]:
    rows = list(queryset.select_for_update(of=("self",)).filter(pk__in=[a, b]).order_by("pk"))
    return {row.pk: row for row in rows}


def customer_merge(*, user, survivor_id: int, other_id: int) -> Customer:
    """Merge a duplicate customer into the survivor: follow-ups, opportunities, leads'
    links, contacts, orders and events all move; the other is marked ``merged_into``.

    Both must be in the user's scope. Atomic: any failure leaves both untouched.
    """
    if survivor_id == other_id:
        raise CustomerActionRefused(_("Choose two different customers to merge."), "invalid")
    with transaction.atomic():
        locked = _lock_pair(visible_customers(user), survivor_id, other_id)
        if len(locked) != 2:
            raise CustomerActionRefused(
                _("Both customers must be in your scope and not merged already."), "forbidden")
        survivor, other = locked[survivor_id], locked[other_id]
        # Contacts acting for both keep one link, primary if either was.
        both = CustomerContact.objects.filter(customer=other,
                                              contact__customer_links__customer=survivor)
        shared = list(both.values_list("contact_id", "is_primary"))
        for contact_id, was_primary in shared:
            if was_primary and not CustomerContact.objects.filter(customer=survivor,
                                                                  is_primary=True).exists():
                CustomerContact.objects.filter(customer=survivor, contact_id=contact_id).update(
                    is_primary=True)
        CustomerContact.objects.filter(customer=other,
                                       contact_id__in=[c for c, _p in shared]).delete()
        if CustomerContact.objects.filter(customer=survivor, is_primary=True).exists():
            CustomerContact.objects.filter(customer=other).update(is_primary=False)
        moved = _move_relations(Customer, survivor, other)
        # Blank fields of the survivor are filled from the duplicate; nothing is overwritten.
        filled = {}
        for field in ("industry", "region", "size", "address", "website"):
            if not getattr(survivor, field) and getattr(other, field):
                filled[field] = getattr(other, field)
        if other.is_starred and not survivor.is_starred and survivor.owner_id == other.owner_id:
            filled["is_starred"] = True
        now = timezone.now()
        Customer.objects.filter(pk=survivor.pk).update(updated_at=now, **filled)
        Customer.objects.filter(pk=other.pk).update(merged_into=survivor, is_starred=False,
                                                    updated_at=now)
        _audit_merge(survivor, other, moved, user)
    survivor.refresh_from_db()
    return survivor


def contact_merge(*, user, survivor_id: int, other_id: int) -> Contact:
    """Merge a duplicate contact into the survivor: customer links (with roles), methods,
    leads' and opportunities' links move; the other is marked ``merged_into``."""
    if survivor_id == other_id:
        raise CustomerActionRefused(_("Choose two different contacts to merge."), "invalid")
    with transaction.atomic():
        locked = _lock_pair(visible_contacts(user), survivor_id, other_id)
        if len(locked) != 2:
            raise CustomerActionRefused(
                _("Both contacts must be in your scope and not merged already."), "forbidden")
        survivor, other = locked[survivor_id], locked[other_id]
        shared_customers = set(CustomerContact.objects.filter(contact=survivor)
                               .values_list("customer_id", flat=True))
        for link in CustomerContact.objects.filter(contact=other,
                                                   customer_id__in=shared_customers):
            if link.is_primary:
                CustomerContact.objects.filter(contact=survivor,
                                               customer_id=link.customer_id).update(
                    is_primary=True)
            link.delete()
        known = set(survivor.methods.values_list("kind", "value_key"))
        duplicate_ids = [m.pk for m in other.methods.all() if (m.kind, m.value_key) in known]
        ContactMethod.objects.filter(pk__in=duplicate_ids).delete()
        if survivor.methods.filter(is_primary=True).exists():
            other.methods.update(is_primary=False)
        moved = _move_relations(Contact, survivor, other)
        Contact.objects.filter(pk=other.pk).update(merged_into=survivor)
        _audit_merge(survivor, other, moved, user)
    survivor.refresh_from_db()
    return survivor


# --- departure handover ---------------------------------------------------------------------


def _handover_target(employee, successor) -> int | None:
    if successor is not None:
        return successor.user_id
    supervisor = (Employee.objects.filter(pk=employee.supervisor_id,
                                          status=Employee.Status.ACTIVE)
                  .values_list("user_id", flat=True).first())
    return supervisor


@register_handover_step("customers", gettext_lazy("Customers, opportunities and plans"))
def customers_handover(*, employee, successor, actor) -> int:
    """A departed rep's customers (with their contacts' links), open opportunities and
    open follow-up plans go to the successor, or else to the rep's supervisor.

    Stages, stage history and events stay as they are; each opportunity gets a
    TRANSFERRED event. Open plans are carried over as the successor's plans (same due
    time, same record), and the departed rep's own plans are closed.
    """
    to_user_id = _handover_target(employee, successor)
    customers = list(Customer.objects.select_for_update(of=("self",))
                     .filter(owner_id=employee.user_id, merged_into__isnull=True)
                     .order_by("pk"))
    moved = 0
    if customers:
        moved += _move_customers(customers, to_user_id=to_user_id, actor=actor,
                                 reason="departure")
    # Opportunities of customers owned by someone else, held by the departing rep.
    now = timezone.now()
    opps = list(Opportunity.objects.select_for_update(of=("self",))
                .filter(owner_id=employee.user_id, status=Opportunity.Status.OPEN)
                .values_list("pk", "pool_id").order_by("pk"))
    if opps and to_user_id is not None:
        Opportunity.objects.filter(pk__in=[pk for pk, _p in opps]).update(owner_id=to_user_id,
                                                                         assigned_at=now)
        actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        OpportunityEvent.objects.bulk_create(
            OpportunityEvent(opportunity_id=pk, kind=OpportunityEvent.Kind.TRANSFERRED,
                             actor_id=actor_id, from_owner_id=employee.user_id,
                             to_owner_id=to_user_id, from_pool_id=pool_id, to_pool_id=pool_id,
                             reason="departure", created_at=now)
            for pk, pool_id in opps)
        moved += len(opps)
    if to_user_id is not None:
        moved += _carry_plans(employee.user_id, to_user_id, now)
    return moved


def _carry_plans(from_user_id: int, to_user_id: int, now) -> int:
    """Open plans of the departed rep on records now held by the successor continue as
    the successor's plans; the originals stay in the history, closed."""
    plans = list(FollowUp.objects.filter(author_id=from_user_id, plan_open=True)
                 .filter(next_at__isnull=False)
                 .exclude(lead__isnull=False, lead__owner_id__isnull=True)
                 .exclude(lead__status__in=[Lead.Status.CONVERTED, Lead.Status.INVALID]))
    if not plans:
        return 0
    note = _("Plan handed over on departure: %(content)s")
    FollowUp.objects.bulk_create(
        FollowUp(lead_id=p.lead_id, customer_id=p.customer_id, opportunity_id=p.opportunity_id,
                 author_id=to_user_id, kind=p.kind, outcome=FollowUp.Outcome.OTHER,
                 content=note % {"content": p.content[:500]}, next_at=p.next_at,
                 plan_open=True, qualifies=False, created_at=now)
        for p in plans)
    FollowUp.objects.filter(pk__in=[p.pk for p in plans]).update(plan_open=False)
    return len(plans)
