"""The catalogue of what a role can grant: entries (pages), operations and data boundaries.

Roles are configured in admin by picking from these lists; code checks rights with the
codes below, never with role names.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DataScope(models.IntegerChoices):
    """Which records a role lets its holder see, widest wins within a membership."""

    SELF = 10, _("Self")
    SELF_AND_SUBORDINATES = 20, _("Self and subordinates")
    OWN_UNIT = 30, _("Own org unit")
    UNIT_AND_BELOW = 40, _("Own unit and all units below")
    ALL = 50, _("Everything")


class Entry(models.TextChoices):
    """Pages and menus a role opens (the entry layer)."""

    WORKBENCH = "workbench", _("Sales workbench")
    MANAGER_HOME = "manager_home", _("Manager home")
    MARKETING_HOME = "marketing_home", _("Marketing home")
    QA_HOME = "qa_home", _("QA workbench")
    TEAM = "team", _("Team directory")
    LEADS = "leads", _("My leads")
    POOL = "pool", _("Lead pool")
    TEAM_LEADS = "team_leads", _("Team leads")
    ADMIN = "admin", _("Administration")
    RULES = "rules", _("Pool rules")
    CUSTOMERS = "customers", _("Customers")
    OPPORTUNITIES = "opportunities", _("Opportunities")
    ORDERS = "orders", _("Orders")
    CONTRACTS = "contracts", _("Contracts")
    APPROVALS = "approvals", _("Approvals")
    RECEIVABLES = "receivables", _("Receivables")
    REPORTS = "reports", _("Reports")


class Operation(models.TextChoices):
    """Named actions a role may take (the operation layer)."""

    CREATE_LEAD = "create_lead", _("Enter leads by hand")
    CLAIM = "claim", _("Claim leads from a pool")
    RELEASE = "release", _("Release leads to a pool")
    ASSIGN = "assign", _("Assign leads to reps")
    TRANSFER = "transfer", _("Transfer leads between reps")
    ROUTE = "route", _("Route leads between pools")
    IMPORT = "import", _("Import leads")
    EXPORT = "export", _("Export data")
    APPROVE = "approve", _("Approve requests")
    INSPECT = "inspect", _("Inspect follow-ups (QA)")
    QA_LEAD = "qa_lead", _("Lead QA: plans, scorecards, appeals, calibration")
    MANAGE_POOLS = "manage_pools", _("Manage pools and rules")
    UNMASK_LIST = "unmask_list", _("See unmasked contact data in lists")
    UNMASK_DETAIL = "unmask_detail", _("See unmasked contact data on detail pages")
    UNMASK_EXPORT = "unmask_export", _("Export unmasked contact data")
    UNMASK_PRINT = "unmask_print", _("Print unmasked contact data")


# Where each home page lives and which entry opens it, in the order a person holding
# several of them lands: the most specific home first.
HOME_PAGES: tuple[tuple[str, str], ...] = (
    (Entry.MANAGER_HOME, "manager_home"),
    (Entry.MARKETING_HOME, "marketing_home"),
    (Entry.QA_HOME, "qa_home"),
    (Entry.WORKBENCH, "workbench"),
    (Entry.TEAM, "team_directory"),
)

# The navigation bar: (entry, URL name, icon, menu). Only entries that have a page appear.
# Entries sharing a menu collapse into one dropdown when a person opens two or more of
# them, so the bar stays one row however many roles someone holds.
MENU_HOME = "home"
MENU_TEAM = "team"
MENU_SETTINGS = "settings"
MENU_DEALS = "deals"
NAVIGATION: tuple[tuple[str, str, str, str | None], ...] = (
    (Entry.WORKBENCH, "workbench", "bi-briefcase", MENU_HOME),
    (Entry.MANAGER_HOME, "manager_home", "bi-people", MENU_HOME),
    (Entry.MARKETING_HOME, "marketing_home", "bi-megaphone", MENU_HOME),
    (Entry.QA_HOME, "qa_home", "bi-clipboard-check", MENU_HOME),
    (Entry.LEADS, "lead_list", "bi-person-lines-fill", None),
    (Entry.POOL, "pool_list", "bi-water", None),
    (Entry.CUSTOMERS, "customer_list", "bi-building", None),
    (Entry.OPPORTUNITIES, "pipeline_board", "bi-kanban", None),
    (Entry.ORDERS, "order_list", "bi-receipt", MENU_DEALS),
    (Entry.CONTRACTS, "contract_list", "bi-file-earmark-text", MENU_DEALS),
    (Entry.APPROVALS, "approval_inbox", "bi-patch-check", MENU_DEALS),
    (Entry.RECEIVABLES, "receivables", "bi-cash-coin", MENU_DEALS),
    (Entry.REPORTS, "report_funnel", "bi-bar-chart-line", None),
    (Entry.TEAM_LEADS, "team_leads", "bi-arrow-left-right", MENU_TEAM),
    (Entry.TEAM, "team_directory", "bi-diagram-3", MENU_TEAM),
    (Entry.RULES, "rules_home", "bi-sliders", MENU_SETTINGS),
    (Entry.ADMIN, "admin:index", "bi-gear", MENU_SETTINGS),
)
MENUS: dict[str, tuple[str, str]] = {
    MENU_HOME: (pgettext_lazy("menu", "Home"), "bi-house"),
    MENU_TEAM: (pgettext_lazy("menu", "Team"), "bi-people"),
    MENU_SETTINGS: (_("Settings"), "bi-gear"),
    MENU_DEALS: (pgettext_lazy("menu", "Deals"), "bi-receipt"),
}
