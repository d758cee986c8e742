"""The text of a message: short, in the reader's language, contact data masked for them,
with an absolute link back to the record.

A notification stores a kind and parameters, not a sentence (``notifications.kinds``); the
sentence is written here in the language the reader chose, when the message goes out. Any
phone number, e-mail address, ID-card or bank-card number in it is masked as a list page
would mask it for that reader (``orgs.access.show_text``); a team group, read by many, always
sees them masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from orgs.access import Scenario, show_text

from . import topics

# Platforms cut text messages at 2,048 bytes (WeCom) or 20 KB (Feishu's robots); a reminder
# should be far shorter anyway.
MAX_BYTES = 1800

def mask_contacts(text: str, viewer) -> str:
    """``text`` with every contact value in it as ``viewer`` may see it in a notification.

    ``viewer=None`` (a group chat) always masks.
    """
    return show_text(viewer, text, Scenario.NOTIFICATION)


def absolute(url: str) -> str:
    if not url:
        return ""
    return urljoin(settings.SITE_BASE_URL.rstrip("/") + "/", url.lstrip("/"))


@dataclass(frozen=True)
class Text:
    title: str
    body: str
    link: str = ""

    def plain(self) -> str:
        """Title, body and link on their own lines, cut to ``MAX_BYTES``."""
        head, tail = f"{self.title}\n", f"\n{self.link}" if self.link else ""
        room = MAX_BYTES - len(head.encode()) - len(tail.encode())
        return head + _cut(self.body, room) + tail


def _cut(text: str, room: int) -> str:
    raw = text.encode()
    if len(raw) <= room:
        return text
    return raw[:max(room - 3, 0)].decode(errors="ignore") + "…"


def title(label) -> str:
    return f"LeadPool CRM · {label}" if label else "LeadPool CRM"


def notification_text(notification, *, viewer, language: str, member: str = "") -> Text:
    """A notification as ``viewer`` reads it (``viewer=None`` and ``member`` for a group)."""
    with translation.override(language):
        topic = topics.topic_of(notification.kind)
        body = mask_contacts(notification.text, viewer)
        if member:
            body = _("%(member)s: %(text)s") % {"member": member, "text": body}
        return Text(title(topic.label if topic else ""), body,
                    absolute(notification.url or "/notifications/"))


def sample_text(*, language: str, destination: str) -> Text:
    with translation.override(language):
        return Text(title(_("Test message")),
                    _("This is a test message to %(destination)s. If you read it, reminders "
                      "can reach you here.") % {"destination": destination},
                    absolute("/notifications/"))
