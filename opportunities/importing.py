"""Import of customers, contacts, opportunities, products and employees from CSV / XLSX.

The same pipeline as the lead import (``leads.importer``): the file is read by
``read_table`` (UTF-8 with or without BOM, GBK/GB18030, XLSX), columns are mapped to
fields by a saved mapping or by recognised header names, every row is checked and a
rejected row is reported with its line number and reason, rows are written in batches of
one short transaction each, and a re-import of the same file adds nothing twice: each
kind has a key (a product's name, a customer's company name, an employee's number or
name, an opportunity's external ID) and a row whose key exists is *merged* (blank fields
filled in), not added. It runs from ``manage.py import_records`` and, for the web, as the
``leads.import_file`` background task with its progress bar and rejected-rows report.

Saved mappings: the built-in ``maven`` mapping reads the Maven Analytics CRM sample
(``accounts.csv``, ``products.csv``, ``sales_teams.csv``, ``sales_pipeline.csv``); any
``leads.ImportMapping`` (column → field) may be used by name as well.

Budget: the whole file is parsed up front (~1 KB a row); a batch of 2,000 rows is one
transaction of a few set-based statements (employees, a few hundred at most, are written
row by row with the org units they need).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.models import Product
from leads.importer import (
    ATTRIBUTE,
    DEFAULT_EMPTY_MARKERS,
    ImportCounts,
    Table,
    _batches,
    _plan,
    header_names,
    match_headers,
    split_row,
)
from leads.normalize import normalize_company
from orgs.dictionaries import DictionaryMatcher, dictionary_matchers
from orgs.models import Dictionary, DictionaryItem, Employee, Membership, OrgUnit, Position

from .models import (
    Contact,
    ContactMethod,
    Customer,
    CustomerContact,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)

BATCH_SIZE = 2000

KINDS = {
    "customers": gettext_lazy("Customers"),
    "contacts": gettext_lazy("Contacts"),
    "opportunities": gettext_lazy("Opportunities"),
    "products": gettext_lazy("Products"),
    "employees": gettext_lazy("Employees and teams"),
}

# Fields each kind reads, with the header names recognised without a saved mapping
# (lower-cased, spaces and underscores removed).
FIELDS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "name": ["name", "account", "company", "customer", "客户", "客户名称", "公司", "公司名称"],
        "industry": ["industry", "sector", "行业"],
        "region": ["region", "区域"],
        "size": ["size", "规模"],
        "employees": ["employees", "staff", "员工数", "人数"],
        "address": ["address", "officelocation", "headquarters", "地址"],
        "website": ["website", "web", "网站"],
        "owner": ["owner", "salesagent", "负责人", "销售"],
        "external_id": ["externalid", "外部id"],
        "notes": ["notes", "备注"],
    },
    "contacts": {
        "name": ["name", "contact", "联系人", "姓名"],
        "title": ["title", "jobtitle", "职位"],
        "customer": ["customer", "account", "company", "客户", "公司"],
        "role": ["role", "角色"],
        "mobile": ["mobile", "手机", "手机号"],
        "phone": ["phone", "tel", "电话"],
        "email": ["email", "e-mail", "邮箱"],
        "wechat": ["wechat", "微信"],
        "external_id": ["externalid", "外部id"],
    },
    "opportunities": {
        "name": ["name", "opportunity", "商机", "商机名称"],
        "external_id": ["externalid", "opportunityid", "dealid", "外部id"],
        "customer": ["customer", "account", "company", "客户"],
        "owner": ["owner", "salesagent", "负责人", "销售"],
        "product": ["product", "产品"],
        "stage": ["stage", "dealstage", "阶段"],
        "amount": ["amount", "closevalue", "value", "金额"],
        "engage_date": ["engagedate", "opened", "createdate", "创建日期"],
        "close_date": ["closedate", "closed", "成交日期"],
        "expected_close": ["expectedclose", "预计成交"],
        "type": ["type", "类型"],
        "lost_reason": ["lostreason", "输单原因"],
    },
    "products": {
        "name": ["name", "product", "产品", "产品名称"],
        "code": ["code", "sku", "编码"],
        "series": ["series", "系列"],
        "category": ["category", "品类"],
        "list_price": ["listprice", "salesprice", "price", "价格", "标价"],
    },
    "employees": {
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
    },
}

# The model whose field labels name each kind's columns too (in either language).
MODELS = {"customers": Customer, "contacts": Contact, "opportunities": Opportunity,
          "products": Product, "employees": Employee}

# Fields that hold a dictionary code, per kind: field → dictionary.
DICTIONARY_FIELDS: dict[str, dict[str, str]] = {
    "customers": {"industry": "industry", "region": "region", "size": "customer_size"},
    "products": {"category": "product_category"},
    "opportunities": {"stage": "opportunity_stage", "lost_reason": "lost_reason"},
}

# Built-in saved mappings: (name, kind) → column → field.
PRESETS: dict[tuple[str, str], dict[str, str]] = {
    ("maven", "customers"): {
        "account": "name", "sector": "industry", "employees": "employees",
        "office_location": "address", "year_established": ATTRIBUTE,
        "revenue": ATTRIBUTE, "subsidiary_of": ATTRIBUTE,
    },
    ("maven", "products"): {"product": "name", "series": "series", "sales_price": "list_price"},
    ("maven", "employees"): {"sales_agent": "name", "manager": "manager",
                             "regional_office": "office"},
    ("maven", "opportunities"): {
        "opportunity_id": "external_id", "sales_agent": "owner", "product": "product",
        "account": "customer", "deal_stage": "stage", "engage_date": "engage_date",
        "close_date": "close_date", "close_value": "amount",
    },
}

# The external IDs of a preset's opportunities carry its name, so that two sources with
# the same deal numbers never collide.
EXTERNAL_PREFIX = {"maven": "maven:"}

# Dictionary items an import needs and a new install lacks: Maven's "Engaging" stage
# (between first contact and a decision) and the sectors of its accounts. Added by the
# data migration ``opportunities.0002_fu_import_dictionaries`` and, should an admin have
# removed them, again by the import itself. (dictionary, code, label, label_en, order,
# probability)
DICTIONARY_ITEMS = [
    ("opportunity_stage", "engaging", "接洽中", "Engaging", 15, 20),
    ("industry", "telecom", "通信", "Telecommunications", 75, None),
    ("industry", "media", "文化娱乐", "Media & entertainment", 76, None),
    ("industry", "marketing", "营销广告", "Marketing & advertising", 77, None),
    ("industry", "business_services", "商务服务", "Business services", 78, None),
    ("industry", "staffing", "人力资源服务", "Employment & staffing", 79, None),
]

# Values seen in files → industry dictionary codes (keys compacted like headers).
INDUSTRY_SYNONYMS = {
    "technology": "technology", "technolgy": "technology", "tech": "technology",
    "software": "technology", "it": "technology", "信息技术": "technology",
    "medical": "healthcare", "healthcare": "healthcare", "医疗": "healthcare",
    "retail": "retail", "零售": "retail", "finance": "finance", "金融": "finance",
    "telecommunications": "telecom", "telecom": "telecom", "通信": "telecom",
    "entertainment": "media", "media": "media", "marketing": "marketing",
    "services": "business_services", "employment": "staffing", "staffing": "staffing",
    "manufacturing": "manufacturing", "制造": "manufacturing", "education": "education",
    "教育": "education", "realestate": "real_estate", "logistics": "logistics",
    "government": "government",
}

PLACEHOLDER_CUSTOMER = "import:no-account"


class RowRejected(Exception):
    """A row that cannot be imported; the message says why, in the user's language."""


