"""How each contact-bearing value is shown to a viewer in a scenario: the one decision.

Every page, htmx fragment, edit form, export, import report, notification, admin page and
print-out shows contact data through :func:`show` (one value) or :func:`show_bag` (a
free-form bag: a lead's attributes, a raw ingest payload, unmapped import columns). A value
is in clear only when the viewer holds the unmask right of the scenario and, for a value
that belongs to a record, the record's own rule lets them (``records.may_unmask``: the
owner or someone whose boundary covers the owner; never on a pool lead whose pool hides
contact data until claimed). Otherwise it is masked by pattern (``crm_site.lib.masking``).
"""

from __future__ import annotations

from crm_site.lib.masking import Kind, Scenario, mask, mask_bag, mask_text

from .records import may_unmask
from .rights import UNMASK_OPERATION, can_unmask, unmask_operation


def _clear(user, scenario: str, record, clear: bool | None) -> bool:
    if clear is not None:
        return clear
    if record is None:
        return can_unmask(user, scenario)
    return may_unmask(user, record, scenario)


def show(user, value, kind: str, scenario: str = Scenario.LIST, *, record=None,
         clear: bool | None = None) -> str:
    """``value`` as ``user`` may see it in ``scenario``: in clear, or masked as ``kind``
    (``Kind.TEXT``: every contact value found in free text). ``record`` ties the value to
    the record it belongs to; ``clear`` passes a decision already taken for that record
    (a list decides once per row)."""
    if value in (None, ""):
        return ""
    if _clear(user, scenario, record, clear):
        return str(value)
    return mask(value, kind)


def show_bag(user, bag, scenario: str = Scenario.DETAIL, *, record=None,
             clear: bool | None = None):
    """A free-form bag as ``user`` may see it: as stored, or with every value under a
    contact key and every contact value found by pattern masked."""
    if not bag:
        return bag
    if _clear(user, scenario, record, clear):
        return bag
    return mask_bag(bag)


def show_text(user, text, scenario: str = Scenario.LIST, *, record=None,
              clear: bool | None = None) -> str:
    """Free text (a note, a notification) with the contact values in it shown as ``user``
    may see them."""
    if not text:
        return text or ""
    if _clear(user, scenario, record, clear):
        return str(text)
    return mask_text(text)


def form_placeholder(user, value, kind: str, *, record=None) -> tuple[str, str]:
    """``(initial, placeholder)`` for an edit field holding a contact value: the value
    itself when the viewer may see it in clear, otherwise an empty field whose placeholder
    shows the masked value (the stored value is kept unless a new one is typed)."""
    if value in (None, ""):
        return "", ""
    if _clear(user, Scenario.FORM, record, None):
        return str(value), ""
    return "", mask(value, kind)


__all__ = ["UNMASK_OPERATION", "Kind", "Scenario", "can_unmask", "form_placeholder",
           "show", "show_bag", "show_text", "unmask_operation"]
