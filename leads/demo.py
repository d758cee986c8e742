"""Demo leads: regional sub-pools and a few hundred realistic leads, some already owned.

With ``engine`` (what ``manage.py seed_demo`` does) the pools also get the rule engine's
configuration, so that the demo shows leads flowing: the master pool routes East and
South China leads into their sub-pools, the East pool hands leads out round-robin and the
South pool by weight, stale leads are recycled after a warning, and a few owned leads are
due within the first half hour of the demo.

Deterministic (seeded random) and idempotent: leads are keyed by their external id.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orgs.models import OrgUnit

from .models import FollowUp, Lead, LeadEvent, LeadPool

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "雪梅", "海燕", "志强",
         "文博", "思远", "佳怡", "子涵", "宇航", "欣怡", "俊杰", "雨桐"]
CITIES_EAST = ["上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "温州"]
CITIES_SOUTH = ["深圳", "广州", "东莞", "佛山", "厦门", "珠海", "南宁", "福州"]
TRADES = [("智能制造", "manufacturing"), ("精密机械", "manufacturing"), ("电子科技", "technology"),
          ("软件", "technology"), ("商贸", "retail"), ("连锁超市", "retail"),
          ("教育科技", "education"), ("医疗器械", "healthcare"), ("物流", "logistics"),
          ("新材料", "manufacturing"), ("供应链管理", "logistics"), ("数字营销", "technology")]
SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "科技有限公司"]
TITLES = ["采购经理", "总经理", "IT 主管", "运营总监", "行政经理", "财务总监", "技术负责人",
          "市场经理", "厂长", "创始人"]
CHANNELS = ["web_form", "official_account", "mini_program", "search_ads", "ecommerce", "event",
            "referral", "app"]
PRODUCTS = ["software", "hardware", "services", "training"]
NOTES = ["官网咨询产品报价", "展会现场留资，对设备感兴趣", "公众号文章留言，想了解方案",
         "搜索广告落地页提交表单", "老客户转介绍", "小程序领取试用", "直播间留言咨询"]
FOLLOWUPS = [("call", "connected", "电话沟通需求，客户计划下季度采购，约下周发方案。"),
             ("wechat", "interested", "已加微信，发送了产品介绍和案例。"),
             ("call", "not_connected", "电话未接通，稍后再打。"),
             ("visit", "appointment", "约好周四上门拜访，演示系统。")]

DEMO_POOLS = [
    ("east_pool", "华东公海", "East China pool", "east", "east"),
    ("south_pool", "华南公海", "South China pool", "south", "south"),
]


def seed_demo(count: int = 320, *, engine: bool = True) -> dict:
    """Create the regional sub-pools and ``count`` leads; returns what was added.

    ``engine=False`` leaves every pool manual with no rules (what most tests start from).
    """
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    pools = {}
    for code, name, name_en, unit_code, region in DEMO_POOLS:
        pools[region], _ = LeadPool.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "kind": LeadPool.Kind.SUB,
                      "parent": master, "org_unit": OrgUnit.objects.get(code=unit_code),
                      "region": region, "owned_cap": 60, "daily_claim_limit": 30,
                      "cooldown_days": 7},
        )
    qualifying = None
    if engine:
        qualifying = _configure_engine(master, pools)
    from opportunities.demo_pipeline import seed_pipeline

    pipeline = seed_pipeline(engine=engine)
    if Lead.objects.filter(external_id__startswith="demo-").exists():
        return {"leads": 0, **pipeline}
    User = get_user_model()
    reps = {
        "east": list(User.objects.filter(username__in=["rep_wangfang", "rep_lilei",
                                                        "rep_zhangwei", "rep_liuyang"])),
        "south": list(User.objects.filter(username__in=["rep_chenjing", "rep_yangfan",
                                                         "rep_zhaomin", "rep_sunli"])),
    }
    rng = random.Random(20261122)
    now = timezone.now()
    leads, events, followups = [], [], []
    used_mobiles: set[str] = set()
    with transaction.atomic():
        for number in range(count):
            region = "east" if number % 2 == 0 else "south"
            city = rng.choice(CITIES_EAST if region == "east" else CITIES_SOUTH)
            trade, industry = rng.choice(TRADES)
            mobile = ""
            while not mobile or mobile in used_mobiles:
                mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            used_mobiles.add(mobile)
            in_master = number % 10 == 9
            pool = master if in_master else pools[region]
            created = now - timedelta(days=rng.randrange(1, 90), minutes=rng.randrange(1440))
            lead = Lead(
                pool=pool, name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                company=f"{city}{rng.choice(['华', '瑞', '中', '恒', '新', '博', '远', '信'])}"
                        f"{rng.choice(['达', '通', '科', '源', '泰', '越', '诚', '安'])}{trade}"
                        f"{rng.choice(SUFFIXES)}",
                title=rng.choice(TITLES), mobile=mobile,
                email=f"contact{number}@example.com" if number % 3 == 0 else "",
                region=region, product_category=rng.choice(PRODUCTS), industry=industry,
                channel=rng.choice(CHANNELS), campaign=rng.choice(["", "2026 秋季展会", "双11"]),
                external_id=f"demo-{number}", notes=rng.choice(NOTES), created_at=created,
                grade=rng.choice(["", "", "A", "B", "C"]),
                attributes={"source_page": rng.choice(["/pricing", "/demo", "/cases"]),
                            "utm_source": rng.choice(["baidu", "wechat", "douyin", ""])},
            )
            if in_master:
                # East and South China leads are routed down; North China has no rule and
                # waits for marketing to route it by hand.
                lead.region = rng.choice(["east", "south", "north"])
            owned = not in_master and number % 3 == 0
            if owned:
                lead.owner = rng.choice(reps[region])
                lead.status = Lead.Status.ASSIGNED
                lead.assigned_at = min(created + timedelta(hours=rng.randrange(1, 48)),
                                       now - timedelta(minutes=rng.randrange(5, 600)))
            lead.refresh_keys()
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=500)
        for number, lead in enumerate(leads):
            planned = None
            if lead.owner_id and rng.random() < 0.6:
                kind, outcome, content = rng.choice(FOLLOWUPS)
                at = min(lead.assigned_at + timedelta(hours=rng.randrange(1, 72)),
                         now - timedelta(minutes=1))
                planned = [kind, outcome, content, at]
            if engine and lead.owner_id:
                planned = _engine_times(lead, number, planned, qualifying, now, rng)
            events.append(LeadEvent(lead=lead, kind=LeadEvent.Kind.CREATED, to_pool=lead.pool,
                                    created_at=lead.created_at, reason=lead.channel))
            if not lead.owner_id:
                continue
            events.append(LeadEvent(lead=lead, kind=LeadEvent.Kind.CLAIMED,
                                    actor_id=lead.owner_id, to_owner_id=lead.owner_id,
                                    from_pool=lead.pool, to_pool=lead.pool,
                                    created_at=lead.assigned_at))
            if planned is not None:
                kind, outcome, content, at = planned
                next_at = now + timedelta(days=rng.randrange(-3, 10), hours=rng.randrange(9))
                counts = bool(qualifying) and qualifying(lead.pool, kind, outcome, content)
                followups.append(FollowUp(lead=lead, author_id=lead.owner_id, kind=kind,
                                          outcome=outcome, content=content, created_at=at,
                                          next_at=next_at, qualifies=counts,
                                          plan_open=next_at is not None))
                lead.status, lead.last_followup_at = Lead.Status.FOLLOWING, at
                lead.next_followup_at = next_at
                if counts:
                    lead.last_qualified_at = at
        LeadEvent.objects.bulk_create(events, batch_size=1000)
        FollowUp.objects.bulk_create(followups, batch_size=1000)
        Lead.objects.bulk_update([lead for lead in leads if lead.owner_id],
                                 ["status", "created_at", "assigned_at", "last_followup_at",
                                  "next_followup_at", "last_qualified_at"])
        if engine:
            from .circulation import refresh_due
            from .subjects import LEADS

            refresh_due(LEADS, ids=[lead.pk for lead in leads if lead.owner_id])
    return {"leads": len(leads), **pipeline}


# Owned East China demo leads (by number) whose last real contact was almost 7 days ago:
# the East pool's 7-day rule recycles them this long after the demo starts, after warning
# their owners.
ABOUT_TO_RECYCLE = {0: timedelta(minutes=20), 6: timedelta(minutes=40),
                    12: timedelta(hours=30), 18: timedelta(hours=60)}


def _engine_times(lead, number, planned, qualifying, now, rng) -> list | None:
    """Assignment and follow-up times that fit the demo rules: leads nobody contacted yet
    were assigned within the first-touch window; a few are about to be recycled.

    Returns the lead's follow-up ``[kind, outcome, content, at]`` (or None)."""
    if number in ABOUT_TO_RECYCLE:
        lead.assigned_at = now - timedelta(days=8)
        lead.created_at = min(lead.created_at, lead.assigned_at)
        contact = now - timedelta(days=7) + ABOUT_TO_RECYCLE[number]
        return ["call", "connected", "电话沟通过一次，客户说再考虑，之后一直没有回复。", contact]
    counts = planned is not None and qualifying(lead.pool, *planned[:3])
    if counts:
        lead.assigned_at = now - timedelta(hours=rng.randrange(30, 100))
        planned[3] = min(lead.assigned_at + timedelta(hours=rng.randrange(1, 24)),
                         now - timedelta(minutes=5))
    else:
        lead.assigned_at = now - timedelta(hours=rng.randrange(1, 20), minutes=rng.randrange(60))
        if planned is not None:
            planned[3] = min(lead.assigned_at + timedelta(minutes=rng.randrange(10, 60)),
                             now - timedelta(minutes=1))
    lead.created_at = min(lead.created_at, lead.assigned_at)
    return planned


