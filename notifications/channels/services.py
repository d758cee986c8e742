"""Writes of the messaging channels: settings, and the sweep that delivers.

The sweep (``im_sweep``, Celery beat every 30 s, safe to run twice at the same moment):

1. **fan out** — notifications of the last ``FAN_OUT_WINDOW`` whose kind a person opted into
   become one ``Delivery`` per platform where they have an account; those of a team
   member whose kind the team's robot forwards become one per robot. One
   ``INSERT … SELECT … ON CONFLICT (key) DO NOTHING`` each: a notification is offered by
   several sweeps but delivered once per destination.
2. **digests** — each team robot whose digest time has come today gets its digest row
   (key ``digest:<robot>:<date>``, once a day).
3. **send** — due rows are taken one at a time with ``SELECT … FOR UPDATE SKIP LOCKED``,
   checked against the destination's rate limits (a full bucket moves the row to the time
   a slot frees, without an attempt), marked *sending* and committed before the request
   goes out; the answer is recorded. Timeouts and 5xx retry after a growing backoff; the
   platform's own duplicate checks (WeCom's ``enable_duplicate_check``, Feishu's ``uuid``,
   DingTalk's one-identical-message-a-day) make a retry after a lost answer show once.
   A row left *sending* by a dead worker becomes *outcome unknown* and is never resent.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orgs.models import Employee, Membership, OrgUnit

from ..models import Notification
from . import crypto, digest, platforms, ratelimit, render, topics
from .base import Outcome, failed
from .models import ChannelConfig, Delivery, ImPreference, Platform, TeamRobot

# Notifications younger than this are offered to the fan-out (which runs every 30 s); an
# older one is not sent any more — a reminder is only useful while it is news.
FAN_OUT_WINDOW = timedelta(minutes=10)
# Backoff after a timeout or a 5xx, by attempt (seconds); then the delivery fails.
BACKOFF = (30, 120, 600, 1800, 3600)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A waiting message older than this is not worth sending any more.
MAX_AGE = timedelta(hours=12)
# A row still *sending* after this long lost its worker (requests time out in seconds).
SENDING_TIMEOUT = timedelta(minutes=10)
# A digest is sent at its time or within this grace (after an outage), else skipped.
DIGEST_GRACE = timedelta(hours=2)
# Budget of one sweep: at most this many deliveries and seconds (a send is one HTTPS
# request, ~50-300 ms; a platform that hangs costs ``IM_HTTP_TIMEOUT``).
SEND_LIMIT = 500
SEND_BUDGET_SECONDS = 25.0
# Within a sweep, wait for a rate-limit slot this close rather than leave it to the next.
SHORT_WAIT = 3.0


# --- settings --------------------------------------------------------------------------------


def channel_config_save(*, config: ChannelConfig, secret: str = "",
                        clear_secret: bool = False) -> ChannelConfig:
    """Save a channel; a non-empty ``secret`` replaces the stored one (encrypted)."""
    if secret:
        try:
            config.set_secret(secret.strip())
        except crypto.SecretsUnavailable as exc:
            raise ValidationError({"new_secret": str(exc)}) from None
    elif clear_secret:
        config.secret_encrypted = ""
    config.full_clean()
    config.save()
    return config


def robot_webhook_error(platform: str, webhook: str) -> str | None:
    """Why ``webhook`` is not a robot address of ``platform``, or None."""
    config = ChannelConfig.objects.filter(platform=platform).first()
    base = config.base_url if config else ChannelConfig(platform=platform).base_url
    return platforms.get(platform).check_webhook(webhook.strip(), base)


@transaction.atomic
def team_robot_save(*, robot: TeamRobot, webhook: str = "", sign_secret: str = "",
                    clear_sign_secret: bool = False, actor=None) -> TeamRobot:
    """Create or change a team's group robot; webhook and signing secret are stored
    encrypted and only replaced when given."""
    errors = {}
    try:
        if webhook:
            problem = robot_webhook_error(robot.platform, webhook)
            if problem:
                errors["webhook"] = problem
            else:
                robot.webhook_encrypted = crypto.encrypt(webhook.strip())
        elif not robot.webhook_encrypted:
            errors["webhook"] = _("Enter the robot's webhook address.")
        if sign_secret:
            robot.sign_secret_encrypted = crypto.encrypt(sign_secret.strip())
        elif clear_sign_secret:
            robot.sign_secret_encrypted = ""
    except crypto.SecretsUnavailable as exc:
        errors["webhook"] = str(exc)
    robot.topics = [code for code in robot.topics if code in topics.codes()]
    if errors:
        raise ValidationError(errors)
    if robot.pk is None:
        robot.created_by = actor
        # A digest time already past today starts tomorrow, not late today.
        local = timezone.localtime()
        if robot.digest_time <= local.time():
            robot.last_digest_on = local.date()
    robot.full_clean(exclude=["webhook_encrypted", "created_by"])
    robot.save()
    return robot


def im_preference_set(*, user, topic_codes, language: str) -> ImPreference:
    known = topics.codes()
    chosen = [code for code in known if code in set(topic_codes)]
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    preference, _created = ImPreference.objects.update_or_create(
        user=user, defaults={"topics": chosen, "language": language})
    return preference


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    queued: int = 0
    digests: int = 0
    sent: int = 0
    waiting: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    expired: int = 0
    outcomes: list = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "outcomes"}


def enabled_platforms() -> list[str]:
    return list(ChannelConfig.objects.filter(is_enabled=True).values_list("platform", flat=True))


def im_sweep(*, now: datetime | None = None, budget: float = SEND_BUDGET_SECONDS
             ) -> SweepReport:
    """One pass: expire, fan out, queue digests, send what is due.

    ``now`` fixes the clock (tests); without it the sweep runs on real time and may wait a
    few seconds within ``budget`` for a rate-limit slot.
    """
    report = SweepReport()
    moment = now or timezone.now()
    report.unknown, report.expired = deliveries_expire(now=moment)
    active = enabled_platforms()
    if active:
        report.queued = deliveries_fan_out(now=moment, platforms=active)
        report.digests = digests_queue(now=moment, platforms=active)
    deliveries_send(now=now, budget=budget, report=report)
    return report


def deliveries_expire(*, now: datetime) -> tuple[int, int]:
    unknown = Delivery.objects.filter(
        status=Delivery.Status.SENDING, last_attempt_at__lt=now - SENDING_TIMEOUT,
    ).update(status=Delivery.Status.UNKNOWN,
             error=_("The sending worker stopped before the answer was recorded; not sent "
                     "again, so as never to send twice."))
    expired = Delivery.objects.filter(
        status=Delivery.Status.PENDING, created_at__lt=now - MAX_AGE,
    ).update(status=Delivery.Status.FAILED,
             error=_("Not sent within 12 hours (channel switched off or kept busy)."))
    return unknown, expired


def _pairs() -> tuple[list[str], list[str]]:
    pairs = topics.topic_kinds()
    return [t for t, _k in pairs], [k for _t, k in pairs]


def deliveries_fan_out(*, now: datetime, platforms: list[str]) -> int:
    """Queue a delivery for every fresh notification someone (or a team group) opted into."""
    topic_list, kind_list = _pairs()
    if not kind_list:
        return 0
    since = now - FAN_OUT_WINDOW
    tables = {
        "delivery": Delivery._meta.db_table,
        "pref": ImPreference._meta.db_table,
        "robot": TeamRobot._meta.db_table,
        "notification": Notification._meta.db_table,
        "employee": Employee._meta.db_table,
        "membership": Membership._meta.db_table,
        "unit": OrgUnit._meta.db_table,
        "user": get_user_model()._meta.db_table,
    }
    columns = ("key, platform, target, notification_id, recipient_id, robot_id, address, kind, "
               "text, url, status, attempts, next_attempt_at, error, response_code, created_at")
    params = {"topics": topic_list, "kinds": kind_list, "platforms": platforms,
              "since": since, "now": now}
    people = f"""
        WITH tk(topic, kind) AS (SELECT * FROM unnest(%(topics)s::text[], %(kinds)s::text[]))
        INSERT INTO {tables['delivery']} ({columns})
        SELECT 'n:' || n.id || ':' || ids.platform, ids.platform, 'person', n.id,
               n.recipient_id, NULL, ids.address, n.kind, '', '', 'pending', 0, %(now)s, '',
               '', %(now)s
          FROM {tables['pref']} p
          JOIN {tables['user']} u ON u.id = p.user_id AND u.is_active
          JOIN {tables['employee']} e ON e.user_id = p.user_id AND e.status <> 'departed'
          JOIN tk ON p.topics ? tk.topic
          JOIN {tables['notification']} n
            ON n.recipient_id = p.user_id AND n.kind = tk.kind
           AND n.created_at >= %(since)s AND n.created_at <= %(now)s
          CROSS JOIN LATERAL (VALUES ('wecom', e.wecom_userid),
                                     ('dingtalk', e.dingtalk_userid),
                                     ('feishu', e.feishu_userid)) AS ids(platform, address)
         WHERE ids.address <> '' AND ids.platform = ANY(%(platforms)s::text[])
        ON CONFLICT (key) DO NOTHING
    """
    groups = f"""
        WITH tk(topic, kind) AS (SELECT * FROM unnest(%(topics)s::text[], %(kinds)s::text[]))
        INSERT INTO {tables['delivery']} ({columns})
        SELECT DISTINCT 'n:' || n.id || ':group:' || r.id, r.platform, 'group', n.id,
               n.recipient_id, r.id, r.name, n.kind, '', '', 'pending', 0, %(now)s, '', '',
               %(now)s
          FROM {tables['robot']} r
          JOIN tk ON r.topics ? tk.topic
          JOIN {tables['unit']} team ON team.id = r.org_unit_id
          JOIN {tables['unit']} sub ON sub.path LIKE team.path || '%%' AND sub.is_active
          JOIN {tables['membership']} m ON m.org_unit_id = sub.id
          JOIN {tables['employee']} e ON e.id = m.employee_id AND e.status <> 'departed'
          JOIN {tables['notification']} n
            ON n.recipient_id = e.user_id AND n.kind = tk.kind
           AND n.created_at >= %(since)s AND n.created_at <= %(now)s
         WHERE r.is_active AND r.platform = ANY(%(platforms)s::text[])
        ON CONFLICT (key) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(people, params)
        queued = cursor.rowcount
        cursor.execute(groups, params)
        queued += cursor.rowcount
    return queued


