"""Pools of each org-stage preset (extends ``orgs.presets``).

Pool access follows the org unit a pool belongs to (see ``leads.permissions``), so
placing a pool in the tree is granting it:

1. factory-led: the master pool, the sales sub-pool and the dormant pool all belong to
   the sales department — the sales head manages every level, reps claim from the
   sales sub-pool.
2. sales-led: the master pool moves to marketing, who feed and route it; sales managers
   own the sub-pools of their units.
3. marketing-led: a telesales sub-pool (small customers) and a key-accounts sub-pool
   (large customers).
4. whole-company: a company-wide shared pool every department can claim from.
"""

from __future__ import annotations

from orgs.models import OrgUnit
from orgs.presets import register_stage_extension

from .models import LeadPool

# stage: [(code, name, name_en, kind, parent pool code, org unit code or None for root)]
STAGE_POOLS = {
    1: [
        ("master", "总线索池", "Master pool", LeadPool.Kind.MASTER, None, "sales"),
        ("sales_pool", "销售公海", "Sales pool", LeadPool.Kind.SUB, "master", "sales"),
        ("dormant", "休眠池", "Dormant pool", LeadPool.Kind.DORMANT, "master", "sales"),
    ],
    2: [],
    3: [
        ("telesales_pool", "电销公海", "Telesales pool", LeadPool.Kind.SUB, "master",
         "telesales"),
        ("key_accounts_pool", "大客户公海", "Key-accounts pool", LeadPool.Kind.SUB, "master",
         "field_sales"),
    ],
    4: [
        ("shared_pool", "全员共享池", "Company shared pool", LeadPool.Kind.SUB, "master", None),
    ],
}


@register_stage_extension
def create_stage_pools(*, stage: int, root: OrgUnit) -> dict:
    created: list[str] = []
    for number in range(1, stage + 1):
        for code, name, name_en, kind, parent_code, unit_code in STAGE_POOLS[number]:
            if LeadPool.objects.filter(code=code).exists():
                continue
            if kind == LeadPool.Kind.MASTER and LeadPool.objects.filter(kind=kind).exists():
                continue
            LeadPool.objects.create(
                code=code, name=name, name_en=name_en, kind=kind,
                parent=LeadPool.objects.filter(code=parent_code).first() if parent_code else None,
                org_unit=OrgUnit.objects.get(code=unit_code) if unit_code else root,
            )
            created.append(code)
    moved: list[str] = []
    if stage >= 2:
        # Marketing takes over the master pool, unless an admin already placed it elsewhere.
        marketing = OrgUnit.objects.filter(code="marketing").first()
        master = LeadPool.objects.filter(kind=LeadPool.Kind.MASTER,
                                         org_unit__code="sales").first()
        if marketing and master:
            master.org_unit = marketing
            master.save(update_fields=["org_unit"])
            moved.append(master.code)
    return {"pools": created, "pools_moved": moved}
