"""Benchmark of the reports, run by ``manage.py crm_bench`` (see its help).

Scratch data, written set-based in SQL (``INSERT … SELECT generate_series``) in the first
quarter of 2001, where no real record lives: two root org units of its own, a team per 20
reps, leads created over 90 days, four in five owned (CREATED + ASSIGNED events), one in
ten of the owned converted twenty days later into an opportunity (half of them won), and
follow-ups. Then:

- ``snapshot_day_s``: the daily snapshot of one day, chained from the day before (what the
  nightly task does), and ``snapshot_day_full_s`` without the day before (every holding
  recomputed from the whole event log);
- ``backfill_90_days_s``: ``report_backfill`` over the 90 days, and ``backfill_year_s``
  that figure × 365 / 90 (an extrapolation, named as such in its unit);
- ``report_funnel_ms``: the funnel page of the director over the quarter by team (p95 of
  the whole request) and ``report_funnel_queries``;
- ``report_rep_ms``: one rep's own rates page for a month (p95) and its query count.

Everything is removed set-based at the end (and before, if an earlier run was killed).
Budget at ``full`` (1,000,000 leads, ~3 M events, 400 reps): seeding ~1 min.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadEvent, LeadPool
from opportunities.models import Customer, Opportunity
from orgs.models import Employee, Membership, OrgUnit, Position, Role
from orgs.presets import ROLES

from .models import RepDay
from .snapshots import snapshot_backfill, snapshot_write

log = logging.getLogger("crm_bench")

PREFIX = "crm_bench_rep"
FIRST_DAY = date(2001, 1, 1)
DAYS = 90
REPS_PER_TEAM = 20
BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class Scale:
    leads: int
    reps: int
    requests: int


SCALES = {
    "small": Scale(leads=3_000, reps=20, requests=5),
    "medium": Scale(leads=100_000, reps=100, requests=15),
    "full": Scale(leads=1_000_000, reps=400, requests=30),
}


def _m(name: str, value, unit: str) -> dict:
    return {"name": name, "value": round(value, 3) if isinstance(value, float) else value,
            "unit": unit}


def run(scale: str) -> list[dict]:
    size = SCALES[scale]
    cleanup()
    try:
        director, reps = _create_scratch_org(size)
        started = time.perf_counter()
        _seed(size, reps)
        seeded = time.perf_counter() - started
        day = FIRST_DAY + timedelta(days=45)
        started = time.perf_counter()
        snapshot_write(day=day)
        full_day = time.perf_counter() - started
        started = time.perf_counter()
        snapshot_write(day=day + timedelta(days=1))
        chained_day = time.perf_counter() - started
        RepDay.objects.filter(day__gte=FIRST_DAY, day__lt=FIRST_DAY + timedelta(days=DAYS)
                              ).delete()
        started = time.perf_counter()
        snapshot_backfill(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=DAYS - 1))
        backfill = time.perf_counter() - started
        funnel_url = ("/reports/?period=custom&start=2001-01-01&end=2001-03-31&by=team"
                      "&mode=static")
        rep_url = "/reports/reps/?period=custom&start=2001-02-01&end=2001-02-28&by=rep"
        funnel_ms, funnel_queries = _measure(director, funnel_url, size)
        rep = get_user_model().objects.get(pk=reps[0])
        rep_ms, rep_queries = _measure(rep, rep_url, size)
        log.info("reports bench: %d leads seeded in %.1f s; day %.2f s (full %.2f s), "
                 "90 days %.1f s; funnel p95 %.0f ms, rep p95 %.0f ms", size.leads, seeded,
                 chained_day, full_day, backfill, funnel_ms, rep_ms)
        return [
            _m("snapshot_day_s", chained_day, "s"),
            _m("snapshot_day_full_s", full_day, "s"),
            _m("backfill_90_days_s", backfill, "s"),
            _m("backfill_year_s", backfill * 365 / DAYS, "s (extrapolated from 90 days)"),
            _m("report_funnel_ms", funnel_ms, "ms"),
            _m("report_funnel_queries", funnel_queries, "queries"),
            _m("report_rep_ms", rep_ms, "ms"),
            _m("report_rep_queries", rep_queries, "queries"),
            _m("report_leads", size.leads, "leads"),
            _m("report_seed_s", seeded, "s"),
        ]
    finally:
        started = time.perf_counter()
        cleanup()
        log.info("reports bench: scratch data removed in %.1f s", time.perf_counter() - started)


def _measure(user, url: str, size: Scale) -> tuple[float, int]:
    client = Client()
    client.force_login(user, backend=BACKEND)
    _get(client, url)
    samples = []
    for _ in range(size.requests):
        started = time.perf_counter()
        _get(client, url)
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        _get(client, url)
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], len(queries.captured_queries)


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}, not 200")
    return response


# --- scratch data ------------------------------------------------------------------------------


def _create_scratch_org(size: Scale):
    from auditlog.context import disable_auditlog

    with disable_auditlog(), transaction.atomic():
        roles = {}
        for code in ("sales_head", "sales_rep"):
            spec = ROLES[code]
            roles[code] = Role.objects.create(
                code=f"{PREFIX}_{code}", name=f"基准{spec.name}", name_en=spec.name_en,
                entries=list(spec.entries), operations=list(spec.operations),
                data_scope=spec.scope)
        company = OrgUnit.objects.add_root(create_kwargs={
            "code": f"{PREFIX}_co", "name": "基准公司", "name_en": "Bench company",
            "kind": OrgUnit.Kind.COMPANY})
        head = Position.objects.create(code=f"{PREFIX}_head", org_unit=company,
                                       name="基准总监", name_en="Bench director",
                                       is_manager=True)
        head.default_roles.add(roles["sales_head"])
        director = _person(company, head, f"{PREFIX}_director", "基准总监")
        reps = []
        for team_no in range(math.ceil(size.reps / REPS_PER_TEAM)):
            company.refresh_from_db()
            team = OrgUnit.objects.add_child(company, create_kwargs={
                "code": f"{PREFIX}_team{team_no}", "name": f"基准{team_no}组",
                "name_en": f"Bench team {team_no}", "kind": OrgUnit.Kind.TEAM})
            position = Position.objects.create(code=f"{PREFIX}_rep{team_no}", org_unit=team,
                                               name="基准销售", name_en="Bench rep")
            position.default_roles.add(roles["sales_rep"])
            for n in range(REPS_PER_TEAM):
                number = team_no * REPS_PER_TEAM + n
                if number >= size.reps:
                    break
                reps.append(_person(team, position, f"{PREFIX}_r{number}",
                                    f"基准销售{number}").pk)
    return director, reps


def _person(unit, position, username: str, name: str):
    user = get_user_model().objects.create_user(username=username, password=None)
    employee = Employee.objects.create(user=user, employee_no=username.upper(), name=name,
                                       name_en=username)
    Membership.objects.create(employee=employee, org_unit=unit, position=position,
                              is_primary=True)
    return user


def _clone(model, template_pk: int, overrides: dict[str, str], series: str,
           params: dict, only: str = "") -> None:
    """``INSERT INTO model SELECT`` the template row once per row of ``series`` (an SQL
    ``FROM`` item naming ``g``), with ``overrides`` (column → SQL expression)."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    select = [overrides.get(c, f't."{c}"') for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    where = "WHERE t.id = %(template)s" + (f" AND {only}" if only else "")
    sql = (f"INSERT INTO {model._meta.db_table} ({names}) "
           f"SELECT {', '.join(select)} FROM {model._meta.db_table} t, {series} {where}")
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "template": template_pk})