# --- the team digest -------------------------------------------------------------------------


def team_member_names(unit: OrgUnit) -> dict[int, str]:
    """``{user_id: display name}`` of the active people of ``unit`` and the units below it."""
    rows = (Employee.objects
            .filter(memberships__org_unit__path__startswith=unit.path,
                    memberships__org_unit__is_active=True)
            .exclude(status=Employee.Status.DEPARTED)
            .distinct().order_by("name"))
    return {e.user_id: e.display_name for e in rows}


def digest_text(robot: TeamRobot, *, now: datetime) -> render.Text:
    """The team's day: per member, each registered section's count (members with nothing
    are left out), and a link to the team's list."""
    sections = digest.sections()
    with translation.override(robot.language):
        members = team_member_names(robot.org_unit)
        counts = {s.code: s.counts(list(members), now) for s in sections}
        lines = []
        totals = {s.code: 0 for s in sections}
        for user_id, name in members.items():
            parts = []
            for section in sections:
                number = counts[section.code].get(user_id, 0)
                totals[section.code] += number
                if number:
                    parts.append(f"{section.label} {number}")
            if parts:
                lines.append(_("%(member)s: %(text)s") % {"member": name,
                                                          "text": " · ".join(parts)})
        if lines:
            lines.append(_("Team: %(totals)s") % {"totals": " · ".join(
                f"{s.label} {totals[s.code]}" for s in sections)})
        else:
            lines.append(_("Nothing due today and nothing about to go back to the pool."))
        day = timezone.localtime(now).date().isoformat()
        heading = _("%(team)s · today %(date)s") % {"team": robot.org_unit.display_name,
                                                      "date": day}
        return render.Text(render.title(heading), "\n".join(lines),
                           render.absolute(digest.digest_link()))


