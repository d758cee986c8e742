"""Reading dictionary values that people typed: a code or a label, in either language.

Files from other systems name a region "华东", "East China", "ＥＡＳＴ" or "east"; records
store the code. ``dictionary_matchers`` loads the items of the dictionaries an import
needs (one query) and each ``DictionaryMatcher`` answers the code for a value, comparing
case- and width-folded text without spaces, underscores or hyphens. Every import (leads
and the record imports) reads its dictionary columns through it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import Dictionary, DictionaryItem

_SEPARATORS = re.compile(r"[\s_\-]+")


def fold(value: str) -> str:
    """A comparison key: full-width to ASCII (NFKC), case-folded, without spaces,
    underscores or hyphens (``Real estate`` = ``real_estate`` = ``ＲＥＡＬ－ＥＳＴＡＴＥ``)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "").casefold())


@dataclass
class DictionaryMatcher:
    """The codes of one dictionary by every name they go by."""

    code: str  # the dictionary's code
    name: str  # the dictionary's name in the language active when it was loaded
    keys: dict[str, str] = field(default_factory=dict)  # folded code or label → code
    _seen: dict[str, str | None] = field(default_factory=dict, repr=False)

    def add(self, names: Iterable[str], code: str) -> None:
        """Let ``names`` stand for ``code`` too (a code or label of an item wins)."""
        for name in names:
            key = fold(name)
            if key:
                self.keys.setdefault(key, code)

    def with_aliases(self, aliases: Mapping[str, str]) -> DictionaryMatcher:
        """Also accept each alias for its code (aliases of codes not in the dictionary are
        left out, so an alias never yields a code the dictionary does not hold)."""
        codes = set(self.keys.values())
        for alias, code in aliases.items():
            if code in codes:
                self.add([alias], code)
        self._seen.clear()
        return self

    def match(self, value: str) -> str | None:
        """The code ``value`` stands for, or ``None`` when it matches no item.

        Files repeat the same few values: each distinct value is folded once.
        """
        try:
            return self._seen[value]
        except KeyError:
            code = self._seen[value] = self.keys.get(fold(value))
            return code

    def refusal(self, field_label: str, value: str) -> str:
        """Why ``value`` cannot be read, in the active language."""
        return _("%(field)s “%(value)s” is not in the %(dictionary)s list: use one of its "
                 "codes or labels.") % {"field": field_label, "value": value,
                                        "dictionary": self.name}


def dictionary_matchers(*codes: str) -> dict[str, DictionaryMatcher]:
    """A matcher per dictionary code, over its active items (two queries in all)."""
    names = {d.code: d.display_name for d in Dictionary.objects.filter(code__in=codes)}
    matchers = {code: DictionaryMatcher(code, names.get(code, code)) for code in codes}
    items = (DictionaryItem.objects.active().filter(dictionary__code__in=codes)
             .order_by("dictionary__code", "sort_order", "code")
             .values_list("dictionary__code", "code", "label", "label_en"))
    rows = list(items)
    # Codes first, then labels: a label that happens to equal another item's code never
    # takes that code away.
    for dictionary, code, _label, _label_en in rows:
        matchers[dictionary].add([code], code)
    for dictionary, code, label, label_en in rows:
        matchers[dictionary].add([label, label_en], code)
    return matchers


def item_label(dictionary: str, code: str) -> str:
    """The label of one item in the active language (the code if there is no such item)."""
    item = DictionaryItem.objects.of(dictionary).filter(code=code).first()
    return item.display_label if item else code
