"""Follow-ups on leads, customers and opportunities, and the reminders of their plans.

``followup_record`` is the one write of a follow-up, whatever it is written on: the owner
records a contact attempt; it counts as contact for the recycle clock if the record's pool
says so (leads and opportunities go through the same rule engine), closes the record's
earlier plan, and its next follow-up time becomes the new plan.

``reminder_sweep`` turns due plans into in-app notifications (the bell; an e-mail copy
goes out through the notifications e-mail sweep for users who opted in). It is safe to
run twice at the same moment: rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` in
short transactions, and each reminder carries an idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.kinds import register as register_kind
from notifications.services import Message, notify_many

from . import circulation
from .followup_hooks import followup_saved
from .models import FollowUp, Lead, LeadPool
from .selectors_followups import SUBJECTS, FollowUpSubject
from .services import LeadActionRefused, _check_dictionary
from .subjects import LEADS, OPPORTUNITIES

# One kind per subject, so that the sentence reads naturally in each language.
REMINDER_KINDS = {
    "lead": register_kind("followup_due_lead",
                          gettext_lazy("Follow-up due %(due)s: lead “%(name)s”"),
                          icon="bi-alarm").code,
    "customer": register_kind("followup_due_customer",
                              gettext_lazy("Follow-up due %(due)s: customer “%(name)s”"),
                              icon="bi-alarm").code,
    "opportunity": register_kind("followup_due_opportunity",
                                 gettext_lazy("Follow-up due %(due)s: opportunity “%(name)s”"),
                                 icon="bi-alarm").code,
}

# The rule a follow-up is judged by when its record sits in no pool (customers, and
# opportunities outside any opportunity pool): any type and outcome, a real note.
_NO_POOL = LeadPool(qualifying_types=[], qualifying_outcomes=[])


_NOT_OWNER = {
    "lead": gettext_lazy("Only the owner can add follow-ups to this lead."),
    "customer": gettext_lazy("Only the owner can add follow-ups to this customer."),
    "opportunity": gettext_lazy("Only the owner can add follow-ups to this opportunity."),
}


def _qualifies(pool: LeadPool | None, *, kind: str, outcome: str, content: str) -> bool:
    return circulation.followup_qualifies(pool or _NO_POOL, kind=kind, outcome=outcome,
                                          content=content)


def _validate(*, kind: str, outcome: str, content: str, next_at, now) -> None:
    _check_dictionary(kind, "followup_type", _("follow-up type"))
    if outcome not in FollowUp.Outcome.values:
        raise LeadActionRefused(_("Choose an outcome from the list."), "invalid")
    if not (content or "").strip():
        raise LeadActionRefused(_("Write what was said or done."), "invalid")
    if next_at is not None and next_at <= now:
        raise LeadActionRefused(_("The next follow-up must be in the future."), "invalid")


def _locked(subject: FollowUpSubject, pk: int):
    queryset = subject.model.objects.select_for_update(of=("self",)).filter(pk=pk)
    if subject.code != "customer":
        queryset = queryset.select_related("pool")
    return queryset.first()


def _is_open(subject: FollowUpSubject, record) -> bool:
    if subject.open_statuses is None:
        return record.merged_into_id is None
    return record.status in subject.open_statuses


def followup_record(*, subject: str, record_id: int, user, kind: str, outcome: str,
                    content: str, next_at: datetime | None = None) -> FollowUp:
    """The owner records a contact attempt on a lead, customer or opportunity.

    In one transaction, with the record's row locked: the record's open plan closes (a
    newer follow-up completes it), the follow-up is written with its own plan, the record
    keeps its last and next follow-up times, and a follow-up that counts as contact moves
    the recycle clock of a lead or an opportunity.
    """
    target = SUBJECTS.get(subject)
    if target is None:
        raise LeadActionRefused(_("Follow-ups cannot be written here."), "invalid")
    now = timezone.now()
    _validate(kind=kind, outcome=outcome, content=content, next_at=next_at, now=now)
    with transaction.atomic():
        record = _locked(target, record_id)
        if record is None or record.owner_id != user.pk or not _is_open(target, record):
            raise LeadActionRefused(str(_NOT_OWNER[target.code]), "not_owner")
        now = timezone.now()  # after the lock: follow-ups of one record in lock order
        pool = getattr(record, "pool", None)
        qualifies = _qualifies(pool, kind=kind, outcome=outcome, content=content)
        FollowUp.objects.filter(target.plans_q(record.pk), plan_open=True).update(
            plan_open=False)
        links = {target.code: record}
        if target.code == "opportunity":
            links["customer_id"] = record.customer_id
        followup = FollowUp.objects.create(
            author=user, kind=kind, outcome=outcome, content=content.strip(), next_at=next_at,
            qualifies=qualifies, plan_open=next_at is not None, created_at=now, **links)
        changes = {"last_followup_at": now, "next_followup_at": next_at}
        if target.code == "lead":
            changes["status"] = Lead.Status.FOLLOWING
        if qualifies and target.code != "customer":
            changes["last_qualified_at"] = now
        target.model.objects.filter(pk=record.pk).update(**changes)
        if qualifies and target.code != "customer":
            circulation.refresh_due(LEADS if target.code == "lead" else OPPORTUNITIES,
                                    ids=[record.pk], now=now)
        followup_saved(followup)
    return followup


# --- reminders -----------------------------------------------------------------------------

# Budget: a batch is one statement that locks, reads and marks its rows (three outer
# joins to find each record's owner) and one INSERT of the notifications — ~1 MB of
# parameters, ~0.3 s on 2 cores.
REMINDER_BATCH = 5000


@dataclass
class SweepReport:
    reminded: int = 0  # plans whose reminder went out
    closed: int = 0  # plans closed unsent: the record left its owner or closed
    notified: int = 0  # notifications written (a re-run writes none twice)


def _take_sql() -> str:
    """Lock a batch of due plans (skipping those a parallel sweep holds), mark them
    reminded — closing those nobody is to be reminded of — and return who to remind.

    Who: the record's current owner while the record is open (an open lead, an open
    opportunity, a customer not merged away); a follow-up on an opportunity plans for the
    opportunity, one on a lead for the lead, otherwise for the customer.
    """
    Opportunity = SUBJECTS["opportunity"].model
    Customer = SUBJECTS["customer"].model
    table = FollowUp._meta.db_table
    return f"""
    WITH due AS (
        SELECT f.id, f.next_at,
               to_char(f.next_at AT TIME ZONE %(zone)s, 'YYYY-MM-DD HH24:MI') AS due_text,
               CASE WHEN f.opportunity_id IS NOT NULL THEN 'opportunity'
                    WHEN f.lead_id IS NOT NULL THEN 'lead' ELSE 'customer' END AS code,
               COALESCE(f.opportunity_id, f.lead_id, f.customer_id) AS record_id,
               CASE WHEN f.opportunity_id IS NOT NULL THEN o.name
                    WHEN f.lead_id IS NOT NULL THEN l.name ELSE c.name END AS name,
               CASE WHEN f.opportunity_id IS NOT NULL
                        THEN CASE WHEN o.status = 'open' THEN o.owner_id END
                    WHEN f.lead_id IS NOT NULL
                        THEN CASE WHEN l.status = ANY(%(open)s) THEN l.owner_id END
                    ELSE CASE WHEN c.merged_into_id IS NULL THEN c.owner_id END
               END AS recipient
        FROM {table} f
        LEFT JOIN {Lead._meta.db_table} l ON l.id = f.lead_id
        LEFT JOIN {Opportunity._meta.db_table} o ON o.id = f.opportunity_id
        LEFT JOIN {Customer._meta.db_table} c ON c.id = f.customer_id
        WHERE f.plan_open AND f.reminded_at IS NULL AND f.next_at <= %(now)s
          AND (f.next_at, f.id) > (%(after_at)s, %(after_id)s)
        ORDER BY f.next_at, f.id
        LIMIT %(batch)s
        FOR UPDATE OF f SKIP LOCKED
    )
    UPDATE {table} AS u SET reminded_at = %(now)s, plan_open = due.recipient IS NOT NULL
    FROM due WHERE u.id = due.id
    RETURNING due.id, due.next_at, due.due_text, due.code, due.record_id, due.name,
              due.recipient
