"""Import of the product catalogue (admin → Products → Import)."""

from decimal import Decimal, InvalidOperation

from import_export import fields, resources
from import_export.widgets import Widget

from crm_site.lib.imports import maven

from .models import Product


class MoneyWidget(Widget):
    """``"1,096.00"`` / ``"￥550"`` → Decimal; never a float."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").replace(",", "").replace("￥", "").replace("$", "").strip()
        if not text:
            return Decimal("0")
        try:
            return Decimal(text).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc


class ProductResource(resources.ModelResource):
    list_price = fields.Field(attribute="list_price", column_name="list_price",
                              widget=MoneyWidget())

    class Meta:
        model = Product
        import_id_fields = ("code",)
        fields = ("code", "name", "series", "category", "list_price", "unit_cost", "is_active")
        skip_unchanged = True

    def before_import_row(self, row, **kwargs):
        # The Maven CRM catalogue names its columns product / series / sales_price.
        for column, target in maven.COLUMNS["products"].items():
            if column in row and not row.get(target):
                row[target] = row[column]
        if not row.get("code") and row.get("name"):
            from django.utils.text import slugify

            row["code"] = slugify(row["name"])[:64]
