"""The masking crawl: every page, htmx fragment and export of every role, checked for
contact values in clear that the role may not see.

On the seeded demo plus a few planted records (a lead with ID-card and bank-card numbers
in its channel attributes, a pool lead whose pool hides contact data until claimed, a
customer with an address, a notification quoting a mobile), each role signs in and GETs
every URL of the URLconf with real ids (plain and with ``HX-Request``, plus the ``?part=``
fragments). Every contact value of the database found in clear on a response must be one
the role may unmask for its record in that response's scenario — a CSV is an export, a
page about one record (an id in its URL) a detail page, any other page a list — as
``orgs.access.may_unmask`` answers. The crawl also asserts that it visited many URLs per
role and, for the roles that may unmask something, that it did see values in clear.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from crm_site.lib.masking import kind_of_key, mask, mask_text
from orgs.access import Scenario, may_unmask

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Planted values: none of them is used by the demo.
LEAD_MOBILE, LEAD_EMAIL = "13398760001", "planted.lead@example.org"
POOL_MOBILE = "13398760002"
NOMASK_MOBILE = "13398760003"
ID_CARD, BANK_CARD = "310104198807154321", "6222600260001234567"
ADDRESS = "上海市徐汇区漕溪北路398号汇智大厦"
CONTACT_MOBILE, CONTACT_EMAIL = "13398760004", "planted.contact@example.org"

# URLs never fetched: they sign out, switch language, or are the machine API.
SKIP_NAMES = {"logout", "set_language", "lead_ingest", "notification_read_all", "health",
              "favicon", "login"}
# Ids per URL parameter tried for each pattern (the planted records come first).
PER_PATTERN = 2
# The roles of the demo, and a rep whose role grants no unmask right at all.
ROLES = ["rep_wangfang", "mgr_shanghai", "director", "marketing", "qa_hemei", "rep_nomask"]
MIN_URLS = {"rep_wangfang": 50, "mgr_shanghai": 70, "director": 70, "marketing": 20,
            "qa_hemei": 10, "rep_nomask": 50}
# Roles holding an unmask right that a page of theirs uses: the crawl must see someone
# else's values in clear (QA holds the detail right, but its pages are lists).
SEES_CLEAR = {"rep_wangfang", "mgr_shanghai", "director"}


def _plant() -> dict:
    from leads.models import LeadPool
    from notifications import kinds
    from notifications.services import notify
    from opportunities.models import Contact, ContactMethod, Customer, CustomerContact
    from opportunities.services_customers import method_key
    from orgs.models import OrgUnit, Role
    from orgs.rights import Operation
    from tests.factories import person_with_role
    from tests.leads.conftest import make_lead

    users = {u.username: u for u in get_user_model().objects.all()}
    rep = Role.objects.get(code="sales_rep")
    nomask_role = Role.objects.create(
        code="t_rep_nomask", name="无明文销售", entries=rep.entries, data_scope=rep.data_scope,
        operations=[op for op in rep.operations if not op.startswith("unmask_")
                    and op != Operation.UNMASK_DETAIL])
    nomask = person_with_role(OrgUnit.objects.get(code="east_shanghai"), nomask_role,
                              name="无明文", mobile="13398769999")
    nomask.user.username = "rep_nomask"
    nomask.user.save()
    users["rep_nomask"] = nomask.user

    pool = LeadPool.objects.filter(kind=LeadPool.Kind.SUB, org_unit__code="east").first()
    hidden = LeadPool.objects.create(
        code="t_hidden", name="隐藏池", name_en="Hidden pool", parent=pool.parent,
        org_unit=pool.org_unit, hide_contact_until_claimed=True)
    now = timezone.now()
    attributes = {"身份证": ID_CARD, "备注": f"银行卡 {BANK_CARD}", "住址": ADDRESS,
                  "source_page": "/pricing"}

    def lead(owner, mobile, in_pool, **fields):
        return make_lead(in_pool, owner=owner, name="植入线索", company="植入公司",
                         mobile=mobile, attributes=attributes, **fields)

    planted = {
        "lead": lead(users["rep_wangfang"], LEAD_MOBILE, pool, email=LEAD_EMAIL),
        "pool_lead": lead(None, POOL_MOBILE, hidden),
        "nomask_lead": lead(users["rep_nomask"], NOMASK_MOBILE, pool),
    }
    for owner in ("rep_wangfang", "rep_nomask"):
        customer = Customer.objects.create(
            name=f"植入客户{owner}", name_key=f"植入客户{owner}", owner=users[owner],
            created_by=users[owner], created_at=now, updated_at=now, address=ADDRESS)
        contact = Contact.objects.create(name="植入联系人")
        mobile = CONTACT_MOBILE if owner == "rep_wangfang" else "13398760005"
        ContactMethod.objects.create(contact=contact, kind="mobile", value=mobile,
                                     value_key=method_key("mobile", mobile), is_primary=True)
        if owner == "rep_wangfang":
            ContactMethod.objects.create(contact=contact, kind="email", value=CONTACT_EMAIL,
                                         value_key=method_key("email", CONTACT_EMAIL))
        CustomerContact.objects.create(customer=customer, contact=contact, is_primary=True)
        planted[f"customer_{owner}"] = customer
        planted[f"contact_{owner}"] = contact
    kinds.register("t_crawl_note", "%(text)s")
    for username in ROLES:
        notify(recipient_id=users[username].pk, kind="t_crawl_note",
               params={"text": f"请回电 {LEAD_MOBILE}"}, url=f"/leads/{planted['lead'].pk}/")
    return planted


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo seeded once for the module, with the planted records (rolled back)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from leads.circulation import run_all

            call_command("seed_demo", stdout=StringIO())
            run_all()
            planted = _plant()
            yield {"planted": planted, "values": _catalogue(), "urls": _urls(planted)}
        finally:
            from notifications import kinds

            kinds._KINDS.pop("t_crawl_note", None)
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- what is contact data, and whose -----------------------------------------------------


def _bag_values(bag, found: set[str]) -> None:
    """Contact values inside a free-form bag: under a contact key, or found by pattern."""
    if isinstance(bag, dict):
        for key, value in bag.items():
            if kind_of_key(key) and isinstance(value, str | int):
                found.add(str(value))
            else:
                _bag_values(value, found)
    elif isinstance(bag, list):
        for item in bag:
            _bag_values(item, found)
    elif isinstance(bag, str) and mask_text(bag) != bag:
        for match in re.finditer(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d[\d -]{9,}\d[Xx]?", bag):
            if mask_text(match.group(0)) != match.group(0):
                found.add(match.group(0))


def _catalogue() -> dict[str, list]:
    """Every contact value in the database → the records it belongs to."""
    from leads.models import Lead
    from opportunities.models import ContactMethod, Customer
    from orgs.models import Employee

    owners: dict[str, list] = defaultdict(list)
    for lead in Lead.objects.select_related("pool").only(
            "pk", "owner_id", "pool", "mobile", "phone", "email", "attributes"):
        values = {lead.mobile, lead.phone, lead.email}
        _bag_values(lead.attributes, values)
        for value in values:
            owners[value].append(lead)
    for method in ContactMethod.objects.select_related("contact"):
        owners[method.value].append(method.contact)
    for customer in Customer.objects.exclude(address=""):
        owners[customer.address].append(customer)
        values: set[str] = set()
        _bag_values(customer.attributes, values)
        for value in values:
            owners[value].append(customer)
    for employee in Employee.objects.select_related("user"):
        owners[employee.mobile].append(employee)
        owners[employee.user.email].append(employee)
    # Short values (a 4-digit extension) would match anywhere: not checked.
    return {value: records for value, records in owners.items()
            if value and len(str(value)) >= 8}


# --- every URL with real ids -------------------------------------------------------------


def _patterns(resolver=None, prefix="") -> list[tuple[str, str]]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            found += _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.name))
    return found


def _ids(model_label: str, first=(), **filters) -> list[str]:
    from django.apps import apps

    model = apps.get_model(model_label)
    ids = [str(pk) for pk in first]
    ids += [str(pk) for pk in model.objects.filter(**filters).exclude(pk__in=list(first))
            .order_by("-pk").values_list("pk", flat=True)[:PER_PATTERN]]
    return ids[:PER_PATTERN + len(first)]


def _candidates(planted: dict) -> list[tuple[str, dict]]:
    """(path prefix, {parameter: values}) in the order they are tried: most specific first."""
    from leads.models import LeadPool
    from orgs.models import DictionaryItem

    lead_ids = _ids("leads.Lead", [planted["lead"].pk, planted["pool_lead"].pk,
                                   planted["nomask_lead"].pk])
    customers = _ids("opportunities.Customer", [planted["customer_rep_wangfang"].pk,
                                                planted["customer_rep_nomask"].pk])
    contacts = _ids("opportunities.Contact", [planted["contact_rep_wangfang"].pk,
                                              planted["contact_rep_nomask"].pk])
    opportunities = _ids("opportunities.Opportunity")
    pools = list(LeadPool.objects.order_by("kind", "code").values_list("code", flat=True)[:4])
    stages = list(DictionaryItem.objects.of("opportunity_stage").values_list(
        "code", flat=True)[:2])
    return [
        ("leads/import/", {"pk": _ids("leads.ImportJob")}),
        ("leads/rules/<slug:code>/members/", {"code": pools[:2],
                                              "pk": _ids("leads.PoolMember")}),
        ("leads/rules/<slug:code>/recycle/", {"code": pools[:2],
                                              "pk": _ids("leads.RecycleRule")}),
        ("leads/rules/<slug:code>/routing/", {"code": pools[:2],
                                              "pk": _ids("leads.RoutingRule")}),
        ("leads/rules/", {"code": pools}),
        ("leads/pool/", {"code": pools}),
        ("leads/extensions/", {"pk": _ids("leads.ExtensionRequest")}),
        ("leads/", {"pk": lead_ids}),
        ("notifications/team-robots/", {"pk": _ids("notifications.TeamRobot")}),
        ("notifications/", {"pk": _ids("notifications.Notification")}),
        ("contracts/orders/", {"pk": _ids("contracts.Order")}),
        ("contracts/attachments/", {"pk": _ids("contracts.ContractAttachment")}),
        ("contracts/<slug:kind>/", {"kind": ["order", "contract"],
                                    "pk": _ids("contracts.Contract")}),
        ("contracts/approvals/", {"pk": _ids("contracts.ApprovalRequest")}),
        ("contracts/", {"pk": _ids("contracts.Contract")}),
        ("followups/<slug:subject>/", {"subject": ["lead"], "pk": lead_ids[:3]}),
        ("customers/", {"pk": customers}),
        ("contacts/", {"pk": contacts}),
        ("opportunities/convert/", {"lead_id": lead_ids[:3]}),
        ("opportunities/board/column/", {"stage": stages}),
        ("opportunities/", {"pk": opportunities}),
        ("qa/calibration/", {"session_id": _ids("qa.CalibrationSession"),
                             "item_id": _ids("qa.QueueItem")}),
        ("qa/results/", {"inspection_id": _ids("qa.Inspection")}),
        ("qa/appeals/", {"appeal_id": _ids("qa.Appeal")}),
        ("qa/items/", {"item_id": _ids("qa.QueueItem")}),
    ]


def _urls(planted: dict) -> list[tuple[str, str]]:
    """Every GET-able URL of the URLconf as ``(url, scenario)``, with real ids."""
    candidates = _candidates(planted)
    urls: list[tuple[str, str]] = []
    for pattern, name in _patterns():
        if name in SKIP_NAMES or pattern.startswith(("admin/", "api/")):
            continue
        params = re.findall(r"<(?:(\w+):)?(\w+)>", pattern)
        if any(p in ("action", "decision") for _c, p in params):
            continue  # POST-only actions
        if pattern.endswith((".csv", ".xlsx")):
            scenario = Scenario.EXPORT
        elif params:
            scenario = Scenario.DETAIL
        else:
            scenario = Scenario.LIST
        if not params:
            urls.append(("/" + pattern, scenario))
            continue
        values = next((v for prefix, v in candidates if pattern.startswith(prefix)), None)
        assert values is not None, f"no ids for {pattern}"
        filled = ["/" + pattern]
        for _converter, param in params:
            options = values.get(param, [])
            filled = [re.sub(rf"<(?:\w+:)?{param}>", str(option), url, count=1)
                      for url in filled for option in options]
        urls += [(url, scenario) for url in filled[:PER_PATTERN + 3]]
    urls += [(f"/customers/{planted['customer_rep_wangfang'].pk}/?part=duplicates",
              Scenario.DETAIL)]
    return urls


# --- the crawl ----------------------------------------------------------------------------


def _body(response) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    if response.get("Content-Type", "").startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml"):
        return _xlsx_text(raw)
    return raw.decode("utf-8", errors="replace")


def _xlsx_text(raw: bytes) -> str:
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(raw), read_only=True)
    return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


@pytest.mark.parametrize("username", ROLES)
def test_no_page_fragment_or_export_shows_contact_data_the_role_may_not_see(world, db,
                                                                            username):
    viewer = get_user_model().objects.get(username=username)
    client = Client(raise_request_exception=False)
    client.force_login(viewer, backend=MODEL_BACKEND)
    values = world["values"]
    # One alternation of every known value (longest first, so a value inside another is
    # not reported for the longer one).
    finder = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    allowed_cache: dict[tuple, bool] = {}
    reader = get_user_model().objects.get(pk=viewer.pk)  # rights cached on this one

    def allowed(value: str, scenario: str) -> bool:
        for record in values[value]:
            key = (record._meta.label, record.pk, scenario)
            if key not in allowed_cache:
                allowed_cache[key] = may_unmask(reader, record, scenario)
            if allowed_cache[key]:
                return True
        return False

    # The viewer's own mobile and e-mail (the notification settings, the directory) are
    # theirs to see: not counted as seeing someone else's data in clear.
    own = {viewer.email, getattr(getattr(viewer, "employee", None), "mobile", "")}
    visited, leaks, errors, clear_seen, masked_seen = 0, [], [], 0, 0
    started = time.monotonic()
    for url, scenario in world["urls"]:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            if headers and scenario == Scenario.EXPORT:
                continue
            response = client.get(url, **headers)
            if response.status_code >= 500:
                errors.append(f"{url} {headers and 'htmx'}: {response.status_code}")
                continue
            if response.status_code != 200:
                continue
            visited += 1
            body = _body(response)
            for match in set(finder.findall(body)):
                if allowed(match, scenario):
                    clear_seen += match not in own
                else:
                    leaks.append(f"{url}{' (htmx)' if headers else ''} [{scenario}]: {match}")
            masked_seen += body.count(mask(LEAD_MOBILE, "phone")) + body.count(
                mask(NOMASK_MOBILE, "phone"))
    seconds = time.monotonic() - started
    # Server errors are the input-validation suite's to catch; here they only mean a page
    # the crawl could not read.
    print(f"{username}: {visited} responses in {seconds:.0f} s; unread: {errors}")
    assert not leaks, "\n".join(sorted(leaks)[:40])
    assert visited >= MIN_URLS[username], (visited, seconds)
    assert masked_seen > 0, "no masked planted value seen: the crawl missed the lead pages"
    if username in SEES_CLEAR:
        assert clear_seen > 0, "no clear value seen where the role may see one"
    if username in ("marketing", "rep_nomask"):  # no unmask right at all
        assert clear_seen == 0
