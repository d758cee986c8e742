"""What a person or a team group can choose to receive in WeCom, DingTalk or Feishu.

A *topic* groups notification kinds a reader thinks of as one thing ("follow-up
reminders"). The kinds are those other apps register with ``notifications.kinds`` and send
through ``notify_many``; they are named here by their codes (a contract, not an import), and
a kind named here that no app registers is simply never seen. An app with new kinds adds them
to a topic with ``register_topic_kinds`` (in its ``AppConfig.ready()``); a topic may also
take every registered kind whose code starts with a prefix (the QA workbench's ``qa_…``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .. import kinds as kind_registry


@dataclass
class Topic:
    code: str
    label: object  # lazy translation
    kinds: set[str] = field(default_factory=set)
    prefixes: tuple[str, ...] = ()

    def matches(self, kind: str) -> bool:
        return kind in self.kinds or any(kind.startswith(p) for p in self.prefixes)


_TOPICS: dict[str, Topic] = {}


def register_topic(code: str, label, *, kinds=(), prefixes=()) -> Topic:
    topic = _TOPICS.get(code)
    if topic is None:
        topic = _TOPICS[code] = Topic(code, label, set(kinds), tuple(prefixes))
    else:
        topic.kinds.update(kinds)
        topic.prefixes = (*topic.prefixes, *prefixes)
    return topic


def register_topic_kinds(code: str, *kinds: str) -> None:
    _TOPICS[code].kinds.update(kinds)


def topics() -> list[Topic]:
    return list(_TOPICS.values())


def codes() -> list[str]:
    return list(_TOPICS)


def topic_of(kind: str) -> Topic | None:
    for topic in _TOPICS.values():
        if topic.matches(kind):
            return topic
    return None


def topic_kinds(topic_codes=None) -> list[tuple[str, str]]:
    """``(topic, kind)`` for every kind of the given topics (all by default): those named,
    and the registered ones a prefix takes in."""
    wanted = set(topic_codes) if topic_codes is not None else set(_TOPICS)
    pairs = {(topic.code, kind) for topic in _TOPICS.values() if topic.code in wanted
             for kind in topic.kinds}
    for kind in kind_registry.codes():
        topic = topic_of(kind)
        if topic is not None and topic.code in wanted:
            pairs.add((topic.code, kind))
    return sorted(pairs)


register_topic("followups", _("Follow-up reminders"),
               kinds=("followup_due_lead", "followup_due_customer", "followup_due_opportunity"))
register_topic("recycling", _("Recycle warnings"),
               kinds=("recycle_warning", "lead_recycled", "opportunity_recycled",
                      "reassigned_away"))
register_topic("assigned", _("New leads and opportunities assigned"),
               kinds=("lead_assigned", "opportunity_assigned"))
register_topic("approvals", _("Approvals waiting and decided"),
               kinds=("approval_requested", "approval_approved", "approval_rejected",
                      "extension_requested", "extension_approved", "extension_rejected"))
register_topic("payments", _("Payment and renewal reminders"),
               kinds=("payment_due", "contract_renewal"))
register_topic("qa", _("QA results"), prefixes=("qa_", "inspection_"))
