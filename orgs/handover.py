"""The departure handover hook.

When an employee departs, every registered step runs inside the departure transaction
and moves what the employee held (leads, customers, opportunities, contracts, ...) to the
named successor or back to a pool. Apps register their step in ``AppConfig.ready``::

    from orgs.handover import register_handover_step

    @register_handover_step("leads", _("Leads"))
    def hand_over_leads(*, employee, successor, actor) -> int:
        ...  # set-based moves; return how many records moved
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HandoverStep = Callable[..., int]

_STEPS: dict[str, tuple[str, HandoverStep]] = {}


@dataclass(frozen=True)
class HandoverResult:
    name: str
    label: str
    moved: int


def register_handover_step(name: str, label) -> Callable[[HandoverStep], HandoverStep]:
    """Register ``fn(*, employee, successor, actor) -> int`` to run on every departure."""

    def decorator(fn: HandoverStep) -> HandoverStep:
        _STEPS[name] = (label, fn)
        return fn

    return decorator


def unregister_handover_step(name: str) -> None:
    _STEPS.pop(name, None)


def run_handover(*, employee, successor, actor) -> list[HandoverResult]:
    """Run every registered step in registration order; the caller holds the transaction."""
    results = []
    for name, (label, fn) in list(_STEPS.items()):
        moved = fn(employee=employee, successor=successor, actor=actor)
        results.append(HandoverResult(name=name, label=str(label), moved=int(moved or 0)))
    return results
