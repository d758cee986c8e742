"""The stage dictionary as the pipeline reads it: ordered stages, probabilities, and which
stages close an opportunity (won / lost).

Admins edit the ``opportunity_stage`` dictionary; an item whose ``extra`` says
``{"closed": "won"}`` or ``{"closed": "lost"}`` closes the opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from orgs.models import DictionaryItem

STAGE_DICTIONARY = "opportunity_stage"
LOST_REASON_DICTIONARY = "lost_reason"


@dataclass(frozen=True)
class Stage:
    code: str
    label: str
    order: int
    probability: int
    closed: str  # "", "won" or "lost"

    @property
    def weight(self) -> Decimal:
        return Decimal(self.probability) / Decimal(100)


def stages(*, include_inactive: bool = False) -> list[Stage]:
    """The stages in dictionary order, labelled in the current language (one query)."""
    items = DictionaryItem.objects.of(STAGE_DICTIONARY)
    if not include_inactive:
        items = items.active()
    return [
        Stage(code=item.code, label=item.display_label, order=position,
              probability=item.probability or 0,
              closed=str((item.extra or {}).get("closed") or ""))
        for position, item in enumerate(items.order_by("sort_order", "code"))
    ]


def stage_map() -> dict[str, Stage]:
    return {stage.code: stage for stage in stages()}


def first_open_stage(found: list[Stage] | None = None) -> str:
    for stage in found if found is not None else stages():
        if not stage.closed:
            return stage.code
    return ""


def lost_reasons() -> list[tuple[str, str]]:
    return [(item.code, item.display_label)
            for item in DictionaryItem.objects.active().of(LOST_REASON_DICTIONARY)]