def _configure_engine(master: LeadPool, pools: dict[str, LeadPool]):
    """Routing, strategies, members and recycle rules of the demo pools (idempotent).

    Returns the "counts as contact" test of the demo pools.
    """
    from .circulation import followup_qualifies
    from .models import PoolMember, RecycleRule, RoutingRule

    User = get_user_model()
    east, south = pools["east"], pools["south"]
    dormant = LeadPool.objects.filter(kind=LeadPool.Kind.DORMANT).first()
    for order, (pool, name, name_en, region) in enumerate(
            [(east, "华东线索 → 华东公海", "East China leads → East China pool", "east"),
             (south, "华南线索 → 华南公海", "South China leads → South China pool", "south")],
            start=1):
        RoutingRule.objects.get_or_create(
            source_pool=master, name=name,
            defaults={"name_en": name_en, "order": order * 10, "regions": [region],
                      "target_pool": pool})
    qualifying = {"qualifying_types": ["call", "visit", "meeting", "wechat"],
                  "qualifying_outcomes": ["connected", "interested", "appointment"],
                  "qualifying_min_length": 4}
    # East China hands leads out by weight; South China reps claim from their pool (a
    # manager can switch it to round-robin or least-loaded on the rules page).
    LeadPool.objects.filter(pk=east.pk).update(strategy=LeadPool.Strategy.WEIGHTED,
                                               **qualifying)
    LeadPool.objects.filter(pk=south.pk).update(strategy=LeadPool.Strategy.MANUAL,
                                                **qualifying)
    weights = {"rep_wangfang": 3, "rep_lilei": 2, "rep_zhangwei": 1, "rep_liuyang": 1,
               "rep_chenjing": 1, "rep_yangfan": 1, "rep_zhaomin": 1, "rep_sunli": 1}
    for user in User.objects.filter(username__in=weights):
        pool = east if user.username in ("rep_wangfang", "rep_lilei", "rep_zhangwei",
                                         "rep_liuyang") else south
        PoolMember.objects.get_or_create(pool=pool, user=user,
                                         defaults={"weight": weights[user.username]})
    rules = [
        (east, "7 天无有效跟进", "No qualifying follow-up for 7 days",
         RecycleRule.Kind.NO_FOLLOWUP, 7, RecycleRule.Unit.DAYS, [72, 24],
         RecycleRule.Target.ORIGIN),
        (east, "分配后 24 小时未首次联系", "No first contact within 24 hours",
         RecycleRule.Kind.FIRST_TOUCH, 24, RecycleRule.Unit.HOURS, [4],
         RecycleRule.Target.ORIGIN),
        (south, "10 天无有效跟进", "No qualifying follow-up for 10 days",
         RecycleRule.Kind.NO_FOLLOWUP, 10, RecycleRule.Unit.DAYS, [48],
         RecycleRule.Target.ORIGIN),
        (south, "30 天未转化退回总池", "Not converted in 30 days: back to the master pool",
         RecycleRule.Kind.NOT_CONVERTED, 30, RecycleRule.Unit.DAYS, [72],
         RecycleRule.Target.PARENT),
    ]
    for pool, name, name_en, kind, threshold, unit, warn, target in rules:
        RecycleRule.objects.get_or_create(
            pool=pool, name=name,
            defaults={"name_en": name_en, "kind": kind, "threshold": threshold, "unit": unit,
                      "warn_offsets": warn,
                      "target": target, "max_recycles": 3, "dormant_pool": dormant,
                      "exclude_starred": kind == RecycleRule.Kind.NO_FOLLOWUP})
    for pool in (east, south):
        pool.refresh_from_db()

    def qualifies(pool, kind, outcome, content):
        return followup_qualifies(pool, kind=kind, outcome=outcome, content=content)

    return qualifies