@dataclass
class RecordCounts(ImportCounts):
    created: dict = field(default_factory=dict)  # side effects: org units, managers, ...


def compact(value: str) -> str:
    """A comparison key: case- and width-folded, letters and digits only
    (``GTXPro`` = ``GTX Pro``)."""
    value = unicodedata.normalize("NFKC", value or "").casefold()
    return re.sub(r"[\W_]+", "", value)


def ensure_dictionary_items() -> int:
    """Add the dictionary items imports need if they are missing; returns how many."""
    added = 0
    for dictionary_code, code, label, label_en, order, probability in DICTIONARY_ITEMS:
        dictionary = Dictionary.objects.filter(code=dictionary_code).first()
        if dictionary is None:
            continue
        _item, created = DictionaryItem.objects.get_or_create(
            dictionary=dictionary, code=code,
            defaults={"label": label, "label_en": label_en, "sort_order": order,
                      "probability": probability})
        added += created
    return added


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Map headers that name a field of ``kind`` (its name, label or an alias)."""
    model = MODELS[kind]
    labels = {f.name: f.verbose_name for f in model._meta.get_fields()
              if hasattr(f, "verbose_name")}
    return match_headers(headers, {
        name: header_names(name, labels.get(name), aliases)
        for name, aliases in FIELDS[kind].items()})


def mapping_names(kind: str) -> list[str]:
    """Saved mappings offered for ``kind``: the built-in ones, then those saved in admin."""
    from leads.models_intake import ImportMapping

    return sorted({name for name, k in PRESETS if k == kind}) + list(
        ImportMapping.objects.values_list("name", flat=True))


def resolve_mapping(kind: str, headers: list[str], name: str = "") -> dict[str, str]:
    """Column → field for ``headers``: from the saved mapping ``name``, else guessed.

    Raises ``LookupError`` for an unknown mapping name.
    """
    if not name:
        return guess_mapping(kind, headers)
    preset = PRESETS.get((name, kind))
    if preset is None:
        from leads.models_intake import ImportMapping

        saved = ImportMapping.objects.filter(name=name).first()
        if saved is None:
            raise LookupError(name)
        preset = saved.mapping
    return {h: preset.get(h, ATTRIBUTE) for h in headers if h}


# --- reading rows ---------------------------------------------------------------------------


def _decimal(value: str, label: str) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value.replace(",", "").replace("¥", "").replace("$", "").strip())
    except InvalidOperation as exc:
        raise RowRejected(_("%(field)s is not a number: %(value)s")
                          % {"field": label, "value": value}) from exc
    if number < 0 or number >= Decimal("1e12"):
        raise RowRejected(_("%(field)s is out of range: %(value)s")
                          % {"field": label, "value": value})
    return number


def _date(value: str, label: str) -> date | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value[:10], pattern).date()
        except ValueError:
            continue
    raise RowRejected(_("%(field)s is not a date: %(value)s") % {"field": label,
                                                                 "value": value})


def _moment(day: date | None):
    """Noon of a day in the install's zone (a date-only column has no time of day)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(12)))


