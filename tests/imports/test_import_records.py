"""``import_records``: customers, contacts, opportunities, products and employees from files,
with the real Maven CRM sample imported as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.utils import translation

from contracts.models import Product
from crm_site.lib.imports.reading import read_table
from leads.imports.runner import import_table
from opportunities.models import (
    Contact,
    Customer,
    Opportunity,
    OpportunityEvent,
    OpportunityStageChange,
)
from orgs.models import Employee, OrgUnit
from tests.datasets import MISSING, dataset

pytestmark = pytest.mark.django_db


MAVEN = dataset("maven_crm")
ORDER = [("products", "products.csv"), ("employees", "sales_teams.csv"),
         ("customers", "accounts.csv"), ("opportunities", "sales_pipeline.csv")]


def run(kind: str, path: Path, capsys, mapping: str = "maven") -> str:
    with translation.override("en"):
        call_command("import_records", kind, str(path), "--mapping", mapping)
    return capsys.readouterr().out


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.skipif(not (MAVEN / "sales_pipeline.csv").exists(),
                    reason=MISSING)
def test_the_maven_sample_imports_as_it_is_and_a_second_run_adds_nothing(demo_org, capsys):
    outputs = {kind: run(kind, MAVEN / name, capsys) for kind, name in ORDER}
    assert "rows: 7  accepted: 7  merged: 0" in outputs["products"]
    assert "rows: 35  accepted: 35  merged: 0" in outputs["employees"]
    assert "rows: 85  accepted: 85  merged: 0" in outputs["customers"]
    assert "rows: 8800  accepted: 8800  merged: 0  skipped: 0  rejected: 0" in (
        outputs["opportunities"])
    by_stage = dict(Opportunity.objects.values_list("stage").annotate(n=Count("pk")))
    assert by_stage == {"prospecting": 500, "engaging": 1589, "won": 4238, "lost": 2473}
    assert Opportunity.objects.filter(status="won").count() == 4238
    assert Opportunity.objects.filter(status="lost").count() == 2473
    assert Opportunity.objects.filter(status="open").count() == 2089
    # GTXPro in the pipeline is the catalogue's GTX Pro.
    assert Opportunity.objects.filter(product__name="GTX Pro").count() == 1480
    assert Product.objects.get(name="GTX Pro").list_price == 4821
    # Deals without an account point at one clearly named placeholder customer.
    assert Opportunity.objects.filter(
        customer__external_id="import:no-account").count() == 1425
    won = Opportunity.objects.get(external_id="maven:1C1I7A6R")
    assert (won.amount, won.customer.name, won.owner.employee.name) == (
        1054, "Cancity", "Moses Frase")
    assert list(won.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", "engaging"), ("engaging", "won")]
    assert OpportunityEvent.objects.count() == 8800
    # Sales teams: offices under the sales department, a team per manager.
    anna = Employee.objects.get(name="Anna Snelling")
    assert anna.supervisor.name == "Dustin Brinkmann"
    team = anna.memberships.get().org_unit
    assert OrgUnit.objects.get_parent(team).code == "maven_office_central"
    assert Customer.objects.get(name="Acme Corporation").industry == "technology"  # technolgy

    again = {kind: run(kind, MAVEN / name, capsys) for kind, name in ORDER}
    assert "accepted: 0  merged: 8800" in again["opportunities"]
    for kind in ("products", "employees", "customers"):
        assert "accepted: 0" in again[kind]
    assert Opportunity.objects.count() == 8800 and OpportunityStageChange.objects.count() == (
        2 * (4238 + 2473) + 1589 + 500)
    assert Customer.objects.count() == 86  # 85 accounts and the placeholder


def test_rows_that_cannot_be_imported_are_reported_by_line(demo_org, tmp_path, capsys):
    run("products", write(tmp_path, "p.csv", "product,series,sales_price\nGTX Basic,GTX,550\n"),
        capsys)
    run("employees", write(tmp_path, "t.csv", "sales_agent,manager,regional_office\n"
                                               "Moses Frase,Dustin Brinkmann,Central\n"), capsys)
    pipeline = write(tmp_path, "pipeline.csv", (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
        "close_value\n"
        "A1,Moses Frase,GTX Basic,,Won,2016-10-20,2017-03-01,588\n"
        "A2,Nobody Here,GTX Basic,,Won,2016-10-20,2017-03-01,588\n"
        "A3,Moses Frase,GTX Basic,,Closing,2016-10-20,,\n"
        "A4,Moses Frase,GTX Basic,,Won,20.10.2016,2017-03-01,588\n"
        "A5,Moses Frase,Hoverboard,,Engaging,2016-10-20,,\n"
        "A1,Moses Frase,GTX Basic,,Won,2016-10-20,2017-03-01,588\n"
        "A7,Moses Frase,GTX Basic,Umbrella,Prospecting,,,\n"))
    output = run("opportunities", pipeline, capsys)
    assert "accepted: 1" in output and "skipped: 1" in output and "rejected: 5" in output
    assert "line 3: No employee named Nobody Here" in output
    assert "line 4: Stage “Closing” is not in the Opportunity stages list" in output
    assert "line 5: engage date is not a date: 20.10.2016" in output
    assert "line 6: Unknown product: Hoverboard" in output
    assert "line 7: Duplicate of line 2 in this file." in output
    assert "line 8: No customer named Umbrella" in output
    assert Opportunity.objects.count() == 1


def test_customers_and_contacts_with_recognised_headers(demo_org, tmp_path, capsys):
    customers = write(tmp_path, "客户.csv", "客户名称,行业,地址\n上海恒通科技有限公司,制造,上海\n"
                                            "杭州云帆,教育,杭州\n上海恒通科技有限公司,制造,上海\n")
    output = run("customers", customers, capsys, mapping="")
    assert "accepted: 2" in output and "skipped: 1" in output
    assert Customer.objects.get(name="杭州云帆").industry == "education"
    contacts = write(tmp_path, "contacts.csv", "联系人,公司,手机,邮箱\n"
                                               "王经理,上海恒通科技有限公司,13912345678,w@x.cn\n"
                                               "李工,不存在的公司,13912345679,\n")
    output = run("contacts", contacts, capsys, mapping="")
    assert "accepted: 1" in output and "rejected: 1" in output
    wang = Contact.objects.get(name="王经理")
    assert wang.customers.get().name == "上海恒通科技有限公司"
    assert sorted(wang.methods.values_list("kind", "value_key", "is_primary")) == [
        ("email", "w@x.cn", False), ("mobile", "13912345678", True)]


def test_an_unknown_mapping_name_is_refused(demo_org, tmp_path):
    path = write(tmp_path, "p.csv", "product\nX\n")
    with pytest.raises(CommandError, match="No saved mapping named 'nope'"):
        call_command("import_records", "products", str(path), "--mapping", "nope")


def test_progress_is_reported_per_batch(demo_org):
    raw = ("product,sales_price\n" + "".join(f"P{n},{n}\n" for n in range(25))).encode()
    table = read_table(raw, "p.csv")
    seen = []
    counts = import_table(kind="products", table=table,
                               mapping={"product": "name", "sales_price": "list_price"},
                               on_progress=lambda done, c: seen.append((done, c.accepted)),
                               batch_size=10)
    assert seen == [(10, 10), (20, 20), (25, 25)] and counts.accepted == 25
