"""Daily snapshots: hand-computed figures per rep per day, the transfer-reason rule, the
team as of the day, and rewrites that change nothing."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from contracts.models import Order, OrderLine, Payment, PaymentInstalment, Product
from opportunities.models import Customer, Opportunity
from orgs.models import Membership
from orgs.selectors import data_scope_for
from orgs.services import team_history_sync
from reports.models import RepDay
from reports.selectors import snapshot_totals
from reports.snapshots import snapshot_backfill, snapshot_write

from .conftest import at, followup, lead_created, lead_event

pytestmark = pytest.mark.django_db

D0 = date(2026, 3, 2)  # a Monday
D1 = D0 + timedelta(days=1)
D2 = D0 + timedelta(days=2)


def _row(employee, day) -> RepDay:
    return RepDay.objects.get(user_id=employee.user_id, day=day)


def _customers(org, day, by="user"):
    totals = snapshot_totals(scope=data_scope_for(org.director.user), start=day, end=day, by=by)
    return {key: figures.customers for key, figures in totals.items()}


def test_holdings_received_follow_ups_and_invitations_of_a_day(org):
    first = lead_created(org.pool, at(D0, 9), owner=org.a1.user)
    second = lead_created(org.pool, at(D0, 9))
    lead_event(second, "claimed", at(D1, 9), to_owner=org.a1.user)
    third = lead_created(org.pool, at(D1, 11), owner=org.a1.user)
    lead_event(first, "released", at(D1, 15), from_owner=org.a1.user)
    followup(third, org.a1.user, at(D1, 11))  # call, connected: not an invitation
    followup(third, org.a1.user, at(D1, 12), outcome="appointment")  # call + appointment
    followup(second, org.a1.user, at(D1, 14), kind="visit", outcome="other", qualifies=False)
    followup(second, org.a1.user, at(D2, 9), kind="visit")  # the next day
    snapshot_backfill(start=D0, end=D1)
    day0, day1 = _row(org.a1, D0), _row(org.a1, D1)
    assert (day0.opening, day0.received, day0.held) == (0, 1, 1)
    assert (day1.opening, day1.received, day1.held) == (1, 2, 2)
    assert (day1.followups, day1.qualifying_followups, day1.invitations) == (3, 2, 2)
    assert day1.team_id == org.team_a.pk
    # Every employee has a row for the day, even with nothing in it.
    assert RepDay.objects.filter(day=D1).count() == 6
    # A day written without yesterday's rows recomputes holdings from the whole log.
    RepDay.objects.filter(day=D0).delete()
    snapshot_write(day=D1)
    assert (_row(org.a1, D1).opening, _row(org.a1, D1).held) == (1, 2)


def test_orders_cost_margin_and_payments(org):
    customer = Customer.objects.create(name="甲公司", owner=org.b1.user)
    product = Product.objects.create(code="p1", name="P1", category="hardware",
                                     list_price=Decimal("100"), unit_cost=Decimal("60"))
    unknown_cost = Product.objects.create(code="p2", name="P2", list_price=Decimal("50"))
    signed = Order.objects.create(customer=customer, owner=org.b1.user, status="confirmed",
                                  signed_on=D1, total=Decimal("350.00"))
    OrderLine.objects.create(order=signed, product=product, quantity=3, unit_price=100,
                             line_total=Decimal("300.00"))
    OrderLine.objects.create(order=signed, product=unknown_cost, quantity=1, unit_price=50,
                             line_total=Decimal("50.00"))
    Order.objects.create(customer=customer, owner=org.b1.user, status="draft", signed_on=D1,
                         total=Decimal("999.00"))
    instalment = PaymentInstalment.objects.create(order=signed, customer=customer,
                                                  owner=org.b1.user, seq=1, due_on=D1,
                                                  amount=Decimal("350.00"))
    Payment.objects.create(instalment=instalment, amount=Decimal("120.00"), received_on=D1,
                           recorded_by=org.b1.user)
    Payment.objects.create(instalment=instalment, amount=Decimal("30.00"), received_on=D2,
                           recorded_by=org.b1.user)
    Opportunity.objects.create(name="商机", customer=customer, owner=org.b1.user,
                               status="won", stage="won", closed_at=at(D1, 16))
    snapshot_write(day=D1)
    row = _row(org.b1, D1)
    assert (row.orders, row.orders_amount, row.orders_cost, row.gross_margin) == (
        1, Decimal("350.00"), Decimal("180.00"), Decimal("170.00"))
    assert (row.payments, row.won) == (Decimal("120.00"), 1)


@pytest.mark.parametrize(
    ("reason", "receiver", "expected_reps", "expected_teams"),
    [
        # A → B in another team, not A's fault: A's count shrinks, B's grows.
        ("rebalance", "b1", {"a1": 0, "b1": 1}, {"team-a": 0, "team-b": 1}),
        # … for ineffective follow-up: A keeps it, and so does A's team.
        ("ineffective_followup", "b1", {"a1": 1, "b1": 1}, {"team-a": 1, "team-b": 1}),
        # Within one team: the team's count does not change, whatever the reason.
        ("rebalance", "a2", {"a1": 0, "a2": 1}, {"team-a": 1, "team-b": 0}),
        ("ineffective_followup", "a2", {"a1": 1, "a2": 1}, {"team-a": 1, "team-b": 0}),
    ],
)
def test_the_transfer_reason_rule(org, reason, receiver, expected_reps, expected_teams):
    lead = lead_created(org.pool, at(D0), owner=org.a1.user)
    to = getattr(org, receiver)
    lead_event(lead, "transferred", at(D1), from_owner=org.a1.user, to_owner=to.user,
               reason=reason)
    snapshot_backfill(start=D0, end=D1)
    by_rep = _customers(org, D1)
    assert {name: by_rep[getattr(org, name).user_id] for name in expected_reps} == expected_reps
    by_team = _customers(org, D1, by="team")
    units = {org.team_a.pk: "team-a", org.team_b.pk: "team-b"}
    assert {units[k]: v for k, v in by_team.items() if k in units} == expected_teams
    # Holdings themselves always follow the lead.
    assert (_row(org.a1, D1).held, _row(to, D1).held) == (0, 1)


def test_a_rep_counts_for_the_team_they_were_in_that_day(org):
    lead = lead_created(org.pool, at(D0), owner=org.a1.user)
    followup(lead, org.a1.user, at(D0, 11))
    membership = Membership.objects.get(employee=org.a1, org_unit=org.team_a)
    Membership.objects.filter(pk=membership.pk).update(org_unit=org.team_b)
    team_history_sync(employee_id=org.a1.pk, on=D1)
    followup(lead, org.a1.user, at(D1, 11))
    followup(lead, org.a1.user, at(D1, 12))
    snapshot_backfill(start=D0, end=D1)
    totals = snapshot_totals(scope=data_scope_for(org.director.user), start=D0, end=D1,
                             by="team")
    assert totals[org.team_a.pk].followups == 1
    assert totals[org.team_b.pk].followups == 2


def test_rewriting_a_day_gives_the_same_rows_and_the_command_backfills_a_range(org):
    lead = lead_created(org.pool, at(D0), owner=org.a1.user)
    followup(lead, org.a1.user, at(D1))
    call_command("report_backfill", "--from", D0.isoformat(), "--to", D2.isoformat(),
                 verbosity=0)
    before = list(RepDay.objects.order_by("day", "user_id").values_list(
        "day", "user_id", "team_id", "held", "followups"))
    assert len(before) == 18
    snapshot_write(day=D1)
    snapshot_write(day=D1)
    after = list(RepDay.objects.order_by("day", "user_id").values_list(
        "day", "user_id", "team_id", "held", "followups"))
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_two_writes_of_the_same_day_at_once_leave_one_set_of_rows(org):
    lead_created(org.pool, at(D0), owner=org.a1.user)
    errors = []

    def write():
        try:
            snapshot_write(day=D0)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert RepDay.objects.filter(day=D0).count() == 6
    assert _row(org.a1, D0).held == 1