def _limit(value: str, model, name: str) -> str:
    limit = model._meta.get_field(name).max_length
    if limit and len(value) > limit:
        raise RowRejected(_("%(field)s is longer than %(limit)d characters.")
                          % {"field": model._meta.get_field(name).verbose_name,
                             "limit": limit})
    return value


@dataclass
class _Context:
    """What a run looks up once (or once per batch) instead of once per row."""

    actor_id: int | None
    prefix: str
    now: datetime
    closed: dict = field(default_factory=dict)  # stage code → "won" / "lost" / ""
    people: dict = field(default_factory=dict)  # compact(name or username) → user id
    products: dict = field(default_factory=dict)  # compact(name or code) → Product
    matchers: dict = field(default_factory=dict)  # field → DictionaryMatcher
    raw: dict = field(default_factory=dict)  # line → the row as read, for the report


def _people() -> dict[str, int]:
    found = {}
    for user_id, username, name, name_en in Employee.objects.values_list(
            "user_id", "user__username", "name", "name_en"):
        for label in (username, name, name_en):
            if label:
                found.setdefault(compact(label), user_id)
    return found


def _closed_stages() -> dict[str, str]:
    return {code: str((extra or {}).get("closed") or "")
            for code, extra in DictionaryItem.objects.active().of("opportunity_stage")
            .values_list("code", "extra")}


def _matchers(kind: str) -> dict[str, DictionaryMatcher]:
    """The dictionary matcher of each field of ``kind`` that holds a code (one query);
    industries also go by the names other systems give them."""
    fields = DICTIONARY_FIELDS.get(kind, {})
    matchers = dictionary_matchers(*set(fields.values()))
    if "industry" in matchers:
        matchers["industry"].with_aliases(INDUSTRY_SYNONYMS)
    return {name: matchers[code] for name, code in fields.items()}


def _coded(values: dict, name: str, ctx, label) -> str:
    """The dictionary code of the row's ``name`` column ("" when blank); a value that
    matches no item rejects the row."""
    value = values.get(name, "")
    if not value:
        return ""
    matcher = ctx.matchers[name]
    code = matcher.match(value)
    if code is None:
        raise RowRejected(matcher.refusal(label, value))
    return code


