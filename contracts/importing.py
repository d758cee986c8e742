"""The product kind: the catalogue from a file, keyed by compacted name (or code); a row
naming a known product fills its blank series, category and price."""

from __future__ import annotations

from decimal import Decimal

from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.lib.imports import maven
from crm_site.lib.imports.columns import compact
from crm_site.lib.imports.records import RecordSteps, fields_guesser, record_kind_runner
from crm_site.lib.imports.registry import ImportKind, RowRejected
from crm_site.lib.imports.values import coded, decimal_value, within_limit
from opportunities.importing.common import field_matchers

from .models import Product

PRODUCT_FIELDS: dict[str, list[str]] = {
    "name": ["name", "product", "产品", "产品名称"],
    "code": ["code", "sku", "编码"],
    "series": ["series", "系列"],
    "category": ["category", "品类"],
    "list_price": ["listprice", "salesprice", "price", "价格", "标价"],
}


def _products() -> dict[str, Product]:
    found = {}
    for product in Product.objects.all():
        found.setdefault(compact(product.name), product)
        found.setdefault(compact(product.code), product)
    return found


def _prepare(ctx) -> None:
    ctx.matchers = field_matchers({"category": "product_category"})


def _product_row(values, attributes, ctx) -> tuple[str, dict]:
    name = within_limit(values.get("name", ""), Product, "name")
    if not name:
        raise RowRejected(_("No product name."))
    code = values.get("code") or slugify(name) or compact(name)
    return compact(name), {
        "name": name, "code": within_limit(code[:64], Product, "code"),
        "series": within_limit(values.get("series", ""), Product, "series"),
        "category": coded(values, "category", ctx, _("Category")),
        "list_price": decimal_value(values.get("list_price", ""), _("list price")) or Decimal("0"),
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



PRODUCTS = ImportKind(
    code="products", label=gettext_lazy("Products"),
    run=record_kind_runner(RecordSteps(_product_row, _write_products, _prepare)),
    guess_mapping=fields_guesser(lambda: Product, PRODUCT_FIELDS),
    presets=maven.presets("products"), order=40)
