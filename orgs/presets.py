"""Org-stage presets: the four stages a company goes through (PRODUCT.md §2).

1. factory-led: the sales head manages every level; reps work their sub-pool.
2. sales-led: marketing owns the master pool and routes; sales managers own sub-pools.
3. marketing-led: a brand/marketing centre above; telesales for small customers,
   field sales for large ones.
4. whole-company: every department may own customers; cross-department pools.

Applying stage N applies stages 1..N. It only ever adds: units, positions and roles are
created when missing and left alone when present (an admin's edits survive), and no
membership or record is touched, so a company can move to the next stage at any time.
Other apps extend a stage (pools, pool permissions) with ``register_stage_extension``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import OrgUnit, Position, Role, StageApplication
from .rights import DataScope, Entry, Operation

STAGE_NAMES = {
    1: _("Stage 1 · factory-led"),
    2: _("Stage 2 · sales-led"),
    3: _("Stage 3 · marketing-led"),
    4: _("Stage 4 · whole-company customer focus"),
}


@dataclass(frozen=True)
class RoleSpec:
    name: str
    name_en: str
    entries: tuple[str, ...]
    operations: tuple[str, ...]
    scope: int
    description: str = ""


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    name_en: str
    kind: str
    parent: str | None  # code of the parent unit; None = under the company root
    allowed_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class PositionSpec:
    code: str
    unit: str
    name: str
    name_en: str
    roles: tuple[str, ...]
    is_manager: bool = False


@dataclass(frozen=True)
class StageSpec:
    roles: tuple[str, ...] = ()
    units: tuple[UnitSpec, ...] = ()
    positions: tuple[PositionSpec, ...] = ()
    moves: tuple[tuple[str, str], ...] = field(default=())  # (unit code, new parent code)


E, Op = Entry, Operation

ROLES: dict[str, RoleSpec] = {
    "system_admin": RoleSpec(
        "系统管理员", "System administrator", tuple(Entry.values), tuple(Operation.values),
        DataScope.ALL, "Configures orgs, roles, pools, rules and dictionaries.",
    ),
    "sales_head": RoleSpec(
        "销售总监", "Sales director",
        (E.MANAGER_HOME, E.REPORTS, E.WORKBENCH, E.TEAM, E.LEADS, E.POOL, E.TEAM_LEADS, E.RULES,
         E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS, E.CONTRACTS, E.APPROVALS, E.RECEIVABLES),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.ASSIGN, Op.TRANSFER, Op.ROUTE, Op.IMPORT,
         Op.EXPORT, Op.APPROVE, Op.MANAGE_POOLS, Op.UNMASK_DETAIL, Op.UNMASK_EXPORT),
        DataScope.ALL, "Manages every level: master pool, sub-pools, opportunities, orders.",
    ),
    "sales_manager": RoleSpec(
        "销售经理", "Sales manager",
        (E.MANAGER_HOME, E.REPORTS, E.WORKBENCH, E.TEAM, E.LEADS, E.POOL, E.TEAM_LEADS, E.RULES,
         E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS, E.CONTRACTS, E.APPROVALS, E.RECEIVABLES),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.ASSIGN, Op.TRANSFER, Op.EXPORT, Op.APPROVE,
         Op.UNMASK_DETAIL, Op.MANAGE_POOLS),
        DataScope.UNIT_AND_BELOW, "Owns a sub-pool: assigns, transfers and reviews a team.",
    ),
    "sales_rep": RoleSpec(
        "销售代表", "Sales rep",
        (E.WORKBENCH, E.REPORTS, E.LEADS, E.POOL, E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS,
         E.CONTRACTS),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.UNMASK_DETAIL),
        DataScope.SELF, "Works their own leads and claims from their pools.",
    ),
    "qa_inspector": RoleSpec(
        "质检员", "QA inspector",
        (E.QA_HOME, E.TEAM),
        (Op.INSPECT, Op.UNMASK_DETAIL),
        DataScope.ALL, "Samples and scores reps' follow-up records.",
    ),
    "marketing_manager": RoleSpec(
        "市场经理", "Marketing manager",
        (E.MARKETING_HOME, E.TEAM, E.POOL, E.RULES),
        (Op.CREATE_LEAD, Op.IMPORT, Op.ROUTE, Op.ASSIGN, Op.EXPORT, Op.MANAGE_POOLS),
        DataScope.UNIT_AND_BELOW, "Owns the master pool: feeds it and routes leads.",
    ),
    "marketing_specialist": RoleSpec(
        "市场专员", "Marketing specialist",
        (E.MARKETING_HOME, E.POOL),
        (Op.CREATE_LEAD, Op.IMPORT, Op.ROUTE),
        DataScope.SELF, "Imports and routes leads from campaigns.",
    ),
    "telesales_rep": RoleSpec(
        "电销专员", "Telesales rep",
        (E.WORKBENCH, E.REPORTS, E.LEADS, E.POOL, E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS,
         E.CONTRACTS),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.UNMASK_DETAIL),
        DataScope.SELF, "Works small customers by phone.",
    ),
    "field_sales_rep": RoleSpec(
        "大客户销售", "Field sales rep",
        (E.WORKBENCH, E.REPORTS, E.LEADS, E.POOL, E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS,
         E.CONTRACTS),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.UNMASK_DETAIL),
        DataScope.SELF, "Works large customers on site.",
    ),
    "customer_owner": RoleSpec(
        "客户负责人", "Customer owner",
        (E.WORKBENCH, E.REPORTS, E.LEADS, E.POOL, E.CUSTOMERS, E.OPPORTUNITIES, E.ORDERS,
         E.CONTRACTS),
        (Op.CREATE_LEAD, Op.CLAIM, Op.RELEASE, Op.UNMASK_DETAIL),
        DataScope.OWN_UNIT, "Any department's staff who own customers.",
    ),
}

SALES_ROLES = ("sales_head", "sales_manager", "sales_rep")

STAGES: dict[int, StageSpec] = {
    1: StageSpec(
        roles=("system_admin", *SALES_ROLES, "qa_inspector"),
        units=(
            UnitSpec("sales", "销售部", "Sales", OrgUnit.Kind.DEPARTMENT, None, SALES_ROLES),
            UnitSpec("qa", "质检组", "Quality inspection", OrgUnit.Kind.TEAM, None,
                     ("qa_inspector",)),
        ),
        positions=(
            PositionSpec("sales_head", "sales", "销售总监", "Sales director", ("sales_head",),
                         is_manager=True),
            PositionSpec("sales_rep", "sales", "销售代表", "Sales rep", ("sales_rep",)),
            PositionSpec("qa_inspector", "qa", "质检员", "QA inspector", ("qa_inspector",)),
        ),
    ),
    2: StageSpec(
        roles=("sales_manager", "marketing_manager", "marketing_specialist"),
        units=(
            UnitSpec("marketing", "市场部", "Marketing", OrgUnit.Kind.DEPARTMENT, None,
                     ("marketing_manager", "marketing_specialist")),
        ),
        positions=(
            PositionSpec("sales_manager", "sales", "销售经理", "Sales manager",
                         ("sales_manager",), is_manager=True),
            PositionSpec("marketing_manager", "marketing", "市场经理", "Marketing manager",
                         ("marketing_manager",), is_manager=True),
            PositionSpec("marketing_specialist", "marketing", "市场专员",
                         "Marketing specialist", ("marketing_specialist",)),
        ),
    ),
    3: StageSpec(
        roles=("telesales_rep", "field_sales_rep"),
        units=(
            UnitSpec("brand_center", "品牌营销中心", "Brand & marketing centre",
                     OrgUnit.Kind.BUSINESS_UNIT, None,
                     ("marketing_manager", "marketing_specialist")),
            UnitSpec("telesales", "电销部", "Telesales", OrgUnit.Kind.DEPARTMENT, "sales",
                     (*SALES_ROLES, "telesales_rep")),
            UnitSpec("field_sales", "大客户部", "Key accounts", OrgUnit.Kind.DEPARTMENT,
                     "sales", (*SALES_ROLES, "field_sales_rep")),
        ),
        positions=(
            PositionSpec("telesales_rep", "telesales", "电销专员", "Telesales rep",
                         ("telesales_rep",)),
            PositionSpec("field_sales_rep", "field_sales", "大客户销售", "Field sales rep",
                         ("field_sales_rep",)),
        ),
        moves=(("marketing", "brand_center"),),
    ),
    4: StageSpec(
        roles=("customer_owner",),
        units=(
            UnitSpec("customer_success", "客户成功部", "Customer success",
                     OrgUnit.Kind.DEPARTMENT, None, ("customer_owner", "sales_manager")),
            UnitSpec("service", "服务部", "Service", OrgUnit.Kind.DEPARTMENT, None,
                     ("customer_owner", "sales_manager")),
        ),
        positions=(
            PositionSpec("customer_success_owner", "customer_success", "客户成功经理",
                         "Customer success manager", ("customer_owner",)),
            PositionSpec("service_owner", "service", "服务顾问", "Service consultant",
                         ("customer_owner",)),
        ),
    ),
}

StageExtension = Callable[..., dict]
_EXTENSIONS: list[StageExtension] = []


def register_stage_extension(fn: StageExtension) -> StageExtension:
    """Let another app add to each stage: ``fn(*, stage, root) -> summary dict``."""
    _EXTENSIONS.append(fn)
    return fn


def company_root(name: str = "公司", name_en: str = "Company") -> OrgUnit:
    root = OrgUnit.objects.get_root_nodes().first()
    if root is None:
        root = OrgUnit.objects.add_root(
            create_kwargs={"code": "company", "name": name, "name_en": name_en,
                           "kind": OrgUnit.Kind.COMPANY}
        )
    return root


def _ensure_role(code: str) -> tuple[Role, bool]:
    spec = ROLES[code]
    return Role.objects.get_or_create(
        code=code,
        defaults={
            "name": spec.name,
            "name_en": spec.name_en,
            "description": spec.description,
            "entries": list(spec.entries),
            "operations": list(spec.operations),
            "data_scope": spec.scope,
        },
    )


def _preset_parent(unit_code: str, root: OrgUnit) -> OrgUnit:
    """The parent a preset first created ``unit_code`` under."""
    for spec in STAGES.values():
        for unit_spec in spec.units:
            if unit_spec.code == unit_code:
                return OrgUnit.objects.get(code=unit_spec.parent) if unit_spec.parent else root
    raise ValueError(f"no preset creates unit {unit_code}")


def apply_org_stage(stage: int, *, actor=None) -> dict:
    """Apply presets 1..``stage``; idempotent and additive. Returns what was created."""
    if stage not in STAGES:
        raise ValueError(f"unknown org stage {stage}")
    created: dict[str, list[str]] = {"roles": [], "units": [], "positions": [], "moved": []}
    with transaction.atomic():
        root = company_root()
        for number in range(1, stage + 1):
            spec = STAGES[number]
            for code in spec.roles:
                _, was_created = _ensure_role(code)
                if was_created:
                    created["roles"].append(code)
            for unit_spec in spec.units:
                unit = OrgUnit.objects.filter(code=unit_spec.code).first()
                if unit is None:
                    parent = (
                        OrgUnit.objects.get(code=unit_spec.parent) if unit_spec.parent else root
                    )
                    unit = OrgUnit.objects.add_child(
                        parent,
                        create_kwargs={"code": unit_spec.code, "name": unit_spec.name,
                                       "name_en": unit_spec.name_en, "kind": unit_spec.kind},
                    )
                    created["units"].append(unit_spec.code)
                    for code in unit_spec.allowed_roles:
                        unit.allowed_roles.add(_ensure_role(code)[0])
            for unit_code, parent_code in spec.moves:
                unit = OrgUnit.objects.get(code=unit_code)
                parent = OrgUnit.objects.get(code=parent_code)
                # Move the unit only while it is still where its preset put it: a unit an
                # admin has placed elsewhere stays there when a stage is applied again.
                current_parent = OrgUnit.objects.get_parent(unit)
                if (
                    getattr(current_parent, "pk", None) == _preset_parent(unit_code, root).pk
                    and current_parent.pk != parent.pk
                    and not parent.path.startswith(unit.path)
                ):
                    OrgUnit.objects.move(unit, parent, pos="last-child")
                    created["moved"].append(unit_code)
            for pos_spec in spec.positions:
                position, was_created = Position.objects.get_or_create(
                    code=pos_spec.code,
                    defaults={
                        "org_unit": OrgUnit.objects.get(code=pos_spec.unit),
                        "name": pos_spec.name,
                        "name_en": pos_spec.name_en,
                        "is_manager": pos_spec.is_manager,
                    },
                )
                if was_created:
                    position.default_roles.set([_ensure_role(c)[0] for c in pos_spec.roles])
                    created["positions"].append(pos_spec.code)
        root.refresh_from_db()
        for extension in _EXTENSIONS:
            created.update(extension(stage=stage, root=root) or {})
        StageApplication.objects.create(
            stage=stage,
            applied_by=actor if getattr(actor, "is_authenticated", False) else None,
            summary=created,
        )
    return created
