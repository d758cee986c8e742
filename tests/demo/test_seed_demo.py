"""``seed_demo``: the whole product's demo, its history kept as the services keep theirs.

The demo is seeded once for the module (inside a transaction rolled back at the end); each
test runs in a savepoint on top of it.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO
from itertools import pairwise
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from contracts.models import (
    ApprovalRequest,
    Contract,
    ContractOrder,
    Order,
    Payment,
    PaymentInstalment,
    Product,
)
from contracts.services import instalment_status
from leads.models import FollowUp, Lead, LeadEvent, LeadPool
from opportunities.models import Opportunity, OpportunityEvent, OpportunityStageChange
from orgs.models import DictionaryItem

REPS = ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang", "rep_chenjing",
        "rep_yangfan", "rep_zhaomin", "rep_sunli"]
COUNTED = ["leads.Lead", "leads.LeadEvent", "leads.FollowUp", "leads.Touchpoint",
           "leads.LeadPool", "leads.PoolMember", "leads.RecycleRule", "leads.RoutingRule",
           "opportunities.Customer", "opportunities.Contact", "opportunities.ContactMethod",
           "opportunities.Opportunity", "opportunities.OpportunityEvent",
           "opportunities.OpportunityStageChange", "contracts.Product", "contracts.Order",
           "contracts.OrderLine", "contracts.Contract", "contracts.ContractOrder",
           "contracts.ApprovalBand", "contracts.ApprovalRequest", "contracts.ApprovalStep",
           "contracts.PaymentInstalment", "contracts.Payment", "notifications.Notification",
           "orgs.Employee", "orgs.DictionaryItem"]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """``manage.py seed_demo`` once, timed, on an empty database."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            out = StringIO()
            started = time.monotonic()
            call_command("seed_demo", stdout=out)
            yield SimpleNamespace(output=out.getvalue(), seconds=time.monotonic() - started,
                                  now=timezone.now())
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def user(username: str):
    return get_user_model().objects.get(username=username)


def test_seeding_twice_adds_nothing_and_says_what_is_there(seeded, db):
    assert seeded.seconds < 60, f"seeding took {seeded.seconds:.1f} s"
    assert "(added)" in seeded.output and "already there" not in seeded.output
    before = counts()
    assert before["leads.Lead"] >= 1000 and before["contracts.Order"] >= 50
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    lines = {line.split(":")[0]: line for line in out.getvalue().splitlines()}
    for step in ("Organisation", "Leads", "Opportunities", "Orders and contracts"):
        assert lines[step].endswith("(already there)"), lines[step]
    assert f"leads: {before['leads.Lead']:,}" in lines["Leads"]
    assert f"orders: {before['contracts.Order']:,}" in lines["Orders and contracts"]
    assert "rep_wangfang" in out.getvalue() and "leadpool-demo" in out.getvalue()


def test_history_covers_six_months_of_every_channel_and_region_and_every_event(seeded, db):
    now = seeded.now
    leads = Lead.objects.filter(external_id__startswith="demo-")
    oldest = leads.order_by("created_at").first().created_at
    assert now - oldest > timedelta(days=170)
    channels = set(DictionaryItem.objects.of("channel").values_list("code", flat=True))
    regions = set(DictionaryItem.objects.of("region").values_list("code", flat=True))
    assert set(leads.values_list("channel", flat=True)) == channels
    assert set(leads.values_list("region", flat=True)) == regions
    by_month = Counter(timezone.localtime(c).strftime("%Y-%m")
                       for c in leads.values_list("created_at", flat=True))
    assert len(by_month) >= 6 and min(by_month.values()) >= 20
    kinds = set(LeadEvent.objects.values_list("kind", flat=True))
    assert {"created", "routed", "assigned", "claimed", "released", "transferred", "recycled",
            "converted", "invalidated"} <= kinds
    assert {"ineffective_followup", "first_touch_sla"} <= set(
        LeadEvent.objects.filter(kind="transferred").values_list("reason", flat=True))
    won = Opportunity.objects.filter(status="won")
    months = {timezone.localtime(c).strftime("%Y-%m")
              for c in won.values_list("closed_at", flat=True)}
    assert len(months) >= 6  # wins spread over the half year, and older ones
    assert Opportunity.objects.filter(status="lost").exclude(lost_reason="").exists()
    assert OpportunityEvent.objects.filter(kind="recycled").exists()
    assert OpportunityEvent.objects.filter(kind="claimed").exists()


