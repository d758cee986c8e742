"""Routing: the first matching rule of a pool sends a waiting lead to one of its sub-pools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

OPERATORS = ("equals", "contains", "exists", "in")


@dataclass(frozen=True)
class RouteFacts:
    """What routing looks at on one lead."""

    id: int
    region: str = ""
    product_category: str = ""
    channel: str = ""
    customer_size: str = ""
    attributes: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class RouteRule:
    id: int
    target_pool_id: int
    regions: frozenset[str] = frozenset()
    product_categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    customer_sizes: frozenset[str] = frozenset()
    attribute_conditions: tuple[tuple[str, str, object], ...] = ()


@dataclass(frozen=True)
class Route:
    lead_id: int
    target_pool_id: int
    rule_id: int | None  # None: the pool's default sub-pool


def _attribute_matches(attributes: Mapping, key: str, op: str, value) -> bool:
    present = key in attributes and attributes[key] not in (None, "")
    actual = str(attributes.get(key, "")).strip().lower()
    if op == "exists":
        return present
    if not present:
        return False
    if op == "equals":
        return actual == str(value).strip().lower()
    if op == "contains":
        return str(value).strip().lower() in actual
    if op == "in":
        options = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return actual in {str(o).strip().lower() for o in options}
    return False


def rule_matches(rule: RouteRule, lead: RouteFacts) -> bool:
    """Every non-empty condition must hold; an empty condition matches anything."""
    if rule.regions and lead.region not in rule.regions:
        return False
    if rule.product_categories and lead.product_category not in rule.product_categories:
        return False
    if rule.channels and lead.channel not in rule.channels:
        return False
    if rule.customer_sizes and lead.customer_size not in rule.customer_sizes:
        return False
    return all(_attribute_matches(lead.attributes, key, op, value)
               for key, op, value in rule.attribute_conditions)


def route(lead: RouteFacts, rules: Sequence[RouteRule],
          default_pool_id: int | None) -> Route | None:
    """The first rule (in order) that matches, else the default sub-pool, else None (stay)."""
    for rule in rules:
        if rule_matches(rule, lead):
            return Route(lead.id, rule.target_pool_id, rule.id)
    if default_pool_id is not None:
        return Route(lead.id, default_pool_id, None)
    return None


def route_all(leads: Iterable[RouteFacts], rules: Sequence[RouteRule],
              default_pool_id: int | None) -> list[Route]:
    routes = []
    for lead in leads:
        decision = route(lead, rules, default_pool_id)
        if decision is not None:
            routes.append(decision)
    return routes
