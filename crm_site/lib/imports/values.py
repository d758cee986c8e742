"""Cell values of record imports: numbers, dates, lengths and dictionary codes, each
refusing its row with a reason in the user's language."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from .registry import RowRejected


def decimal_value(value: str, label: str) -> Decimal | None:
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


def date_value(value: str, label: str) -> date | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value[:10], pattern).date()
        except ValueError:
            continue
    raise RowRejected(_("%(field)s is not a date: %(value)s") % {"field": label,
                                                                 "value": value})


def noon_of(day: date | None):
    """Noon of a day in the install's zone (a date-only column has no time of day)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(12)))


def within_limit(value: str, model, name: str) -> str:
    limit = model._meta.get_field(name).max_length
    if limit and len(value) > limit:
        raise RowRejected(_("%(field)s is longer than %(limit)d characters.")
                          % {"field": model._meta.get_field(name).verbose_name,
                             "limit": limit})
    return value




def coded(values: dict, name: str, ctx, label) -> str:
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

