"""Demo pipeline: an opportunity pool and a few dozen realistic opportunities across the
stages, owned by the demo reps (some waiting in the pool), each with its customer, its
contact, its stage history and its ownership events.

Deterministic (seeded random) and idempotent: keyed by external ids ``demo-opp-…``.
With ``engine`` the opportunity pool hands opportunities out round-robin and recycles
those with no stage progress for 14 days, warning their owners 3 days and 1 day before.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from leads.models import LeadPool, RecycleRule
from leads.normalize import normalize_company, normalize_phone
from orgs.models import OrgUnit

from . import stages as stage_dictionary
from .models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)

COMPANIES = [
    "上海锦程智能制造有限公司", "杭州云栖数据科技有限公司", "苏州恒瑞精密机械股份有限公司",
    "南京博远医疗器械有限公司", "宁波华通物流集团有限公司", "合肥新源电子科技有限公司",
    "无锡中泰新材料有限公司", "温州信达商贸有限公司", "深圳前海星河软件有限公司",
    "广州瑞安连锁超市有限公司", "东莞越诚精密模具有限公司", "佛山安泰家居集团有限公司",
    "厦门海润供应链管理有限公司", "珠海博雅教育科技有限公司", "南宁远航物流有限公司",
    "福州恒信数字营销有限公司", "上海东方明珠医疗科技有限公司", "杭州青禾教育科技有限公司",
    "深圳鹏城智联科技股份有限公司", "广州粤海食品集团有限公司",
]
DEALS = ["ERP 升级项目", "MES 系统实施", "年度软件订阅", "智能仓储改造", "门店收银系统",
         "数据中台建设", "员工培训采购", "设备维保服务", "CRM 私有化部署", "视觉检测设备采购",
         "政府采购招标", "安防集成项目"]
CONTACTS = ["王建国", "李晓梅", "张志强", "刘海燕", "陈思远", "杨雪", "黄俊杰", "赵丽",
            "吴涛", "周敏", "徐文博", "孙佳怡"]
REPS = {"east": ["rep_wangfang", "rep_lilei", "rep_zhangwei", "rep_liuyang"],
        "south": ["rep_chenjing", "rep_yangfan", "rep_zhaomin", "rep_sunli"]}


def _pool(engine: bool) -> LeadPool:
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


def seed_pipeline(count: int = 48, *, engine: bool = True) -> dict:
    pool = _pool(engine)
    if Opportunity.objects.filter(external_id__startswith="demo-opp-").exists():
        return {"opportunities": 0}
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=REPS["east"] + REPS["south"])}
    if not users:
        return {"opportunities": 0}
    found = stage_dictionary.stages()
    open_stages = [s for s in found if not s.closed]
    won = next((s for s in found if s.closed == "won"), None)
    lost = next((s for s in found if s.closed == "lost"), None)
    reasons = [code for code, _label in stage_dictionary.lost_reasons()] or ["price"]
    rng = random.Random(20261123)
    now = timezone.now()
    with transaction.atomic():
        customers = []
        for number, name in enumerate(COMPANIES):
            region = "east" if number % 2 == 0 else "south"
            customers.append(Customer(
                name=name, name_key=normalize_company(name), region=region,
                external_id=f"demo-opp-customer-{number}",
                owner=users.get(rng.choice(REPS[region])),
                created_at=now - timedelta(days=rng.randrange(30, 200))))
        Customer.objects.bulk_create(customers)
        contacts, methods, links = [], [], []
        for customer in customers:
            contacts.append(Contact(name=rng.choice(CONTACTS), title="采购经理",
                                    created_at=customer.created_at))
        Contact.objects.bulk_create(contacts)
        for number, (customer, contact) in enumerate(zip(customers, contacts, strict=True)):
            mobile = f"139{20260000 + number:08d}"
            methods.append(ContactMethod(contact=contact, kind=ContactMethod.Kind.MOBILE,
                                         value=mobile, value_key=normalize_phone(mobile),
                                         is_primary=True))
            links.append(CustomerContact(customer=customer, contact=contact, is_primary=True))
        ContactMethod.objects.bulk_create(methods)
        CustomerContact.objects.bulk_create(links)

        opportunities, plans = [], []
        for number in range(count):
            customer_index = number % len(customers)
            customer, contact = customers[customer_index], contacts[customer_index]
            region = customer.region
            created = now - timedelta(days=rng.randrange(5, 120), hours=rng.randrange(24))
            in_pool = number % 8 == 7
            roll = rng.random()
            if in_pool:
                path = open_stages[:1]
            elif roll < 0.15 and won:
                path = [*open_stages[:rng.randrange(2, len(open_stages) + 1)], won]
            elif roll < 0.27 and lost:
                path = [*open_stages[:rng.randrange(1, len(open_stages) + 1)], lost]
            else:
                path = open_stages[:rng.randrange(1, len(open_stages) + 1)]
            final = path[-1]
            owner = None if in_pool else users.get(rng.choice(REPS[region]))
            moments = sorted(created + timedelta(days=rng.uniform(0, (now - created).days))
                             for _ in path[1:])
            if owner is not None and not final.closed:
                # Open deals last moved within the no-progress window (a few close to its
                # end, to show warnings), so the first engine tick recycles none of them.
                recent = now - timedelta(days=rng.uniform(0.5, 13.5))
                if moments:
                    moments[-1] = max(recent, moments[-2] if len(moments) > 1 else created)
                else:
                    created = recent
            stage_at = moments[-1] if moments else created
            status = (Opportunity.Status.IN_POOL if owner is None else
                      Opportunity.Status.WON if final.closed == "won" else
                      Opportunity.Status.LOST if final.closed == "lost" else
                      Opportunity.Status.OPEN)
            opportunities.append(Opportunity(
                name=f"{customer.name[:4]}{rng.choice(DEALS)}", customer=customer,
                contact=contact, owner=owner, pool=pool,
                type=Opportunity.Type.BIDDING if number % 5 == 0 else Opportunity.Type.SOLUTION,
                amount=Decimal(rng.randrange(20, 3000) * 1000),
                expected_close=(now + timedelta(days=rng.randrange(-10, 120))).date(),
                stage=final.code, stage_changed_at=stage_at, status=status,
                lost_reason=rng.choice(reasons) if final.closed == "lost" else "",
                closed_at=stage_at if final.closed else None,
                assigned_at=created if owner else None, pooled_at=created,
                last_qualified_at=stage_at if owner else None,
                external_id=f"demo-opp-{number}", created_at=created))
            plans.append((path, [created, *moments]))
        Opportunity.objects.bulk_create(opportunities)
        changes, events = [], []
        for opportunity, (path, moments) in zip(opportunities, plans, strict=True):
            previous = ""
            for index, (stage, at) in enumerate(zip(path, moments, strict=True)):
                held = at - moments[index - 1] if index else None
                changes.append(OpportunityStageChange(
                    opportunity=opportunity, from_stage=previous, to_stage=stage.code,
                    changed_by=opportunity.owner, changed_at=at, time_in_stage=held))
                previous = stage.code
            events.append(OpportunityEvent(opportunity=opportunity,
                                           kind=OpportunityEvent.Kind.CREATED, to_pool=pool,
                                           created_at=opportunity.created_at))
            if opportunity.owner_id:
                events.append(OpportunityEvent(
                    opportunity=opportunity, kind=OpportunityEvent.Kind.CLAIMED,
                    actor=opportunity.owner, to_owner=opportunity.owner, from_pool=pool,
                    to_pool=pool, created_at=opportunity.created_at))
        OpportunityStageChange.objects.bulk_create(changes)
        OpportunityEvent.objects.bulk_create(events)
        if engine:
            from leads.circulation import refresh_due
            from leads.subjects import OPPORTUNITIES

            refresh_due(OPPORTUNITIES, ids=[o.pk for o in opportunities
                                            if o.status == Opportunity.Status.OPEN])
    return {"opportunities": len(opportunities)}