def _products() -> dict[str, Product]:
    found = {}
    for product in Product.objects.all():
        found.setdefault(compact(product.name), product)
        found.setdefault(compact(product.code), product)
    return found


# --- per kind: key, checks and writes ---------------------------------------------------------


def _product_row(values, attributes, ctx) -> tuple[str, dict]:
    name = _limit(values.get("name", ""), Product, "name")
    if not name:
        raise RowRejected(_("No product name."))
    code = values.get("code") or slugify(name) or compact(name)
    return compact(name), {
        "name": name, "code": _limit(code[:64], Product, "code"),
        "series": _limit(values.get("series", ""), Product, "series"),
        "category": _coded(values, "category", ctx, _("Category")),
        "list_price": _decimal(values.get("list_price", ""), _("list price")) or Decimal("0"),
    }


def _write_products(rows, ctx, counts) -> None:
    existing = _products()
    new, merged = [], 0
    for _line, key, data in rows:
        product = existing.get(key) or existing.get(compact(data["code"]))
        if product is None:
            new.append(Product(**data))
            continue
        changed = [name for name in ("series", "category") if not getattr(product, name)
                   and data[name]]
        if not product.list_price and data["list_price"]:
            changed.append("list_price")
        for name in changed:
            setattr(product, name, data[name])
        if changed:
            product.save(update_fields=changed)
        merged += 1
    Product.objects.bulk_create(new)
    counts.accepted += len(new)
    counts.merged += merged


def _size(employees: str) -> str:
    try:
        staff = int(float(employees.replace(",", "")))
    except (TypeError, ValueError):
        return ""
    return "small" if staff < 50 else "medium" if staff <= 500 else "large"


def _customer_row(values, attributes, ctx) -> tuple[str, dict]:
    name = _limit(values.get("name", ""), Customer, "name")
    if not name:
        raise RowRejected(_("No customer name."))
    industry = _coded(values, "industry", ctx, _("Industry"))
    region = _coded(values, "region", ctx, _("Region"))
    size = _coded(values, "size", ctx, _("Size")) or _size(values.get("employees", ""))
    if values.get("employees"):
        attributes = {**attributes, "employees": values["employees"]}
    owner_id = None
    if values.get("owner"):
        owner_id = ctx.people.get(compact(values["owner"]))
        if owner_id is None:
            raise RowRejected(_("No employee named %(name)s.") % {"name": values["owner"]})
    external_id = values.get("external_id", "")
    key = f"x:{external_id}" if external_id else f"n:{normalize_company(name)}"
    return key, {
        "name": name, "name_key": normalize_company(name), "industry": industry,
        "region": region, "size": size,
        "address": _limit(values.get("address", ""), Customer, "address"),
        "website": _limit(values.get("website", ""), Customer, "website"),
        "external_id": _limit(external_id, Customer, "external_id"), "owner_id": owner_id,
        "notes": values.get("notes", ""), "attributes": attributes,
    }


def _write_customers(rows, ctx, counts) -> None:
    name_keys = [data["name_key"] for _l, _k, data in rows]
    externals = [data["external_id"] for _l, _k, data in rows if data["external_id"]]
    existing = {}
    for customer in Customer.objects.filter(
            Q(name_key__in=name_keys) | Q(external_id__in=externals),
            merged_into__isnull=True).order_by("pk"):
        existing.setdefault(f"n:{customer.name_key}", customer)
        if customer.external_id:
            existing.setdefault(f"x:{customer.external_id}", customer)
    new, merged = [], []
    for _line, key, data in rows:
        customer = existing.get(key) or existing.get(f"n:{data['name_key']}")
        if customer is None:
            new.append(Customer(created_by_id=ctx.actor_id, created_at=ctx.now, **data))
            continue
        for name in ("industry", "region", "size", "address", "website", "owner_id"):
            if not getattr(customer, name) and data[name]:
                setattr(customer, name, data[name])
        customer.attributes = {**data["attributes"], **(customer.attributes or {})}
        merged.append(customer)
    Customer.objects.bulk_create(new)
    if merged:
        Customer.objects.bulk_update(merged, ["industry", "region", "size", "address",
                                              "website", "owner_id", "attributes"])
    counts.accepted += len(new)
    counts.merged += len(merged)