def digests_queue(*, now: datetime, platforms: list[str]) -> int:
    """Queue today's digest of every robot whose time has come (once a day each)."""
    local = timezone.localtime(now)
    today = local.date()
    due = (TeamRobot.objects.filter(is_active=True, digest_enabled=True,
                                    platform__in=platforms, digest_time__lte=local.time())
           .exclude(last_digest_on=today).select_related("org_unit"))
    queued = 0
    for robot in due:
        # Claim today's digest for this robot: a parallel sweep's update finds no row.
        claimed = (TeamRobot.objects.filter(pk=robot.pk).exclude(last_digest_on=today)
                   .update(last_digest_on=today))
        if not claimed:
            continue
        scheduled = timezone.make_aware(datetime.combine(today, robot.digest_time))
        if now - scheduled > DIGEST_GRACE:
            continue  # too late to be today's morning news
        queued += _queue_digest(robot, now=now, key=f"digest:{robot.pk}:{today.isoformat()}")
    return queued


def _queue_digest(robot: TeamRobot, *, now: datetime, key: str) -> int:
    text = digest_text(robot, now=now)
    created = Delivery.objects.bulk_create([Delivery(
        key=key, platform=robot.platform, target=Delivery.Target.GROUP, robot=robot,
        address=robot.name[:100], kind="digest", text=text.plain(), url=text.link,
        next_attempt_at=now, created_at=now)], ignore_conflicts=True)
    return len(created)


