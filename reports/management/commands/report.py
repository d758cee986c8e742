"""``manage.py report funnel|pipeline``: the numbers of the report pages, for cron jobs and
BI tools (CSV or JSON on standard output)."""

from __future__ import annotations

import csv
import json
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orgs.selectors import DataScopeFilter, data_scope_for
from reports.funnel import BREAKDOWNS as FUNNEL_BY
from reports.funnel import MODES, funnel_rows
from reports.labels import empty_label, group_labels
from reports.pipeline import BREAKDOWNS as PIPELINE_BY
from reports.pipeline import pipeline_rows

EVERYTHING = DataScopeFilter(sees_all=True, user_ids=frozenset(), unit_ids=frozenset(),
                             unit_paths=())
FUNNEL_COLUMNS = ["group", "leads", "owned", "opportunities", "won", "won_amount",
                  "lead_to_opportunity", "opportunity_to_won", "lead_to_won"]
PIPELINE_COLUMNS = ["group", "open", "won", "lost", "won_amount", "win_rate"]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from error


def _rate(value) -> str | None:
    return None if value is None else f"{value:.4f}"


def report_table(name: str, *, scope, start: date, end: date, by: str | None,
                 mode: str) -> tuple[list[str], list[list]]:
    """The header and rows of report ``name``, groups labelled in the active language."""
    if name == "funnel":
        rows = funnel_rows(scope=scope, start=start, end=end, mode=mode, by=by)
        labels = group_labels(by, [r.key for r in rows])
        table = [[labels.get(r.key) or r.key or empty_label(by), r.leads, r.owned,
                  r.opportunities, r.won, f"{r.won_amount:.2f}", _rate(r.lead_to_opportunity),
                  _rate(r.opportunity_to_won), _rate(r.lead_to_won)] for r in rows]
        return FUNNEL_COLUMNS, table
    rows = pipeline_rows(scope=scope, start=start, end=end, by=by)
    labels = group_labels("product_item" if by == "product" else by, [r.key for r in rows])
    table = [[labels.get(r.key) or r.key or empty_label(by), r.open, r.won, r.lost,
              f"{r.won_amount:.2f}", _rate(r.win_rate)] for r in rows]
    return PIPELINE_COLUMNS, table


class Command(BaseCommand):
    help = ("Print a report as CSV or JSON: funnel (leads created in the period, through the "
            "pyramid) or pipeline (opportunities by owner, team, product or close period).")

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["funnel", "pipeline"])
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--by", choices=sorted(set(FUNNEL_BY) | set(PIPELINE_BY)),
                            help="Group the rows (default: one total row).")
        parser.add_argument("--mode", choices=MODES, default="static",
                            help="Funnel: as of the end of the period (static) or today.")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--as", dest="username",
                            help="Only what this user may see (default: everything).")

    def handle(self, *args, name, start, end, by, mode, format, username, **options):
        first, last = _date(start), _date(end)
        if last < first:
            raise CommandError("--to is before --from.")
        allowed = FUNNEL_BY if name == "funnel" else PIPELINE_BY
        if by is not None and by not in allowed:
            raise CommandError(f"{name} groups by one of: {', '.join(allowed)}.")
        scope = EVERYTHING
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            scope = data_scope_for(user)
        header, rows = report_table(name, scope=scope, start=first, end=last, by=by, mode=mode)
        if format == "json":
            self.stdout.write(json.dumps([dict(zip(header, row, strict=True)) for row in rows],
                                         ensure_ascii=False, indent=1))
            return
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
