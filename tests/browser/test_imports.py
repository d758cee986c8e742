"""The import pages while the worker reads the upload: the mapping page waits, then shows
the stored preview; a file the worker refuses ends on the report with the reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.imports.hostile import lead_rows, xlsx_declaring

pytestmark = pytest.mark.browser


def _reading_job(name: str, raw: bytes):
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from leads.models import LeadPool
    from leads.models_intake import ImportJob

    return ImportJob.objects.create(
        created_by=get_user_model().objects.get(username="marketing"),
        pool=LeadPool.objects.get(kind=LeadPool.Kind.MASTER), file=ContentFile(raw, name=name),
        original_name=name, status=ImportJob.Status.READING, language="zh-hans")


def test_the_mapping_page_waits_for_the_worker_then_shows_the_preview(
        page, demo_site, sign_in, shot):
    from leads.imports.runner import read_job

    job = _reading_job("展会名单.csv", ("姓名,手机,公司\n" + "\n".join(lead_rows(12))
                                     + "\n").encode("gb18030"))
    sign_in(page, "marketing")
    page.goto(f"{demo_site}/leads/import/{job.pk}/map/")
    expect(page.get_by_test_id("import-reading")).to_contain_text("正在读取文件")
    shot(page, "import-reading-the-file")
    read_job(job.pk)  # the worker, here in the test's process
    # The page polls and moves on to the mapping form by itself.
    expect(page.get_by_test_id("mapping-form")).to_be_visible()
    expect(page.locator("main")).to_contain_text("gb18030")
    expect(page.get_by_test_id("preview").locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("preview").locator("tbody tr").first).to_contain_text("客户1")
    shot(page, "import-mapping-after-reading")


def test_a_sheet_the_worker_refuses_ends_on_the_report_with_the_reason(
        page, demo_site, sign_in, shot):
    from leads.imports.runner import read_job

    job = _reading_job("宽表.xlsx", xlsx_declaring("A1:XFD1"))
    sign_in(page, "marketing")
    page.goto(f"{demo_site}/leads/import/{job.pk}/map/")
    expect(page.get_by_test_id("import-reading")).to_be_visible()
    read_job(job.pk)
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", "failed")
    expect(status).to_contain_text("16,384")
    shot(page, "import-refused-wide-sheet")
