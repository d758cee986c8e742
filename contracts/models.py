"""Products, orders, contracts, approvals, payments and renewals (PRODUCT.md §5)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """An item of the product catalogue."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    series = models.CharField(_("series"), max_length=100, blank=True)
    category = models.SlugField(_("category"), max_length=64, blank=True, db_index=False)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2,
                                     default=Decimal("0"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name
