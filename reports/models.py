"""What reports store: one row per rep per day (the daily snapshot).

Everything else a report shows is read from the records themselves (leads, events,
opportunities, orders); the snapshot keeps what cannot be recovered later — the rep's
team *as of that day* and their holdings at the end of it — and makes week, month,
quarter and year figures sums of days.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import OrgUnit

MONEY = {"max_digits": 16, "decimal_places": 2, "default": Decimal("0")}


class RepDay(models.Model):
    """One rep's day (seed 003 §4.3, scene 1), written by ``reports.snapshots``.

    Customer counts follow the transfer-reason rule (scene 2): a lead transferred from A
    to B always counts for B (``received``); it leaves A's count (``transferred_out``)
    unless the transfer reason is flagged *ineffective follow-up*, in which case it stays
    (``transferred_kept``); when A and B were in the same team that day it is also in
    ``kept_in_team``, which team figures subtract so that the team's count does not change.
    """

    day = models.DateField(_("day"))
    # References without database constraints: snapshots are rewritten in bulk and never
    # outlive the people and units they name (nothing here is ever deleted).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                             related_name="+", verbose_name=_("rep"), db_constraint=False,
                             db_index=False)
    team = models.ForeignKey(OrgUnit, on_delete=models.DO_NOTHING, null=True, blank=True,
                             related_name="+", verbose_name=_("team"), db_constraint=False,
                             db_index=False)
    opening = models.PositiveIntegerField(_("leads held at the start of the day"), default=0)
    held = models.PositiveIntegerField(_("leads held at the end of the day"), default=0)
    received = models.PositiveIntegerField(_("leads received"), default=0)
    transferred_out = models.PositiveIntegerField(_("leads transferred away"), default=0)
    transferred_kept = models.PositiveIntegerField(
        _("transferred away for ineffective follow-up"), default=0)
    kept_in_team = models.PositiveIntegerField(
        _("of those, to a rep of the same team"), default=0)
    followups = models.PositiveIntegerField(_("follow-ups"), default=0)
    qualifying_followups = models.PositiveIntegerField(_("qualifying follow-ups"), default=0)
    invitations = models.PositiveIntegerField(_("invitations"), default=0)
    opportunities = models.PositiveIntegerField(_("opportunities opened"), default=0)
    won = models.PositiveIntegerField(_("opportunities won"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    orders_amount = models.DecimalField(_("orders amount"), **MONEY)
    orders_cost = models.DecimalField(_("orders cost"), **MONEY)
    gross_margin = models.DecimalField(_("gross margin"), **MONEY)
    payments = models.DecimalField(_("payments received"), **MONEY)

    class Meta:
        verbose_name = _("rep day")
        verbose_name_plural = _("rep days")
        indexes = [
            models.Index(fields=["user", "day"], name="rep_day_user"),
            models.Index(fields=["team", "day"], name="rep_day_team"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["day", "user"], name="one_rep_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.user_id}"

    @property
    def customers(self) -> int:
        """The rep's customer count for the day: held at the start, plus received, less
        what was transferred away for a reason other than ineffective follow-up."""
        return self.opening + self.received - self.transferred_out
