"""Parsing what a browser or a channel sends, so that no input can reach the database raw.

Three tools, each the one place for its kind of input:

- ``parse_id`` / ``parse_ids``: a record id from a query string or a form is ASCII digits
  within PostgreSQL's ``bigint``; anything else (``²``, ``١``, ``1e5``, ``-3``, 30 digits) is
  "no id", which the view treats like an id it cannot see.
- ``forbidden_text``: NUL bytes (PostgreSQL text cannot hold them) and lone surrogates (no
  UTF-8 encoding exists for them) are refused wherever text arrives.
- ``load_json``: a JSON body, refused with a reason when it is not UTF-8, is nested deeper
  than a lead's payload needs, holds ``NaN``/``Infinity`` or a number too large to be finite,
  or carries forbidden text in a key or a value.

Imports no app (``crm_site/lib``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

BIGINT_MAX = 2**63 - 1
_ASCII_ID = re.compile(r"[0-9]{1,19}")
# A lone (unpaired) UTF-16 surrogate, as ``json`` decodes ``"\ud800"``.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
# Deep enough for any payload a form or an ad platform sends; far below the recursion limit.
JSON_MAX_DEPTH = 32


def parse_id(value) -> int | None:
    """The positive ``bigint`` written in ASCII digits in ``value``, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= BIGINT_MAX else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _ASCII_ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= BIGINT_MAX else None


def parse_ids(values: Iterable) -> list[int]:
    """Every valid id in ``values`` (others dropped), in order, without repeats."""
    seen: dict[int, None] = {}
    for value in values:
        number = parse_id(value)
        if number is not None:
            seen.setdefault(number)
    return list(seen)


def forbidden_text(value: str) -> bool:
    """True when ``value`` holds a NUL byte or a lone surrogate."""
    return bool(_FORBIDDEN.search(value))


class JSONInputError(ValueError):
    """A JSON body refused: ``code`` for programs, ``message`` (translated) for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _reject_constant(name: str):
    raise JSONInputError("malformed_json", _("The body is not valid JSON: %(problem)s")
                         % {"problem": _("%(name)s is not a number JSON allows.")
                            % {"name": name}})


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JSONInputError("malformed_json", _("The body is not valid JSON: %(problem)s")
                             % {"problem": _("the number %(number)s is too large.")
                                % {"number": text[:20]}})
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 30:
        raise JSONInputError("malformed_json", _("The body is not valid JSON: %(problem)s")
                             % {"problem": _("the number %(number)s is too large.")
                                % {"number": text[:20]}})
    return int(text)


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _find_forbidden(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if forbidden_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_json(body: bytes, *, max_depth: int = JSON_MAX_DEPTH):
    """Parse ``body`` as strict JSON or raise ``JSONInputError`` saying why."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONInputError("malformed_json", _("The body is not valid JSON: %(problem)s")
                             % {"problem": _("it is not UTF-8 text.")}) from None
    if _depth(text) > max_depth:
        raise JSONInputError("too_deep", _("The body is nested more than %(depth)d levels "
                                           "deep.") % {"depth": max_depth})
    try:
        payload = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                             parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise JSONInputError("malformed_json", _("The body is not valid JSON: %(problem)s")
                             % {"problem": str(exc)}) from None
    except RecursionError:  # a guard; the depth check above refuses such bodies first
        raise JSONInputError("too_deep", _("The body is nested more than %(depth)d levels "
                                           "deep.") % {"depth": max_depth}) from None
    if _find_forbidden(payload):
        raise JSONInputError("control_characters",
                             _("The body holds a NUL character or an unpaired surrogate "
                               "(\\u0000, \\ud800…); remove it and send again."))
    return payload
