"""The orgs admin as the demo administrator and a limited staff member use it."""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from orgs.demo import PEOPLE
from orgs.models import Employee, Membership, OrgUnit, Position, Role, StageApplication
from orgs.rights import DataScope, Entry, Operation
from orgs.selectors import data_scope_for, holders_of_role, rights_for
from tests.factories import UserFactory

from .conftest import fresh

pytestmark = pytest.mark.django_db

ORGS_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label == "orgs"),
    key=lambda m: m._meta.model_name,
)


@pytest.fixture
def as_admin(demo_org, login, client):
    login("admin")
    return client


def changelist(model) -> str:
    return reverse(f"admin:orgs_{model._meta.model_name}_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("model", ORGS_MODELS, ids=lambda m: m._meta.model_name)
def test_every_changelist_and_change_page_loads(as_admin, model):
    obj = model.objects.first()
    assert obj is not None, f"the demo org has no {model._meta.verbose_name}"

    listing = as_admin.get(changelist(model))
    assert listing.status_code == 200
    # The org tree lists its roots; their branches open below them.
    rows = OrgUnit.objects.get_root_nodes() if model is OrgUnit else model.objects.all()
    assert listing.context["cl"].result_count == rows.count()

    change = as_admin.get(reverse(f"admin:orgs_{model._meta.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert escape(str(obj)) in change.content.decode()

    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(change.wsgi_request):
        add = as_admin.get(reverse(f"admin:orgs_{model._meta.model_name}_add"))
        assert add.status_code == 200


def test_changelist_search_finds_people_and_dictionaries(as_admin):
    response = as_admin.get(changelist(Employee), {"q": "王芳"})
    assert response.context["cl"].result_count == 1
    response = as_admin.get(changelist(Role), {"q": "sales"})
    sales_roles = Role.objects.filter(code__contains="sales").count()
    assert response.context["cl"].result_count == sales_roles


def test_role_change_page_lists_its_holders(as_admin):
    role = Role.objects.get(code="sales_manager")
    html = as_admin.get(reverse("admin:orgs_role_change", args=[role.pk])).content.decode()

    managers = Employee.objects.filter(user__username__startswith="mgr_")
    assert managers.count() == 4
    for manager in managers:
        assert manager.name in html
        assert reverse("admin:orgs_employee_change", args=[manager.pk]) in html
    assert Employee.objects.get(user__username="rep_wangfang").name not in html


def test_role_changelist_counts_holders(as_admin):
    response = as_admin.get(changelist(Role))
    cl = response.context["cl"]
    rep_role = next(r for r in cl.result_list if r.code == "sales_rep")
    holders = sum(1 for p in PEOPLE if p.position == "sales_rep")
    assert cl.model_admin.holder_count(rep_role) == holders == 8


def test_remove_role_from_everyone_asks_first_then_applies(as_admin):
    role = Role.objects.get(code="sales_rep")
    rep = Employee.objects.get(user__username="rep_wangfang")
    holders = holders_of_role(role).count()
    assert holders > 0
    grants = (Position.default_roles.through.objects.filter(role=role).count()
              + Membership.extra_roles.through.objects.filter(role=role).count())
    data = {"action": "remove_from_everyone", "_selected_action": [role.pk]}

    confirm = as_admin.post(changelist(Role), data)

    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert escape(str(role)) in html and 'name="apply"' in html
    assert holders_of_role(role).count() == holders  # nothing happened yet

    done = as_admin.post(changelist(Role), {**data, "apply": "1"}, follow=True)

    assert done.status_code == 200
    assert holders_of_role(role).count() == 0
    assert not rights_for(fresh(rep)).opens(Entry.WORKBENCH)
    assert Role.objects.filter(pk=role.pk).exists()
    with translation.override("zh-hans"):
        expected = _("Removed from %(count)d positions and memberships.") % {"count": grants}
    assert expected in messages_of(done)
    assert LogEntry.objects.get_for_object(role).filter(
        changes__has_key="removed_from_positions", actor__username="admin"
    ).exists()


def test_restore_default_roles_action(as_admin):
    position = Position.objects.get(code="sales_rep")
    rep = Employee.objects.get(user__username="rep_wangfang")
    membership = rep.memberships.get()
    membership.extra_roles.add(Role.objects.get(code="qa_inspector"))
    membership.revoked_roles.add(Role.objects.get(code="sales_rep"))
    assert rights_for(fresh(rep)).entries == {Entry.QA_HOME, Entry.TEAM}

    response = as_admin.post(
        changelist(Position),
        {"action": "restore_default_roles", "_selected_action": [position.pk]},
        follow=True,
    )

    assert response.status_code == 200
    rights = rights_for(fresh(rep))
    assert rights.entries == set(Role.objects.get(code="sales_rep").entries)
    assert Entry.QA_HOME not in rights.entries
    assert rights.widest_scope == DataScope.SELF
    with translation.override("zh-hans"):
        expected = _(
            "%(count)d memberships now hold exactly their position's default roles."
        ) % {"count": position.memberships.count()}
    assert expected in messages_of(response)


def test_mark_departed_action_with_a_successor(as_admin):
    manager = Employee.objects.get(user__username="mgr_shanghai")
    successor = Employee.objects.get(user__username="mgr_hangzhou")
    reports = set(manager.reports.values_list("pk", flat=True))
    assert len(reports) == 2
    data = {"action": "mark_departed", "_selected_action": [manager.pk]}

    form = as_admin.post(changelist(Employee), data)

    assert form.status_code == 200
    assert 'name="successor"' in form.content.decode()
    assert Employee.objects.get(pk=manager.pk).status == Employee.Status.ACTIVE

    done = as_admin.post(
        changelist(Employee), {**data, "apply": "1", "successor": successor.pk}, follow=True
    )

    assert done.status_code == 200
    manager.refresh_from_db()
    assert manager.status == Employee.Status.DEPARTED
    assert manager.successor_id == successor.pk
    assert not fresh(manager).is_active
    assert set(successor.reports.values_list("pk", flat=True)) >= reports
    assert any(manager.display_name in m for m in messages_of(done))
    # The departed manager cannot be picked as anyone's successor.
    again = as_admin.post(changelist(Employee), data)
    assert f'value="{manager.pk}"' not in again.content.decode().split('name="successor"')[1]


def test_mark_departed_action_refuses_twice_with_a_message(as_admin):
    rep = Employee.objects.get(user__username="rep_lilei")
    data = {"action": "mark_departed", "_selected_action": [rep.pk], "apply": "1"}
    as_admin.post(changelist(Employee), data)
    departed_at = Employee.objects.get(pk=rep.pk).departed_at

    response = as_admin.post(changelist(Employee), data, follow=True)

    assert response.status_code == 200
    assert any(rep.display_name in m for m in messages_of(response))
    assert Employee.objects.get(pk=rep.pk).departed_at == departed_at


def test_apply_stage_preset_action(as_admin):
    unit = OrgUnit.objects.get(code="sales")
    data = {"action": "apply_stage_preset", "_selected_action": [unit.pk]}
    memberships = Employee.objects.filter(memberships__isnull=False).count()

    form = as_admin.post(changelist(OrgUnit), data)

    assert form.status_code == 200
    assert 'name="stage"' in form.content.decode()
    assert not OrgUnit.objects.filter(code="brand_center").exists()

    done = as_admin.post(changelist(OrgUnit), {**data, "apply": "1", "stage": "3"}, follow=True)

    assert done.status_code == 200
    brand_center = OrgUnit.objects.get(code="brand_center")
    marketing = OrgUnit.objects.get(code="marketing")
    assert OrgUnit.objects.get_parent(marketing).pk == brand_center.pk
    assert Employee.objects.filter(memberships__isnull=False).count() == memberships
    application = StageApplication.objects.filter(stage=3).get()
    assert application.applied_by.username == "admin"
    assert messages_of(done)


def test_staff_without_unmask_sees_masked_mobiles_in_the_employee_admin(demo_org, client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_employee"))
    client.force_login(staff)
    rep = Employee.objects.get(user__username="rep_wangfang")

    listing = client.get(changelist(Employee)).content.decode()
    assert "138****5678" in listing
    assert rep.mobile not in listing

    detail = client.get(reverse("admin:orgs_employee_change", args=[rep.pk])).content.decode()
    assert "138****5678" in detail
    assert rep.mobile not in detail


def test_administrator_sees_mobiles_in_clear(as_admin):
    rep = Employee.objects.get(user__username="rep_wangfang")
    assert rep.mobile in as_admin.get(changelist(Employee)).content.decode()
    detail = as_admin.get(reverse("admin:orgs_employee_change", args=[rep.pk]))
    assert rep.mobile in detail.content.decode()


def test_staff_with_unmask_detail_sees_the_mobile_on_the_detail_page(demo_org, client, role):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_employee"))
    employee = Employee.objects.create(user=staff, employee_no="S0001", name="人事")
    employee.memberships.create(org_unit=OrgUnit.objects.get(code="sales")).extra_roles.add(
        role(operations=[Operation.UNMASK_DETAIL], entries=[Entry.ADMIN])
    )
    client.force_login(staff)
    rep = Employee.objects.get(user__username="rep_wangfang")

    detail = client.get(reverse("admin:orgs_employee_change", args=[rep.pk])).content.decode()
    listing = client.get(changelist(Employee)).content.decode()

    assert rep.mobile in detail
    assert rep.mobile not in listing  # lists need unmask_list


def test_role_edit_through_the_admin_is_audited(as_admin):
    role = Role.objects.get(code="marketing_specialist")
    url = reverse("admin:orgs_role_change", args=[role.pk])
    data = {
        "code": role.code,
        "name": "市场专员（新）",
        "name_en": role.name_en,
        "description": role.description,
        "entries": [*role.entries, Entry.TEAM],
        "operations": role.operations,
        "data_scope": DataScope.OWN_UNIT,
        "is_active": "on",
    }

    response = as_admin.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    role.refresh_from_db()
    assert role.name == "市场专员（新）"
    assert role.data_scope == DataScope.OWN_UNIT
    assert Entry.TEAM in role.entries
    entry = LogEntry.objects.get_for_object(role).latest("timestamp")
    assert entry.actor.username == "admin"
    assert entry.changes["name"] == ["市场专员", "市场专员（新）"]
    assert "data_scope" in entry.changes

    log = as_admin.get("/admin/auditlog/logentry/").content.decode()
    assert escape(entry.object_repr) in log
    detail = as_admin.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
    assert "市场专员（新）" in detail.content.decode()


def test_role_with_unknown_pages_is_refused_by_the_admin(as_admin):
    response = as_admin.post(
        reverse("admin:orgs_role_add"),
        {"code": "t-bad", "name": "坏", "entries": ["no_such_page"], "data_scope": DataScope.SELF},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Role.objects.filter(code="t-bad").exists()


def test_position_refuses_roles_its_unit_does_not_allow(as_admin):
    qa = OrgUnit.objects.get(code="qa")
    response = as_admin.post(
        reverse("admin:orgs_position_add"),
        {"code": "t-qa-head", "name": "质检主管", "org_unit": qa.pk,
         "default_roles": [Role.objects.get(code="sales_head").pk]},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "default_roles" in errors
    assert not Position.objects.filter(code="t-qa-head").exists()


def test_employee_admin_does_not_offer_departed_as_a_status(as_admin):
    rep = Employee.objects.get(user__username="rep_wangfang")
    html = as_admin.get(reverse("admin:orgs_employee_change", args=[rep.pk])).content.decode()
    status_select = re.search(r'<select name="status".*?</select>', html, re.S).group(0)
    assert 'value="departed"' not in status_select
    assert 'value="on_leave"' in status_select


def test_unit_added_in_the_admin_is_in_the_managers_scope_at_once(as_admin):
    shanghai = OrgUnit.objects.get(code="east_shanghai")
    manager = Employee.objects.get(user__username="mgr_shanghai")
    before = set(data_scope_for(fresh(manager)).units().values_list("code", flat=True))

    response = as_admin.post(
        reverse("admin:orgs_orgunit_add"),
        {
            "code": "east_shanghai_b", "name": "上海三组", "name_en": "Shanghai team B",
            "kind": OrgUnit.Kind.TEAM, "is_active": "on",
            "treebeard_position": "first-child", "treebeard_ref_node": shanghai.pk,
            "OrgUnit_allowed_roles-TOTAL_FORMS": "0", "OrgUnit_allowed_roles-INITIAL_FORMS": "0",
            "OrgUnit_allowed_roles-MIN_NUM_FORMS": "0",
            "OrgUnit_allowed_roles-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    new_team = OrgUnit.objects.get(code="east_shanghai_b")
    assert OrgUnit.objects.get_parent(new_team).pk == shanghai.pk
    after = set(data_scope_for(fresh(manager)).units().values_list("code", flat=True))
    assert after == before | {"east_shanghai_b"}
    assert OrgUnit.objects.find_problems() == ([], [], [], [], [])


def test_unmask_list_alone_does_not_unmask_the_detail_page(demo_org, client, role):
    """Each scenario needs its own right: lists in clear, detail pages still masked."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_employee"))
    employee = Employee.objects.create(user=staff, employee_no="S0002", name="前台")
    employee.memberships.create(org_unit=OrgUnit.objects.get(code="sales")).extra_roles.add(
        role(operations=[Operation.UNMASK_LIST], entries=[Entry.ADMIN])
    )
    client.force_login(staff)
    rep = Employee.objects.get(user__username="rep_wangfang")

    listing = client.get(changelist(Employee)).content.decode()
    detail = client.get(reverse("admin:orgs_employee_change", args=[rep.pk])).content.decode()

    assert rep.mobile in listing
    assert rep.mobile not in detail
    assert "138****5678" in detail


def _column_headers(html: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_the_audit_log_reads_in_chinese_and_in_english(as_admin):
    Role.objects.filter(code="sales_rep").first().save()  # at least one logged change
    page = as_admin.get("/admin/auditlog/logentry/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    headers = [h for h in _column_headers(html) if h]
    for english in ("Resource", "Action", "Changes", "Correlation ID", "action"):
        assert english not in headers, headers
        assert f"以 {english}" not in html
    assert {"资源", "操作", "变更", "关联 ID"} <= set(headers)
    assert re.search(r"\d+ 项变更：", html)  # the summary of each entry
    assert "以 资源类型" in html and ">角色<" in html  # resource types by their names
    english = as_admin.get("/admin/auditlog/logentry/", HTTP_ACCEPT_LANGUAGE="en")
    headers = [h for h in _column_headers(english.content.decode()) if h]
    assert {"Resource", "Action", "Changes", "Correlation ID"} <= set(headers)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dictionary_item_inputs_are_sized_to_fit_a_laptop(as_admin, language):
    from orgs.models import Dictionary

    region = Dictionary.objects.get(code="region")
    html = as_admin.get(reverse("admin:orgs_dictionary_change", args=[region.pk]),
                        HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert re.search(r'name="items-0-code"[^>]*size="14"', html)
    assert re.search(r'name="items-0-sort_order"[^>]*style="width: 5em"', html) or re.search(
        r'style="width: 5em"[^>]*name="items-0-sort_order"', html)
