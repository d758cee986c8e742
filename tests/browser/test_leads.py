"""The lead workbench through a real browser: entry, import, claims, transfers, the detail page.

Every scenario starts from the demo company plus the regional pools and the demo leads
(``leads.demo.seed_demo``). Chinese is asserted where our zh-hans catalogue or the data
supplies it; the rest goes through ``data-testid`` hooks. Screenshots of every page a rep,
a manager or marketing works in land in ``tests/artifacts/browser/leads-*.png``.
"""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


@pytest.fixture
def lead_site(demo_site) -> str:
    """The live server with the demo company, its regional pools and the demo leads."""
    from leads.demo import seed_demo

    seed_demo(engine=False)
    return demo_site


def first_choice(select: Locator) -> str:
    """The value of a select's first real option (past the blank "—")."""
    return select.locator("option:not([value=''])").first.get_attribute("value")


def page_fits_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def open_leads(username: str):
    from leads.models import Lead

    return Lead.objects.filter(owner__username=username, status__in=Lead.OPEN_STATUSES)


def pool_leads(code: str):
    from leads.models import Lead

    return Lead.objects.filter(pool__code=code, owner__isnull=True,
                               status=Lead.Status.IN_POOL)


def my_lead_row(page: Page, lead_id: int) -> Locator:
    return page.get_by_test_id("my-leads").locator(f'tr[data-lead="{lead_id}"]')


