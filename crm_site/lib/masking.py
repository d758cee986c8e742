"""Masking (脱敏) of contact data: phones, ID cards, bank cards, addresses, e-mails.

Whether a viewer sees a value in clear depends on the viewer's rights and the scenario:
``list``, ``detail``, ``export`` or ``print`` each need their own unmask operation. Pages,
htmx fragments, exports and admin all go through :func:`mask_for`.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

_DIGITS = re.compile(r"\d")


def _ascii_digits(value: str) -> list[str]:
    """Every decimal digit, in any script (full-width, Arabic-Indic, ...), as 0-9."""
    return [str(unicodedata.digit(ch)) for ch in _DIGITS.findall(value or "")]


class Scenario(StrEnum):
    LIST = "list"
    DETAIL = "detail"
    EXPORT = "export"
    PRINT = "print"


class Kind(StrEnum):
    PHONE = "phone"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    ADDRESS = "address"
    EMAIL = "email"


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; short or landline numbers keep their last 4."""
    raw = (value or "").strip()
    digits = "".join(_ascii_digits(raw))
    if not digits:
        return raw and "****"
    if len(digits) >= 11:
        local = digits[-11:]
        return f"{local[:3]}****{local[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "****"


def mask_id_card(value: str) -> str:
    """Mainland ID ``110101199003071234`` → ``110101********1234``."""
    raw = (value or "").strip()
    if len(raw) <= 8:
        return "*" * len(raw)
    return f"{raw[:6]}{'*' * (len(raw) - 10)}{raw[-4:]}"


def mask_bank_card(value: str) -> str:
    """Any card number → ``**** **** **** 1234``."""
    digits = "".join(_ascii_digits(value or ""))
    if not digits:
        return ""
    return f"**** **** **** {digits[-4:]}"


def mask_address(value: str) -> str:
    """Keep the province/city part (first 6 characters), hide the street and number."""
    raw = (value or "").strip()
    if not raw:
        return ""
    keep = min(6, max(len(raw) // 3, 1))
    return raw[:keep] + "****"


def mask_email(value: str) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com``."""
    raw = (value or "").strip()
    if "@" not in raw:
        return mask_address(raw)
    local, _, domain = raw.partition("@")
    return f"{local[:1]}***@{domain}"


MASKERS = {
    Kind.PHONE: mask_phone,
    Kind.ID_CARD: mask_id_card,
    Kind.BANK_CARD: mask_bank_card,
    Kind.ADDRESS: mask_address,
    Kind.EMAIL: mask_email,
}


def unmask_operation(scenario: str) -> str:
    return f"unmask_{Scenario(scenario).value}"


def can_unmask(user, scenario: str) -> bool:
    """Whether ``user`` sees contact data in clear in this scenario."""
    from orgs.selectors import rights_for

    return rights_for(user).can(unmask_operation(scenario))


def mask(value, kind: str) -> str:
    """Mask ``value`` as ``kind`` regardless of who looks."""
    if value in (None, ""):
        return ""
    return MASKERS[Kind(kind)](str(value))


def mask_for(user, value, kind: str, scenario: str = Scenario.LIST) -> str:
    """The value as ``user`` may see it in ``scenario``: in clear or masked."""
    if value in (None, ""):
        return ""
    if can_unmask(user, scenario):
        return str(value)
    return mask(value, kind)