def digest_send_now(*, robot: TeamRobot, now: datetime | None = None) -> Delivery:
    """Post the digest right away (from the robot's page), besides the daily one."""
    now = now or timezone.now()
    key = f"digest-now:{robot.pk}:{uuid.uuid4().hex}"
    _queue_digest(robot, now=now, key=key)
    return _send_now(key, now=now)


# --- sending ---------------------------------------------------------------------------------


@dataclass
class _Prepared:
    buckets: list
    text: str
    url: str
    send: object  # () -> Outcome


def deliveries_send(*, now: datetime | None = None, budget: float = SEND_BUDGET_SECONDS,
                    limit: int = SEND_LIMIT, report: SweepReport | None = None
                    ) -> SweepReport:
    report = report or SweepReport()
    started = time.monotonic()
    configs = {c.platform: c for c in ChannelConfig.objects.filter(is_enabled=True)}
    if not configs:
        return report
    done = 0
    while done < limit and time.monotonic() - started < budget:
        moment = now or timezone.now()
        handled = _send_next(configs, now=moment, report=report)
        if handled:
            done += 1
            continue
        if now is not None:
            break
        soonest = (Delivery.objects.filter(status=Delivery.Status.PENDING,
                                           platform__in=list(configs))
                   .aggregate(at=Min("next_attempt_at"))["at"])
        pause = (soonest - timezone.now()).total_seconds() if soonest else None
        if pause is None or pause > SHORT_WAIT or time.monotonic() - started + pause > budget:
            break
        time.sleep(max(pause, 0.05))
    return report


def _send_next(configs: dict, *, now: datetime, report: SweepReport,
               key: str | None = None) -> bool:
    """Take one due delivery (or the one named ``key``), send it and record the outcome.

    Returns False when there was nothing to take.
    """
    with transaction.atomic():
        queryset = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("notification", "recipient", "recipient__employee",
                                    "recipient__im_preference", "robot", "robot__org_unit")
                    .filter(status=Delivery.Status.PENDING))
        if key is None:
            queryset = queryset.filter(next_attempt_at__lte=now, platform__in=list(configs))
        else:
            queryset = queryset.filter(key=key)
        row = queryset.order_by("next_attempt_at", "id").first()
        if row is None:
            return False
        config = configs.get(row.platform)
        prepared = (_prepare(row, config, now) if config is not None else failed(
            _("The %(platform)s channel is not set up or is switched off.")
            % {"platform": row.get_platform_display()}))
        if isinstance(prepared, Outcome):
            _record(row, prepared, now=now, report=report, attempted=False)
            return True
        wait = ratelimit.reserve(prepared.buckets, now=now.timestamp())
        if wait > 0:
            Delivery.objects.filter(pk=row.pk).update(
                next_attempt_at=now + timedelta(seconds=wait))
            report.waiting += 1
            return True
        Delivery.objects.filter(pk=row.pk).update(
            status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now,
            text=prepared.text, url=prepared.url[:500])
        row.attempts += 1
    outcome = prepared.send()
    _record(row, outcome, now=now, report=report, attempted=True)
    return True


