"""The text of a message: short, in the reader's language, contact data masked for them,
with an absolute link back to the record.

A notification stores a kind and parameters, not a sentence (``notifications.kinds``); the
sentence is written here in the language the reader chose, when the message goes out. Any
phone number, e-mail address, ID-card or bank-card number in it is masked as a list page
would mask it for that reader (``crm_site.lib.masking``); a team group, read by many, always
sees them masked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from crm_site.lib.masking import Kind, Scenario, mask_for

from . import topics

# Platforms cut text messages at 2,048 bytes (WeCom) or 20 KB (Feishu's robots); a reminder
# should be far shorter anyway.
MAX_BYTES = 1800

# Digits in any script (full-width too) count; a number glued to other digits or Latin
# letters is part of something else (an order number, a date), not contact data.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\dA-Za-z])", r"(?![\dA-Za-z])"
_PATTERNS = [
    (Kind.EMAIL, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), None),
    (Kind.ID_CARD, re.compile(_EDGE_BEFORE + r"\d{17}[\dXx]" + _EDGE_AFTER), None),
    (Kind.BANK_CARD, re.compile(_EDGE_BEFORE + r"\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?"
                                + _EDGE_AFTER), None),
    (Kind.PHONE, re.compile(r"(?<![\dA-Za-z+])(?:[+＋]?(?:86|８６)[\s-]?)?"
                            r"\d{3}(?:[\s-]?\d{4}){2}" + _EDGE_AFTER),
     re.compile(r"(?:86)?1[3-9]\d{9}")),
    (Kind.PHONE, re.compile(_EDGE_BEFORE + r"0\d{2,3}-\d{7,8}" + _EDGE_AFTER), None),
]


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdigit())


def mask_contacts(text: str, viewer) -> str:
    """``text`` with every contact value in it as ``viewer`` may see it in a list.

    ``viewer=None`` (a group chat) always masks.
    """
    for kind, pattern, digits_check in _PATTERNS:
        def replace(match, kind=kind, digits_check=digits_check):
            value = match.group(0)
            if digits_check is not None and not digits_check.fullmatch(_digits(value)):
                return value  # eleven digits, but not a mainland mobile number
            return mask_for(viewer, value, kind, Scenario.LIST)

        text = pattern.sub(replace, text)
    return text


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
