"""The team digest's sections, offered by the apps that know the data.

Notifications cannot look into leads or opportunities (it sits below them), so each app
that has something for the daily "due today / about to be recycled" digest registers a
section in its ``AppConfig.ready()``::

    register_digest_section("due_today", _("due today"), counts=due_today_counts, order=20)

``counts(user_ids, now)`` returns ``{user_id: number}`` for the team's members in a fixed
number of queries, whatever the team's size; members with nothing are left out. The digest
links to the page named by ``set_digest_link`` (the team's list), else to notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class DigestSection:
    code: str
    label: object  # lazy translation, e.g. "due today"
    counts: Callable[[list[int], datetime], dict[int, int]]
    order: int = 100


_SECTIONS: dict[str, DigestSection] = {}
_LINK: list[str] = []


def register_digest_section(code: str, label, *, counts, order: int = 100) -> DigestSection:
    section = DigestSection(code, label, counts, order)
    _SECTIONS[code] = section
    return section


def unregister_digest_section(code: str) -> None:
    _SECTIONS.pop(code, None)


def sections() -> list[DigestSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.code))


def set_digest_link(url_name: str) -> None:
    _LINK[:] = [url_name]


def digest_link() -> str:
    for name in _LINK:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse("notification_list")
