"""The registry of notification kinds: how each one reads, in the viewer's language.

An app registers its kinds once (at import of its ``notifications`` or ``services``
module)::

    register("recycle_warning", _("%(lead)s will go back to the pool on %(due)s."),
             icon="bi-hourglass-split")

The message is a lazy translation with ``%(name)s`` placeholders filled from the
notification's ``params``; a missing parameter shows as empty rather than breaking a page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    message: object  # a lazy translation
    icon: str = "bi-bell"


_KINDS: dict[str, Kind] = {}


def register(code: str, message, *, icon: str = "bi-bell") -> Kind:
    kind = Kind(code, message, icon)
    _KINDS[code] = kind
    return kind


def registered(code: str) -> bool:
    return code in _KINDS


def icon(code: str) -> str:
    kind = _KINDS.get(code)
    return kind.icon if kind else "bi-bell"


def in_languages(chinese: str, english: str = "") -> dict[str, str]:
    """A parameter that reads in the reader's language when the notification is shown
    (a rule's name): ``{"zh-hans": …, "en": …}``, English falling back to Chinese."""
    return {"zh-hans": chinese, "en": english or chinese}


def _in_reader_language(value):
    if isinstance(value, dict) and "zh-hans" in value:
        english = (get_language() or "").startswith("en")
        return value.get("en") if english and value.get("en") else value["zh-hans"]
    return "" if value is None else value


def render(notification) -> str:
    kind = _KINDS.get(notification.kind)
    if kind is None:
        return str(notification.params.get("text") or notification.kind)
    params = defaultdict(str, {k: _in_reader_language(v)
                               for k, v in (notification.params or {}).items()})
    try:
        return str(kind.message) % params
    except (TypeError, ValueError, KeyError):
        return str(kind.message)


register("message", _("%(text)s"), icon="bi-chat-left-text")


def codes() -> list[str]:
    """Every registered kind code."""
    return sorted(_KINDS)
