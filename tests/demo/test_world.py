"""The demo's history simulation: seeded, so the same moment gives the same history."""

from __future__ import annotations

from django.utils import timezone


def _history(world) -> list:
    return [(life.number, life.data["name"], life.data["mobile"], life.data["channel"],
             life.status, life.owner, [(e.kind, e.at, e.to_owner, e.reason) for e in life.events],
             [(n.at, n.author, n.content, n.next_at) for n in life.notes])
            for life in world.lives]


def test_the_same_moment_gives_the_same_history(demo_org):
    from leads.demo import SEED, _arrivals, _configure_pools, _policy
    from leads.demo.world import World

    policy = _policy(_configure_pools(engine=True))
    now = timezone.now()
    runs = []
    for moment in (now, now, now + timezone.timedelta(days=3)):
        world = World(policy, now=moment, seed=SEED, can_convert=True)
        _arrivals(world, count=400, now=moment)
        world.run()
        runs.append(world)
    first, second, later = (_history(w) for w in runs)
    assert first == second
    assert len(runs[0].conversions) == len(runs[1].conversions) > 0
    # Laid out back from the moment it is seeded (weekends and office hours fall on other
    # days three days later): another history, as many leads.
    assert first != later and len(first) == len(later) == 400
