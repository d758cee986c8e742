"""Dictionary columns of every import read a code or a label in either language, and a
value that matches nothing is rejected on its line; headers that equal a field's name or
label (in either language) are mapped without a saved mapping."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from contracts.models import Product
from crm_site.lib.imports.reading import read_table
from leads.imports.lead_kind import run_import
from leads.imports.lead_rows import guess_mapping
from leads.imports.runner import import_table, resolve_mapping
from leads.models import Lead, LeadPool
from leads.models_intake import ImportJob, ImportRejectedRow
from opportunities.models import Customer, Opportunity
from orgs.dictionaries import dictionary_matchers, fold

pytestmark = pytest.mark.django_db

LEADS = (
    "姓名,手机,区域,意向产品,行业,等级\n"
    "甲,13800000001,华东,软件订阅,制造业,A\n"
    "乙,13800000002,South China,Hardware,Retail,b\n"
    "丙,13800000003,ＥＡＳＴ,services,real estate,\n"
    "丁,13800000004,华西,,,\n"
    "戊,13800000005,east,培训课程,Fintech,\n"
)


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


def test_the_matcher_reads_codes_and_labels_in_both_languages_folded(demo_org):
    region = dictionary_matchers("region")["region"]
    for value in ("east", "EAST", "ｅａｓｔ", "华东", "East China", "east  china", "EAST-CHINA"):
        assert region.match(value) == "east", value
    assert region.match("华西") is None
    assert fold("Real_Estate") == fold("real estate") == fold("ＲＥＡＬ－ＥＳＴＡＴＥ")


def test_lead_import_stores_codes_and_rejects_unknown_values_by_line(master):
    table = read_table(LEADS.encode("utf-8"), "leads.csv")
    with translation.override("en"):
        counts = run_import(table=table, pool=master, channel="file_import",
                            mapping=guess_mapping(table.headers), actor=None)
    assert (counts.accepted, counts.rejected) == (3, 2)
    stored = {lead.name: (lead.region, lead.product_category, lead.industry, lead.grade)
              for lead in Lead.objects.filter(name__in=["甲", "乙", "丙"])}
    assert stored == {"甲": ("east", "software", "manufacturing", "A"),
                      "乙": ("south", "hardware", "retail", "B"),
                      "丙": ("east", "services", "real_estate", "")}
    reasons = {line: reason for line, reason, _data in counts.rejects}
    assert set(reasons) == {5, 6}
    assert "华西" in reasons[5] and "Region" in reasons[5]
    assert "Fintech" in reasons[6] and "Industry" in reasons[6]


def test_the_mapping_preview_shows_the_refusal_in_the_users_language(master):
    from leads.imports.lead_rows import preview_row

    table = read_table(LEADS.encode("utf-8"), "leads.csv")
    rows = dict(table.rows)
    with translation.override("zh-hans"):
        _values, _attrs, problem = preview_row(rows[5], table.headers,
                                                guess_mapping(table.headers), set(), "")
    assert "华西" in problem and "区域" in problem


def test_a_web_import_reports_in_the_uploaders_language_whenever_the_task_runs(
        master, login, client, django_capture_on_commit_callbacks):
    login("marketing")
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file
        response = client.post("/leads/import/", {
            "file": SimpleUploadedFile("leads.csv", LEADS.encode("utf-8")),
            "pool": master.pk, "channel": "file_import"}, HTTP_ACCEPT_LANGUAGE="en")
    job = ImportJob.objects.get()
    assert response["Location"] == f"/leads/import/{job.pk}/map/"
    assert job.mapping["区域"] == "region" and job.mapping["意向产品"] == "product_category"
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/leads/import/{job.pk}/map/",
                    {**{f"col_{i}": job.mapping[h] for i, h in enumerate(job.headers)},
                     "duplicate_mode": "skip", "empty_markers": ""},
                    HTTP_ACCEPT_LANGUAGE="en")
    # The worker runs later, in its own (default, Chinese) language.
    with translation.override("zh-hans"):
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    assert (job.status, job.accepted, job.rejected) == ("done", 3, 2)
    reasons = dict(ImportRejectedRow.objects.filter(job=job).values_list("line", "reason"))
    assert "is not in the Region list" in reasons[5]


def test_record_imports_read_dictionary_labels_and_reject_unknown_values(demo_org):
    customers = read_table((
        "客户名称,行业,区域,规模\n"
        "甲公司,Manufacturing,华东,中型（50–500 人）\n"
        "乙公司,制造,South China,LARGE\n"
        "丙公司,,华西,\n"
        "丁公司,Fintech,,\n").encode(), "c.csv")
    with translation.override("en"):
        counts = import_table(kind="customers", table=customers,
                              mapping=resolve_mapping("customers", customers.headers))
    assert (counts.accepted, counts.rejected) == (2, 2)
    assert {c.name: (c.industry, c.region, c.size) for c in Customer.objects.all()} == {
        "甲公司": ("manufacturing", "east", "medium"),
        "乙公司": ("manufacturing", "south", "large")}
    reasons = {line: reason for line, reason, _data in counts.rejects}
    assert "华西" in reasons[4] and "Fintech" in reasons[5]

    products = read_table("product,category\nX1,软件订阅\nX2,Gadgets\n".encode(), "p.csv")
    with translation.override("en"):
        counts = import_table(kind="products", table=products,
                              mapping=resolve_mapping("products", products.headers))
    assert Product.objects.get(name="X1").category == "software"
    assert [(line, "Gadgets" in reason) for line, reason, _d in counts.rejects] == [(3, True)]

    deals = read_table(("商机名称,客户,负责人,阶段,输单原因,金额\n"
                        "D1,甲公司,王芳,方案/报价,,100\n"
                        "D2,甲公司,王芳,Lost,Price too high,0\n"
                        "D3,甲公司,王芳,lost,Too busy,0\n").encode(), "o.csv")
    with translation.override("en"):
        counts = import_table(kind="opportunities", table=deals,
                              mapping=resolve_mapping("opportunities", deals.headers))
    assert {o.name: (o.stage, o.lost_reason) for o in Opportunity.objects.all()} == {
        "D1": ("proposal", ""), "D2": ("lost", "price")}
    assert [line for line, _r, _d in counts.rejects] == [4]


def test_headers_equal_to_a_field_name_or_label_are_mapped_in_both_languages():
    assert guess_mapping(["意向产品", "Industry", "product interest", "行业", "external ID"]) == {
        "意向产品": "product_category", "Industry": "industry",
        "product interest": "__attribute__",  # already taken by the first column
        "行业": "__attribute__", "external ID": "external_id"}
    assert guess_mapping(["Product_Category", "外部编号"]) == {
        "Product_Category": "product_category", "外部编号": "external_id"}
    assert resolve_mapping("opportunities", ["预计成交日期", "Lost reason", "type"]) == {
        "预计成交日期": "expected_close", "Lost reason": "lost_reason", "type": "type"}
    assert resolve_mapping("products", ["标价", "品类"]) == {"标价": "list_price",
                                                           "品类": "category"}
    assert resolve_mapping("customers", ["Website", "规模", "等级"]) == {
        "Website": "website", "规模": "size", "等级": "__attribute__"}
