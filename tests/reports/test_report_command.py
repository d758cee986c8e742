"""``manage.py report``: the page's numbers for scripts, and the pipeline of the real Maven
CRM sample after the README's four imports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from orgs.selectors import data_scope_for
from reports.funnel import funnel_rows, funnel_total
from tests.datasets import MISSING, dataset

from .test_funnel import history  # noqa: F401 - the hand-counted March cohort

pytestmark = pytest.mark.django_db

MAVEN = dataset("maven_crm")


def report(*args) -> list[dict]:
    out = io.StringIO()
    with translation.override("en"):
        call_command("report", *args, stdout=out)
    text = out.getvalue()
    if "--format" in args and "json" in args:
        return json.loads(text)
    return list(csv.DictReader(io.StringIO(text)))


def test_funnel_csv_has_the_documented_columns_and_the_pages_numbers(history):  # noqa: F811
    rows = report("funnel", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "channel")
    assert list(rows[0]) == ["group", "leads", "owned", "opportunities", "won", "won_amount",
                             "lead_to_opportunity", "opportunity_to_won", "lead_to_won"]
    by_group = {r["group"]: r for r in rows}
    assert set(by_group) == {"Web form", "Search ads", "Event"}
    assert by_group["Search ads"] == {
        "group": "Search ads", "leads": "2", "owned": "2", "opportunities": "2", "won": "1",
        "won_amount": "5000.00", "lead_to_opportunity": "1.0000",
        "opportunity_to_won": "0.5000", "lead_to_won": "0.5000"}
    page = funnel_total(funnel_rows(scope=data_scope_for(history.director.user),
                                    start=date(2026, 3, 1), end=date(2026, 3, 31)))
    assert sum(int(r["leads"]) for r in rows) == page.leads == 6
    as_rep = report("funnel", "--from", "2026-03-01", "--to", "2026-03-31", "--as", "rep_a1",
                    "--format", "json")
    assert as_rep == [{"group": "All", "leads": 2, "owned": 2, "opportunities": 1, "won": 1,
                       "won_amount": "5000.00", "lead_to_opportunity": "0.5000",
                       "opportunity_to_won": "1.0000", "lead_to_won": "0.5000"}]


def test_bad_arguments_are_refused_with_a_message(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("report", "funnel", "--from", "March", "--to", "2026-03-31")
    with pytest.raises(CommandError, match="before"):
        call_command("report", "funnel", "--from", "2026-03-31", "--to", "2026-03-01")
    with pytest.raises(CommandError, match="pipeline groups by"):
        call_command("report", "pipeline", "--from", "2026-03-01", "--to", "2026-03-31",
                     "--by", "channel")


@pytest.mark.skipif(not (MAVEN / "sales_pipeline.csv").exists(), reason=MISSING)
def test_the_maven_pipeline_by_rep_team_product_and_quarter(demo_org, capsys):
    with translation.override("en"):
        for kind, name in (("products", "products.csv"), ("employees", "sales_teams.csv"),
                           ("customers", "accounts.csv"),
                           ("opportunities", "sales_pipeline.csv")):
            call_command("import_records", kind, str(MAVEN / name), "--mapping", "maven")
    capsys.readouterr()
    period = ("--from", "2016-01-01", "--to", "2017-12-31")
    totals = {}
    for by in ("rep", "team", "product", "quarter"):
        rows = report("pipeline", *period, "--by", by)
        assert list(rows[0]) == ["group", "open", "won", "lost", "won_amount", "win_rate"]
        won = sum(int(r["won"]) for r in rows)
        lost = sum(int(r["lost"]) for r in rows)
        amount = sum(Decimal(r["won_amount"]) for r in rows)
        totals[by] = (won, lost, amount)
        if by == "rep":
            agents = {r["group"]: r for r in rows}
            assert len(agents) == 30
            for row in rows:
                if int(row["won"]) + int(row["lost"]):
                    assert Decimal(row["win_rate"]) == (Decimal(row["won"]) / (
                        int(row["won"]) + int(row["lost"]))).quantize(Decimal("0.0001"))
        if by == "quarter":
            assert {"2017Q1", "2017Q2", "2017Q3", "2017Q4"} <= {r["group"] for r in rows}
    assert set(totals.values()) == {(4238, 2473, Decimal("10005534.00"))}
    total = report("pipeline", *period)
    assert total[0]["won"] == "4238" and total[0]["win_rate"] == "0.6315"
    assert total[0]["won_amount"] == "10005534.00"
