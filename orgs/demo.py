"""Demo organisation: a company with two sales regions, marketing, QA and an admin.

Used by ``manage.py seed_demo`` (and so by ``make run``) and by the browser tests.
Idempotent: running it again updates nothing that exists and creates what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Employee, Membership, OrgUnit, Position
from .presets import apply_org_stage, company_root

DEMO_PASSWORD = "leadpool-demo"


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

        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        Employee.objects.get_or_create(
            user=admin, defaults={"employee_no": "E0000", "name": "系统管理员",
                                  "name_en": "Administrator"}
        )
        logins.append(("admin", "系统管理员 / Administrator", "superuser"))

        employees: dict[str, Employee] = {}
        for number, person in enumerate(PEOPLE, start=1):
            user, created = User.objects.get_or_create(
                username=person.username,
                defaults={"email": f"{person.username}@example.com",
                          "first_name": person.name_en},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            employee, _ = Employee.objects.get_or_create(
                user=user,
                defaults={
                    "employee_no": f"E{number:04d}",
                    "name": person.name,
                    "name_en": person.name_en,
                    "mobile": person.mobile,
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
