"""Masking (脱敏) of contact data by pattern: phones, ID cards, bank cards, addresses, e-mails.

Pure string work, knowing nothing of users: :func:`mask` hides one value of a known kind,
:func:`mask_text` finds and hides every contact value inside free text, and
:func:`mask_bag` does the same through a free-form bag (a lead's attributes, a raw ingest
payload, the unmapped columns of an imported row), masking whole values whose key names a
contact field. *Who* sees a value in clear, in which scenario, is decided in one place,
``orgs.access`` (``show``); :func:`can_unmask` and :func:`mask_for` here ask it through
the policy that ``orgs`` installs when it starts (until then everything is masked).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum

_DIGITS = re.compile(r"\d")


def _ascii_digits(value: str) -> list[str]:
    """Every decimal digit, in any script (full-width, Arabic-Indic, ...), as 0-9."""
    return [str(unicodedata.digit(ch)) for ch in _DIGITS.findall(value or "")]


class Scenario(StrEnum):
    """Where a value is shown; each needs the viewer's unmask right for it (``orgs.access``).

    An htmx fragment is shown in the scenario of the page it belongs to (a row of a list is
    ``list``, a panel of a record page ``detail``).
    """

    LIST = "list"
    DETAIL = "detail"
    EXPORT = "export"
    PRINT = "print"
    FORM = "form"  # an edit form: the value a field would be pre-filled with
    NOTIFICATION = "notification"
    ADMIN = "admin"
    IMPORT_REPORT = "import_report"  # an import's report page and rejected-rows file


class Kind(StrEnum):
    PHONE = "phone"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    ADDRESS = "address"
    EMAIL = "email"
    TEXT = "text"  # free text: every contact value found in it by pattern


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


# Digits in any script (full-width too) count; a number glued to other digits or Latin
# letters is part of something else (an order number, a date), not contact data.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\dA-Za-z])", r"(?![\dA-Za-z])"
_PATTERNS = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), None),
    ("id_card", re.compile(_EDGE_BEFORE + r"\d{17}[\dXx]" + _EDGE_AFTER), None),
    ("bank_card", re.compile(_EDGE_BEFORE + r"\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?"
                             + _EDGE_AFTER), None),
    ("phone", re.compile(r"(?<![\dA-Za-z+])(?:[+＋]?(?:86|８６)[\s-]?)?"
                         r"\d{3}(?:[\s-]?\d{4}){2}" + _EDGE_AFTER),
     re.compile(r"(?:86)?1[3-9]\d{9}")),
    ("phone", re.compile(_EDGE_BEFORE + r"0\d{2,3}-\d{7,8}" + _EDGE_AFTER), None),
)


def mask_text(value) -> str:
    """``value`` with every phone number, e-mail address, ID-card and bank-card number in it
    masked; the rest of the text is kept."""
    text = "" if value is None else str(value)
    for kind, pattern, digits_check in _PATTERNS:
        def replace(match, kind=kind, digits_check=digits_check):
            found = match.group(0)
            if digits_check is not None and not digits_check.fullmatch(
                    "".join(_ascii_digits(found))):
                return found  # eleven digits, but not a mainland mobile number
            return MASKERS[Kind(kind)](found)

        text = pattern.sub(replace, text)
    return text


MASKERS = {
    Kind.PHONE: mask_phone,
    Kind.ID_CARD: mask_id_card,
    Kind.BANK_CARD: mask_bank_card,
    Kind.ADDRESS: mask_address,
    Kind.EMAIL: mask_email,
    Kind.TEXT: mask_text,
}

# Keys of a free-form bag whose whole value is contact data, whatever it looks like (an
# address has no pattern): matched as lower-case substrings of the key, Chinese or English.
_BAG_KEYS: tuple[tuple[str, Kind], ...] = (
    ("mail", Kind.EMAIL), ("邮箱", Kind.EMAIL), ("邮件", Kind.EMAIL),
    ("id_card", Kind.ID_CARD), ("idcard", Kind.ID_CARD), ("id_no", Kind.ID_CARD),
    ("身份证", Kind.ID_CARD), ("证件", Kind.ID_CARD),
    ("bank_card", Kind.BANK_CARD), ("bankcard", Kind.BANK_CARD), ("card_no", Kind.BANK_CARD),
    ("银行卡", Kind.BANK_CARD), ("卡号", Kind.BANK_CARD),
    ("mobile", Kind.PHONE), ("phone", Kind.PHONE), ("tel", Kind.PHONE), ("fax", Kind.PHONE),
    ("手机", Kind.PHONE), ("电话", Kind.PHONE), ("联系方式", Kind.PHONE), ("传真", Kind.PHONE),
    ("address", Kind.ADDRESS), ("addr", Kind.ADDRESS), ("地址", Kind.ADDRESS),
    ("住址", Kind.ADDRESS), ("wechat", Kind.ADDRESS), ("weixin", Kind.ADDRESS),
    ("微信", Kind.ADDRESS), ("qq", Kind.ADDRESS),
)


def kind_of_key(key) -> Kind | None:
    """The contact kind a bag key names (``"手机号"`` → phone), or None."""
    name = str(key).lower()
    for part, kind in _BAG_KEYS:
        if part in name:
            return kind
    return None


def mask_bag(bag, *, _depth: int = 0):
    """A copy of a free-form bag (dicts, lists, strings, numbers) with contact data masked:
    a value under a key naming a contact field is masked as that kind, any other string or
    number is scanned by pattern. Keys are kept; nesting beyond 20 levels is cut."""
    if _depth > 20:
        return "****"
    if isinstance(bag, dict):
        masked = {}
        for key, value in bag.items():
            kind = kind_of_key(key)
            if kind is not None and not isinstance(value, (dict, list, tuple)):
                masked[key] = mask(value, kind) if value not in (None, "") else value
            else:
                masked[key] = mask_bag(value, _depth=_depth + 1)
        return masked
    if isinstance(bag, (list, tuple)):
        return [mask_bag(item, _depth=_depth + 1) for item in bag]
    if isinstance(bag, bool) or bag is None:
        return bag
    if isinstance(bag, (int, float)):
        text = str(bag)
        masked_text = mask_text(text)
        return bag if masked_text == text else masked_text
    return mask_text(bag)


def mask(value, kind: str) -> str:
    """Mask ``value`` as ``kind`` regardless of who looks."""
    if value in (None, ""):
        return ""
    return MASKERS[Kind(kind)](str(value))


UnmaskPolicy = Callable[[object, str], bool]
_policy: list[UnmaskPolicy] = []


def set_unmask_policy(policy: UnmaskPolicy) -> None:
    """Install ``policy(user, scenario) -> bool`` (``orgs`` does, when it starts)."""
    _policy[:] = [policy]


def can_unmask(user, scenario: str) -> bool:
    """Whether ``user`` sees contact data in clear in ``scenario`` (``orgs.access``)."""
    scenario = Scenario(scenario)
    return bool(_policy) and _policy[0](user, scenario)


def mask_for(user, value, kind: str, scenario: str = Scenario.LIST) -> str:
    """The value as ``user`` may see it in ``scenario``: in clear or masked (the rule of
    ``orgs.access.show`` for a value not tied to one record)."""
    if value in (None, ""):
        return ""
    if can_unmask(user, scenario):
        return str(value)
    return mask(value, kind)