def _seed(size: Scale, reps: list[int]) -> None:
    from auditlog.context import disable_auditlog

    with disable_auditlog(), transaction.atomic():
        pool = LeadPool.objects.create(code=f"{PREFIX}_pool", name="基准池", name_en="Bench pool",
                                       kind=LeadPool.Kind.SUB)
        template = Lead.objects.create(pool=pool, name="基准模板", channel=f"{PREFIX}_tpl")
        customer = Customer.objects.create(name="基准客户", external_id=f"{PREFIX}-customer")
        opportunity = Opportunity.objects.create(name="基准商机", customer=customer,
                                                 stage="prospecting",
                                                 external_id=f"{PREFIX}-tpl")
        params = {"reps": reps, "n": len(reps), "first": FIRST_DAY, "leads": size.leads,
                  "channels": ["web_form", "search_ads", "event", "referral"],
                  "regions": ["east", "south", "north"], "pool": pool.pk}
        created = ("(%(first)s::date + (g %% 90) * interval '1 day' + interval '9 hours' "
                   "+ (g %% 480) * interval '1 minute')")
        owned = "(g %% 5 <> 0)"
        owner = "(%(reps)s::bigint[])[1 + g %% %(n)s]"
        _clone(Lead, template.pk, {
            "name": "'基准线索' || g", "channel": "(%(channels)s::text[])[1 + g %% 4]",
            "region": "(%(regions)s::text[])[1 + g %% 3]", "created_at": created,
            "pooled_at": created, "external_id": f"'{PREFIX}-' || g",
            "owner_id": f"CASE WHEN {owned} THEN {owner} END",
            "status": f"CASE WHEN {owned} THEN 'assigned' ELSE 'in_pool' END",
        }, "generate_series(1, %(leads)s) g", params)
        with connection.cursor() as cursor:
            # The ordinal of each scratch lead (g) from its external ID.
            lead_rows = (f"SELECT id, owner_id, created_at, "
                         f"substr(external_id, {len(PREFIX) + 2})::int AS g "
                         f"FROM leads_lead WHERE pool_id = %(pool)s AND external_id <> ''")
            cursor.execute(f"""
                INSERT INTO leads_leadevent (kind, lead_id, to_pool_id, to_owner_id, reason,
                                             note, created_at)
                SELECT 'created', id, %(pool)s, NULL, 'web_form', '', created_at
                FROM ({lead_rows}) l
                UNION ALL
                SELECT 'assigned', id, %(pool)s, owner_id, 'bench', '', created_at
                FROM ({lead_rows}) l WHERE owner_id IS NOT NULL
                UNION ALL
                SELECT 'converted', id, %(pool)s, owner_id, '', '',
                       created_at + interval '20 days'
                FROM ({lead_rows}) l WHERE owner_id IS NOT NULL AND g %% 10 = 1
            """, params)
            cursor.execute(f"""
                UPDATE leads_leadevent SET from_owner_id = to_owner_id
                WHERE kind = 'converted' AND lead_id IN (
                    SELECT id FROM ({lead_rows}) l)
            """, params)
            cursor.execute(f"""
                INSERT INTO leads_followup (lead_id, author_id, kind, outcome, content,
                                            qualifies, plan_open, created_at)
                SELECT id, owner_id, CASE WHEN g %% 3 = 0 THEN 'visit' ELSE 'call' END,
                       CASE WHEN g %% 4 = 0 THEN 'appointment' ELSE 'connected' END,
                       '基准跟进', true, false, created_at + interval '2 hours'
                FROM ({lead_rows}) l WHERE owner_id IS NOT NULL
            """, params)
        _clone(Opportunity, opportunity.pk, {
            "name": "'基准商机' || l.g", "owner_id": "l.owner_id",
            "external_id": f"'{PREFIX}-' || l.id",
            "status": "CASE WHEN l.g %% 20 = 1 THEN 'won' ELSE 'open' END",
            "stage": "CASE WHEN l.g %% 20 = 1 THEN 'won' ELSE 'prospecting' END",
            "created_at": "l.created_at + interval '20 days'",
            "closed_at": "CASE WHEN l.g %% 20 = 1 THEN l.created_at + interval '40 days' END",
            "amount": "1000 + l.g %% 50 * 100",
        }, f"""(SELECT id, owner_id, created_at,
                       substr(external_id, {len(PREFIX) + 2})::int AS g
                FROM leads_lead WHERE pool_id = %(pool)s AND external_id <> ''
                  AND owner_id IS NOT NULL) l""", params, only="l.g %% 10 = 1")
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE leads_lead l SET opportunity_id = o.id, status = 'converted',
                       converted_at = o.created_at
                FROM opportunities_opportunity o
                WHERE o.external_id = '{PREFIX}-' || l.id AND l.pool_id = %(pool)s
            """, params)
            cursor.execute("ANALYZE leads_lead; ANALYZE leads_leadevent; "
                           "ANALYZE leads_followup; ANALYZE opportunities_opportunity")
        Lead.objects.filter(pk=template.pk).delete()
        Opportunity.objects.filter(pk=opportunity.pk).delete()


def cleanup() -> None:
    """Remove every scratch row, set-based (also those of a run that was killed)."""
    from auditlog.context import disable_auditlog

    User = get_user_model()
    with disable_auditlog(), transaction.atomic():
        RepDay.objects.filter(day__gte=FIRST_DAY, day__lt=FIRST_DAY + timedelta(days=DAYS + 2)
                              ).delete()
        pools = list(LeadPool.objects.filter(code=f"{PREFIX}_pool").values_list("pk", flat=True))
        users = list(User.objects.filter(username__startswith=PREFIX).values_list("pk",
                                                                                  flat=True))
        if pools:
            leads = Lead.objects.filter(pool_id__in=pools)
            Lead.objects.filter(pool_id__in=pools).update(opportunity=None)
            LeadEvent.objects.filter(lead_id__in=leads.values("pk")).delete()
            from leads.models import FollowUp

            FollowUp.objects.filter(lead_id__in=leads.values("pk")).delete()
            leads.delete()
            LeadPool.objects.filter(pk__in=pools).delete()
        Opportunity.objects.filter(external_id__startswith=f"{PREFIX}-").delete()
        Customer.objects.filter(external_id=f"{PREFIX}-customer").delete()
        Membership.objects.filter(employee__user_id__in=users).delete()
        Employee.objects.filter(user_id__in=users).delete()
        User.objects.filter(pk__in=users).delete()
        Position.objects.filter(code__startswith=PREFIX).delete()
        Role.objects.filter(code__startswith=PREFIX).delete()
        for unit in OrgUnit.objects.filter(code__startswith=PREFIX).order_by("-depth"):
            unit.delete()
