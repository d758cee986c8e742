"""Which records a user may see, unmask and act on, for every kind of record.

``orgs`` knows roles, rights and data boundaries but not the records of the apps above it
(leads, pools, customers, opportunities, ...). Each of those apps registers the rules of its
records in ``AppConfig.ready``::

    from orgs.access import register_record_rules

    register_record_rules(
        "leads.Lead",
        visible=visible_leads,                 # visible(user) -> QuerySet of what opens
        contact_clear=lead_contact_clear,      # (user, record, scenario) -> bool, optional
        may_act=lead_may_act,                  # (user, record, action) -> bool, optional
    )

Then anyone, in any app, asks :func:`visible`, :func:`may_see`, :func:`may_unmask` or
:func:`may_act` without importing the app that owns the record. A kind that registered
nothing opens to nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import QuerySet

from .rights import can_unmask, rights_for


@dataclass(frozen=True)
class RecordRules:
    visible: Callable[..., QuerySet]
    contact_clear: Callable[..., bool] | None = None
    may_act: Callable[..., bool] | None = None
    own: Callable[..., bool] | None = None


_RULES: dict[str, RecordRules] = {}


def register_record_rules(label: str, *, visible: Callable[..., QuerySet],
                          contact_clear: Callable[..., bool] | None = None,
                          may_act: Callable[..., bool] | None = None,
                          own: Callable[..., bool] | None = None) -> None:
    """Register the rules of the records of model ``label`` (``"app_label.Model"``);
    ``own(user, record)`` says the record holds the viewer's own contact data (an
    employee's own mobile), which they see without any unmask right."""
    _RULES[label] = RecordRules(visible=visible, contact_clear=contact_clear, may_act=may_act,
                                own=own)


def registered(label: str) -> bool:
    return label in _RULES


def visible(user, label: str) -> QuerySet:
    """Every record of model ``label`` that ``user`` may open (none for an unknown kind)."""
    rules = _RULES.get(label)
    if rules is None or user is None or not user.is_authenticated:
        return apps.get_model(label)._default_manager.none()
    return rules.visible(user)


def may_see(user, record) -> bool:
    """Whether ``user`` may open ``record`` (one query)."""
    if record is None or record.pk is None:
        return False
    return visible(user, record._meta.label).filter(pk=record.pk).exists()


def may_unmask(user, record, scenario: str) -> bool:
    """Whether ``user`` sees ``record``'s contact data in clear in ``scenario``: the unmask
    right for the scenario, and then the record's own rule (the owner does, a pool that
    hides contact data until claimed hides them from everyone, ...); by default, whoever
    may open the record. Everyone sees their own contact data."""
    rules = _RULES.get(record._meta.label) if record is not None else None
    if rules is not None and rules.own is not None and rules.own(user, record):
        return True
    if not can_unmask(user, scenario):
        return False
    if record is None:
        return True
    if rules is None:
        return False
    if rules.contact_clear is not None:
        return bool(rules.contact_clear(user, record, scenario))
    return may_see(user, record)


def may_act(user, record, action: str) -> bool:
    """Whether ``user`` may take ``action`` on ``record`` (the kind's own rule; without one,
    whoever may open the record and holds the operation ``action``)."""
    rules = _RULES.get(record._meta.label)
    if rules is None:
        return False
    if rules.may_act is not None:
        return bool(rules.may_act(user, record, action))
    return rights_for(user).can(action) and may_see(user, record)
