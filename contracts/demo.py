"""Demo catalogue, approval bands, orders, contracts, approvals and payments.

Every won demo opportunity gets its order, signed the day it was won; larger orders are
carried by a one-year contract (numbered in the month it was signed), both approved
through the bands when their amount needs it; payment plans follow, with money received
on or after the due dates — and some instalments overdue. Long-standing customers' first
contracts run out about now: some expired, some due for renewal. The newest deals are
still drafts or waiting for a manager's approval (submitted through the real services,
so the approvers find them in their inbox). Finally the hourly sweeps run once, as the
beat would: payment statuses, reminders of what falls due, renewal plans, expiries.

Deterministic (seeded random) and idempotent: a second run finds the orders of the demo
opportunities and adds nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm_site.lib.bulk import update_rows
from leads.models import FollowUp
from opportunities.demo import demo_customers
from opportunities.demo.deals import DEALS
from opportunities.models import Opportunity
from orgs.demo import DemoReport, office_after, office_moment

from . import services
from .models import (
    ApprovalBand,
    ApprovalBandStep,
    ApprovalRequest,
    ApprovalStep,
    Contract,
    ContractOrder,
    Order,
    OrderLine,
    Payment,
    PaymentInstalment,
    Product,
    Subject,
)
from .money import line_total, to_money

SEED = 20261124

# code, name, series, category, list price, unit cost
CATALOGUE = [
    ("crm-standard", "华辰 CRM 标准版（用户·年）", "华辰 CRM", "software", 1200, 180),
    ("crm-professional", "华辰 CRM 专业版（用户·年）", "华辰 CRM", "software", 2400, 360),
    ("mes-core", "华辰 MES 制造执行系统（工厂授权）", "华辰 MES", "software", 180000, 54000),
    ("data-platform", "华辰数据中台（平台授权）", "华辰数据中台", "software", 350000, 140000),
    ("erp-upgrade", "ERP 升级模块包", "华辰 ERP", "software", 120000, 42000),
    ("vision-vc200", "工业视觉检测相机 VC-200", "智能硬件", "hardware", 38000, 24500),
    ("agv-t1", "智能仓储 AGV 小车 T1", "智能硬件", "hardware", 165000, 118000),
    ("edge-eg10", "边缘计算网关 EG-10", "智能硬件", "hardware", 12800, 7900),
    ("pos-p6", "门店收银一体机 P6", "智能硬件", "hardware", 6800, 4300),
    ("implementation-day", "实施服务（人天）", "专业服务", "services", 3000, 1400),
    ("maintenance-year", "年度维保服务", "专业服务", "services", 48000, 18000),
    ("private-deployment", "私有化部署服务", "专业服务", "services", 120000, 52000),
    ("data-migration", "数据迁移服务", "专业服务", "services", 25000, 9000),
    ("executive-training", "管理层数字化培训（场）", "培训", "training", 19800, 6000),
    ("operator-certification", "操作员认证培训（人）", "培训", "training", 2800, 900),
]
# subject, name, from, below, steps
BANDS = [
    (Subject.CONTRACT, "合同 20 万–50 万：直属主管审批", 200_000, 500_000, ["manager"]),
    (Subject.CONTRACT, "合同 50 万以上：主管和总监审批", 500_000, None,
     ["manager", "next_level"]),
    (Subject.ORDER, "订单 30 万以上：直属主管审批", 300_000, None, ["manager"]),
]
CONTRACT_FROM = Decimal(100_000)  # orders from this total are carried by a contract
WALKTHROUGH_TEAM = ("rep_wangfang", "rep_lilei")  # mgr_shanghai's team
APPROVE_COMMENTS = ["同意", "同意，注意回款节点", "价格在授权范围内，同意", "同意，尽快签回"]
REJECT_COMMENT = "付款条件需要调整：首付比例不低于 30%，请修改后重新提交。"


def demo_orders():
    return Order.objects.filter(customer__in=demo_customers().values("pk"))


def report(*, added: bool) -> DemoReport:
    orders = demo_orders()
    contracts = Contract.objects.filter(customer__in=demo_customers().values("pk"))
    instalments = PaymentInstalment.objects.filter(customer__in=demo_customers().values("pk"))
    return DemoReport({
        "products": Product.objects.count(),
        "approval bands": ApprovalBand.objects.count(),
        "orders": orders.count(),
        "contracts": contracts.count(),
        "instalments": instalments.count(),
        "overdue": instalments.filter(status=PaymentInstalment.Status.OVERDUE).count(),
        "payments": Payment.objects.filter(instalment__in=instalments).count(),
        "received": int(Payment.objects.filter(instalment__in=instalments)
                        .aggregate(s=Sum("amount"))["s"] or 0),
    }, added=added)


def seed_demo() -> DemoReport:
    with transaction.atomic():
        products = _catalogue()
        _bands()
        won = list(Opportunity.objects.filter(customer__in=demo_customers().values("pk"),
                                              status=Opportunity.Status.WON,
                                              owner__isnull=False)
                   .select_related("customer").order_by("-closed_at", "pk"))
        if not won or demo_orders().exists():
            return report(added=False)
        now = timezone.now()
        _products_of_opportunities(products)
        Deals(products, won, now=now).write()
    # The hourly sweeps, once, as the beat would run them.
    with translation.override(settings.LANGUAGE_CODE):
        services.payment_sweep()
        services.payment_reminder_sweep()
        services.renewal_sweep()
        services.expiry_sweep()
    return report(added=True)


def _catalogue() -> dict[str, list[Product]]:
    existing = set(Product.objects.values_list("code", flat=True))
    Product.objects.bulk_create(
        Product(code=code, name=name, series=series, category=category,
                list_price=Decimal(price), unit_cost=Decimal(cost))
        for code, name, series, category, price, cost in CATALOGUE if code not in existing)
    by_category: dict[str, list[Product]] = {}
    for product in Product.objects.filter(code__in=[c[0] for c in CATALOGUE], is_active=True):
        by_category.setdefault(product.category, []).append(product)
    return by_category


def _bands() -> None:
    for subject, name, low, high, steps in BANDS:
        band, created = ApprovalBand.objects.get_or_create(
            subject=subject, name=name,
            defaults={"min_amount": Decimal(low),
                      "max_amount": Decimal(high) if high is not None else None})
        if created:
            ApprovalBandStep.objects.bulk_create(
                ApprovalBandStep(band=band, position=n, kind=kind)
                for n, kind in enumerate(steps, start=1))


def _category(name: str) -> str:
    for category, deals in DEALS.items():
        if any(deal in name for deal in deals):
            return category
    return "software"


def _products_of_opportunities(products: dict[str, list[Product]]) -> None:
    """Each demo opportunity names the product it is about (from its deal's category)."""
    rng = random.Random(SEED)
    rows = [(pk, rng.choice(products.get(_category(name)) or products["software"]).pk)
            for pk, name in Opportunity.objects.filter(
                customer__in=demo_customers().values("pk"), product__isnull=True)
            .order_by("pk").values_list("pk", "name")]
    update_rows(Opportunity, ["pk", "product"], rows)


class Deals:
    """Orders, contracts, approvals and payments of the won demo opportunities."""

    def __init__(self, products: dict[str, list[Product]], won: list[Opportunity], *,
                 now: datetime):
        self.rng = random.Random(SEED + 1)
        self.products = products
        self.won = won  # newest first
        self.now = now
        self.today = timezone.localdate(now)
        team = dict(get_user_model().objects.filter(username__in=WALKTHROUGH_TEAM)
                    .values_list("username", "pk"))
        self.walkthrough_team = set(team.values())
        self.walkthrough_rep = team.get(WALKTHROUGH_TEAM[0])
        chosen = dict(Opportunity.objects.filter(pk__in=[o.pk for o in won])
                      .values_list("pk", "product_id"))
        catalogue = Product.objects.in_bulk(set(chosen.values()))
        for opportunity in won:
            opportunity.product = catalogue[chosen[opportunity.pk]]

    # --- orders ------------------------------------------------------------------------

    def _lines(self, opportunity: Opportunity) -> list[OrderLine]:
        """Lines worth about the opportunity's amount: its product, plus services."""
        rng = self.rng
        main = opportunity.product
        budget = opportunity.amount
        lines = []
        extra = (self.products.get("services") or [])
        if main.category in ("software", "hardware") and extra and rng.random() < 0.6:
            service = extra[0]
            days = rng.randrange(5, 40)
            lines.append((service, Decimal(days), Decimal(0)))
            budget -= service.list_price * days
        quantity = max(Decimal(1), (max(budget, main.list_price) / main.list_price)
                       .quantize(Decimal(1)))
        discount = Decimal(rng.choice([0, 0, 5, 8, 10, 12, 15]))
        lines.insert(0, (main, quantity, discount))
        return [OrderLine(product=product, quantity=qty, unit_price=product.list_price,
                          discount=off, line_total=line_total(qty, product.list_price, off))
                for product, qty, off in lines]

    def write(self) -> None:
        rng, now = self.rng, self.now
        orders, all_lines, plans = [], [], []
        for rank, opportunity in enumerate(self.won):
            lines = self._lines(opportunity)
            won_at = opportunity.closed_at
            created = office_after(won_at, rng, hours=(0.5, 30))
            if created > now:
                created = won_at
            order = Order(customer=opportunity.customer, opportunity=opportunity,
                          owner_id=opportunity.owner_id, created_by_id=opportunity.owner_id,
                          created_at=created, signed_on=timezone.localdate(won_at),
                          total=sum((li.line_total for li in lines), Decimal("0")))
            order.rank = rank
            orders.append(order)
            all_lines.append(lines)
        self._states(orders)
        Order.objects.bulk_create(orders, batch_size=500)
        for order, lines in zip(orders, all_lines, strict=True):
            for line in lines:
                line.order = order
        OrderLine.objects.bulk_create([li for lines in all_lines for li in lines],
                                      batch_size=1000)
        update_rows(Opportunity, ["pk", "amount"],
                    [(o.opportunity_id, o.total) for o in orders])
        contracts = self._contracts(orders)
        self._approvals(orders, contracts)
        for order in orders:
            if order.status in (Order.Status.CONFIRMED, Order.Status.PAID) and not order.carried:
                plans.append(("order", order))
        plans += [("contract", c) for c in contracts if c.status != "draft"]
        self._payments(plans)
        self._renewal_history(contracts)
        self._submit_now(orders, contracts)

    def _states(self, orders: list[Order]) -> None:
        """Where each order stands: the newest are drafts or wait for approval, a few
        were cancelled, the rest confirmed — paid in full when all money came in."""
        rng = self.rng
        band = ApprovalBand.objects.filter(subject=Subject.ORDER).order_by("min_amount").first()
        limit = band.min_amount if band else None
        # Still drafts: the three newest, and the newest of the walk-through's rep. Two of
        # the newest big orders wait for approval: one of the Shanghai team (the README's
        # walk-through), one of another team.
        newest_of_rep = next((o for o in orders if o.owner_id == self.walkthrough_rep), None)
        drafts = {id(o) for o in orders if o.rank < 3} | {id(newest_of_rep)}
        big = [o for o in orders if 3 <= o.rank < 25 and id(o) not in drafts
               and limit is not None and o.total >= limit]
        ours = sorted((o for o in big if o.owner_id in self.walkthrough_team),
                      key=lambda o: o.total)  # the larger ones are left for contracts
        waiting = [next(iter(ours), None),
                   next((o for o in big if o.owner_id not in self.walkthrough_team), None)]
        for order in orders:
            order.carried, order.submit_now, order.approval = False, False, None
            if id(order) in drafts:
                order.status = Order.Status.DRAFT
            elif order in waiting:
                order.status, order.submit_now = Order.Status.DRAFT, True
            elif (order.rank >= 12 and order.rank % 13 == 5
                  and not order.opportunity.external_id.startswith("demo-opp-")):
                order.status = Order.Status.CANCELLED  # the customer backed out
            else:
                order.status = Order.Status.CONFIRMED
                if limit is not None and order.total >= limit:
                    order.submitted = order.created_at + timedelta(minutes=rng.randrange(5, 50))
                    order.approval = min(office_after(order.submitted, rng, hours=(1, 30)),
                                         self.now)
                    order.approved_at = order.approval
            if order.status == Order.Status.DRAFT:
                order.signed_on = None

    # --- contracts -----------------------------------------------------------------------

    def _contracts(self, orders: list[Order]) -> list[Contract]:
        """One-year contracts carrying the larger confirmed orders, numbered in the month
        they were drafted, signed once approved; the newest still drafts (two of them to be
        submitted now, one of those rejected once before), a couple ended early."""
        rng = self.rng
        contracts = []
        for order in orders:
            if order.status != Order.Status.CONFIRMED or order.total < CONTRACT_FROM:
                continue
            if order.submit_now:
                continue
            drafted = office_after(order.created_at, rng, hours=(2, 48))
            contract = Contract(
                title=f"{order.opportunity.name}合同", customer_id=order.customer_id,
                owner_id=order.owner_id, amount=order.total, status=Contract.Status.ACTIVE,
                created_at=min(drafted, self.now), created_by_id=order.owner_id)
            contract.order, contract.approval = order, None
            contract.submit_now = contract.rejected = False
            order.carried = True
            contracts.append(contract)
        newest = [c for c in contracts if c.order.rank < 25]
        # Submitted for approval now: a Shanghai team's contract above ¥500,000 (the
        # README's walk-through: the manager approves, then the director) and another
        # team's.
        mine = sorted((c for c in contracts if c.order.rank < 60 and c.amount >= 500_000
                       and c.owner_id in self.walkthrough_team), key=lambda c: c.order.rank)[:1]
        others = sorted((c for c in newest if c.owner_id not in self.walkthrough_team
                         and c.amount >= 200_000), key=lambda c: c.order.rank)[:1]
        big = mine + others
        for number, contract in enumerate(big):
            contract.status = Contract.Status.DRAFT
            contract.submit_now, contract.rejected = True, number == 0
        for contract in [c for c in newest if c not in big and c.order.rank < 12][:2]:
            contract.status = Contract.Status.DRAFT
        for contract in sorted(contracts, key=lambda c: c.created_at):
            contract.number = services.contract_number_next(
                today=timezone.localdate(contract.created_at))
            contract.submitted = contract.created_at + timedelta(minutes=rng.randrange(5, 50))
            ready = contract.submitted
            if contract.status != Contract.Status.DRAFT and contract.amount >= 200_000:
                contract.approval = min(office_after(contract.submitted, rng, hours=(1, 20)),
                                        self.now)
                contract.approved_at = ready = contract.approval
            # Signed once approved; the year starts the day it is signed (drafts: planned).
            signed = timezone.localdate(min(office_after(ready, rng, hours=(1, 48)), self.now))
            contract.start_on, contract.end_on = signed, _plus_year(signed)
            if contract.status != Contract.Status.DRAFT:
                contract.signed_on = signed
        older = [c for c in contracts if c.status == Contract.Status.ACTIVE
                 and 60 < (self.today - c.start_on).days < 250]
        for contract in rng.sample(older, min(2, len(older))):
            contract.status = Contract.Status.TERMINATED
            contract.notes = "客户业务调整，双方协商提前终止，已结清已交付部分款项。"
        Contract.objects.bulk_create(contracts, batch_size=500)
        ContractOrder.objects.bulk_create(
            ContractOrder(contract=c, order=c.order, amount=c.order.total) for c in contracts)
        return contracts

    # --- approvals -----------------------------------------------------------------------

    def _approvals(self, orders: list[Order], contracts: list[Contract]) -> None:
        """The approvals the bands asked for, decided before the order was confirmed or
        the contract signed (a rejected first submission where the story has one)."""
        rng = self.rng
        requests, steps = [], []
        subjects = ([(Subject.ORDER, o, o.total, o.approval) for o in orders if o.approval]
                    + [(Subject.CONTRACT, c, c.amount, c.approval) for c in contracts
                       if c.approval or c.rejected])
        for subject, row, amount, decided in subjects:
            band = services.band_for(subject, amount)
            if band is None:
                continue
            chain = services.resolve_chain(band, row.owner_id)
            submitted = min(row.submitted, self.now)
            if getattr(row, "rejected", False):
                rejected_at = min(office_after(submitted, rng, hours=(2, 20)), self.now)
                request = ApprovalRequest(subject=subject, band=band, amount=amount,
                                          status=ApprovalRequest.Status.REJECTED,
                                          submitted_by_id=row.owner_id, submitted_at=submitted,
                                          decided_at=rejected_at, **{subject: row})
                requests.append(request)
                steps.append((request, [
                    ApprovalStep(position=n, approver_id=approver,
                                 status=("rejected" if n == 1 else "skipped"),
                                 comment=REJECT_COMMENT if n == 1 else "",
                                 decided_at=rejected_at if n == 1 else None)
                    for n, approver in enumerate(chain, start=1)]))
                continue
            request = ApprovalRequest(subject=subject, band=band, amount=amount,
                                      status=ApprovalRequest.Status.APPROVED,
                                      submitted_by_id=row.owner_id, submitted_at=submitted,
                                      decided_at=decided, **{subject: row})
            requests.append(request)
            # Each approver decides in office hours; the last decision is the approval.
            moments = [min(office_after(submitted, rng, hours=(0.3, 6)), decided)
                       for _ in chain[:-1]] + [decided]
            steps.append((request, [
                ApprovalStep(position=n, approver_id=approver, status="approved",
                             comment=rng.choice(APPROVE_COMMENTS), decided_at=moment)
                for n, (approver, moment) in enumerate(zip(chain, moments, strict=True),
                                                       start=1)]))
        ApprovalRequest.objects.bulk_create(requests)
        for request, request_steps in steps:
            for step in request_steps:
                step.request = request
        ApprovalStep.objects.bulk_create([s for _r, ss in steps for s in ss])

    def _submit_now(self, orders: list[Order], contracts: list[Contract]) -> None:
        """The newest big deals go to approval now, through the services: the approvers
        find them in their inbox and their bell."""
        for order in orders:
            if order.submit_now:
                services.order_confirm(order_id=order.pk, user=order.owner)
        for contract in contracts:
            if contract.submit_now:
                services.contract_activate(contract_id=contract.pk, user=contract.owner)

    # --- payments ------------------------------------------------------------------------

    def _payments(self, plans: list[tuple[str, object]]) -> None:
        """Instalments of each plan, and the money received against those that fell due:
        mostly on time, some late, some only in part, some not yet (overdue)."""
        rng, today = self.rng, self.today
        instalments, payments = [], []
        paid_orders = []
        for kind, row in plans:
            amount = row.total if kind == "order" else row.amount
            start = row.signed_on or timezone.localdate(row.created_at)
            if kind == "contract" and row.amount >= 300_000:
                shares, days = [40, 30, 30], [15, 120, 240]
            elif kind == "contract":
                shares, days = [50, 50], [30, 180]
            elif amount >= 50_000:
                shares, days = [50, 50], [15, 60]
            else:
                shares, days = [100], [30]
            parts = [to_money(amount * share / 100) for share in shares]
            parts[-1] = amount - sum(parts[:-1])
            ended = kind == "contract" and row.status == Contract.Status.TERMINATED
            fully_paid = kind == "order" and rng.random() < 0.75
            # The walk-through rep's oldest deals are paid in full: her order list shows one.
            fully_paid |= (row.owner_id == self.walkthrough_rep
                           and start <= today - timedelta(days=max(days)))
            for seq, (part, after) in enumerate(zip(parts, days, strict=True), start=1):
                due = start + timedelta(days=after)
                if ended and due > today:
                    break
                instalment = PaymentInstalment(
                    customer_id=row.customer_id, owner_id=row.owner_id, seq=seq, due_on=due,
                    amount=part, **{kind: row})
                if due <= today + timedelta(days=3):
                    instalment.reminded_at = office_moment(due - timedelta(days=3), rng)
                    if instalment.reminded_at > self.now:
                        instalment.reminded_at = None
                received = self._received(instalment, paid=fully_paid or ended, rows=payments)
                instalment.received = received
                instalment.status = services.instalment_status(part, received, due, today)
                instalments.append(instalment)
            if fully_paid and all(i.received >= i.amount for i in instalments
                                  if i.order is row):
                paid_orders.append(row.pk)
        PaymentInstalment.objects.bulk_create(instalments, batch_size=1000)
        Payment.objects.bulk_create(payments, batch_size=1000)
        # An order is marked paid once every instalment of it (or of its contract) came in;
        # an order still in draft (or about to be submitted for approval) stays a draft, even
        # when a contract drawn up over it was paid, whatever day the demo is loaded on.
        for kind, row in plans:
            if kind == "contract" and row.status != Contract.Status.TERMINATED and all(
                    i.received >= i.amount for i in instalments if i.contract is row):
                paid_orders.append(row.order.pk)
        Order.objects.filter(pk__in=paid_orders).exclude(status=Order.Status.DRAFT).update(
            status=Order.Status.PAID)

    def _received(self, instalment: PaymentInstalment, *, paid: bool,
                  rows: list[Payment]) -> Decimal:
        rng, today = self.rng, self.today
        due = instalment.due_on
        late = rng.choice([-6, -3, -1, 0, 0, 2, 5, 12, 25])
        on = due + timedelta(days=late)
        if paid:
            on = min(on, today)
        elif on > today or rng.random() < 0.1:
            return Decimal("0")  # not in yet: overdue once its day has passed
        amount = instalment.amount
        if not paid and rng.random() < 0.12:
            amount = to_money(amount * Decimal("0.5"))  # part now, the rest promised
        recorded = office_moment(on, rng)
        rows.append(Payment(instalment=instalment, amount=amount, received_on=on,
                            note=rng.choice(["银行转账", "对公转账", "承兑汇票", ""]),
                            recorded_by_id=instalment.owner_id,
                            recorded_at=min(recorded, self.now)))
        return amount

    # --- renewals --------------------------------------------------------------------------

    def _renewal_history(self, contracts: list[Contract]) -> None:
        """Contracts that ended before today had their renewal planned 30 days before
        (what ``renewal_sweep`` wrote then); those ending soon get theirs from the sweep
        that runs at the end of the seeding."""
        days = services.renewal_days()
        rows = []
        for contract in contracts:
            if contract.status != Contract.Status.ACTIVE or contract.end_on >= self.today:
                continue
            planned = office_moment(contract.end_on - timedelta(days=days), self.rng,
                                    start=0, end=1)
            contract.renewal_planned_at = planned
            with translation.override("zh-hans"):
                content = gettext("Renewal of contract %(number)s (ends %(end)s)") % {
                    "number": contract.number, "end": contract.end_on.isoformat()}
            rows.append(FollowUp(customer_id=contract.customer_id, author_id=contract.owner_id,
                                 kind="call", outcome=FollowUp.Outcome.OTHER, content=content,
                                 next_at=planned, plan_open=False, reminded_at=planned,
                                 created_at=planned))
        FollowUp.objects.bulk_create(rows)
        update_rows(Contract, ["pk", "renewal_planned_at"],
                    [(c.pk, c.renewal_planned_at) for c in contracts
                     if c.renewal_planned_at is not None])


def _plus_year(start: date) -> date:
    try:
        end = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + 1, day=28)
    return end - timedelta(days=1)


__all__ = ["CATALOGUE", "seed_demo"]
