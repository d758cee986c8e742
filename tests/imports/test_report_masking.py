"""The import report and its rejected-rows CSV show contact values masked to an importer
who may not see them in clear (whatever column they were in)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_site.lib.imports.report import masked_cells
from leads.imports.lead_rows import guess_mapping
from leads.models import LeadPool
from leads.models_intake import ImportJob

pytestmark = pytest.mark.django_db

LEADS = ("姓名,手机,邮箱,身份证号,备注\n"
         "李四,138000011,li.si@example.com,110101199003071234,回电 13912345678\n"
         "王五,13800002222,,,\n")
CLEAR = ["138000011", "li.si@example.com", "110101199003071234", "13912345678"]
MASKED = ["*****0011", "l***@example.com", "110101********1234", "139****5678"]


def _import(client, master, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/leads/import/", {
            "file": SimpleUploadedFile("leads.csv", LEADS.encode()), "pool": master.pk,
            "channel": "file_import"})
    job = ImportJob.objects.get()
    post = {f"col_{i}": target for i, target in enumerate(
        ["name", "mobile", "email", "__attribute__", "notes"])}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/leads/import/{job.pk}/map/", {**post, "start": "1",
                                                     "duplicate_mode": "skip"})
    job.refresh_from_db()
    assert (job.status, job.accepted, job.rejected) == ("done", 1, 1)
    return job


def _seen(client, job) -> tuple[str, str]:
    page = client.get(f"/leads/import/{job.pk}/").content.decode()
    download = b"".join(client.get(f"/leads/import/{job.pk}/rejected.csv")
                        .streaming_content).decode("utf-8-sig")
    return page, download


def test_an_importer_without_unmask_rights_sees_the_rejected_rows_masked(
        demo_org, login, client, django_capture_on_commit_callbacks):
    login("marketing")
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    job = _import(client, master, django_capture_on_commit_callbacks)
    page, download = _seen(client, job)
    assert 'data-testid="rejected-rows"' in page
    for clear, masked in zip(CLEAR, MASKED, strict=True):
        assert clear not in page and clear not in download
        assert masked in page and masked in download
    assert "李四" in page and "李四" in download  # the row is still recognisable


def test_export_rights_unmask_the_csv_but_not_the_page(
        demo_org, login, client, django_capture_on_commit_callbacks):
    login("director")  # unmasks exports, not lists
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    job = _import(client, master, django_capture_on_commit_callbacks)
    page, download = _seen(client, job)
    assert all(clear not in page for clear in CLEAR)
    assert all(clear in download for clear in CLEAR)


def test_record_imports_mask_their_rejected_rows_too(
        demo_org, login, client, django_capture_on_commit_callbacks):
    login("director")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"kind": "contacts", "mapping": "", "file": SimpleUploadedFile(
            "c.csv", "联系人,公司,手机,邮箱\n李工,不存在的公司,13912345679,lg@x.cn\n".encode())})
    job = ImportJob.objects.get()
    assert (job.status, job.rejected) == ("done", 1)
    page = client.get(f"/leads/import/{job.pk}/").content.decode()
    assert "13912345679" not in page and "139****5679" in page
    assert "lg@x.cn" not in page and "l***@x.cn" in page


def test_masking_leaves_dates_and_amounts_alone():
    headers = ["name", "engage_date", "amount", "note"]
    cells = masked_cells({"name": "A", "engage_date": "2016-10-20", "amount": "1054",
                          "note": "call +86 139 1234 5678 or a@b.cn"}, headers,
                         guess_mapping(headers), unmask=False)
    assert cells[:3] == ["A", "2016-10-20", "1054"]
    assert "5678" in cells[3] and "1234 5678" not in cells[3] and "a***@b.cn" in cells[3]