def _prepare(row: Delivery, config: ChannelConfig, now: datetime) -> _Prepared | Outcome:
    platform = platforms.get(row.platform)
    try:
        if row.target == Delivery.Target.PERSON:
            address = row.address
            if not address:
                return failed(_("No user ID to send to."))
            if row.notification_id:
                preference = getattr(row.recipient, "im_preference", None)
                language = preference.language if preference else settings.LANGUAGE_CODE
                text = render.notification_text(row.notification, viewer=row.recipient,
                                                language=language)
                content, url = text.plain(), text.link
            else:
                content, url = row.text, row.url
            return _Prepared(
                platform.person_buckets(config, address), content, url,
                lambda: platform.send_person(config, address, content, dedupe=row.key, now=now))
        robot = row.robot
        if robot is None or not robot.is_active:
            return failed(_("The team group robot was removed or paused."))
        webhook, secret = robot.webhook(), robot.sign_secret()
        if row.notification_id:
            with translation.override(robot.language):
                member = (row.recipient.employee.display_name
                          if hasattr(row.recipient, "employee") else row.recipient.username)
            text = render.notification_text(row.notification, viewer=None,
                                            language=robot.language, member=member)
            content, url = text.plain(), text.link
        else:
            content, url = row.text, row.url
        return _Prepared(platform.robot_buckets(webhook), content, url,
                         lambda: platform.send_robot(webhook, secret, content, now=now))
    except crypto.SecretsUnavailable as exc:
        return failed(str(exc))


def _backoff(attempts: int) -> timedelta:
    delay = BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]
    return timedelta(seconds=delay * random.uniform(1.0, 1.1))


def _record(row: Delivery, outcome: Outcome, *, now: datetime, report: SweepReport,
            attempted: bool) -> None:
    fields = {"response_code": outcome.code[:32], "error": outcome.detail[:500]}
    if outcome.state == "sent":
        fields.update(status=Delivery.Status.SENT, sent_at=now, error="")
        report.sent += 1
    elif outcome.state == "wait":
        fields.update(status=Delivery.Status.PENDING,
                      next_attempt_at=now + timedelta(seconds=outcome.wait))
        if attempted:
            fields["attempts"] = max(row.attempts - 1, 0)  # refused for volume: not an attempt
        report.waiting += 1
    elif outcome.state == "retry" and row.attempts < MAX_ATTEMPTS:
        fields.update(status=Delivery.Status.PENDING, next_attempt_at=now + _backoff(row.attempts))
        report.retrying += 1
    else:
        if outcome.state == "retry":
            fields["error"] = (_("Gave up after %(count)d attempts: %(error)s")
                               % {"count": row.attempts, "error": outcome.detail})[:500]
        fields["status"] = Delivery.Status.FAILED
        report.failed += 1
    report.outcomes.append((row.pk, outcome))
    Delivery.objects.filter(pk=row.pk).update(**fields)


def _send_now(key: str, *, now: datetime) -> Delivery:
    configs = {c.platform: c for c in ChannelConfig.objects.filter(is_enabled=True)}
    _send_next(configs, now=now, report=SweepReport(), key=key)
    return Delivery.objects.get(key=key)


def sample_message_send(*, platform: str, address: str = "", robot: TeamRobot | None = None,
                      language: str | None = None, now: datetime | None = None) -> Delivery:
    """Send a test message right away, to a person's user ID or to a team robot; it is
    recorded in the delivery log like any other message."""
    now = now or timezone.now()
    language = language or settings.LANGUAGE_CODE
    if robot is not None:
        language = robot.language
        destination = robot.name
    else:
        destination = address
    stamp = timezone.localtime(now).strftime("%H:%M:%S")
    with translation.override(language):
        text = render.sample_text(language=language, destination=destination)
        body = f"{text.body} ({stamp})"
    text = render.Text(text.title, body, text.link)
    key = f"test:{uuid.uuid4().hex}"
    Delivery.objects.create(
        key=key, platform=Platform(platform), target=(Delivery.Target.GROUP if robot
                                                      else Delivery.Target.PERSON),
        robot=robot, address=(robot.name if robot else address)[:100], kind="test",
        text=text.plain(), url=text.link, next_attempt_at=now, created_at=now)
    return _send_now(key, now=now)


def deliveries_retry(*, ids) -> int:
    """Send failed deliveries again (admin): only those that certainly did not arrive."""
    return Delivery.objects.filter(pk__in=list(ids), status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(),
        created_at=timezone.now(), error="")


def team_robot_delete(*, robot: TeamRobot) -> None:
    """Remove a robot; its delivery log stays (naming the group)."""
    robot.delete()