def _contact_row(values, attributes, ctx) -> tuple[str, dict]:
    name = _limit(values.get("name", ""), Contact, "name")
    if not name:
        raise RowRejected(_("No contact name."))
    methods = [(kind, values[kind]) for kind in ("mobile", "phone", "email", "wechat")
               if values.get(kind)]
    customer_key = normalize_company(values.get("customer", ""))
    external_id = values.get("external_id", "")
    key = (f"x:{external_id}" if external_id
           else f"n:{compact(name)}:{customer_key}:{methods[0][1] if methods else ''}")
    return key, {"name": name, "title": _limit(values.get("title", ""), Contact, "title"),
                 "external_id": external_id, "customer_key": customer_key,
                 "customer": values.get("customer", ""), "role": values.get("role", ""),
                 "methods": methods}


def _write_contacts(rows, ctx, counts) -> None:
    from leads.normalize import normalize_email, normalize_phone

    customers = {c.name_key: c.pk for c in Customer.objects.filter(
        name_key__in={d["customer_key"] for _l, _k, d in rows if d["customer_key"]},
        merged_into__isnull=True).order_by("-pk")}
    externals = dict(Contact.objects.filter(
        external_id__in=[d["external_id"] for _l, _k, d in rows if d["external_id"]])
        .values_list("external_id", "pk"))
    new, links, accepted = [], [], 0
    for line, _key, data in rows:
        if data["external_id"] and data["external_id"] in externals:
            counts.merged += 1
            continue
        customer_id = customers.get(data["customer_key"])
        if data["customer"] and customer_id is None:
            counts.rejected += 1
            counts.rejects.append((line, _("No customer named %(name)s; import customers "
                                           "first.") % {"name": data["customer"]},
                                   ctx.raw.get(line, {})))
            continue
        new.append(Contact(name=data["name"], title=data["title"],
                           external_id=data["external_id"], created_by_id=ctx.actor_id,
                           created_at=ctx.now))
        links.append((customer_id, data))
    Contact.objects.bulk_create(new)
    methods, memberships = [], []
    for contact, (customer_id, data) in zip(new, links, strict=True):
        for number, (kind, value) in enumerate(data["methods"]):
            key = normalize_email(value) if kind == "email" else (
                normalize_phone(value) if kind in ("mobile", "phone") else value.strip())
            methods.append(ContactMethod(contact=contact, kind=kind, value=value,
                                         value_key=key, is_primary=number == 0))
        if customer_id:
            memberships.append(CustomerContact(customer_id=customer_id, contact=contact,
                                               role=data["role"][:100]))
        accepted += 1
    ContactMethod.objects.bulk_create(methods)
    CustomerContact.objects.bulk_create(memberships, ignore_conflicts=True)
    counts.accepted += accepted


# The employee's accounts in WeCom, DingTalk and Feishu (reminders reach them there).
IM_FIELDS = ("wecom_userid", "dingtalk_userid", "feishu_userid")


