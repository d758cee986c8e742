"""A file import runs on a real Celery worker over Redis and reports progress as it goes."""


from django.core.files.base import ContentFile

from crm_site.lib.imports.reading import read_table
from leads import tasks
from leads.imports.lead_rows import guess_mapping
from leads.models import Lead, LeadPool
from leads.models_intake import ImportJob


def test_import_job_runs_on_the_worker_and_is_not_run_twice(redis_worker, settings):
    from orgs.demo import seed_demo_org

    seed_demo_org()
    settings.IMPORT_BATCH_SIZE = 100
    rows = "\n".join(f"客户{i},139{i:08d},公司{i % 50}" for i in range(1, 501))
    raw = ("姓名,手机,公司\n" + rows + "\n").encode("gb18030")
    table = read_table(raw, "big.csv")
    from django.contrib.auth import get_user_model

    job = ImportJob.objects.create(
        created_by=get_user_model().objects.get(username="marketing"),
        pool=LeadPool.objects.get(kind=LeadPool.Kind.MASTER),
        file=ContentFile(raw, name="big.csv"), original_name="big.csv",
        headers=table.headers, mapping=guess_mapping(table.headers),
        status=ImportJob.Status.QUEUED,
    )
    first = tasks.import_file.delay(job.pk)
    second = tasks.import_file.delay(job.pk)  # a redelivery must not import twice
    results = [first.get(timeout=60), second.get(timeout=60)]
    assert sorted(r["status"] for r in results) == ["done", "not queued"]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.percent == 100
    assert job.accepted == 500 and Lead.objects.count() == 500
