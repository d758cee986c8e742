"""``{{ delta|duration_short }}``: how long something lasted, in days and hours."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration_short(value: timedelta | None) -> str:
    if value is None:
        return ""
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest // 60}


@register.filter
def money(value, places: int = 0) -> str:
    """``1234567.5`` → ``1,234,568`` (amounts in yuan, grouped by thousands)."""
    if value in (None, ""):
        return ""
    try:
        return f"{float(value):,.{int(places)}f}"
    except (TypeError, ValueError):
        return str(value)
