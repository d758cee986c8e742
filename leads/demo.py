"""Demo leads: regional sub-pools and a few hundred realistic leads, some already owned.

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


def seed_demo(count: int = 320) -> dict:
    """Create the regional sub-pools and ``count`` leads; returns what was added."""
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
    if Lead.objects.filter(external_id__startswith="demo-").exists():
        return {"leads": 0}
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
            owned = not in_master and number % 3 == 0
            if owned:
                lead.owner = rng.choice(reps[region])
                lead.status = Lead.Status.ASSIGNED
                lead.assigned_at = min(created + timedelta(hours=rng.randrange(1, 48)),
                                       now - timedelta(minutes=rng.randrange(5, 600)))
            lead.refresh_keys()
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=500)
        for lead in leads:
            events.append(LeadEvent(lead=lead, kind=LeadEvent.Kind.CREATED, to_pool=lead.pool,
                                    created_at=lead.created_at, reason=lead.channel))
            if lead.owner_id:
                events.append(LeadEvent(lead=lead, kind=LeadEvent.Kind.CLAIMED,
                                        actor_id=lead.owner_id, to_owner_id=lead.owner_id,
                                        from_pool=lead.pool, to_pool=lead.pool,
                                        created_at=lead.assigned_at))
                if rng.random() < 0.6:
                    kind, outcome, content = rng.choice(FOLLOWUPS)
                    at = min(lead.assigned_at + timedelta(hours=rng.randrange(1, 72)),
                             now - timedelta(minutes=1))
                    next_at = now + timedelta(days=rng.randrange(-3, 10), hours=rng.randrange(9))
                    followups.append(FollowUp(lead=lead, author_id=lead.owner_id, kind=kind,
                                              outcome=outcome, content=content, created_at=at,
                                              next_at=next_at))
                    lead.status, lead.last_followup_at = Lead.Status.FOLLOWING, at
                    lead.next_followup_at = next_at
        LeadEvent.objects.bulk_create(events, batch_size=1000)
        FollowUp.objects.bulk_create(followups, batch_size=1000)
        Lead.objects.bulk_update([lead for lead in leads if lead.last_followup_at],
                                 ["status", "last_followup_at", "next_followup_at"])
    return {"leads": len(leads)}
