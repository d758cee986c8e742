"""Static and dynamic rates (seed 003 §4.3) over hand-made days, and the page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from contracts.models import Order
from opportunities.models import Customer, Opportunity
from orgs.selectors import data_scope_for
from reports.rates import rate_rows
from reports.snapshots import snapshot_backfill

from .conftest import at, followup, lead_created

pytestmark = pytest.mark.django_db

D0 = date(2026, 3, 2)
D1 = D0 + timedelta(days=1)


@pytest.fixture
def days(org):
    """Rep a1 over D0–D1, snapshots written at the end of D1, then corrections:

    two leads received (customers 2); invitations: D0 call + appointment, D1 visit (a call
    without an appointment is none) → static 2; a visit of D1 entered after the snapshot
    → dynamic 3. One order signed on D1 → static 1; cancelled afterwards → dynamic 0.
    One opportunity won after a day, one lost → win rate 0.5, 1.0 day to close.
    """
    first = lead_created(org.pool, at(D0, 9), owner=org.a1.user)
    lead_created(org.pool, at(D0, 9), owner=org.a1.user)
    followup(first, org.a1.user, at(D0, 10), outcome="appointment")
    followup(first, org.a1.user, at(D1, 10), kind="visit")
    followup(first, org.a1.user, at(D1, 11))
    customer = Customer.objects.create(name="甲公司", owner=org.a1.user)
    order = Order.objects.create(customer=customer, owner=org.a1.user, status="confirmed",
                                 signed_on=D1, total=Decimal("800.00"))
    Opportunity.objects.create(name="赢", customer=customer, owner=org.a1.user, status="won",
                               stage="won", created_at=at(D0), closed_at=at(D1))
    Opportunity.objects.create(name="输", customer=customer, owner=org.a1.user, status="lost",
                               stage="lost", created_at=at(D0), closed_at=at(D1, 12))
    snapshot_backfill(start=D0, end=D1)
    followup(first, org.a1.user, at(D1, 16), kind="visit")
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    return org


def test_static_and_dynamic_rates_as_seed_003_defines_them(days):
    rows = {r.key: r for r in rate_rows(scope=data_scope_for(days.director.user), start=D0,
                                        end=D1)}
    a1 = rows[days.a1.user_id]
    assert (a1.customers, a1.static_invitations, a1.dynamic_invitations) == (2, 2, 3)
    assert (a1.static_signings, a1.dynamic_signings) == (1, 0)
    assert a1.static_invitation_rate == Decimal("1.0000")
    assert a1.dynamic_invitation_rate == Decimal("1.5000")
    assert a1.relative_static_signing_rate == Decimal("0.5000")
    assert a1.relative_dynamic_signing_rate == Decimal("0.0000")
    assert a1.absolute_static_signing_rate == Decimal("0.5000")
    assert a1.absolute_dynamic_signing_rate == Decimal("0.0000")
    assert (a1.win_rate, a1.days_to_close) == (Decimal("0.5000"), Decimal("1.0"))
    assert rows[days.b1.user_id].static_invitation_rate is None  # no customers: no rate
    teams = {r.key: r for r in rate_rows(scope=data_scope_for(days.director.user), start=D0,
                                         end=D1, by="team")}
    assert teams[days.team_a.pk].dynamic_invitations == 3
    assert teams[days.team_a.pk].customers == 2


def test_the_page_per_role_with_charts_tables_and_csv(days, django_assert_max_num_queries):
    query = f"?period=custom&start={D0}&end={D1}&by=rep"
    rep = Client()
    rep.force_login(days.a1.user)
    html = rep.get("/reports/reps/" + query).content.decode()
    assert 'data-testid="rates-table"' in html and 'id="amount-chart"' in html
    assert "销售a1" in html and "销售b1" not in html
    manager = Client()
    manager.force_login(days.manager_a.user)
    html = manager.get("/reports/reps/" + query).content.decode()
    assert "销售a1" in html and "销售a2" in html and "销售b1" not in html
    director = Client()
    director.force_login(days.director.user)
    with django_assert_max_num_queries(14):
        html = director.get("/reports/reps/" + query).content.decode()
    assert "销售b1" in html
    response = director.get("/reports/reps/" + query + "&format=csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("group,customers,followups,qualifying_followups")
    a1 = next(line for line in lines if line.startswith("销售a1"))
    assert a1.split(",")[1:6] == ["2", "3", "3", "2", "3"]
