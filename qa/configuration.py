"""QA leads' configuration: scorecards and their versions, violation types, plans.

Admin saves through these functions so that every change is audited (a ``QAEvent`` in the
same transaction) and a published scorecard version is never edited in place: a change
is a new draft version, copied from the current one, published when ready.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    QAEvent,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
)


def _plain(obj) -> dict:
    data = model_to_dict(obj)
    return {key: (value if isinstance(value, (str, int, float, bool, list, dict, type(None)))
                  else str(value)) for key, value in data.items()}


def config_save(*, obj, actor, created: bool) -> None:
    """Save a configuration object (plan, violation type, scorecard, section, item) and
    audit it. Sections and items of a published version cannot change."""
    version = _version_of(obj)
    if version is not None and version.published_at is not None:
        raise ValidationError(_("This scorecard version is published and cannot change; "
                                "create a new version instead."))
    with transaction.atomic():
        obj.save()
        QAEvent.objects.create(kind=QAEvent.Kind.CONFIGURED, actor=actor,
                               detail={"model": obj._meta.model_name, "id": obj.pk,
                                       "created": created, "values": _plain(obj)})


def _version_of(obj):
    if isinstance(obj, ScorecardSection):
        return obj.version if obj.version_id else None
    if isinstance(obj, ScorecardItem):
        return obj.section.version if obj.section_id else None
    return None


def version_publish(*, version_id: int, actor) -> ScorecardVersion:
    """Publish a draft version: from now on new inspections score against it."""
    with transaction.atomic():
        version = ScorecardVersion.objects.select_for_update().get(pk=version_id)
        if version.published_at is not None:
            return version
        if not ScorecardItem.objects.filter(section__version=version).exists():
            raise ValidationError(_("A scorecard version needs at least one item."))
        version.published_at = timezone.now()
        version.save(update_fields=["published_at"])
        QAEvent.objects.create(kind=QAEvent.Kind.CONFIGURED, actor=actor,
                               detail={"model": "scorecardversion", "id": version.pk,
                                       "published": True})
    return version


def version_new_draft(*, scorecard: Scorecard, actor) -> ScorecardVersion:
    """A new draft version of ``scorecard``, a copy of its newest version."""
    with transaction.atomic():
        Scorecard.objects.select_for_update().filter(pk=scorecard.pk).first()
        newest = scorecard.versions.order_by("-number").first()
        number = (scorecard.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        draft = ScorecardVersion.objects.create(
            scorecard=scorecard, number=number,
            pass_mark=newest.pass_mark if newest else 80,
            coaching_mark=newest.coaching_mark if newest else 90)
        if newest is not None:
            for section in newest.sections.prefetch_related("items"):
                copy = ScorecardSection.objects.create(version=draft, order=section.order,
                                                       name=section.name,
                                                       name_en=section.name_en)
                ScorecardItem.objects.bulk_create(
                    ScorecardItem(section=copy, order=item.order, code=item.code,
                                  label=item.label, label_en=item.label_en, weight=item.weight,
                                  max_score=item.max_score, scale=item.scale,
                                  critical=item.critical)
                    for item in section.items.all())
        QAEvent.objects.create(kind=QAEvent.Kind.CONFIGURED, actor=actor,
                               detail={"model": "scorecardversion", "id": draft.pk,
                                       "copied_from": newest.pk if newest else None})
    return draft
