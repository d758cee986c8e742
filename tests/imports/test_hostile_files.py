"""Hostile files: limits refuse them quickly with a clear message, bad rows are rejected
by line while the rest is imported, and nothing is parsed inside a web request."""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from crm_site.lib.imports.reading import ImportFileError, read_table
from leads import tasks
from leads.imports.lead_rows import guess_mapping
from leads.models import Lead, LeadPool
from leads.models_intake import ImportJob, ImportRejectedRow

from .hostile import lead_rows, xlsx_declaring

pytestmark = pytest.mark.django_db

HEADER = "姓名,手机,公司\n"


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


def run_file(master, raw: bytes, name: str = "leads.csv") -> ImportJob:
    """Upload ``raw`` as a lead job and let the worker read and import it (English)."""
    from django.contrib.auth import get_user_model

    job = ImportJob.objects.create(
        created_by=get_user_model().objects.get(username="marketing"), pool=master,
        file=ContentFile(raw, name=name), original_name=name,
        status=ImportJob.Status.READING)
    with translation.override("en"):
        tasks.import_file(job.pk, language="en")
        job.refresh_from_db()
        if job.status == ImportJob.Status.UPLOADED:
            job.mapping = guess_mapping(job.headers)
            job.status = ImportJob.Status.QUEUED
            job.save()
            tasks.import_file(job.pk, language="en")
    job.refresh_from_db()
    return job


def reasons(job: ImportJob) -> dict[int, str]:
    return dict(ImportRejectedRow.objects.filter(job=job).values_list("line", "reason"))


def test_a_tiny_sheet_declaring_columns_up_to_xfd_is_refused_at_once():
    raw = xlsx_declaring("A1:XFD1")
    assert len(raw) < 2000
    started = time.perf_counter()
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_table(raw, "wide.xlsx")
    assert time.perf_counter() - started < 1  # ~10 ms on an idle machine
    assert "16,384 columns" in str(refused.value) and "at most 500" in str(refused.value)


def test_a_sheet_declaring_a_million_rows_is_refused_before_a_cell_is_read():
    started = time.perf_counter()
    with translation.override("en"), pytest.raises(ImportFileError, match="more than"):
        read_table(xlsx_declaring("A1:B1048576"), "tall.xlsx")
    assert time.perf_counter() - started < 1  # ~10 ms on an idle machine
    # Within the limits the same little sheet reads: the check is the dimension's.
    assert read_table(xlsx_declaring("A1:B1"), "ok.xlsx").headers == ["name", "mobile"]


def test_the_upload_is_only_stored_and_the_worker_says_why_the_sheet_is_refused(
        master, login, client, django_capture_on_commit_callbacks):
    login("marketing")
    with django_capture_on_commit_callbacks() as callbacks:
        started = time.perf_counter()
        response = client.post("/leads/import/", {
            "file": SimpleUploadedFile("wide.xlsx", xlsx_declaring("A1:XFD1")),
            "pool": master.pk, "channel": "file_import"}, HTTP_ACCEPT_LANGUAGE="en")
        elapsed = time.perf_counter() - started
    job = ImportJob.objects.get()
    assert response.status_code == 302 and elapsed < 1
    assert job.status == ImportJob.Status.READING and job.headers == []
    waiting = client.get(f"/leads/import/{job.pk}/map/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="import-reading"' in waiting.content.decode()
    with translation.override("en"):
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "16,384 columns" in job.error
    report = client.get(client.get(f"/leads/import/{job.pk}/map/")["Location"],
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "16,384 columns" in report


def test_the_mapping_page_reads_the_stored_preview_not_the_file(
        master, login, client, django_capture_on_commit_callbacks):
    login("marketing")
    raw = (HEADER + "\n".join(lead_rows(8)) + "\n").encode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/leads/import/", {"file": SimpleUploadedFile("a.csv", raw),
                                       "pool": master.pk, "channel": "file_import"})
    job = ImportJob.objects.get()
    assert (job.status, job.total_rows, len(job.preview)) == ("uploaded", 8, 5)
    job.file.delete(save=False)  # the page must not need it
    page = client.get(f"/leads/import/{job.pk}/map/").content.decode()
    assert "客户1" in page and "客户5" in page and "客户6" not in page


def test_a_nul_byte_deep_in_the_file_rejects_its_row_and_the_rest_is_imported(master):
    rows = lead_rows(5000)
    rows[4498] = "客户坏\x00行,13999999999,公司"  # file line 4,500
    job = run_file(master, (HEADER + "\n".join(rows) + "\n").encode())
    assert (job.status, job.accepted, job.rejected) == ("done", 4999, 1)
    assert reasons(job) == {4500: "The row contains a NUL byte."}
    assert Lead.objects.count() == 4999


def test_an_unbalanced_quote_rejects_its_line_instead_of_swallowing_the_file(master):
    rows = lead_rows(100)
    rows[9] = '"客户引号,13988888888,公司'  # line 11: a quote that is never closed
    job = run_file(master, (HEADER + "\n".join(rows) + "\n").encode())
    assert (job.status, job.accepted, job.rejected) == ("done", 99, 1)
    assert "not closed" in reasons(job)[11]
    assert Lead.objects.filter(name="客户100").exists()


def test_undecodable_text_rejects_its_row(master):
    rows = [row.encode() for row in lead_rows(50)]
    rows[19] = "客户乱码,13977777777,".encode() + b"\xff\xfe\xfa"  # line 21
    job = run_file(master, HEADER.encode() + b"\n".join(rows) + b"\n")
    assert (job.status, job.encoding, job.accepted, job.rejected) == ("done", "utf-8", 49, 1)
    assert reasons(job) == {21: "The row is not valid utf-8 text."}


def test_a_ten_megabyte_cell_rejects_its_row(master):
    rows = lead_rows(20)
    rows[4] = "客户巨," + "9" * (10 * 2**20) + ",公司"  # line 6
    job = run_file(master, (HEADER + "\n".join(rows) + "\n").encode())
    assert (job.status, job.accepted, job.rejected) == ("done", 19, 1)
    assert reasons(job) == {6: "A cell is longer than 32,767 characters."}


@pytest.mark.parametrize(("raw", "message"), [
    ("姓\x00名,手机\n张三,13900000001\n".encode(), "The header row contains a NUL byte"),
    (b"\xef\xbb\xbf\xef\xbb\xbf" + "姓名,手机\n张三,13900000001\n".encode(),
     "two byte-order marks"),
])
def test_a_broken_header_gets_a_clear_message(master, raw, message):
    job = run_file(master, raw)
    assert job.status == ImportJob.Status.FAILED and message in job.error
    assert not Lead.objects.exists()


def test_too_many_rows_are_refused_with_the_limit(master, settings):
    settings.IMPORT_MAX_ROWS = 10
    job = run_file(master, (HEADER + "\n".join(lead_rows(11)) + "\n").encode())
    assert job.status == ImportJob.Status.FAILED and "more than 10 rows" in job.error


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis"])
def test_shift_jis_imports_as_written(master, encoding):
    text = ("name,mobile,company\n山田太郎,13900000011,株式会社テスト\n"
            "スズキ　イチロー,13900000012,東京商事\n田中花子,13900000013,大阪物産\n")
    job = run_file(master, text.encode(encoding))
    assert (job.status, job.encoding, job.accepted) == ("done", "cp932", 3)
    assert set(Lead.objects.values_list("name", flat=True)) == {
        "山田太郎", "スズキ　イチロー", "田中花子"}