def _stints(events):
    """``[(owner, start, end)]`` of one lead, from its events in time order."""
    stints, owner, start = [], None, None
    for event in events:
        acquiring = event.kind in ("assigned", "claimed", "transferred") or (
            event.kind == "created" and event.to_owner_id)
        losing = event.kind in ("released", "transferred", "recycled")
        if losing and owner is not None:
            stints.append((owner, start, event.created_at))
            owner = None
        if acquiring:
            owner, start = event.to_owner_id, event.created_at
    if owner is not None:
        stints.append((owner, start, None))
    return stints


def test_lead_history_keeps_what_the_services_keep(seeded, db):
    now = seeded.now
    leads = {lead.pk: lead for lead in Lead.objects.filter(external_id__startswith="demo-")
             .select_related("pool")}
    events = defaultdict(list)
    for event in LeadEvent.objects.filter(lead_id__in=leads).order_by("created_at", "pk"):
        events[event.lead_id].append(event)
    notes = defaultdict(list)
    for note in FollowUp.objects.filter(lead_id__in=leads).order_by("created_at", "pk"):
        notes[note.lead_id].append(note)
    pools = {pool.pk: pool for pool in LeadPool.objects.all()}
    claims = Counter()
    for pk, lead in leads.items():
        history = events[pk]
        assert history[0].kind == "created" and history[0].created_at == lead.created_at
        assert [e.kind for e in history].count("created") == 1
        assert history[-1].created_at <= now
        stints = _stints(history)
        if lead.status in Lead.OPEN_STATUSES:
            owner, start, end = stints[-1]
            assert (owner, start, end) == (lead.owner_id, lead.assigned_at, None), pk
            assert lead.recycle_due_at is None or lead.recycle_due_at > now, pk
        elif lead.status == Lead.Status.IN_POOL:
            assert lead.owner_id is None and (not stints or stints[-1][2] is not None)
            moved = [e for e in history if e.to_pool_id][-1]
            assert moved.to_pool_id == lead.pool_id and lead.pooled_at == moved.created_at
        elif lead.status == Lead.Status.CONVERTED:
            event = history[-1]
            assert event.kind == "converted" and lead.converted_at == event.created_at
            assert event.detail["opportunity"] == lead.opportunity_id
            assert (lead.customer_id, lead.contact_id) == (event.detail["customer"],
                                                          event.detail["contact"])
            assert lead.owner_id == stints[-1][0] == event.from_owner_id
        else:
            assert history[-1].kind == "invalidated" and lead.invalid_reason
        # Who lost a lead may not claim it back, nor get it from the engine, within the
        # pool's cool-down.
        lost_at = {}
        for event in history:
            if event.kind in ("claimed", "assigned") or event.reason == "first_touch_sla":
                cooled = lost_at.get(event.to_owner_id)
                days = pools[event.to_pool_id].cooldown_days
                assert cooled is None or event.created_at - cooled >= timedelta(days=days), pk
            if event.kind in ("released", "transferred", "recycled") and event.from_owner_id:
                lost_at[event.from_owner_id] = event.created_at
            if event.kind == "claimed":
                day = timezone.localtime(event.created_at).date()
                claims[(event.actor_id, event.from_pool_id, day)] += 1
        # Every follow-up was written by whoever held the lead then; the newest plan only
        # may still be open; the lead remembers its last follow-up.
        for note in notes[pk]:
            assert any(owner == note.author_id and begin <= note.created_at
                       and (end is None or note.created_at <= end)
                       for owner, begin, end in stints), (pk, note.pk)
        assert not any(n.plan_open for n in notes[pk][:-1])
        if notes[pk]:
            assert lead.last_followup_at == notes[pk][-1].created_at
    for (_actor, pool_id, _day), n in claims.items():
        limit = pools[pool_id].daily_claim_limit
        assert limit is None or n <= limit
    loads = Lead.objects.filter(status__in=Lead.OPEN_STATUSES).values_list(
        "owner", "pool").annotate(n=Count("pk"))
    for _owner, pool_id, n in loads:
        assert pools[pool_id].owned_cap is None or n <= pools[pool_id].owned_cap


