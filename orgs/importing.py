"""The employee kind: sales teams from a file. Offices become regions under the sales
department, each manager's people a team in their office; a new employee gets a login
without a usable password (an administrator sets one)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.lib.imports import maven
from crm_site.lib.imports.records import RecordSteps, fields_guesser, record_kind_runner
from crm_site.lib.imports.registry import ImportKind, RowRejected
from crm_site.lib.imports.values import within_limit

from .models import Employee, Membership, OrgUnit, Position

EMPLOYEE_FIELDS: dict[str, list[str]] = {
    "name": ["name", "salesagent", "agent", "employee", "姓名", "员工"],
    "manager": ["manager", "supervisor", "主管", "经理"],
    "office": ["office", "regionaloffice", "region", "办事处", "区域"],
    "employee_no": ["employeeno", "employeenumber", "工号"],
    "username": ["username", "login", "登录名"],
    "email": ["email", "邮箱"],
    "mobile": ["mobile", "手机"],
    "wecom_userid": ["wecomuserid", "wecomid", "企业微信id", "企业微信账号"],
    "dingtalk_userid": ["dingtalkuserid", "dingtalkid", "钉钉id", "钉钉userid"],
    "feishu_userid": ["feishuuserid", "larkuserid", "feishuid", "飞书id", "飞书userid"],
}


# The employee's accounts in WeCom, DingTalk and Feishu (reminders reach them there).
IM_FIELDS = ("wecom_userid", "dingtalk_userid", "feishu_userid")


def _employee_row(values, attributes, ctx) -> tuple[str, dict]:
    name = within_limit(values.get("name", ""), Employee, "name")
    if not name:
        raise RowRejected(_("No employee name."))
    number = values.get("employee_no") or f"{ctx.prefix.rstrip(':').upper() or 'IMP'}-" \
        f"{slugify(name)}"
    return f"e:{number[:32]}", {"name": name, "employee_no": number[:32],
                                "manager": values.get("manager", ""),
                                "office": values.get("office", ""),
                                "username": values.get("username", ""),
                                "email": values.get("email", ""),
                                "mobile": values.get("mobile", ""),
                                **{field: within_limit(values.get(field, ""), Employee, field)
                                   for field in IM_FIELDS}}


def _unit(code: str, parent: OrgUnit, name: str, name_en: str, kind: str, counts) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        parent.refresh_from_db()
        unit = OrgUnit.objects.add_child(parent, create_kwargs={
            "code": code, "name": name, "name_en": name_en, "kind": kind})
        counts.created["org_units"] = counts.created.get("org_units", 0) + 1
    return unit


def _employee(data: dict, unit: OrgUnit, position: Position, counts, *, manager=None,
              side_effect: bool = False) -> tuple[Employee, bool]:
    """The employee numbered ``data['employee_no']``, created with a login (no usable
    password: an administrator sets one) and a membership of ``unit`` if new."""
    employee = Employee.objects.filter(employee_no=data["employee_no"]).first()
    if employee is None:
        employee = Employee.objects.filter(Q(name=data["name"]) | Q(name_en=data["name"])
                                           ).order_by("pk").first()
    created = employee is None
    if created:
        User = get_user_model()
        username = data.get("username") or slugify(data["name"]).replace("-", ".")[:150]
        base, n = username, 1
        while User.objects.filter(username=username).exists():
            n += 1
            username = f"{base}{n}"
        user = User(username=username, email=data.get("email", ""),
                    first_name=data["name"][:150])
        user.set_unusable_password()
        user.save()
        employee = Employee.objects.create(
            user=user, employee_no=data["employee_no"], name=data["name"],
            name_en=data["name"], mobile=data.get("mobile", ""), supervisor=manager,
            **{field: data.get(field, "") for field in IM_FIELDS})
        if side_effect:
            counts.created["managers"] = counts.created.get("managers", 0) + 1
    else:
        if manager is not None and employee.supervisor_id is None:
            Employee.objects.filter(pk=employee.pk).update(supervisor=manager)
        # A merge fills the messaging accounts the record does not have yet.
        blanks = {field: data[field] for field in IM_FIELDS
                  if data.get(field) and not getattr(employee, field)}
        if blanks:
            Employee.objects.filter(pk=employee.pk).update(**blanks)
    Membership.objects.get_or_create(employee=employee, org_unit=unit, position=position,
                                     defaults={"is_primary": not employee.memberships.exists()})
    return employee, created


def _write_employees(rows, ctx, counts) -> None:
    """Offices become regions under the sales department, each manager's people a team in
    their office; managers hold the sales-manager position, the others the sales-rep one."""
    from .presets import apply_org_stage

    if not Position.objects.filter(code="sales_manager").exists():
        apply_org_stage(2)
    sales = OrgUnit.objects.get(code="sales")
    rep, boss = Position.objects.get(code="sales_rep"), Position.objects.get(code="sales_manager")
    tag = slugify(ctx.prefix.rstrip(":")) or "import"
    for _line, _key, data in rows:
        parent = sales
        if data["office"]:
            parent = _unit(f"{tag}_office_{slugify(data['office'])}"[:64], sales,
                           f"{data['office']}办事处", f"{data['office']} office",
                           OrgUnit.Kind.REGION, counts)
        manager = None
        team = parent
        if data["manager"]:
            team = _unit(f"{tag}_team_{slugify(data['manager'])}"[:64], parent,
                         f"{data['manager']}团队", f"{data['manager']}'s team",
                         OrgUnit.Kind.TEAM, counts)
            manager, _new = _employee(
                {"name": data["manager"],
                 "employee_no": f"{tag.upper()}-{slugify(data['manager'])}"[:32]},
                team, boss, counts, side_effect=True)
        _employee_obj, created = _employee(data, team, rep, counts, manager=manager)
        if created:
            counts.accepted += 1
        else:
            counts.merged += 1



EMPLOYEES = ImportKind(
    code="employees", label=gettext_lazy("Employees and teams"),
    run=record_kind_runner(RecordSteps(_employee_row, _write_employees),
                           prefixes=maven.prefixes()),
    guess_mapping=fields_guesser(lambda: Employee, EMPLOYEE_FIELDS),
    presets=maven.presets("employees"), admin_only=True, order=50)
