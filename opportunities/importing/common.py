"""What the record kinds of this app share: dictionary items and matchers, the people
named as owners (one query a run)."""

from __future__ import annotations

from crm_site.lib.imports import maven
from crm_site.lib.imports.columns import compact
from orgs.dictionaries import DictionaryMatcher, dictionary_matchers
from orgs.models import Dictionary, DictionaryItem, Employee


def ensure_dictionary_items() -> int:
    """Add the dictionary items imports need if they are missing; returns how many."""
    added = 0
    for dictionary_code, code, label, label_en, order, probability in maven.DICTIONARY_ITEMS:
        dictionary = Dictionary.objects.filter(code=dictionary_code).first()
        if dictionary is None:
            continue
        _item, created = DictionaryItem.objects.get_or_create(
            dictionary=dictionary, code=code,
            defaults={"label": label, "label_en": label_en, "sort_order": order,
                      "probability": probability})
        added += created
    return added



def people() -> dict[str, int]:
    found = {}
    for user_id, username, name, name_en in Employee.objects.values_list(
            "user_id", "user__username", "name", "name_en"):
        for label in (username, name, name_en):
            if label:
                found.setdefault(compact(label), user_id)
    return found


def closed_stages() -> dict[str, str]:
    return {code: str((extra or {}).get("closed") or "")
            for code, extra in DictionaryItem.objects.active().of("opportunity_stage")
            .values_list("code", "extra")}


def field_matchers(fields: dict[str, str]) -> dict[str, DictionaryMatcher]:
    """The dictionary matcher of each field (field → dictionary) that holds a code (one
    query); industries also go by the names other systems give them."""
    matchers = dictionary_matchers(*set(fields.values()))
    if "industry" in matchers:
        matchers["industry"].with_aliases(maven.INDUSTRY_SYNONYMS)
    return {name: matchers[code] for name, code in fields.items()}