def switch_to_english(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("language-switch").locator("button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


# --- 1. manual entry with the live duplicate check ------------------------------------------


def test_manual_entry_finds_duplicates_as_you_type_and_offers_the_pool_lead(
    page, lead_site, sign_in, shot
):
    from leads.models import Lead

    taken = open_leads("rep_zhangwei").order_by("pk").first()  # Hangzhou team, not hers
    waiting = pool_leads("east_pool").order_by("pk").first()
    sign_in(page, "rep_wangfang")
    page.goto(f"{lead_site}/leads/new/")
    form_url = page.url
    dupes = page.locator("#dupes")
    expect(dupes.locator("[data-testid^=dupe-]")).to_have_count(0)

    page.locator("#id_mobile").press_sequentially(taken.mobile, delay=15)

    # The panel fills in while she types: no submit, no navigation.
    other = dupes.get_by_test_id("dupe-other")
    expect(other).to_contain_text("已由 杭州二组 跟进，不能重复录入。")
    expect(other).not_to_contain_text("张伟")  # the team, not the colleague, is named
    expect(other).not_to_contain_text(taken.name)  # nor another team's customer
    assert page.url == form_url
    page.locator("#id_name").fill("重复客户")
    shot(page, "leads-01-new-lead-duplicate-hit-zh")

    with page.expect_navigation():
        page.get_by_test_id("lead-form").locator("button[type=submit]").click()

    expect(page.get_by_test_id("form-error")).to_have_text("这条线索已由 杭州二组 跟进。")
    assert Lead.objects.filter(mobile_key=taken.mobile_key).count() == 1
    expect(page.locator("#id_mobile")).to_have_value(taken.mobile)

    mobile = page.locator("#id_mobile")
    mobile.fill("")
    mobile.press_sequentially(waiting.mobile, delay=15)

    pool_hit = dupes.get_by_test_id("dupe-pool")
    expect(pool_hit).to_contain_text("华东公海")
    # A pool lead is hers to see: the panel says which one matched.
    expect(pool_hit.get_by_test_id("dupe-match")).to_contain_text(waiting.name)
    expect(dupes.get_by_test_id("dupe-other")).to_have_count(0)
    claim = pool_hit.get_by_test_id("claim-instead")
    expect(claim).to_have_text("直接领取")
    shot(page, "leads-02-new-lead-pool-hit-zh")

    with page.expect_navigation():
        claim.click()

    expect(page).to_have_url(f"{lead_site}/leads/{waiting.pk}/")
    expect(page.get_by_role("alert")).to_contain_text("领取成功")
    expect(page.get_by_test_id("lead-owner")).to_have_text("王芳")
    page.goto(f"{lead_site}/leads/")
    expect(my_lead_row(page, waiting.pk)).to_contain_text(waiting.name)
    assert Lead.objects.filter(mobile_key=waiting.mobile_key).count() == 1


# --- 2. import: GBK file, mapping, progress, rejected rows ---------------------------------


IMPORT_HEADER = ["客户姓名", "联系电话", "公司名称", "邮箱", "城市", "来源"]
BAD_MOBILE_LINES = (4, 202)
NO_CONTACT_LINE = 52
DUPLICATE_LINE, DUPLICATE_OF = 122, 2


def import_rows(count: int = 300) -> list[list[str]]:
    """``count`` leads as a Chinese marketing sheet has them; some rows are bad on purpose.

    Line numbers count the header as line 1, as the import report does.
    """
    surnames, given = "王李张刘陈杨黄赵吴周", ["伟", "芳", "秀英", "建华", "雪梅", "志强"]
    rows = []
    for index in range(count):
        line = index + 2
        row = [f"{surnames[index % 10]}{given[index % 6]}", f"1660{index:07d}",
               f"导入测试{index}号贸易有限公司", f"buyer{index}@example.cn" if index % 4 == 0
               else "", "苏州" if index % 2 else "上海", "展会"]
        if line in BAD_MOBILE_LINES:
            row[1] = "138000011"
        elif line == NO_CONTACT_LINE:
            row[1] = row[3] = ""
        elif line == DUPLICATE_LINE:
            row[1] = "+86 1660000 0000"  # line 2's mobile, written another way
            row[3] = ""
        rows.append(row)
    return rows


def test_marketing_imports_a_gbk_file_and_downloads_the_rejected_rows(
    page, lead_site, sign_in, shot, tmp_path
):
    from leads.models import Lead, LeadPool
    from leads.models_intake import ImportJob

    rows = import_rows()
    mobiles = [row[1] for row in rows]
    assert not Lead.objects.filter(mobile__in=mobiles).exists()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([IMPORT_HEADER, *rows])
    upload = tmp_path / "展会客户名单.csv"
    upload.write_bytes(buffer.getvalue().encode("gbk"))
    # Marketing feeds the master pool; routing moves leads on to the regions.
    master = LeadPool.objects.get(kind=LeadPool.Kind.MASTER)
    before = pool_leads(master.code).count()

    sign_in(page, "marketing")
    page.goto(f"{lead_site}/leads/import/")
    form = page.get_by_test_id("upload-form")
    form.locator("#id_file").set_input_files(upload)
    form.locator("#id_pool").select_option(str(master.pk))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    # Mapping page: the file was read as GB18030 (GBK's superset), its headers listed.
    job = ImportJob.objects.get()
    expect(page).to_have_url(f"{lead_site}/leads/import/{job.pk}/map/")
    expect(page.get_by_role("heading", level=1)).to_have_text("映射列")
    expect(page.locator("main")).to_contain_text("展会客户名单.csv")
    expect(page.locator("main")).to_contain_text("gb18030")
    expect(page.locator("label[for=col_1]")).to_have_text("联系电话")
    # "联系电话" is not a header LeadPool knows: the mobile column starts unmapped.
    expect(page.locator("#col_1")).to_have_value("__attribute__")
    expect(page.locator("#col_0")).to_have_value("name")
    preview = page.get_by_test_id("preview")
    expect(preview.locator("tbody tr")).to_have_count(5)
    expect(preview.locator("tbody tr").first).to_contain_text("王伟")

    page.locator("#col_1").select_option("mobile")
    page.locator("#col_5").select_option("__ignore__")
    with page.expect_navigation():
        page.get_by_test_id("mapping-form").locator("button[name=preview]").click()

    expect(page.locator("#col_1")).to_have_value("mobile")
    first = preview.locator("tbody tr").first
    expect(first).to_contain_text("16600000000")
    expect(first).to_contain_text("导入测试0号贸易有限公司")
    bad = preview.locator("tbody tr").nth(2)  # line 4: a mobile two digits short
    expect(bad).to_have_class("table-danger")
    expect(bad.locator("td").first).to_have_text("4")
    shot(page, "leads-03-import-mapping-zh")

    with page.expect_navigation():
        page.get_by_test_id("start-import").click()

    expect(page).to_have_url(f"{lead_site}/leads/import/{job.pk}/")
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", "done")
    bar = status.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_have_text("100%")
    # The task ran in-process at commit, so the page came back finished: polling has stopped.
    # What the 1-second poll would fetch is the status fragment alone, finished too.
    assert status.get_attribute("hx-trigger") is None
    fragment = page.request.get(f"{lead_site}/leads/import/{job.pk}/",
                                headers={"HX-Request": "true"}).text()
    assert fragment.lstrip().startswith('<div id="import-status"')
    assert 'data-status="done"' in fragment and "hx-trigger" not in fragment
    counts = status.get_by_test_id("import-counts")
    expect(counts.locator("[data-count=accepted]")).to_have_text("296")
    expect(counts.locator("[data-count=merged]")).to_have_text("0")
    expect(counts.locator("[data-count=skipped]")).to_have_text("1")
    expect(counts.locator("[data-count=rejected]")).to_have_text("3")
    expected_lines = sorted([*BAD_MOBILE_LINES, NO_CONTACT_LINE, DUPLICATE_LINE])
    table = status.get_by_test_id("rejected-rows")
    lines = table.locator("tbody tr td:first-child").all_inner_texts()
    assert sorted(int(line) for line in lines) == expected_lines
    duplicate = table.locator("tbody tr", has_text=str(DUPLICATE_LINE))
    expect(duplicate).to_contain_text(str(DUPLICATE_OF))
    # The row as it was in the file, so the user recognises it without opening the file;
    # marketing may not unmask contact data, so the mobile shows masked.
    expect(table.locator("tbody tr").first).to_contain_text("张秀英 · *****0011")
    expect(table).not_to_contain_text("138000011")
    shot(page, "leads-04-import-report-zh")
    assert pool_leads(master.code).count() == before + 296

    with page.expect_download() as info:
        status.get_by_test_id("download-rejects").click()
    download = info.value
    assert download.suggested_filename == f"rejected-{job.pk}.csv"
    report = list(csv.reader(io.StringIO(
        Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert report[0][:2] == ["行号", "原因"]
    assert report[0][2:] == IMPORT_HEADER
    by_line = {int(row[0]): row for row in report[1:]}
    assert sorted(by_line) == expected_lines
    # The row as it was in the file, the mobile masked as on the page.
    assert by_line[BAD_MOBILE_LINES[0]][2 + 1] == "*****0011"
    assert str(DUPLICATE_OF) in by_line[DUPLICATE_LINE][1]


# --- 3. two reps claim the same pool lead --------------------------------------------------


def test_two_reps_claim_the_same_lead_and_exactly_one_gets_it(new_page, lead_site, sign_in, shot):
    from leads.models import Lead

    reps = {"rep_wangfang": "王芳", "rep_lilei": "李磊"}
    pages = {}
    for username in reps:
        pages[username] = sign_in(new_page(), username)
        pages[username].goto(f"{lead_site}/leads/pool/?pool=east_pool")
    first = pages["rep_wangfang"]
    expect(first.get_by_test_id("pool-tabs").locator(".nav-link.active")).to_contain_text("华东公海")
    lead_id = int(first.get_by_test_id("pool-leads").locator("tr[data-lead]").first
                  .get_attribute("data-lead"))
    shot(first, "leads-05-pool-east-zh")
    buttons = {username: page.locator(f"#claim-{lead_id}").get_by_test_id("claim")
               for username, page in pages.items()}
    for button in buttons.values():
        expect(button).to_be_visible()

    # Both click before either answer is back: the requests race on the server.
    for button in buttons.values():
        button.click()

    outcomes = {}
    for username, page in pages.items():
        cell = page.locator(f"#claim-{lead_id}")
        expect(cell.locator("[data-testid=claim-ok], [data-testid=claim-refused]")).to_be_visible()
        outcomes[username] = "ok" if cell.get_by_test_id("claim-ok").count() else "refused"
    assert sorted(outcomes.values()) == ["ok", "refused"]
    winner = next(u for u, outcome in outcomes.items() if outcome == "ok")
    loser = next(u for u in reps if u != winner)
    expect(pages[winner].get_by_test_id("claim-ok")).to_contain_text("领取成功")
    refused = pages[loser].get_by_test_id("claim-refused")
    expect(refused).to_have_text(f"慢了一步：{reps[winner]}（上海一组）刚刚领取了这条线索。")
    shot(pages[loser], "leads-06-pool-claim-lost-zh")
    assert Lead.objects.get(pk=lead_id).owner.username == winner

    for username, page in pages.items():
        page.goto(f"{lead_site}/leads/")
        expect(my_lead_row(page, lead_id)).to_have_count(1 if username == winner else 0)
    shot(pages[winner], "leads-07-my-leads-zh")


# --- 4. a manager transfers leads ------------------------------------------------------------


def test_manager_transfers_two_leads_and_the_timeline_shows_it(page, lead_site, sign_in, shot):
    from django.contrib.auth import get_user_model

    from leads.models import Lead

    lilei = get_user_model().objects.get(username="rep_lilei")
    sign_in(page, "mgr_shanghai")
    page.goto(f"{lead_site}/leads/team/")
    shot(page, "leads-08-team-leads-zh")
    table = page.get_by_test_id("team-leads")
    expect(table).to_contain_text("王芳")
    expect(table).not_to_contain_text("张伟")  # Hangzhou: outside his unit

    with page.expect_navigation():
        page.locator("#id_owner").select_option(label="王芳")
    rows = table.locator("tbody tr[data-lead]")
    expect(rows.first).to_be_visible()
    owners = rows.locator("td:nth-child(4)").all_inner_texts()
    assert owners and set(owners) == {"王芳"}
    # Two she holds (taken a while ago).
    chosen = list(open_leads("rep_wangfang").filter(assigned_at__lt=timezone.now())
                  .order_by("pk").values_list("pk", flat=True)[:2])
    for lead_id in chosen:
        table.locator(f'tr[data-lead="{lead_id}"] input[name=leads]').check()
    form = page.get_by_test_id("transfer-form")
    form.locator("#id_to_rep").select_option(label="李磊")
    reason = form.locator("#id_reason")
    reason.select_option(first_choice(reason))
    reason_label = reason.locator("option:checked").inner_text()
    with page.expect_navigation():
        page.get_by_test_id("transfer").click()

    expect(page.get_by_role("alert")).to_have_text("已转移 2 条线索。")
    assert set(Lead.objects.filter(pk__in=chosen).values_list("owner", flat=True)) == {lilei.pk}
    page.goto(f"{lead_site}/leads/team/?owner={lilei.pk}")
    for lead_id in chosen:
        row = table.locator(f'tr[data-lead="{lead_id}"]')
        expect(row.locator("td").nth(3)).to_have_text("李磊")

    table.locator(f'tr[data-lead="{chosen[0]}"] a').click()
    expect(page).to_have_url(f"{lead_site}/leads/{chosen[0]}/")
    expect(page.get_by_test_id("lead-owner")).to_have_text("李磊")
    # The demo lead may have had owners before her: her stint is the one before the last.
    stints = page.get_by_test_id("stints").locator("li")
    held = Lead.objects.get(pk=chosen[0]).events.filter(
        kind__in=["assigned", "claimed", "transferred", "created"],
        to_owner__isnull=False).count()
    expect(stints).to_have_count(held)
    expect(stints.nth(held - 2)).to_contain_text("王芳")
    expect(stints.nth(held - 2)).to_contain_text("(转移)")
    expect(stints.last).to_contain_text("李磊 · 转移")
    expect(stints.last).to_contain_text("至今")
    page.get_by_test_id("stints").locator("xpath=following-sibling::details/summary").click()
    expect(page.get_by_test_id("events").locator("li").last).to_contain_text(
        f"转移 · {reason_label}")  # the reason's label, not its code
    shot(page, "leads-09-lead-detail-after-transfer-zh")


# --- 5. the detail page works in place -------------------------------------------------------


def test_rep_follows_up_stars_and_releases_without_leaving_the_page(
    page, lead_site, sign_in, shot
):
    from leads.models import Lead

    # One she has not followed up yet if she has one (the demo's depend on the time of day).
    lead = open_leads("rep_wangfang").order_by("status", "pk").first()
    sign_in(page, "rep_wangfang")
    shot(page, "leads-10-workbench-with-data-zh")
    page.goto(f"{lead_site}/leads/{lead.pk}/")
    detail_url = page.url
    page.evaluate("window.__stillHere = 'yes'")
    panel = page.locator("#lead-panel")

    form = page.get_by_test_id("followup-form")
    kind = form.locator("#id_kind")
    kind.select_option(first_choice(kind))
    form.locator("#id_outcome").select_option("interested")
    form.locator("#id_content").fill("电话沟通：客户下周要看报价方案。")
    tomorrow = timezone.localtime() + timedelta(days=1)
    form.locator("#id_next_at").fill(tomorrow.strftime("%Y-%m-%dT10:00"))
    form.locator("button[type=submit]").click()

    expect(panel.get_by_role("alert")).to_have_text("跟进记录已保存。")
    expect(page.get_by_test_id("followups").locator("li").first).to_contain_text(
        "电话沟通：客户下周要看报价方案。")
    expect(page.get_by_test_id("lead-status")).to_have_text("跟进中")
    assert page.url == detail_url
    assert page.evaluate("window.__stillHere") == "yes"
    shot(page, "leads-11-lead-detail-followup-saved-zh")

    page.get_by_test_id("star-detail").click()

    expect(page.get_by_test_id("star-detail")).to_contain_text("取消重点")
    expect(panel.locator("h1 .bi-star-fill")).to_be_visible()
    assert Lead.objects.get(pk=lead.pk).is_starred
    assert page.evaluate("window.__stillHere") == "yes"

    release = page.get_by_test_id("release-form")
    reason = release.locator("#id_release_reason")
    reason.select_option(first_choice(reason))
    release.locator("button[type=submit]").click()

    expect(panel.get_by_role("alert")).to_have_text("已释放回线索池。")
    expect(page.get_by_test_id("lead-owner")).to_have_text("在公海中")
    expect(page.get_by_test_id("followup-form")).to_have_count(0)
    assert page.url == detail_url
    assert page.evaluate("window.__stillHere") == "yes"
    shot(page, "leads-12-lead-detail-released-zh")
    page.goto(f"{lead_site}/leads/")
    expect(page.get_by_test_id("my-leads")).to_be_visible()
    expect(my_lead_row(page, lead.pk)).to_have_count(0)


# --- screenshots in English and on a phone ----------------------------------------------------


def test_workbench_pages_in_english_and_on_a_phone(new_page, lead_site, sign_in, shot):
    from leads.models import Lead

    lead = (open_leads("rep_wangfang").filter(status=Lead.Status.FOLLOWING)
            .order_by("pk").first())
    page = sign_in(new_page(), "rep_wangfang")
    switch_to_english(page)
    expect(page.get_by_test_id("workbench-heading")).to_have_text("Sales workbench")
    shot(page, "leads-13-workbench-en")
    page.goto(f"{lead_site}/leads/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My leads")
    expect(my_lead_row(page, lead.pk)).to_be_visible()
    shot(page, "leads-14-my-leads-en")
    page.goto(f"{lead_site}/leads/{lead.pk}/")
    expect(page.get_by_test_id("lead-owner")).to_have_text("Wang Fang")
    shot(page, "leads-15-lead-detail-en")
    page.goto(f"{lead_site}/leads/pool/?pool=east_pool")
    expect(page.get_by_test_id("pool-tabs")).to_contain_text("East China pool")
    shot(page, "leads-16-pool-en")

    phone = sign_in(new_page(viewport=PHONE, is_mobile=True, has_touch=True), "rep_wangfang")
    phone.goto(f"{lead_site}/leads/")
    row = my_lead_row(phone, lead.pk)
    expect(row).to_be_visible()
    # Name (company below), status and next follow-up: two lines, no sideways scrolling.
    expect(row).to_contain_text(lead.company)
    assert row.bounding_box()["height"] < 70
    table = phone.get_by_test_id("my-leads")
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert page_fits_width(phone)
    shot(phone, "leads-17-phone-my-leads-zh")
    phone.goto(f"{lead_site}/leads/{lead.pk}/")
    expect(phone.get_by_test_id("lead-owner")).to_have_text("王芳")
    # Her own lead's number in clear, one tap to call.
    expect(phone.get_by_test_id("lead-mobile").locator("a")).to_have_attribute(
        "href", f"tel:{lead.mobile}")
    assert page_fits_width(phone)
    shot(phone, "leads-18-phone-lead-detail-zh")
    phone.goto(f"{lead_site}/leads/pool/?pool=east_pool")
    pool_table = phone.get_by_test_id("pool-leads")
    expect(pool_table.get_by_test_id("claim").first).to_be_visible()
    assert pool_table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert page_fits_width(phone)
    shot(phone, "leads-19-phone-pool-zh")
