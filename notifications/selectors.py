"""Reads of a user's own notifications (nobody reads another user's)."""

from __future__ import annotations

from crm_site.lib.keyset import Page, keyset_page

from .models import Notification, NotificationSettings


def unread_count(user) -> int:
    """Served by a partial index on unread rows: cheap however many were ever sent."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def recent(user, limit: int = 8) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
                [:limit])


def notification_page(user, *, unread_only: bool = False, cursor: str | None = None,
                      size: int = 30) -> Page:
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return keyset_page(queryset, field="created_at", descending=True, cursor=cursor,
                       size=size)


def email_enabled(user) -> bool:
    return NotificationSettings.objects.filter(user=user, email_enabled=True).exists()
