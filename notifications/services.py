"""Sending and reading notifications.

``notify_many`` is set-based (one query for the recipients' e-mail choices, one
``INSERT … ON CONFLICT DO NOTHING``) so that a sweep can warn thousands of reps at once,
and idempotent through each notification's ``key``. E-mail copies are sent later by
``email_sweep`` (a periodic task), never inside the transaction that created them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone, translation

from orgs.access import Scenario, show_text

from .models import Notification, NotificationSettings


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    params: dict = field(default_factory=dict)
    url: str = ""
    key: str = ""


def notify(*, recipient_id: int, kind: str, params: dict | None = None, url: str = "",
           key: str = "") -> int:
    """Send one notification; returns 1, or 0 if one with the same key was sent before."""
    return notify_many([Message(recipient_id, kind, params or {}, url, key)])


def notify_many(messages: Iterable[Message]) -> int:
    """Send many notifications in one insert; those whose (recipient, key) exists are skipped.

    Returns how many were new.
    """
    messages = [m for m in messages if m.recipient_id]
    if not messages:
        return 0
    recipients = {m.recipient_id for m in messages}
    emailed = set(
        NotificationSettings.objects.filter(user_id__in=recipients, email_enabled=True)
        .exclude(user__email="").values_list("user_id", flat=True)
    )
    now = timezone.now()
    # The same key twice in one call counts once, like a key sent before.
    unique: dict[tuple, Message] = {}
    for m in messages:
        unique.setdefault((m.recipient_id, m.key[:200]) if m.key else (id(m),), m)
    messages = list(unique.values())
    return _insert(messages, emailed, now)


def _insert(messages: list[Message], emailed: set[int], now) -> int:
    """One ``INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING``; returns rows written."""
    table = Notification._meta.db_table
    columns = {
        "recipient_id": [m.recipient_id for m in messages],
        "kind": [m.kind for m in messages],
        "params": [json.dumps(m.params, ensure_ascii=False) for m in messages],
        "url": [m.url for m in messages],
        "key": [m.key[:200] for m in messages],
        "email": [Notification.Email.PENDING.value if m.recipient_id in emailed
                  else Notification.Email.NONE.value for m in messages],
    }
    types = {"recipient_id": "bigint[]", "params": "text[]"}
    select = ", ".join(
        f"u.{name}::jsonb" if name == "params" else f"u.{name}" for name in columns)
    unnest = ", ".join(f"%s::{types.get(name, 'text[]')}" for name in columns)
    sql = f"""
        INSERT INTO {table} ({", ".join(columns)}, created_at)
        SELECT {select}, %s FROM unnest({unnest}) AS u({", ".join(columns)})
        ON CONFLICT DO NOTHING
        RETURNING 1
    """
    # One array literal per column: psycopg2 would send every value as a separate
    # constant for the server to parse (a quarter of a 5,000-row sweep batch).
    arrays = [_array_literal(values) for values in columns.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *arrays])
        return len(cursor.fetchall())


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal (``{"a","b"}``) of ints or strings."""
    return "{" + ",".join(_array_element(v) for v in values) + "}"


def _array_element(value) -> str:
    if isinstance(value, int):
        return str(value)
    value = str(value)
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def mark_read(*, user, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read; returns it (None if not theirs)."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is None:
        return None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at)
    return notification


def mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now())


def set_email_enabled(*, user, enabled: bool) -> NotificationSettings:
    prefs, _ = NotificationSettings.objects.update_or_create(
        user=user, defaults={"email_enabled": enabled})
    return prefs


# Budget: one batch of 200 e-mails per run; the SMTP round trips dominate (~50 ms each).
EMAIL_BATCH = 200


def email_sweep(*, limit: int = EMAIL_BATCH) -> int:
    """E-mail the notifications waiting for it; safe to run twice at the same moment.

    Rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` in a short transaction and
    marked before the mail goes out, so a parallel sweep never sends the same one twice
    (a crash between marking and sending loses that one e-mail, never doubles it).
    """
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(email=Notification.Email.PENDING).select_related("recipient")
            .order_by("pk")[:limit]
        )
        if not batch:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
            email=Notification.Email.SENT, emailed_at=timezone.now())
    sent = 0
    failed = []
    for notification in batch:
        address = notification.recipient.email
        with translation.override(settings.LANGUAGE_CODE):
            text = show_text(notification.recipient, notification.text, Scenario.NOTIFICATION)
            subject = f"LeadPool CRM · {text[:60]}"
        try:
            send_mail(subject, f"{text}\n\n{notification.url}", None, [address],
                      fail_silently=False)
            sent += 1
        except Exception:  # any mail failure is recorded on the row
            failed.append(notification.pk)
    if failed:
        Notification.objects.filter(pk__in=failed).update(email=Notification.Email.FAILED)
    return sent