def test_pipeline_and_deals_keep_what_the_services_keep(seeded, db):
    now, today = seeded.now, timezone.localdate(seeded.now)
    changes = defaultdict(list)
    for change in OpportunityStageChange.objects.order_by("changed_at", "pk"):
        changes[change.opportunity_id].append(change)
    for opportunity in Opportunity.objects.all():
        history = changes[opportunity.pk]
        assert history[0].from_stage == "" and history[-1].to_stage == opportunity.stage
        assert all(a.to_stage == b.from_stage for a, b in pairwise(history))
        assert history[0].changed_at == opportunity.created_at
        assert opportunity.stage_changed_at == history[-1].changed_at
        if opportunity.status in ("won", "lost"):
            assert opportunity.closed_at == history[-1].changed_at <= now
        if opportunity.status == "open":
            assert opportunity.recycle_due_at is None or opportunity.recycle_due_at > now
        assert opportunity.version == len(history)
    for order in Order.objects.prefetch_related("lines"):
        assert order.total == sum(line.line_total for line in order.lines.all())
        assert order.opportunity.status == "won"
        assert order.customer_id == order.opportunity.customer_id
        assert order.created_at >= order.opportunity.closed_at
        if order.status in Order.SIGNED_STATUSES:
            assert order.signed_on is not None and order.signed_on <= today
    for link in ContractOrder.objects.select_related("contract", "order"):
        assert link.amount <= link.order.total and link.amount <= link.contract.amount
        assert link.order.status != Order.Status.CANCELLED
    payments = dict(Payment.objects.values_list("instalment").annotate(s=Sum("amount"))
                    .values_list("instalment", "s"))
    planned = defaultdict(int)
    for instalment in PaymentInstalment.objects.all():
        assert instalment.received == payments.get(instalment.pk, 0)
        assert instalment.status == instalment_status(instalment.amount, instalment.received,
                                                      instalment.due_on, today)
        planned[("c", instalment.contract_id) if instalment.contract_id
                else ("o", instalment.order_id)] += instalment.amount
    for contract in Contract.objects.all():
        assert planned.get(("c", contract.pk), 0) <= contract.amount
    for order in Order.objects.all():
        assert planned.get(("o", order.pk), 0) <= order.total
    assert not Payment.objects.filter(received_on__gt=today).exists()
    for request in ApprovalRequest.objects.exclude(status="pending").prefetch_related("steps"):
        decided = [s.decided_at for s in request.steps.all() if s.decided_at]
        assert decided and request.submitted_at <= min(decided) and max(decided) <= now


def test_orders_and_contracts_in_every_status_with_overdue_instalments_and_renewals(seeded,
                                                                                     db):
    from contracts.selectors import approval_inbox, renewals_for

    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert set(Contract.objects.values_list("status", flat=True)) == set(Contract.Status.values)
    assert PaymentInstalment.objects.filter(status="overdue").count() >= 5
    assert Payment.objects.filter(received_on__lt=timezone.localdate()
                                  - timedelta(days=90)).exists()
    for username in REPS:  # every rep has a contract to renew on the workbench
        assert renewals_for(user=user(username)), username
    assert ApprovalRequest.objects.filter(status="pending").count() >= 3
    assert any(approval_inbox(user=user(name)) for name in
               ["mgr_shanghai", "mgr_hangzhou", "mgr_shenzhen", "mgr_guangzhou"])
    for product in Product.objects.all():
        assert product.category and product.unit_cost is not None
        assert 0 < product.unit_cost < product.list_price


