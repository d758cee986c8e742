"""Intake: file import (CSV/XLSX, encodings, mapping, duplicates, rejects) and the ingest API."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm_site.lib.imports.reading import detect_encoding, read_table
from leads.imports.lead_kind import run_import
from leads.imports.lead_rows import guess_mapping
from leads.models import Lead, LeadEvent, LeadPool, Touchpoint
from leads.models_intake import ChannelToken, ImportJob, ImportMapping
from tests.datasets import MISSING, dataset

pytestmark = pytest.mark.django_db

LEADS_CSV = dataset("xeducation_leads", "Leads.csv")


@pytest.fixture
def master(demo_org):
    return LeadPool.objects.get(kind=LeadPool.Kind.MASTER)


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


SAMPLE = (
    "姓名,手机,公司,邮箱,城市\n"
    "张三,13800001111,上海甲公司,zs@example.com,上海\n"
    "李四,138000011,乙公司,,北京\n"
    "张三,+86 138 0000 1111,上海甲公司,,上海\n"
    "王五,,丙公司,,\n"
    "赵六,１３９００００２２２２,丁公司,ZL@Example.com ,广州\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_every_supported_encoding_reads_the_same_rows(encoding):
    table = read_table(_csv(SAMPLE, encoding), "leads.csv")
    rows = list(table.rows)
    assert table.headers[:3] == ["姓名", "手机", "公司"]
    assert rows[0] == (2, ["张三", "13800001111", "上海甲公司", "zs@example.com", "上海"])
    assert table.total == 5
    assert detect_encoding(_csv(SAMPLE, encoding)) in {"utf-8", "utf-8-sig", "gb18030"}


def test_import_reports_rejects_by_line_and_skips_in_file_duplicates(master):
    table = read_table(_csv(SAMPLE, "gbk"), "leads.csv")
    counts = run_import(table=table, pool=master, channel="file_import",
                        mapping=guess_mapping(table.headers), actor=None)
    assert (counts.accepted, counts.skipped, counts.rejected) == (2, 1, 2)
    reasons = {line: reason for line, reason, _ in counts.rejects}
    assert "2" in reasons[4]  # line 4 duplicates line 2 (same mobile after normalising)
    assert 3 in reasons and 5 in reasons  # bad mobile, no way to reach
    lead = Lead.objects.get(mobile_key="13900002222")  # full-width digits normalised
    assert lead.email_key == "zl@example.com"
    assert lead.attributes == {"城市": "广州"}  # unmapped columns are kept
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.CREATED).count() == 2


def test_a_file_in_many_batches_imports_as_one_with_rejects_in_line_order(master):
    """Small batches: the next batch is checked (in a thread of its own) while the current
    one is written; duplicates across batches and the reject list come out the same."""
    from django.utils import translation

    rows = [f"客户{n},139{n:08d},公司{n % 7}" for n in range(1, 301)]
    rows[120] = "客户重复,13900000007,公司0"  # line 122 repeats line 8, two batches back
    rows[250] = ",13900009999,公司9"  # line 252: no name
    raw = ("姓名,手机,公司\n" + "\n".join(rows) + "\n").encode("utf-8")
    table = read_table(raw, "batches.csv")
    with translation.override("en"):
        counts = run_import(table=table, pool=master, channel="file_import",
                            mapping=guess_mapping(table.headers), actor=None, batch_size=25)
    assert (counts.accepted, counts.skipped, counts.rejected) == (298, 1, 1)
    assert [line for line, _reason, _row in counts.rejects] == [122, 252]
    assert counts.rejects[0][1] == "Duplicate of line 8 in this file."
    assert Lead.objects.filter(channel="file_import").count() == 298
    assert LeadEvent.objects.filter(kind="created", reason="file_import").count() == 298


def test_reimporting_the_same_file_adds_nothing_and_merge_fills_gaps(master):
    raw = _csv(SAMPLE)
    table = read_table(raw, "leads.csv")
    mapping = guess_mapping(table.headers)
    run_import(table=table, pool=master, channel="file_import", mapping=mapping, actor=None)
    before = Lead.objects.count()
    again = run_import(table=read_table(raw, "leads.csv"), pool=master, channel="file_import",
                       mapping=mapping, actor=None)
    assert again.accepted == 0 and Lead.objects.count() == before
    richer = "姓名,手机,职位\n张三,13800001111,采购经理\n"
    merged = run_import(table=read_table(_csv(richer), "more.csv"), pool=master,
                        channel="file_import", mapping=guess_mapping(["姓名", "手机", "职位"]),
                        actor=None, merge=True)
    assert merged.merged == 1 and Lead.objects.count() == before
    assert Lead.objects.get(mobile_key="13800001111").title == "采购经理"
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.MERGED).count() == 1


def test_xlsx_import(master):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Mobile", "Company"])
    sheet.append(["Alice Wang", "13700001234", "Acme"])
    sheet.append([None, None, None])
    sheet.append(["Bob Li", 13700005678, "Beta"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "sheet.xlsx")
    counts = run_import(table=table, pool=master, channel="file_import",
                        mapping=guess_mapping(table.headers), actor=None)
    assert counts.accepted == 2
    assert Lead.objects.filter(mobile_key="13700005678", name="Bob Li").exists()


def test_unreadable_files_get_a_clear_message():
    from crm_site.lib.imports.reading import ImportFileError

    with pytest.raises(ImportFileError):
        read_table(b"\x00\x01not a workbook", "x.xlsx")
    with pytest.raises(ImportFileError):
        read_table(b"a,b\n", "x.pdf")


@pytest.mark.skipif(not LEADS_CSV.exists(), reason=MISSING)
def test_xeducation_leads_csv_loads_as_it_is_with_a_saved_mapping(master, capsys):
    headers = read_table(LEADS_CSV.read_bytes(), "Leads.csv").headers
    mapping = {**guess_mapping(headers), "Prospect ID": "external_id"}
    ImportMapping.objects.create(name="X Education", mapping=mapping,
                                 name_template="Lead {Lead Number}", empty_markers=["Select"])
    call_command("import_leads", str(LEADS_CSV), "--pool", "master", "--mapping", "X Education")
    first = capsys.readouterr().out
    assert "accepted: 9240" in first and "rejected: 0" in first
    lead = Lead.objects.get(external_id="7927b2df-8bba-4d29-b9a2-b6e0beafe620")
    assert lead.name == "Lead 660737"
    assert "Specialization" not in lead.attributes  # "Select" read as empty
    assert lead.attributes["Lead Source"] == "Olark Chat"
    call_command("import_leads", str(LEADS_CSV), "--pool", "master", "--mapping", "X Education")
    second = capsys.readouterr().out
    assert "accepted: 0" in second and "skipped: 9240" in second
    assert Lead.objects.filter(pool=master).count() == 9240


def test_upload_map_and_run_through_the_pages(master, login, client,
                                              django_capture_on_commit_callbacks):
    login("marketing")
    upload = SimpleUploadedFile("客户.csv", _csv(SAMPLE, "gbk"), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file
        response = client.post("/leads/import/", {"file": upload, "pool": master.pk,
                                                  "channel": "file_import"})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "gb18030" in page and "张三" in page  # preview of the first rows
    post = {f"col_{i}": target for i, target in enumerate(
        ["name", "mobile", "company", "email", "__attribute__"])}
    post.update({"duplicate_mode": "skip", "start": "1", "save_as": "客户表"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/leads/import/{job.pk}/map/", post)
    assert len(callbacks) == 1  # the task is queued only once the job row is committed
    assert response["Location"] == f"/leads/import/{job.pk}/"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.accepted, job.skipped, job.rejected) == (2, 1, 2)
    report = client.get(f"/leads/import/{job.pk}/").content.decode()
    assert "data-testid=\"rejected-rows\"" in report
    download = b"".join(client.get(f"/leads/import/{job.pk}/rejected.csv").streaming_content)
    assert "不正确".encode() in download or b"phone" in download
    assert ImportMapping.objects.filter(name="客户表").exists()


def test_a_rep_without_import_right_is_refused(demo_org, login, client):
    login("rep_wangfang")
    assert client.get("/leads/import/").status_code == 403


def test_another_users_import_job_is_not_found(master, login, client):
    login("marketing")
    client.post("/leads/import/", {"file": SimpleUploadedFile("a.csv", _csv(SAMPLE)),
                                   "pool": master.pk, "channel": "file_import"})
    job = ImportJob.objects.get()
    client.logout()
    login("director")
    assert client.get(f"/leads/import/{job.pk}/").status_code == 404
    assert client.get(f"/leads/import/{job.pk}/rejected.csv").status_code == 404


# --- ingest API -------------------------------------------------------------------------------


@pytest.fixture
def token(master):
    channel_token = ChannelToken(channel="web_form", name="官网表单", pool=master)
    secret = channel_token.issue()
    channel_token.save()
    return secret


def _post(client, body, secret=None, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client.post("/api/leads/ingest/", data=data, content_type="application/json",
                       **headers)


def test_ingest_creates_a_lead_keeping_the_raw_payload(client, token, master):
    body = {"external_id": "F-1", "name": "周杰", "mobile": "+86 139-1111-2222",
            "attributes": {"utm_source": "baidu", "page": "/pricing"}}
    response = _post(client, body, token)
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["lead_id"])
    assert lead.pool == master and lead.channel == "web_form"
    assert lead.mobile_key == "13911112222"
    assert lead.attributes["utm_source"] == "baidu"
    assert lead.attributes["_payload"] == body


def test_ingest_replay_and_known_person(client, token):
    _post(client, {"external_id": "F-1", "name": "周杰", "mobile": "13911112222"}, token)
    replay = _post(client, {"external_id": "F-1", "name": "周杰", "mobile": "13911112222"},
                   token)
    assert replay.status_code == 409 and replay.json()["error"] == "replay"
    again = _post(client, {"external_id": "F-2", "name": "周杰伦", "mobile": "0086 13911112222"},
                  token)
    assert again.status_code == 200 and again.json()["status"] == "touchpoint"
    assert Lead.objects.count() == 1
    assert Touchpoint.objects.get().external_id == "F-2"
    assert _post(client, {"external_id": "F-2", "name": "x", "mobile": "13911112222"},
                 token).status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ("[1, 2]", 400, "invalid_body"),
        ({"external_id": "A", "name": "x", "mobile": "13900000000", "hack": 1}, 400,
         "unknown_fields"),
        ({"external_id": "A", "name": "x"}, 400, "invalid_fields"),
        ({"name": "x", "mobile": "13900000000"}, 400, "invalid_fields"),
        ({"external_id": "A", "name": "x", "email": "nope"}, 400, "invalid_fields"),
    ],
)
def test_ingest_rejects_bad_bodies_with_clear_json(client, token, body, status, code):
    response = _post(client, body, token)
    assert response.status_code == status
    assert response.json()["error"] == code and response.json()["message"]
    assert Lead.objects.count() == 0


def test_ingest_refuses_bad_token_and_oversized_body(client, token):
    body = {"external_id": "A", "name": "x", "mobile": "13900000000"}
    assert _post(client, body).status_code == 401
    assert _post(client, body, "wrong-token").json()["error"] == "bad_token"
    huge = {**body, "attributes": {"blob": "x" * 70_000}}
    assert _post(client, huge, token).status_code == 413
    ChannelToken.objects.update(is_active=False)
    assert _post(client, body, token).status_code == 401
    assert client.get("/api/leads/ingest/").status_code == 405


def test_team_leads_export_is_scoped_and_masked(demo_org, login, client):
    from leads.demo import seed_demo

    seed_demo(engine=False)
    login("mgr_shanghai")
    response = client.get("/leads/team/export.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    shanghai = Lead.objects.filter(owner__username__in=["rep_wangfang", "rep_lilei"],
                                   status__in=Lead.OPEN_STATUSES)
    hangzhou = Lead.objects.filter(owner__username="rep_zhangwei").first()
    assert body.count("\n") == shanghai.count() + 1
    assert hangzhou.name not in body or hangzhou.company not in body
    sample = shanghai.first()
    assert sample.mobile not in body and f"{sample.mobile[:3]}****{sample.mobile[-4:]}" in body
    client.logout()
    login("rep_wangfang")
    assert client.get("/leads/team/export.csv").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_batches_written_side_by_side_merge_into_the_same_lead_without_losing_a_field(
        demo_org, monkeypatch):
    """Outside a transaction two batches are written at once on two connections. Rows of
    both that repeat the same lead (one by mobile, one by e-mail) both fill it in: the
    second waits for the first and reads what it wrote."""
    import time

    from leads.imports import lead_writes as importer

    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    known = Lead.objects.create(pool=master, name="老客户", mobile="13911112222",
                                email="old@example.com", channel="file_import")
    known.refresh_keys()
    known.save()
    writers = []
    real_write, real_merge = importer._write_batch, importer._merge

    def counted(*args, **kwargs):
        writers.append(threading.get_ident())
        return real_write(*args, **kwargs)

    def slow_merge(merges):
        # The batch bringing the company reads the lead second; the other one, having
        # read it first, writes it back late.
        brings_company = any(row.values.get("company") for row, _pk in merges)
        if brings_company:
            time.sleep(0.2)
        merged = real_merge(merges)
        if not brings_company:
            time.sleep(0.6)
        return merged

    monkeypatch.setattr(importer, "_write_batch", counted)
    monkeypatch.setattr(importer, "_merge", slow_merge)
    lines = [f"客户{n},139{n:08d},,公司{n}" for n in range(1, 401)]
    lines[10] = "老客户,13911112222,,北京老字号"  # batch 1: same mobile, brings a company
    lines[60] = "老客户,,old@example.com,,"  # batch 2, written at the same time: same e-mail
    lines[391] = "老客户,,OLD@example.com,上海分号"  # the same e-mail again: a duplicate
    raw = ("姓名,手机,邮箱,公司\n" + "\n".join(lines) + "\n").encode("utf-8")
    table = read_table(raw, "merge.csv")
    counts = run_import(table=table, pool=master, channel="file_import",
                        mapping=guess_mapping(table.headers), actor=None, merge=True,
                        batch_size=50)
    assert len(set(writers)) == 2  # two writer threads
    assert (counts.accepted, counts.merged, counts.skipped, counts.rejected) == (397, 2, 1, 0)
    known.refresh_from_db()
    assert known.company == "北京老字号"
    assert LeadEvent.objects.filter(lead=known, kind="merged").count() == 2
    assert Lead.objects.filter(pool=master, channel="file_import").count() == 398
    assert LeadEvent.objects.filter(kind="created", reason="file_import").count() == 397
