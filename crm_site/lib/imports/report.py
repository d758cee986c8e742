"""The cells of rejected rows as a viewer may see them: contact values masked unless the
viewer may unmask them (``crm_site.lib.masking``).

A column mapped to a phone, e-mail or address field is masked as that kind; every other
cell — names, notes, unmapped columns kept as attributes — is scanned for what looks
like a phone number, an e-mail address, an ID-card or bank-card number, and each match is
masked in place.
"""

from __future__ import annotations

import re

from crm_site.lib.masking import Kind, mask

# Fields of any kind that hold contact values, by the masking kind they take.
FIELD_KINDS = {"mobile": Kind.PHONE, "phone": Kind.PHONE, "email": Kind.EMAIL,
               "address": Kind.ADDRESS, "id_card": Kind.ID_CARD,
               "bank_card": Kind.BANK_CARD}

_EMAIL = re.compile(r"[^\s@,;<>()\"']+@[^\s@,;<>()\"']+\.[^\s@,;<>()\"']+")
_ID_CARD = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_BANK_CARD = re.compile(r"(?<!\d)\d{16,19}(?!\d)")
# Runs of 7 to 15 digits, maybe with a leading + and single spaces or hyphens between.
_PHONE = re.compile(r"(?<![\d\w])\+?\d(?:[ \-]?\d){6,14}(?!\d)")
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")


def _scan(value: str) -> str:
    value = _EMAIL.sub(lambda m: mask(m.group(), Kind.EMAIL), value)
    value = _ID_CARD.sub(lambda m: mask(m.group(), Kind.ID_CARD), value)
    value = _BANK_CARD.sub(lambda m: mask(m.group(), Kind.BANK_CARD), value)
    return _PHONE.sub(lambda m: m.group() if _DATE.match(m.group())
                      else mask(m.group(), Kind.PHONE), value)


def masked_cells(data: dict, headers: list[str], mapping: dict, *, unmask: bool,
                 ) -> list[str]:
    """The row's cells in ``headers`` order, masked unless ``unmask``."""
    cells = [str(data.get(header, "") or "") for header in headers]
    if unmask:
        return cells
    shown = []
    for header, value in zip(headers, cells, strict=True):
        kind = FIELD_KINDS.get(mapping.get(header, ""))
        shown.append(mask(value, kind) if kind and value else _scan(value))
    return shown
