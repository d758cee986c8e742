"""Two people at once, on the real PostgreSQL with real threads."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections

from contracts.models import ApprovalBand, ApprovalBandStep, ApprovalStep, Contract, ContractOrder
from contracts.services import agreements, approvals
from tests.helpers import user

from .conftest import make_contract, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            outcomes[i] = ("ok", fn())
        except Exception as exc:  # the loser's refusal is the point of the test
            outcomes[i] = ("refused", exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_a_double_click_approves_once(won):
    band = ApprovalBand.objects.create(subject="contract", name="all", min_amount=0)
    ApprovalBandStep.objects.create(band=band, position=1, kind="manager")
    ApprovalBandStep.objects.create(band=band, position=2, kind="next_level")
    wangfang, mgr = user("rep_wangfang"), user("mgr_shanghai")
    contract = make_contract(wangfang, won.customer, "20000")
    agreements.contract_activate(contract_id=contract.pk, user=wangfang)
    step = ApprovalStep.objects.get(request__contract=contract, position=1)
    outcomes = _together(*[lambda: approvals.approval_decide(step_id=step.pk, user=mgr,
                                                            approve=True)] * 4)
    assert [o[0] for o in outcomes].count("ok") == 1
    assert ApprovalStep.objects.get(request__contract=contract, position=2).status == "current"
    assert Contract.objects.get(pk=contract.pk).status == "pending_approval"


def test_parallel_allocations_never_exceed_the_contract(won):
    wangfang = user("rep_wangfang")
    contract = make_contract(wangfang, won.customer, "1000")
    orders = [make_order(wangfang, won.customer, (1, "800", 0)) for _ in range(4)]
    outcomes = _together(*[
        (lambda o=o: agreements.allocation_set(contract_id=contract.pk, order_id=o.pk,
                                             amount="400", user=wangfang)) for o in orders])
    assert [o[0] for o in outcomes].count("ok") == 2
    total = sum(a.amount for a in ContractOrder.objects.filter(contract=contract))
    assert total == Decimal("800")


def test_parallel_contract_numbers_are_unique(won):
    wangfang = user("rep_wangfang")
    outcomes = _together(*[lambda: make_contract(wangfang, won.customer, "100")] * 6)
    numbers = [o[1].number for o in outcomes if o[0] == "ok"]
    assert len(numbers) == 6 and len(set(numbers)) == 6
