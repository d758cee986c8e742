"""Importing records from the browser: the lead import's background task, progress page and
rejected-rows report, for customers, opportunities, products and employees."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.models import Product
from leads.models_intake import ImportJob
from opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

PRODUCTS = "product,series,sales_price\nGTX Basic,GTX,550\nGTX Pro,GTX,4821\n,GTX,1\n"
PIPELINE = ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
            "close_value\nZ1,Wang Fang,GTXPro,,Engaging,2016-10-20,,\n"
            "Z2,Wang Fang,GTX Basic,,Won,2016-10-20,2017-01-02,600\n"
            "Z3,Wang Fang,GTX Basic,,Won,2016-10-20,2016-01-02,600\n")


def upload(client, kind: str, text: str, mapping: str = "maven", name: str = "f.csv"):
    """Upload as an English-speaking user: the report keeps reasons in their language."""
    return client.post("/imports/", {"kind": kind, "mapping": mapping,
                                     "file": SimpleUploadedFile(name, text.encode("utf-8"))},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_products_then_opportunities_through_the_pages(demo_org, login, client,
                                                       django_capture_on_commit_callbacks):
    login("admin")
    assert client.get("/imports/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "products", PRODUCTS)
    job = ImportJob.objects.get(kind="products")
    assert response["Location"] == f"/leads/import/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.accepted, job.rejected, job.pool_id) == ("done", 2, 1, None)
    assert set(Product.objects.values_list("name", flat=True)) == {"GTX Basic", "GTX Pro"}
    report = client.get(f"/leads/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="rejected-rows"' in report
    assert "No product name." in report
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "opportunities", PIPELINE)
    job = ImportJob.objects.get(kind="opportunities")
    assert (job.status, job.accepted, job.rejected) == ("done", 2, 1)
    assert Opportunity.objects.get(external_id="maven:Z1").product.name == "GTX Pro"
    download = b"".join(client.get(f"/leads/import/{job.pk}/rejected.csv").streaming_content)
    assert b"Z3" in download


def test_who_may_import_what(demo_org, login, client):
    login("rep_wangfang")  # no import right
    assert client.get("/imports/").status_code == 403
    client.logout()
    login("director")  # imports records, but the org tree only with administration
    page = client.get("/imports/").content.decode()
    assert 'value="opportunities"' in page and 'value="employees"' not in page
    response = upload(client, "employees", "sales_agent\nX\n")
    assert response.status_code == 200 and not ImportJob.objects.exists()


def test_a_file_that_cannot_be_read_is_refused_on_the_form(demo_org, login, client):
    login("admin")
    response = client.post("/imports/", {"kind": "customers", "mapping": "",
                                         "file": SimpleUploadedFile("a.pdf", b"%PDF")})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_someone_elses_import_report_is_a_404(demo_org, login, client,
                                              django_capture_on_commit_callbacks):
    login("director")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, "products", PRODUCTS)
    job = ImportJob.objects.get()
    client.logout()
    login("mgr_shanghai")
    assert client.get(f"/leads/import/{job.pk}/").status_code == 404
    assert client.get(f"/leads/import/{job.pk}/rejected.csv").status_code == 404
