"""Demo organisation: a company with two sales regions, marketing, QA and an admin.

Used by ``manage.py seed_demo`` (and so by ``make run``) and by the browser tests.
Idempotent: running it again updates nothing that exists and creates what is missing.

Also the ground floor of every app's demo module (``<app>/demo.py: seed_demo()``, run by
``seed_demo`` in the order of ``INSTALLED_APPS``): ``DemoReport`` (what a step holds) and
office-hours moments, so that demo history is written when people would have written it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .models import Dictionary, DictionaryItem, Employee, Membership, OrgUnit, Position
from .presets import apply_org_stage, company_root

DEMO_PASSWORD = "leadpool-demo"


@dataclass(frozen=True)
class DemoReport:
    """What one app's demo data holds (rows present, by kind) and whether this run added
    it; ``seed_demo`` prints it, so that a second run says what is there."""

    counts: dict[str, int]
    added: bool

    def line(self) -> str:
        held = ", ".join(f"{what}: {count:,}" for what, count in self.counts.items())
        return f"{held} ({'added' if self.added else 'already there'})"


def office_moment(day: date, rng: random.Random, *, start: int = 9, end: int = 19) -> datetime:
    """A moment of ``day`` between ``start`` and ``end`` o'clock, in the install's zone."""
    minute = rng.randrange(start * 60, end * 60)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)))
    return timezone.make_aware(local)


def office_after(moment: datetime, rng: random.Random, *, hours: tuple[float, float],
                 weekend_work: float = 0.15) -> datetime:
    """A moment ``hours`` (a range) after ``moment``, moved into office hours: work left
    for the evening starts the next morning, and most weekend work waits for Monday."""
    later = timezone.localtime(moment + timedelta(seconds=int(rng.uniform(*hours) * 3600)))
    if later.hour >= 19:
        later = office_moment(later.date() + timedelta(days=1), rng, start=9, end=11)
    elif later.hour < 9:
        later = office_moment(later.date(), rng, start=9, end=11)
    while later.weekday() >= 5 and rng.random() > weekend_work:
        later = office_moment(later.date() + timedelta(days=7 - later.weekday()), rng,
                              start=9, end=12)
    return later


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    name_en: str
    unit: str
    position: str
    supervisor: str | None
    mobile: str


# (code, name, name_en, kind, parent code)
UNITS = [
    ("east", "华东大区", "East China region", OrgUnit.Kind.REGION, "sales"),
    ("south", "华南大区", "South China region", OrgUnit.Kind.REGION, "sales"),
    ("east_shanghai", "上海一组", "Shanghai team", OrgUnit.Kind.TEAM, "east"),
    ("east_hangzhou", "杭州二组", "Hangzhou team", OrgUnit.Kind.TEAM, "east"),
    ("south_shenzhen", "深圳一组", "Shenzhen team", OrgUnit.Kind.TEAM, "south"),
    ("south_guangzhou", "广州二组", "Guangzhou team", OrgUnit.Kind.TEAM, "south"),
]

PEOPLE = [
    Person("director", "陈志远", "Chen Zhiyuan", "sales", "sales_head", None, "13901010001"),
    Person("marketing", "林晓雯", "Lin Xiaowen", "marketing", "marketing_manager", None,
           "13901010002"),
    Person("mgr_shanghai", "周建国", "Zhou Jianguo", "east_shanghai", "sales_manager",
           "director", "13801020001"),
    Person("mgr_hangzhou", "吴婷", "Wu Ting", "east_hangzhou", "sales_manager", "director",
           "13801020002"),
    Person("mgr_shenzhen", "郑浩然", "Zheng Haoran", "south_shenzhen", "sales_manager",
           "director", "13801020003"),
    Person("mgr_guangzhou", "黄丽娟", "Huang Lijuan", "south_guangzhou", "sales_manager",
           "director", "13801020004"),
    Person("rep_wangfang", "王芳", "Wang Fang", "east_shanghai", "sales_rep", "mgr_shanghai",
           "13812345678"),
    Person("rep_lilei", "李磊", "Li Lei", "east_shanghai", "sales_rep", "mgr_shanghai",
           "13812345679"),
    Person("rep_zhangwei", "张伟", "Zhang Wei", "east_hangzhou", "sales_rep", "mgr_hangzhou",
           "13912345670"),
    Person("rep_liuyang", "刘洋", "Liu Yang", "east_hangzhou", "sales_rep", "mgr_hangzhou",
           "13912345671"),
    Person("rep_chenjing", "陈静", "Chen Jing", "south_shenzhen", "sales_rep", "mgr_shenzhen",
           "13712345672"),
    Person("rep_yangfan", "杨帆", "Yang Fan", "south_shenzhen", "sales_rep", "mgr_shenzhen",
           "13712345673"),
    Person("rep_zhaomin", "赵敏", "Zhao Min", "south_guangzhou", "sales_rep", "mgr_guangzhou",
           "13612345674"),
    Person("rep_sunli", "孙丽", "Sun Li", "south_guangzhou", "sales_rep", "mgr_guangzhou",
           "13612345675"),
    Person("qa_hemei", "何美玲", "He Meiling", "qa", "qa_inspector", None, "13501010003"),
]


def demo_logins() -> list[tuple[str, str, str]]:
    """``(username, name, role)`` of every demo login."""
    return [("admin", "系统管理员 / Administrator", "superuser")] + [
        (p.username, f"{p.name} / {p.name_en}", p.position) for p in PEOPLE]


def seed_demo_org() -> list[tuple[str, str, str]]:
    """Create the demo org and people; return ``(username, name, role)`` for each login."""
    User = get_user_model()
    logins: list[tuple[str, str, str]] = []
    with transaction.atomic():
        root = company_root()
        if root.name in ("公司", ""):
            root.name, root.name_en = "华辰智能科技有限公司", "Huachen Intelligent Technology"
            root.save(update_fields=["name", "name_en"])
        apply_org_stage(2)
        for code, name, name_en, kind, parent_code in UNITS:
            if not OrgUnit.objects.filter(code=code).exists():
                parent = OrgUnit.objects.get(code=parent_code)
                OrgUnit.objects.add_child(
                    parent,
                    create_kwargs={"code": code, "name": name, "name_en": name_en, "kind": kind},
                )

        # One hash for every demo login: hashing is deliberately slow (~0.3 s each).
        password = make_password(DEMO_PASSWORD)
        admin, _created = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com",
                      "password": password},
        )
        Employee.objects.get_or_create(
            user=admin, defaults={"employee_no": "E0000", "name": "系统管理员",
                                  "name_en": "Administrator"}
        )
        logins.append(("admin", "系统管理员 / Administrator", "superuser"))

        employees: dict[str, Employee] = {}
        for number, person in enumerate(PEOPLE, start=1):
            user, _created = User.objects.get_or_create(
                username=person.username,
                defaults={"email": f"{person.username}@example.com",
                          "first_name": person.name_en, "password": password},
            )
            employee, _ = Employee.objects.get_or_create(
                user=user,
                defaults={
                    "employee_no": f"E{number:04d}",
                    "name": person.name,
                    "name_en": person.name_en,
                    "mobile": person.mobile,
                    "hired_on": date(2021 + number % 4, 1 + number * 5 % 12, 1 + number % 27),
                },
            )
            employees[person.username] = employee
            Membership.objects.get_or_create(
                employee=employee,
                org_unit=OrgUnit.objects.get(code=person.unit),
                position=Position.objects.get(code=person.position),
                defaults={"is_primary": True},
            )
            logins.append((person.username, f"{person.name} / {person.name_en}", person.position))
        for person in PEOPLE:
            if person.supervisor:
                Employee.objects.filter(
                    pk=employees[person.username].pk, supervisor__isnull=True
                ).update(supervisor=employees[person.supervisor])
    return logins


# Phrases a QA inspector flags in follow-up notes (the ``sensitive_word`` dictionary):
# (code, phrase, English, category, severity). Categories: return_promise (promising
# returns), competitor_slander, privacy (asking for personal data), bribery,
# private_payment (money outside the company's accounts), overpromise.
SENSITIVE_WORDS = [
    ("sure_profit", "稳赚不赔", "sure profit, no risk", "return_promise", "high"),
    ("capital_guaranteed", "保本保收益", "capital and returns guaranteed", "return_promise",
     "high"),
    ("liar", "骗子", "liar / swindler", "competitor_slander", "medium"),
    ("garbage", "垃圾", "garbage", "competitor_slander", "medium"),
    ("id_number", "身份证号", "ID card number", "privacy", "high"),
    ("bank_card", "银行卡号", "bank card number", "privacy", "high"),
    ("rebate", "返点", "kickback percentage", "bribery", "high"),
    ("personal_account", "个人账户", "personal account", "private_payment", "high"),
]
# The default items of a new install, with the category and severity the demo gives them
# (only where an admin has not set one).
SENSITIVE_DEFAULTS = {
    "guarantee": ("return_promise", "high"),
    "kickback": ("bribery", "high"),
    "private_account": ("private_payment", "high"),
    "refund_promise": ("overpromise", "medium"),
}


def seed_sensitive_words() -> int:
    """Add the demo's sensitive words; returns how many were added."""
    dictionary = Dictionary.objects.filter(code="sensitive_word").first()
    if dictionary is None:
        return 0
    items = {item.code: item for item in dictionary.items.all()}
    for code, (category, severity) in SENSITIVE_DEFAULTS.items():
        item = items.get(code)
        if item is not None and "category" not in (item.extra or {}):
            item.extra = {**(item.extra or {}), "category": category, "severity": severity}
            item.save(update_fields=["extra"])
    last = max((item.sort_order for item in items.values()), default=0)
    added = [
        DictionaryItem(dictionary=dictionary, code=code, label=label, label_en=label_en,
                       sort_order=last + 10 * number,
                       extra={"category": category, "severity": severity})
        for number, (code, label, label_en, category, severity) in enumerate(SENSITIVE_WORDS, 1)
        if code not in items
    ]
    DictionaryItem.objects.bulk_create(added)
    return len(added)


def seed_demo() -> DemoReport:
    """The organisation step of ``seed_demo``: people, teams and the QA word list."""
    before = Employee.objects.count()
    seed_demo_org()
    words = seed_sensitive_words()
    return DemoReport(
        {"org units": OrgUnit.objects.count(), "employees": Employee.objects.count(),
         "sensitive words": DictionaryItem.objects.of("sensitive_word").count()},
        added=bool(words) or Employee.objects.count() > before)
