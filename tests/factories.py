"""factory_boy factories for the organisation and its people."""

import factory
from django.contrib.auth import get_user_model

from orgs.models import Employee, Membership, OrgUnit, Position, Role
from orgs.rights import DataScope, Entry


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"角色{n}")
    name_en = factory.Sequence(lambda n: f"Role {n}")
    entries = factory.LazyFunction(lambda: [Entry.WORKBENCH])
    operations = factory.LazyFunction(list)
    data_scope = DataScope.SELF


def make_unit(code: str, parent: OrgUnit | None = None, **fields) -> OrgUnit:
    """Create an org unit under ``parent`` (or as a new root)."""
    fields.setdefault("name", code)
    fields.setdefault("kind", OrgUnit.Kind.TEAM if parent else OrgUnit.Kind.COMPANY)
    if parent is None:
        return OrgUnit.objects.add_root(create_kwargs={"code": code, **fields})
    parent.refresh_from_db()
    return OrgUnit.objects.add_child(parent, create_kwargs={"code": code, **fields})


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"pos-{n}")
    name = factory.Sequence(lambda n: f"岗位{n}")
    name_en = factory.Sequence(lambda n: f"Position {n}")

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.default_roles.set(extracted)


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    user = factory.SubFactory(UserFactory)
    employee_no = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    name_en = factory.Sequence(lambda n: f"Employee {n}")
    mobile = factory.Sequence(lambda n: f"1381234{n:04d}")


def add_member(employee: Employee, unit: OrgUnit, position: Position | None = None,
               **fields) -> Membership:
    return Membership.objects.create(employee=employee, org_unit=unit, position=position,
                                     **fields)


def person_with_role(unit: OrgUnit, role: Role, **employee_fields) -> Employee:
    """An employee in ``unit`` holding ``role`` through a position of that unit."""
    position = PositionFactory(org_unit=unit, roles=[role])
    employee = EmployeeFactory(**employee_fields)
    add_member(employee, unit, position, is_primary=True)
    return employee
