"""Names of report groups in the viewer's language: dictionary labels, people's and
teams' names, pools — one query per kind of group, whatever the number of rows."""

from __future__ import annotations

from django.utils.translation import gettext as _

from contracts.models import Product
from leads.models import LeadPool
from orgs.models import DictionaryItem, Employee, OrgUnit

_DICTIONARIES = {"channel": "channel", "region": "region", "product": "product_category",
                 "followup_type": "followup_type"}


def group_labels(by: str | None, keys) -> dict[str, str]:
    """``key → label`` for the groups of a breakdown ``by``."""
    keys = [k for k in keys if k]
    # Groups named by a number (people, teams, pools, products): anything else names none.
    ids = [int(k) for k in map(str, keys) if k.isascii() and k.isdigit() and len(k) < 19]
    labels: dict[str, str] = {}
    if by in _DICTIONARIES:
        for item in DictionaryItem.objects.filter(dictionary__code=_DICTIONARIES[by],
                                                  code__in=keys):
            labels[item.code] = item.display_label
    elif by == "rep":
        for employee in Employee.objects.filter(user_id__in=ids):
            labels[str(employee.user_id)] = employee.display_name
    elif by == "team":
        for unit in OrgUnit.objects.filter(pk__in=ids):
            labels[str(unit.pk)] = unit.display_name
    elif by == "product_item":
        for product in Product.objects.filter(pk__in=ids):
            labels[str(product.pk)] = product.name
    elif by == "pool":
        for pool in LeadPool.objects.filter(pk__in=ids):
            labels[str(pool.pk)] = pool.display_name
    else:
        labels = {k: k for k in keys}
    return labels


def empty_label(by: str | None) -> str:
    """What a group without a value is called (unowned leads, no channel, …)."""
    if by in ("rep", "team"):
        return _("Unowned")
    if by is None:
        return _("All")
    return _("Not set")
