"""The customer and contact kinds: a customer's key is its external ID or its company
name, a contact's its external ID or name, company and first phone or e-mail; a row whose
key exists fills the record's blank fields instead of adding a twin."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from crm_site.lib.imports.columns import compact
from crm_site.lib.imports.registry import RowRejected
from crm_site.lib.imports.values import coded, within_limit
from leads.normalize import normalize_company, normalize_email, normalize_phone

from ..models import Contact, ContactMethod, Customer, CustomerContact
from .common import ensure_dictionary_items, field_matchers, people

CUSTOMER_FIELDS: dict[str, list[str]] = {
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
}

CONTACT_FIELDS: dict[str, list[str]] = {
    "name": ["name", "contact", "联系人", "姓名"],
    "title": ["title", "jobtitle", "职位"],
    "customer": ["customer", "account", "company", "客户", "公司"],
    "role": ["role", "角色"],
    "mobile": ["mobile", "手机", "手机号"],
    "phone": ["phone", "tel", "电话"],
    "email": ["email", "e-mail", "邮箱"],
    "wechat": ["wechat", "微信"],
    "external_id": ["externalid", "外部id"],
}

CUSTOMER_DICTIONARIES = {"industry": "industry", "region": "region", "size": "customer_size"}


def prepare_customers(ctx) -> None:
    ensure_dictionary_items()
    ctx.lookups["people"] = people()
    ctx.matchers = field_matchers(CUSTOMER_DICTIONARIES)


def _size(employees: str) -> str:
    try:
        staff = int(float(employees.replace(",", "")))
    except (TypeError, ValueError):
        return ""
    return "small" if staff < 50 else "medium" if staff <= 500 else "large"


def customer_row(values, attributes, ctx) -> tuple[str, dict]:
    name = within_limit(values.get("name", ""), Customer, "name")
    if not name:
        raise RowRejected(_("No customer name."))
    industry = coded(values, "industry", ctx, _("Industry"))
    region = coded(values, "region", ctx, _("Region"))
    size = coded(values, "size", ctx, _("Size")) or _size(values.get("employees", ""))
    if values.get("employees"):
        attributes = {**attributes, "employees": values["employees"]}
    owner_id = None
    if values.get("owner"):
        owner_id = ctx.lookups["people"].get(compact(values["owner"]))
        if owner_id is None:
            raise RowRejected(_("No employee named %(name)s.") % {"name": values["owner"]})
    external_id = values.get("external_id", "")
    key = f"x:{external_id}" if external_id else f"n:{normalize_company(name)}"
    return key, {
        "name": name, "name_key": normalize_company(name), "industry": industry,
        "region": region, "size": size,
        "address": within_limit(values.get("address", ""), Customer, "address"),
        "website": within_limit(values.get("website", ""), Customer, "website"),
        "external_id": within_limit(external_id, Customer, "external_id"), "owner_id": owner_id,
        "notes": values.get("notes", ""), "attributes": attributes,
    }


def write_customers(rows, ctx, counts) -> None:
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


def contact_row(values, attributes, ctx) -> tuple[str, dict]:
    name = within_limit(values.get("name", ""), Contact, "name")
    if not name:
        raise RowRejected(_("No contact name."))
    methods = [(kind, values[kind]) for kind in ("mobile", "phone", "email", "wechat")
               if values.get(kind)]
    customer_key = normalize_company(values.get("customer", ""))
    external_id = values.get("external_id", "")
    key = (f"x:{external_id}" if external_id
           else f"n:{compact(name)}:{customer_key}:{methods[0][1] if methods else ''}")
    return key, {"name": name, "title": within_limit(values.get("title", ""), Contact, "title"),
                 "external_id": external_id, "customer_key": customer_key,
                 "customer": values.get("customer", ""), "role": values.get("role", ""),
                 "methods": methods}


def write_contacts(rows, ctx, counts) -> None:
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


