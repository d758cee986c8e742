"""The opportunity kind: deals with their stage history, keyed by external ID (a built-in
mapping's records carry its prefix), linked to customers, owners and products imported
before them."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _

from crm_site.lib.bulk import text_array_literal
from crm_site.lib.imports.columns import compact
from crm_site.lib.imports.registry import RowRejected
from crm_site.lib.imports.values import coded, date_value, decimal_value, noon_of, within_limit
from leads.models import Lead, LeadEvent
from leads.normalize import normalize_company

from ..models import Customer, Opportunity, OpportunityEvent, OpportunityStageChange
from .common import closed_stages, ensure_dictionary_items, field_matchers, people

OPPORTUNITY_FIELDS: dict[str, list[str]] = {
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
    # The external ID of the lead the deal came from (history from another CRM).
    "lead": ["lead", "leadexternalid", "sourcelead", "线索编号", "线索外部id", "来源线索"],
}

OPPORTUNITY_DICTIONARIES = {"stage": "opportunity_stage", "lost_reason": "lost_reason"}
PLACEHOLDER_CUSTOMER = "import:no-account"


def _products() -> dict:
    """Products by compacted name and code (the catalogue is the contracts app's: read
    through the foreign key, not imported)."""
    product_model = Opportunity._meta.get_field("product").related_model
    found = {}
    for product in product_model.objects.all():
        found.setdefault(compact(product.name), product)
        found.setdefault(compact(product.code), product)
    return found


def prepare_opportunities(ctx) -> None:
    ensure_dictionary_items()
    ctx.lookups.update(people=people(), closed=closed_stages(), products=_products())
    ctx.matchers = field_matchers(OPPORTUNITY_DICTIONARIES)


def opportunity_row(values, attributes, ctx) -> tuple[str, dict]:
    if not values.get("stage"):
        raise RowRejected(_("No stage."))
    code = coded(values, "stage", ctx, _("Stage"))
    closed = ctx.lookups["closed"].get(code, "")
    lost_reason = coded(values, "lost_reason", ctx, _("Lost reason"))
    owner_id = None
    if values.get("owner"):
        owner_id = ctx.lookups["people"].get(compact(values["owner"]))
        if owner_id is None:
            raise RowRejected(_("No employee named %(name)s; import employees first.")
                              % {"name": values["owner"]})
    elif not closed:
        raise RowRejected(_("An open opportunity needs an owner."))
    product = None
    if values.get("product"):
        product = ctx.lookups["products"].get(compact(values["product"]))
        if product is None:
            raise RowRejected(_("Unknown product: %(name)s; import products first.")
                              % {"name": values["product"]})
    amount = decimal_value(values.get("amount", ""), _("amount"))
    if amount is None:
        # An open deal without a value is expected at the product's list price.
        amount = product.list_price if product is not None and not closed else Decimal("0")
    engaged = date_value(values.get("engage_date", ""), _("engage date"))
    closed_on = date_value(values.get("close_date", ""), _("close date"))
    expected = date_value(values.get("expected_close", ""), _("expected close"))
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
        "name": within_limit(name, Opportunity, "name"),
        "external_id": within_limit(f"{ctx.prefix}{external_id}" if external_id else "",
                              Opportunity, "external_id"),
        "customer_key": normalize_company(customer), "customer": customer,
        "owner_id": owner_id, "product": product, "stage": code, "closed": closed,
        "amount": amount, "engaged": engaged, "closed_on": closed_on,
        "expected": expected if expected else (closed_on if closed else None),
        "type": kind if kind in Opportunity.Type.values else Opportunity.Type.SOLUTION,
        "lost_reason": lost_reason if closed == Opportunity.Status.LOST else "",
        "lead": values.get("lead", ""),
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


def write_opportunities(rows, ctx, counts) -> None:
    externals = set(Opportunity.objects.filter(
        external_id__in=[d["external_id"] for _l, _k, d in rows if d["external_id"]])
        .values_list("external_id", flat=True))
    customers = {c.name_key: c.pk for c in Customer.objects.filter(
        name_key__in={d["customer_key"] for _l, _k, d in rows if d["customer_key"]},
        merged_into__isnull=True).order_by("-pk")}
    leads = set(Lead.objects.filter(external_id__in={d["lead"] for _l, _k, d in rows
                                                     if d["lead"]}, external_id__gt="")
                .values_list("external_id", flat=True))
    placeholder = None
    new = []
    for line, _key, data in rows:
        if data["external_id"] and data["external_id"] in externals:
            counts.merged += 1  # already imported: its stage history is the record's own
            continue
        if data["lead"] and data["lead"] not in leads:
            counts.rejected += 1
            counts.rejects.append((line, _("No lead with the external ID %(id)s; import "
                                           "leads first.") % {"id": data["lead"]},
                                   ctx.raw.get(line, {})))
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
        opened = noon_of(data["engaged"]) or ctx.now
        closed_at = noon_of(data["closed_on"]) if data["closed"] else None
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
        if data["closed"] and data["engaged"] and "engaging" in ctx.lookups["closed"]:
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
    _convert_leads([(data["lead"], opportunity) for data, opportunity in new if data["lead"]],
                   ctx)
    counts.accepted += len(new)


def _convert_leads(links: list[tuple[str, Opportunity]], ctx) -> None:
    """Mark the leads the deals came from converted into them, at the deal's creation
    (one UPDATE for the batch; a lead already linked to a deal keeps it)."""
    if not links:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Lead._meta.db_table} AS l
            SET opportunity_id = o.id, customer_id = o.customer_id, status = 'converted',
                converted_at = o.created_at
            FROM unnest(%s::text[], %s::bigint[]) AS link(external_id, opportunity_id)
            JOIN {Opportunity._meta.db_table} o ON o.id = link.opportunity_id
            WHERE l.external_id = link.external_id AND l.external_id <> ''
              AND l.opportunity_id IS NULL
            RETURNING l.id, l.pool_id, l.owner_id, o.created_at
            """,
            [text_array_literal([external for external, _o in links]),
             text_array_literal([str(opportunity.pk) for _e, opportunity in links])])
        converted = cursor.fetchall()
    LeadEvent.objects.bulk_create(
        LeadEvent(lead_id=pk, kind=LeadEvent.Kind.CONVERTED, actor_id=ctx.actor_id,
                  from_pool_id=pool_id, to_pool_id=pool_id, from_owner_id=owner_id,
                  to_owner_id=owner_id, reason="file_import", created_at=at)
        for pk, pool_id, owner_id, at in converted)

