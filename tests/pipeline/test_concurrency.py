"""Two people moving the same card at once, on the real PostgreSQL with real threads.

Each mover has their own connection. With the same board version, exactly one move wins
and every other is refused as stale (with who moved it); movers who reload and retry all
get through in turn. Either way the stage history is complete and ordered: each change
starts where the previous one ended, and there is one change per successful move.
"""

from __future__ import annotations

import itertools
from functools import partial

import pytest

from opportunities.models import Opportunity, OpportunityStageChange
from opportunities.pipeline import services as services_pipeline
from tests.helpers import run_at_once, user

from .conftest import make_opportunity


def _assert_history_chain(opportunity_id: int, moves: int) -> None:
    changes = list(OpportunityStageChange.objects.filter(opportunity_id=opportunity_id)
                   .order_by("changed_at", "pk").values_list("from_stage", "to_stage"))
    assert len(changes) == moves + 1  # the creation plus one per successful move
    for before, after in itertools.pairwise(changes):
        assert after[0] == before[1], f"history broken between {before} and {after}"
    final = Opportunity.objects.get(pk=opportunity_id)
    assert changes[-1][1] == final.stage and final.version == moves + 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_moves_from_the_same_board_one_wins_the_rest_are_stale(demo_org):
    owner, manager = user("rep_wangfang"), user("mgr_shanghai")
    opportunity = make_opportunity(owner=owner, stage="prospecting")
    movers = [(owner, "qualification"), (manager, "proposal"), (owner, "negotiation"),
              (manager, "won")]

    def move(who, stage):
        return services_pipeline.opportunity_move(opportunity_id=opportunity.pk, user=who,
                                                  to_stage=stage, version=1)

    race = run_at_once([partial(move, *mover) for mover in movers], timeout=60, language="en")
    results, errors = race.results, race.errors
    assert len(results) == 1, errors
    assert len(errors) == 3
    for error in errors:
        assert isinstance(error, services_pipeline.OpportunityActionRefused)
        assert error.code == "stale" and "moved this opportunity meanwhile" in error.message
    _assert_history_chain(opportunity.pk, moves=1)


@pytest.mark.django_db(transaction=True)
def test_movers_who_reload_and_retry_never_lose_a_stage_change(demo_org):
    owner, manager = user("rep_wangfang"), user("mgr_shanghai")
    opportunity = make_opportunity(owner=owner, stage="prospecting")
    stages = ["qualification", "proposal", "negotiation", "prospecting"]

    def mover(who, offset):
        done = 0
        for step in range(10):
            target = stages[(step + offset) % len(stages)]
            for _attempt in range(50):
                current = Opportunity.objects.get(pk=opportunity.pk)
                if current.stage == target:
                    break
                try:
                    services_pipeline.opportunity_move(
                        opportunity_id=opportunity.pk, user=who, to_stage=target,
                        version=current.version)
                    done += 1
                    break
                except services_pipeline.OpportunityActionRefused as refused:
                    assert refused.code in ("stale", "unchanged")
        return done

    race = run_at_once([partial(mover, owner, 0), partial(mover, manager, 1),
                        partial(mover, owner, 2), partial(mover, manager, 3)],
                       timeout=60, language="en")
    results, errors = race.results, race.errors
    assert not errors, errors
    _assert_history_chain(opportunity.pk, moves=sum(results))
    assert sum(results) >= 10