"""


class _UrlMaker:
    """Record URLs without a ``reverse`` per row (~20 µs each: 2 s of a 100,000 sweep)."""

    def __init__(self):
        self.templates = {code: subject.url(999_999_999) for code, subject in SUBJECTS.items()}

    def __call__(self, code: str, pk: int) -> str:
        template = self.templates[code]
        return template.replace("999999999", str(pk)) if template else ""


def reminder_sweep(*, now: datetime | None = None, batch: int = REMINDER_BATCH,
                   max_batches: int | None = None) -> SweepReport:
    """Remind owners of every plan whose next follow-up time has come.

    The reminder goes to the record's current owner (plans follow a transfer or a
    handover); a plan whose record went back to a pool or closed is closed unsent. Each
    batch is one short transaction: one statement locks due rows (skipping rows a parallel
    sweep holds) and marks them reminded, then one ``notify_many`` — so each reminder goes
    out once, and a sweep that dies mid-batch leaves the batch to the next one.
    """
    now = now or timezone.now()
    report = SweepReport()
    sql = _take_sql()
    urls = _UrlMaker()
    params = {"zone": timezone.get_current_timezone_name(),  # due times in the install's zone
              "open": list(Lead.OPEN_STATUSES), "now": now, "batch": batch,
              "after_at": datetime.min.replace(tzinfo=UTC), "after_id": 0}
    # Each batch starts after the last row the previous one took: rows a batch marked stay
    # in the index as dead entries until vacuum, and re-reading them from the start would
    # make a sweep of n batches read O(n²) rows. Rows a parallel sweep holds are skipped
    # and stay that sweep's.
    done = 0
    while max_batches is None or done < max_batches:
        done += 1
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            if not rows:
                break
            last = max(rows, key=lambda row: (row[1], row[0]))
            params["after_at"], params["after_id"] = last[1], last[0]
            messages = [
                Message(recipient, REMINDER_KINDS[code], {"name": name, "due": due_text},
                        url=urls(code, record_id), key=f"followup:{pk}:{next_at.isoformat()}")
                for pk, next_at, due_text, code, record_id, name, recipient in rows
                if recipient is not None
            ]
            report.notified += notify_many(messages)
            report.reminded += len(messages)
            report.closed += len(rows) - len(messages)
        if len(rows) < batch:
            break
    return report