def test_followups_over_ninety_days_of_every_type_by_every_rep_and_some_qa_would_flag(seeded,
                                                                                      db):
    now = seeded.now
    recent = FollowUp.objects.filter(created_at__gte=now - timedelta(days=91))
    weeks = Counter((now - at).days // 7 for at in recent.values_list("created_at", flat=True))
    assert all(weeks[week] >= 50 for week in range(13)), weeks
    kinds = set(DictionaryItem.objects.of("followup_type").values_list("code", flat=True))
    assert set(recent.values_list("kind", flat=True)) == kinds
    reps = get_user_model().objects.filter(username__in=REPS)
    for rep in reps:
        mine = recent.filter(author=rep)
        assert mine.filter(lead__isnull=False).exists(), rep.username
        assert mine.filter(opportunity__isnull=False).exists(), rep.username
        assert mine.filter(customer__isnull=False, opportunity__isnull=True).exists()
        assert set(mine.values_list("kind", flat=True)) == kinds, rep.username
    words = DictionaryItem.objects.of("sensitive_word").active()
    assert all(w.extra.get("category") and w.extra.get("severity") for w in words)
    pattern = re.compile("|".join(re.escape(w.label) for w in words))
    flagged = [text for text in recent.values_list("content", flat=True) if pattern.search(text)]
    assert len(flagged) >= 50
    categories = {w.extra["category"] for w in words if any(w.label in t for t in flagged)}
    assert {"return_promise", "competitor_slander", "privacy", "bribery"} <= categories


def test_after_the_first_engine_tick_every_rep_may_still_claim_a_pool_lead(seeded, db):
    from leads.circulation import run_all
    from leads.permissions import pools_for
    from leads.services import LeadActionRefused, lead_claim

    run_all()  # what `manage.py run_rules` does once, and the workers on their first tick
    for username in REPS:
        rep = user(username)
        reachable = pools_for(rep, "claim_from_pool")
        waiting = list(Lead.objects.in_pool().filter(pool__in=reachable)
                       .order_by("-pooled_at", "pk")[:30])
        assert waiting, f"{username} sees no pool lead to claim"
        claimed, refusals = None, []
        for lead in waiting:
            try:
                with transaction.atomic():
                    claimed = lead_claim(lead_id=lead.pk, user=rep)
                    transaction.set_rollback(True)  # the next rep sees the same pools
                break
            except LeadActionRefused as refusal:
                refusals.append(refusal.code)
        assert claimed is not None and claimed.owner_id == rep.pk, (username, refusals)


def test_the_pages_of_a_rep_and_a_manager_show_the_demo(seeded, client, login):
    from contracts.selectors import renewals_for

    rep = user("rep_wangfang")
    login("rep_wangfang")
    page = client.get("/workbench/").content.decode()
    renewal = renewals_for(user=rep)[0]
    assert renewal.number in page  # contracts to renew
    assert "销售公海" in page and 'data-testid="overdue"' in page
    overdue = re.search(r'data-testid="overdue".*?</ul>', page, re.S)
    assert overdue and re.search(r'href="/(leads|customers|opportunities)/\d+/"',
                                 overdue.group(0))
    board = client.get("/opportunities/board/").content.decode()
    won = Opportunity.objects.filter(owner=rep, status="won").order_by("-closed_at").first()
    assert won.name in board
    orders = client.get("/contracts/orders/").content.decode()
    newest = Order.objects.filter(owner=rep).order_by("-created_at").first()
    assert newest.number in orders and newest.customer.name in orders
    contracts = client.get("/contracts/").content.decode()
    mine = Contract.objects.filter(owner=rep)
    assert all(c.number in contracts for c in mine.order_by("-created_at")[:10])
    detail = client.get(f"/contracts/{renewal.pk}/").content.decode()
    assert renewal.customer.name in detail and renewal.instalments.exists()
    client.logout()

    login("mgr_shanghai")
    team = ["rep_wangfang", "rep_lilei"]
    receivables = client.get("/contracts/receivables/").content.decode()
    overdue = PaymentInstalment.objects.filter(owner__username__in=team, status="overdue")
    assert overdue.exists()
    assert all(i.customer.name in receivables for i in overdue.order_by("due_on")[:5])
    other = PaymentInstalment.objects.filter(owner__username="rep_chenjing").exclude(
        status="done").first()
    assert other.customer.name not in receivables or other.customer.owner.username in team
    orders = client.get("/contracts/orders/").content.decode()
    assert Order.objects.filter(owner__username="rep_lilei").order_by(
        "-created_at").first().number in orders
    board = client.get("/opportunities/board/").content.decode()
    assert Opportunity.objects.filter(owner__username="rep_lilei", status="open").first(
    ).name in board
    contracts = client.get("/contracts/").content.decode()
    assert Contract.objects.filter(owner__username="rep_lilei").order_by(
        "-created_at").first().number in contracts
    approvals = client.get("/contracts/approvals/").content.decode()
    waiting = ApprovalRequest.objects.filter(status="pending",
                                             steps__approver__username="mgr_shanghai")
    for request in waiting:
        row = request.contract or request.order
        assert str(row) in approvals


def test_daily_snapshots_cover_the_history_and_add_up_to_the_records(seeded, db):
    from reports.models import RepDay
    from reports.snapshots import day_bounds

    yesterday = timezone.localdate() - timedelta(days=1)
    days = RepDay.objects.aggregate(first=Min("day"), last=Max("day"))
    assert days["last"] == yesterday and (yesterday - days["first"]).days >= 90
    start, _ = day_bounds(days["first"])
    _, end = day_bounds(yesterday)
    snap = RepDay.objects.aggregate(followups=Sum("followups"), orders=Sum("orders_amount"),
                                    held=Sum("held", filter=Q(day=yesterday)))
    assert snap["followups"] == FollowUp.objects.filter(created_at__gte=start,
                                                        created_at__lt=end).count() > 0
    signed = Order.objects.filter(status__in=Order.SIGNED_STATUSES,
                                  signed_on__range=(days["first"], yesterday))
    assert snap["orders"] == signed.aggregate(total=Sum("total"))["total"] > 0
    # What reps hold at the end of yesterday, less what changed hands since.
    changed = LeadEvent.objects.filter(created_at__gte=end).values("lead_id")
    held_now = Lead.objects.filter(status__in=Lead.OPEN_STATUSES,
                                   owner__employee__isnull=False).exclude(pk__in=changed)
    assert snap["held"] >= held_now.count() > 0
