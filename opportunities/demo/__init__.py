"""Demo customers and opportunities: the opportunity pool, long-standing customers with
their contacts and the deals that made them customers, the customers and opportunities the
demo's converted leads became, every opportunity's life (stage history, follow-ups, won
and lost deals, stalls that went back to the pool and claims from it), tenders waiting in
the pool, and the care of customers who bought.

Converted leads arrive through ``convert_demo_leads``, which the leads demo calls while it
writes its history (registered in ``OpportunitiesConfig.ready``); a conversion by the rep
who owns the long-standing customer the lead works for is linked to that customer, as the
convert form offers. The rest is this app's step of ``seed_demo``. Deterministic (seeded
random) and idempotent: long-standing customers are keyed by external ids
``demo-customer-<n>``, the deals imported with them by ``demo-opp-<n>``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from leads.demo import Conversion, followup_rows, overdue_reminders
from leads.demo.texts import LONG_STANDING, person_name
from leads.models import FollowUp, LeadPool, RecycleRule
from leads.normalize import normalize_company, normalize_email, normalize_phone
from leads.pools.config import clock_rules
from leads.pools.due import refresh_due
from orgs.demo import DemoReport, office_after
from orgs.models import OrgUnit

from .. import stages as stage_dictionary
from ..customers.grading import customers_grade
from ..models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from ..subjects import OPPORTUNITIES
from .deals import Deal, DealRules, care, live, move_stage, new_deal, write_note

SEED = 20261123
REPS = {"east": ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang"],
        "south": ["rep_chenjing", "rep_yangfan", "rep_zhaomin", "rep_sunli"]}
CATEGORIES = ["software", "software", "hardware", "services", "training"]
CONTACT_ROLES = [("采购经理", "采购负责人"), ("信息部经理", "技术负责人"), ("总经理", "决策人")]


def opportunity_pool(engine: bool = True) -> LeadPool:
    pool, _ = LeadPool.objects.get_or_create(
        code="opportunity_pool",
        defaults={"name": "商机池", "name_en": "Opportunity pool",
                  "kind": LeadPool.Kind.OPPORTUNITY,
                  "org_unit": OrgUnit.objects.filter(code="sales").first(),
                  "cooldown_days": 7})
    if engine:
        LeadPool.objects.filter(pk=pool.pk).update(strategy=LeadPool.Strategy.MANUAL,
                                                   weight_source="win_rate")
        RecycleRule.objects.get_or_create(
            pool=pool, name="14 天无阶段推进退回商机池",
            defaults={"name_en": "No stage progress for 14 days: back to the opportunity pool",
                      "kind": RecycleRule.Kind.NO_PROGRESS, "threshold": 14,
                      "unit": RecycleRule.Unit.DAYS, "warn_offsets": [72, 24],
                      "target": RecycleRule.Target.ORIGIN})
    return pool


def _users() -> dict[str, int]:
    return {u.username: u.pk for u in get_user_model().objects.filter(
        username__in=[*REPS["east"], *REPS["south"], "director", "admin"])}


def _rules(pool: LeadPool) -> DealRules:
    users = _users()
    return DealRules(
        stages=stage_dictionary.stages(),
        lost_reasons=[code for code, _label in stage_dictionary.lost_reasons()] or ["price"],
        clock_rules=clock_rules([pool.pk]).get(pool.pk, []),
        rule_names={r.pk: r.name for r in RecycleRule.objects.filter(pool=pool)},
        claimers=sorted(users[name] for name in REPS["east"] + REPS["south"] if name in users))


def demo_customers():
    """Customers of the demo: long-standing ones and those its converted leads became."""
    return Customer.objects.filter(Q(external_id__startswith="demo-customer-")
                                   | Q(leads__external_id__startswith="demo-")).distinct()


def report(*, added: bool) -> DemoReport:
    customers = Customer.objects.filter(pk__in=demo_customers().values("pk"))
    opportunities = Opportunity.objects.filter(customer__in=customers)
    return DemoReport({
        "customers": customers.count(),
        "opportunities": opportunities.count(),
        "won": opportunities.filter(status=Opportunity.Status.WON).count(),
        "lost": opportunities.filter(status=Opportunity.Status.LOST).count(),
        "in progress": opportunities.filter(status=Opportunity.Status.OPEN).count(),
        "in the opportunity pool": opportunities.filter(
            status=Opportunity.Status.IN_POOL).count(),
        "stage changes": OpportunityStageChange.objects.filter(
            opportunity__in=opportunities).count(),
        "follow-ups on customers and opportunities": FollowUp.objects.filter(
            customer__in=customers).count(),
    }, added=added)


def seed_demo(*, engine: bool = True) -> DemoReport:
    """Long-standing customers and the deals imported with them, tenders in the pool, the
    care of every customer who bought, and the nightly grading."""
    with transaction.atomic():
        pool = opportunity_pool(engine)
        if Opportunity.objects.filter(external_id__startswith="demo-opp-").exists():
            return report(added=False)
        users = _users()
        if not all(name in users for name in REPS["east"] + REPS["south"]):
            return report(added=False)
        now = timezone.now()
        rng = random.Random(SEED)
        rules = _rules(pool)
        customers = long_standing_customers(now)
        deals = []
        held: dict[int, int] = {}
        for number, customer in enumerate(customers):
            deal = new_deal(rng, company=customer.name, category=rng.choice(CATEGORIES[:3]),
                            at=customer.created_at, owner=customer.owner_id,
                            stage=rules.stages[0].code)
            deal.opened_by = users.get("admin")  # imported from the previous CRM
            deal.amount = max(deal.amount, 200_000 + deal.amount % 50_000)
            # Each rep's first long-standing customer signed a one-year contract that
            # ends within the renewal window, the second one that has just ended, the
            # third one that ends a little later. (Approvals and signing take up to ten
            # days after the win: the contract's year starts then.)
            nth = held[customer.owner_id] = held.get(customer.owner_id, -1) + 1
            days_left = [rng.uniform(4, 16), -rng.uniform(15, 45), rng.uniform(36, 50)][nth % 3]
            _won(deal, rng, rules, signed=now - timedelta(days=365 - days_left))
            deals.append((customer, customer.primary_contact, deal, f"demo-opp-{number}"))
        # Tenders the director imported from a bidding site, waiting for a rep to take.
        for number in range(6):
            customer = customers[rng.randrange(len(customers))]
            at = office_after(now - timedelta(days=rng.uniform(1, 12)), rng, hours=(0, 4))
            deal = new_deal(rng, company=customer.name, category=rng.choice(CATEGORIES),
                            at=at, owner=None, stage=rules.stages[0].code)
            deal.type, deal.opened_by = Opportunity.Type.BIDDING, users.get("director")
            deal.name = f"{customer.name[2:6]}{deal.name[4:]}（招标）"
            deals.append((customer, customer.primary_contact, deal,
                          f"demo-opp-tender-{number}"))
        _write_deals(deals, pool, now=now)
        _customer_care(rng, now)
        customers_grade(now=now)
    return report(added=True)


def long_standing_customers(now: datetime) -> list[Customer]:
    """The customers the company has served for a year or two (created when missing),
    each with one to three contacts; ``primary_contact`` set on each."""
    existing = list(Customer.objects.filter(external_id__startswith="demo-customer-")
                    .order_by("pk"))
    if not existing:
        _create_long_standing(now)
        existing = list(Customer.objects.filter(external_id__startswith="demo-customer-")
                        .order_by("pk"))
    primary = dict(CustomerContact.objects.filter(customer__in=existing, is_primary=True)
                   .values_list("customer_id", "contact_id"))
    contacts = Contact.objects.in_bulk(primary.values())
    for customer in existing:
        customer.primary_contact = contacts.get(primary.get(customer.pk))
    return existing


def _create_long_standing(now: datetime) -> None:
    rng = random.Random(SEED + 2)
    users = _users()
    customers = []
    for number, (name, region, industry) in enumerate(LONG_STANDING):
        at = office_after(now - timedelta(days=rng.uniform(420, 720)), rng, hours=(0, 3))
        customers.append(Customer(
            name=name, name_key=normalize_company(name), region=region, industry=industry,
            size=rng.choice(["medium", "large", "large"]), external_id=f"demo-customer-{number}",
            owner_id=users[REPS[region][(number // 2) % 4]], created_at=at, updated_at=at,
            address=f"{name[:2]}市高新区科技路 {rng.randrange(1, 400)} 号",
            website=f"www.customer{number}.example.com"))
    Customer.objects.bulk_create(customers)
    people = [(customer, index) for customer in customers
              for index in range(rng.choice([1, 2, 2, 3]))]
    contacts = [Contact(name=person_name(rng), title=CONTACT_ROLES[index][0],
                        created_at=customer.created_at) for customer, index in people]
    Contact.objects.bulk_create(contacts)
    methods, links = [], []
    for number, ((customer, index), contact) in enumerate(zip(people, contacts, strict=True)):
        mobile = f"139{20260000 + number:08d}"
        email = f"{['purchase', 'it', 'ceo'][index]}{customer.pk}@example.com"
        methods += [ContactMethod(contact=contact, kind=ContactMethod.Kind.MOBILE, value=mobile,
                                  value_key=normalize_phone(mobile), is_primary=True),
                    ContactMethod(contact=contact, kind=ContactMethod.Kind.EMAIL, value=email,
                                  value_key=normalize_email(email))]
        links.append(CustomerContact(customer=customer, contact=contact, is_primary=index == 0,
                                     role=CONTACT_ROLES[index][1]))
    ContactMethod.objects.bulk_create(methods)
    CustomerContact.objects.bulk_create(links)


def _won(deal: Deal, rng: random.Random, rules: DealRules, *, signed: datetime) -> None:
    """The deal that made a long-standing customer: every stage, then won at ``signed``."""
    open_stages = [s.code for s in rules.stages if not s.closed]
    won = next(s.code for s in rules.stages if s.closed == "won")
    span = (signed - deal.created_at) / len(open_stages)
    moment = deal.created_at
    for stage in [*open_stages[1:], won]:
        write_note(deal, rng, moment + span * 0.4)
        moment += span
        move_stage(deal, stage, moment)
    deal.status, deal.closed_at, deal.next_followup_at = "won", moment, None


def convert_demo_leads(conversions: list[Conversion], *, engine: bool = True) -> None:
    """What ``lead_convert`` writes for each demo conversion — a new customer, or the
    converting rep's long-standing customer the lead works for; a contact; an opportunity —
    and the life of that opportunity (registered with the leads demo)."""
    pool = opportunity_pool(engine)
    rules = _rules(pool)
    rng = random.Random(SEED + 1)
    now = timezone.now()
    known = {c.name_key: c for c in long_standing_customers(now)}
    open_stages = [s.code for s in rules.stages if not s.closed]
    customers: list[Customer] = []
    for conversion in conversions:
        lead, at = conversion.lead, conversion.at
        mine = known.get(normalize_company(lead.company))
        if mine is not None and mine.owner_id == conversion.owner_id:
            conversion.customer_id, conversion.customer_created = mine.pk, False
            continue
        name = lead.company or lead.name
        customers.append(Customer(
            kind=Customer.Kind.COMPANY if lead.company else Customer.Kind.PERSON, name=name,
            name_key=normalize_company(name), region=lead.region, industry=lead.industry,
            size=lead.customer_size, owner_id=conversion.owner_id,
            created_by_id=conversion.owner_id, created_at=at, updated_at=at, grade=lead.grade))
        conversion.extra["customer"] = customers[-1]
    Customer.objects.bulk_create(customers, batch_size=1000)
    contacts = [Contact(name=c.lead.name, title=c.lead.title, created_by_id=c.owner_id,
                        created_at=c.at) for c in conversions]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    by_pk = {c.pk: c for c in known.values()}
    methods, links, deals = [], [], []
    for conversion, contact in zip(conversions, contacts, strict=True):
        lead = conversion.lead
        customer = conversion.extra.get("customer") or by_pk[conversion.customer_id]
        conversion.customer_id, conversion.contact_id = customer.pk, contact.pk
        if lead.mobile:
            methods.append(ContactMethod(contact=contact, kind=ContactMethod.Kind.MOBILE,
                                         value=lead.mobile,
                                         value_key=normalize_phone(lead.mobile),
                                         is_primary=True))
        if lead.email:
            methods.append(ContactMethod(contact=contact, kind=ContactMethod.Kind.EMAIL,
                                         value=lead.email, value_key=normalize_email(lead.email),
                                         is_primary=not lead.mobile))
        links.append(CustomerContact(customer=customer, contact=contact,
                                     is_primary=conversion.customer_created))
        deal = new_deal(rng, company=customer.name,
                        category=lead.product_category or "software", at=conversion.at,
                        owner=conversion.owner_id,
                        stage=rng.choice([open_stages[0], open_stages[0], open_stages[1],
                                          open_stages[2]]))
        deal.converted_from = lead.pk
        deals.append((customer, contact, live(deal, rng, rules, now=now), ""))
    ContactMethod.objects.bulk_create(methods, batch_size=1000)
    CustomerContact.objects.bulk_create(links, batch_size=1000)
    opportunities = _write_deals(deals, pool, now=now)
    for conversion, opportunity in zip(conversions, opportunities, strict=True):
        conversion.opportunity_id = opportunity.pk


def _write_deals(deals: list[tuple], pool: LeadPool, *, now: datetime) -> list[Opportunity]:
    """Insert deals as opportunities with their stage history, ownership events and
    follow-ups (each follow-up also names the customer, as ``followup_record`` does)."""
    rows = []
    for customer, contact, deal, external_id in deals:
        expected = deal.created_at + timedelta(days=45 + int(deal.amount) % 60)
        rows.append(Opportunity(
            name=deal.name, customer_id=customer.pk, contact_id=contact.pk if contact else None,
            owner_id=deal.owner, pool_id=pool.pk, type=deal.type, amount=deal.amount,
            expected_close=(deal.closed_at or expected).date(), stage=deal.stage,
            stage_changed_at=deal.stage_changed_at, status=deal.status,
            lost_reason=deal.lost_reason, closed_at=deal.closed_at,
            assigned_at=deal.assigned_at if deal.owner else None, pooled_at=deal.pooled_at,
            last_qualified_at=deal.last_qualified_at, recycle_count=deal.recycle_count,
            last_followup_at=deal.last_followup_at, next_followup_at=deal.next_followup_at,
            version=1 + len(deal.moves), external_id=external_id,
            created_by_id=deal.opened_by, created_at=deal.created_at))
    Opportunity.objects.bulk_create(rows, batch_size=1000)
    changes, events, followups = [], [], []
    for opportunity, (customer, _contact, deal, _external) in zip(rows, deals, strict=True):
        first = deal.moves[0].from_stage if deal.moves else deal.stage
        changes.append(OpportunityStageChange(opportunity=opportunity, from_stage="",
                                              to_stage=first, changed_by_id=deal.opened_by,
                                              changed_at=deal.created_at))
        changes += [OpportunityStageChange(opportunity=opportunity, from_stage=m.from_stage,
                                           to_stage=m.to_stage, changed_by_id=m.by,
                                           changed_at=m.at, time_in_stage=m.held)
                    for m in deal.moves]
        if deal.converted_from:
            events.append(OpportunityEvent(
                opportunity=opportunity, kind=OpportunityEvent.Kind.CREATED,
                actor_id=deal.opened_by, to_owner_id=deal.opened_by, to_pool=pool,
                reason="lead_conversion", detail={"lead": deal.converted_from},
                created_at=deal.created_at))
        else:  # imported (no hand-offs since), as ``import_records opportunities`` writes it
            events.append(OpportunityEvent(
                opportunity=opportunity, kind=OpportunityEvent.Kind.CREATED,
                actor_id=deal.opened_by, to_owner_id=deal.owner,
                to_pool=None if deal.owner else pool, reason="file_import",
                created_at=deal.created_at))
        events += [OpportunityEvent(opportunity=opportunity, kind=h.kind, actor_id=h.actor,
                                    from_owner_id=h.from_owner, to_owner_id=h.to_owner,
                                    from_pool=pool, to_pool=pool, reason=h.reason,
                                    rule_id=h.rule_id, detail=h.detail, created_at=h.at)
                   for h in deal.hands]
        followups += followup_rows(deal.notes, open_record=deal.status == "open", now=now,
                                   opportunity_id=opportunity.pk, customer_id=customer.pk)
    OpportunityStageChange.objects.bulk_create(changes, batch_size=2000)
    OpportunityEvent.objects.bulk_create(events, batch_size=2000)
    FollowUp.objects.bulk_create(followups, batch_size=2000)
    overdue_reminders(followups, code="opportunity", names={o.pk: o.name for o in rows},
                      owners={o.pk: o.owner_id for o in rows if o.status == "open"}, now=now)
    refresh_due(OPPORTUNITIES, ids=[o.pk for o in rows if o.status == "open"], now=now)
    return rows


def _customer_care(rng: random.Random, now: datetime) -> None:
    """Owners look after customers who bought: visits, payment calls, renewal talks."""
    bought = (Customer.objects.filter(pk__in=demo_customers().values("pk"), owner__isnull=False)
              .annotate(first_win=Min("opportunities__closed_at",
                                      filter=Q(opportunities__status="won")))
              .filter(first_win__isnull=False).order_by("pk"))
    rows, latest, names, owners = [], {}, {}, {}
    for customer in bought:
        since = max(customer.first_win, now - timedelta(days=150))
        notes = care(rng, owner=customer.owner_id, since=since, now=now)
        rows += followup_rows(notes, open_record=True, now=now, customer_id=customer.pk)
        names[customer.pk], owners[customer.pk] = customer.name, customer.owner_id
        if notes:
            latest[customer.pk] = notes[-1]
    FollowUp.objects.bulk_create(rows, batch_size=2000)
    from crm_site.lib.bulk import update_rows

    update_rows(Customer, ["pk", "last_followup_at", "next_followup_at"],
                [(pk, note.at, note.next_at) for pk, note in latest.items()])
    overdue_reminders(rows, code="customer", names=names, owners=owners, now=now)


__all__ = ["convert_demo_leads", "long_standing_customers", "opportunity_pool", "seed_demo"]