def _employee_row(values, attributes, ctx) -> tuple[str, dict]:
    name = _limit(values.get("name", ""), Employee, "name")
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
                                **{field: _limit(values.get(field, ""), Employee, field)
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
    from orgs.presets import apply_org_stage

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


def _opportunity_row(values, attributes, ctx) -> tuple[str, dict]:
    if not values.get("stage"):
        raise RowRejected(_("No stage."))
    code = _coded(values, "stage", ctx, _("Stage"))
    closed = ctx.closed.get(code, "")
    lost_reason = _coded(values, "lost_reason", ctx, _("Lost reason"))
    owner_id = None
    if values.get("owner"):
        owner_id = ctx.people.get(compact(values["owner"]))
        if owner_id is None:
            raise RowRejected(_("No employee named %(name)s; import employees first.")
                              % {"name": values["owner"]})
    elif not closed:
        raise RowRejected(_("An open opportunity needs an owner."))
    product = None
    if values.get("product"):
        product = ctx.products.get(compact(values["product"]))
        if product is None:
            raise RowRejected(_("Unknown product: %(name)s; import products first.")
                              % {"name": values["product"]})
    amount = _decimal(values.get("amount", ""), _("amount"))
    if amount is None:
        # An open deal without a value is expected at the product's list price.
        amount = product.list_price if product is not None and not closed else Decimal("0")
    engaged = _date(values.get("engage_date", ""), _("engage date"))
    closed_on = _date(values.get("close_date", ""), _("close date"))
    expected = _date(values.get("expected_close", ""), _("expected close"))
    if closed and closed_on is None:
        closed_on = expected
    if engaged and closed_on and closed_on < engaged:
        raise RowRejected(_("The close date is before the engage date."))
    external_id = values.get("external_id", "")
    customer = values.get("customer", "")
    name = values.get("name") or " · ".join(
        part for part in (product.name if product else "", customer or _("no account"))
        if part)
    kind = values.get("type", "")
    return (f"x:{ctx.prefix}{external_id}" if external_id else "", {
        "name": _limit(name, Opportunity, "name"),
        "external_id": _limit(f"{ctx.prefix}{external_id}" if external_id else "",
                              Opportunity, "external_id"),
        "customer_key": normalize_company(customer), "customer": customer,
        "owner_id": owner_id, "product": product, "stage": code, "closed": closed,
        "amount": amount, "engaged": engaged, "closed_on": closed_on,
        "expected": expected if expected else (closed_on if closed else None),
        "type": kind if kind in Opportunity.Type.values else Opportunity.Type.SOLUTION,
        "lost_reason": lost_reason if closed == Opportunity.Status.LOST else "",
    })


def _placeholder_customer(ctx) -> Customer:
    """One clearly named customer for opportunities whose file names no account."""
    customer, _created = Customer.objects.get_or_create(
        external_id=PLACEHOLDER_CUSTOMER,
        defaults={"name": "（未登记客户）Account not recorded", "name_key": "",
                  "notes": _("Opportunities imported without an account point here; "
                             "link each to its real customer when it is known."),
                  "created_by_id": ctx.actor_id})
    return customer


def _write_opportunities(rows, ctx, counts) -> None:
    externals = set(Opportunity.objects.filter(
        external_id__in=[d["external_id"] for _l, _k, d in rows if d["external_id"]])
        .values_list("external_id", flat=True))
    customers = {c.name_key: c.pk for c in Customer.objects.filter(
        name_key__in={d["customer_key"] for _l, _k, d in rows if d["customer_key"]},
        merged_into__isnull=True).order_by("-pk")}
    placeholder = None
    new = []
    for line, _key, data in rows:
        if data["external_id"] and data["external_id"] in externals:
            counts.merged += 1  # already imported: its stage history is the record's own
            continue
        customer_id = customers.get(data["customer_key"])
        if data["customer"] and customer_id is None:
            counts.rejected += 1
            counts.rejects.append((line, _("No customer named %(name)s; import customers "
                                           "first.") % {"name": data["customer"]},
                                   ctx.raw.get(line, {})))
            continue
        if customer_id is None:
            placeholder = placeholder or _placeholder_customer(ctx)
            customer_id = placeholder.pk
        opened = _moment(data["engaged"]) or ctx.now
        closed_at = _moment(data["closed_on"]) if data["closed"] else None
        status = data["closed"] or Opportunity.Status.OPEN
        new.append((data, Opportunity(
            name=data["name"], customer_id=customer_id, owner_id=data["owner_id"],
            product=data["product"], type=data["type"], amount=data["amount"],
            expected_close=data["expected"], stage=data["stage"],
            stage_changed_at=closed_at or opened, status=status, closed_at=closed_at,
            external_id=data["external_id"], lost_reason=data["lost_reason"],
            created_by_id=ctx.actor_id, created_at=opened,
            assigned_at=opened if data["owner_id"] else None, pooled_at=opened)))
    Opportunity.objects.bulk_create([opportunity for _d, opportunity in new])
    changes, events = [], []
    for data, opportunity in new:
        opened = opportunity.created_at
        first = "engaging" if data["engaged"] and data["closed"] else opportunity.stage
        if data["closed"] and data["engaged"] and "engaging" in ctx.closed:
            changes.append(OpportunityStageChange(opportunity=opportunity, from_stage="",
                                                  to_stage=first, changed_at=opened))
            changes.append(OpportunityStageChange(
                opportunity=opportunity, from_stage=first, to_stage=opportunity.stage,
                changed_at=opportunity.closed_at,
                time_in_stage=opportunity.closed_at - opened))
        else:
            changes.append(OpportunityStageChange(opportunity=opportunity, from_stage="",
                                                  to_stage=opportunity.stage,
                                                  changed_at=opportunity.stage_changed_at))
        events.append(OpportunityEvent(opportunity=opportunity,
                                       kind=OpportunityEvent.Kind.CREATED,
                                       actor_id=ctx.actor_id, to_owner_id=opportunity.owner_id,
                                       reason="file_import", created_at=opened))
    OpportunityStageChange.objects.bulk_create(changes)
    OpportunityEvent.objects.bulk_create(events)
    counts.accepted += len(new)


@dataclass(frozen=True)
class _Kind:
    check: Callable
    write: Callable


_KINDS = {
    "products": _Kind(_product_row, _write_products),
    "customers": _Kind(_customer_row, _write_customers),
    "contacts": _Kind(_contact_row, _write_contacts),
    "employees": _Kind(_employee_row, _write_employees),
    "opportunities": _Kind(_opportunity_row, _write_opportunities),
}


def run_record_import(*, kind: str, table: Table, mapping: dict, actor=None,
                      mapping_name: str = "", empty_markers=None,
                      on_progress: Callable[[int, ImportCounts], None] | None = None,
                      batch_size: int = BATCH_SIZE) -> RecordCounts:
    """Import every row of ``table`` as records of ``kind``; returns counts and rejects."""
    handler = _KINDS[kind]
    empty = {m.lower() for m in (empty_markers if empty_markers is not None
                                 else DEFAULT_EMPTY_MARKERS)}
    ensure_dictionary_items()
    ctx = _Context(actor_id=getattr(actor, "pk", None),
                   prefix=EXTERNAL_PREFIX.get(mapping_name, ""), now=timezone.now())
    if kind in ("customers", "opportunities"):
        ctx.people = _people()
    if kind == "opportunities":
        ctx.closed, ctx.products = _closed_stages(), _products()
    ctx.matchers = _matchers(kind)
    counts = RecordCounts(total=table.total)
    seen: dict[str, int] = {}
    plan = _plan(table.headers, mapping)
    processed = 0
    for batch in _batches(table.rows, batch_size):
        good = []
        for line, cells in batch:
            values, attributes = split_row(cells, plan, empty, first_wins=True)
            try:
                key, data = handler.check(values, attributes, ctx)
            except RowRejected as problem:
                counts.rejected += 1
                counts.rejects.append((line, str(problem),
                                       dict(zip(table.headers, cells, strict=False))))
                continue
            if key and key in seen:
                counts.skipped += 1
                counts.rejects.append((line, _("Duplicate of line %(line)d in this file.")
                                       % {"line": seen[key]},
                                       dict(zip(table.headers, cells, strict=False))))
                continue
            if key:
                seen[key] = line
            good.append((line, key, data))
            ctx.raw[line] = dict(zip(table.headers, cells, strict=False))
        if good:
            with transaction.atomic():
                handler.write(good, ctx, counts)
        ctx.raw.clear()
        processed += len(batch)
        if on_progress:
            on_progress(processed, counts)
    return counts


def run_record_job(job) -> RecordCounts:
    """Run a queued web import job of records: read its file, import, keep the rejects."""
    from leads.importer import read_table
    from leads.models_intake import ImportJob, ImportRejectedRow

    with job.file.open("rb") as handle:
        table = read_table(handle.read(), job.original_name)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=table.total, encoding=table.encoding)

    def progress(processed: int, counts: ImportCounts) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=processed, accepted=counts.accepted, merged=counts.merged,
            skipped=counts.skipped, rejected=counts.rejected)

    counts = run_record_import(kind=job.kind, table=table, mapping=job.mapping,
                               actor=job.created_by, mapping_name=job.mapping_name,
                               empty_markers=job.empty_markers or None, on_progress=progress)
    ImportRejectedRow.objects.filter(job=job).delete()
    ImportRejectedRow.objects.bulk_create(
        [ImportRejectedRow(job=job, line=line, reason=reason[:300], data=data)
         for line, reason, data in counts.rejects], batch_size=2000)
    return counts
