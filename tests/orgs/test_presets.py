"""Org-stage presets: additive, idempotent, and moving to the next stage loses nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leads.models import LeadPool
from orgs.models import Employee, Membership, OrgUnit, Position, Role
from orgs.presets import apply_org_stage
from orgs.rights import DataScope, Entry, Operation
from orgs.selectors import data_scope_for, employee_list, rights_for

from .conftest import fresh

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "roles": Role.objects.count(),
        "units": OrgUnit.objects.count(),
        "positions": Position.objects.count(),
        "memberships": Membership.objects.count(),
        "employees": Employee.objects.count(),
        "allowed": OrgUnit.allowed_roles.through.objects.count(),
        "defaults": Position.default_roles.through.objects.count(),
        "pools": LeadPool.objects.count(),
    }


def tree_problems() -> list:
    return [problem for problem in OrgUnit.objects.find_problems() if problem]


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_applying_a_stage_twice_creates_nothing_the_second_time(db, stage):
    first = apply_org_stage(stage)
    assert first["roles"] and first["units"] and first["positions"]
    after_first = counts()

    second = apply_org_stage(stage)

    assert all(values == [] for values in second.values() if isinstance(values, list))
    assert counts() == after_first
    assert tree_problems() == []


@pytest.mark.parametrize("stage", [1, 2, 3, 4])
def test_management_command_is_idempotent(db, stage):
    out = StringIO()
    call_command("apply_org_stage", str(stage), stdout=out)
    after_first = counts()
    assert after_first["units"] > 1

    out = StringIO()
    call_command("apply_org_stage", str(stage), stdout=out)

    assert counts() == after_first
    report = out.getvalue()
    for key in ("roles", "units", "positions"):
        assert f"{key}: 0 new" in report


def test_management_command_refuses_an_unknown_stage(db):
    with pytest.raises(CommandError):
        call_command("apply_org_stage", "5")
    assert not OrgUnit.objects.exists()
    with pytest.raises(ValueError):
        apply_org_stage(0)


def test_stages_one_by_one_equal_the_last_stage_at_once(db):
    for stage in (1, 2, 3, 4):
        apply_org_stage(stage)
    step_by_step = counts()
    units = dict(OrgUnit.objects.values_list("code", "depth"))

    # The same result as a fresh install going straight to stage 4.
    LeadPool.objects.filter(parent__isnull=False).delete()
    LeadPool.objects.all().delete()
    Membership.objects.all().delete()
    Position.objects.all().delete()
    OrgUnit.objects.all().delete()
    Role.objects.all().delete()
    apply_org_stage(4)

    assert counts() == step_by_step
    assert dict(OrgUnit.objects.values_list("code", "depth")) == units


def test_later_stages_keep_every_person_and_membership(demo_org):
    memberships = set(
        Membership.objects.values_list("pk", "employee_id", "org_unit_id", "position_id")
    )
    employees = set(Employee.objects.values_list("pk", "user_id", "status", "supervisor_id"))
    marketing = OrgUnit.objects.get(code="marketing")
    marketing_members = set(marketing.memberships.values_list("employee_id", flat=True))
    assert marketing_members
    before = counts()

    created3 = apply_org_stage(3)
    created4 = apply_org_stage(4)

    assert created3["moved"] == ["marketing"] and created4["moved"] == []
    assert set(
        Membership.objects.values_list("pk", "employee_id", "org_unit_id", "position_id")
    ) == memberships
    assert set(Employee.objects.values_list("pk", "user_id", "status", "supervisor_id")) == (
        employees
    )
    after = counts()
    assert after["memberships"] == before["memberships"]
    assert after["employees"] == before["employees"]

    brand_center = OrgUnit.objects.get(code="brand_center")
    marketing = OrgUnit.objects.get(code="marketing")
    assert OrgUnit.objects.get_parent(marketing).pk == brand_center.pk
    assert set(marketing.memberships.values_list("employee_id", flat=True)) == marketing_members
    assert tree_problems() == []

    # The demo sales regions and teams kept their place under sales.
    sales = OrgUnit.objects.get(code="sales")
    shanghai = OrgUnit.objects.get(code="east_shanghai")
    assert shanghai.path.startswith(sales.path)

    # The marketing manager's data scope follows the moved unit: still their own people.
    marketing_manager = Employee.objects.get(user__username="marketing")
    scope_units = set(data_scope_for(fresh(marketing_manager)).units().values_list("pk",
                                                                                   flat=True))
    assert marketing.pk in scope_units
    assert brand_center.pk not in scope_units
    visible = {e.pk for e in employee_list(user=fresh(marketing_manager))}
    assert marketing_manager.pk in visible


def test_reapplying_keeps_an_admins_edits(db):
    apply_org_stage(2)
    Role.objects.filter(code="sales_rep").update(name="一线销售", data_scope=DataScope.OWN_UNIT)
    position = Position.objects.get(code="sales_rep")
    position.default_roles.add(Role.objects.get(code="qa_inspector"))

    apply_org_stage(2)
    apply_org_stage(4)

    role = Role.objects.get(code="sales_rep")
    assert (role.name, role.data_scope) == ("一线销售", DataScope.OWN_UNIT)
    assert set(position.default_roles.values_list("code", flat=True)) == {
        "sales_rep", "qa_inspector"
    }


# The boundaries PRODUCT.md §2 and the preset descriptions promise for each role.
DOCUMENTED_SCOPES = {
    "system_admin": DataScope.ALL,
    "sales_head": DataScope.ALL,  # manages every level
    "sales_manager": DataScope.UNIT_AND_BELOW,  # owns a sub-pool and its teams
    "sales_rep": DataScope.SELF,
    "qa_inspector": DataScope.ALL,  # samples every rep's follow-ups
    "marketing_manager": DataScope.UNIT_AND_BELOW,
    "marketing_specialist": DataScope.SELF,
    "telesales_rep": DataScope.SELF,
    "field_sales_rep": DataScope.SELF,
    "customer_owner": DataScope.OWN_UNIT,  # any department's staff own its customers
}


def test_roles_carry_the_documented_data_scopes(db):
    apply_org_stage(4)
    assert dict(Role.objects.values_list("code", "data_scope")) == DOCUMENTED_SCOPES


def test_roles_use_only_known_pages_and_operations(db):
    apply_org_stage(4)
    roles = list(Role.objects.all())
    assert len(roles) >= len(DOCUMENTED_SCOPES)  # the loop below has something to check
    for role in roles:
        role.full_clean()
        assert role.entries, role.code
        assert set(role.entries) <= set(Entry.values), role.code
        assert set(role.operations) <= set(Operation.values), role.code


@pytest.mark.parametrize(
    ("username", "scope", "home_entry"),
    [
        ("director", DataScope.ALL, Entry.MANAGER_HOME),
        ("mgr_shanghai", DataScope.UNIT_AND_BELOW, Entry.MANAGER_HOME),
        ("rep_wangfang", DataScope.SELF, Entry.WORKBENCH),
        ("marketing", DataScope.UNIT_AND_BELOW, Entry.MARKETING_HOME),
        ("qa_hemei", DataScope.ALL, Entry.QA_HOME),
    ],
)
def test_demo_people_get_their_positions_rights(demo_org, username, scope, home_entry):
    employee = Employee.objects.get(user__username=username)
    rights = rights_for(fresh(employee))
    assert rights.widest_scope == scope
    assert rights.opens(home_entry)


def test_positions_only_hold_roles_their_unit_allows(db):
    apply_org_stage(4)
    checked = 0
    for position in Position.objects.select_related("org_unit"):
        allowed = set(position.org_unit.effective_allowed_roles().values_list("code", flat=True))
        held = set(position.default_roles.values_list("code", flat=True))
        assert held <= allowed, position.code
        checked += bool(held)
    # Positions that hold roles were checked, not an empty stage.
    assert checked >= 5, checked


def test_reapplying_keeps_a_unit_an_admin_moved(db):
    apply_org_stage(3)
    marketing = OrgUnit.objects.get(code="marketing")
    sales = OrgUnit.objects.get(code="sales")
    # The admin decides marketing belongs under sales after all.
    OrgUnit.objects.move(marketing, sales, pos="last-child")

    created = apply_org_stage(4)

    assert created["moved"] == []
    marketing = OrgUnit.objects.get(code="marketing")
    assert OrgUnit.objects.get_parent(marketing).code == "sales"
    assert tree_problems() == []
