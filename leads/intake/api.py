"""``POST /api/leads/ingest/``: leads pushed by web forms, mini-programs, apps, ads, shops.

Authentication is a per-channel token (``Authorization: Bearer <token>``), managed in
admin. The body is one JSON object. Idempotent on (channel, external id): sending the
same external id again is answered 409 and adds nothing. A person or company we already
know (a lead, a customer or a contact with the same mobile, e-mail or company name) is
handled by the channel's collision policy (see ``leads.intake.collision``): by default a known
lead gets a touchpoint instead of a twin, and a known customer's owner gets the new lead.
The raw payload is kept in the lead's attribute bag.
"""

from __future__ import annotations

from datetime import UTC

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm_site.lib.inputs import JSONInputError, load_json

from ..models import Lead, LeadEvent, Touchpoint
from ..models_intake import ChannelToken, CollisionPolicy, hash_token
from ..normalize import looks_like_phone, normalize_email, normalize_phone
from ..pools.config import schedule_arrivals
from .collision import keys_of, record_collisions

MAX_BODY_BYTES = 64 * 1024
ALLOWED_FIELDS = {"external_id", "name", "company", "title", "mobile", "phone", "email",
                  "wechat", "address", "region", "product_category", "industry", "campaign",
                  "platform_user_id", "notes", "attributes", "occurred_at"}
TEXT_FIELDS = ALLOWED_FIELDS - {"attributes", "occurred_at"}
# Fields a sender's system may hold as numbers; every other text field must be a string.
NUMBER_OK = {"external_id", "mobile", "phone", "platform_user_id"}
PHONE_FIELDS = ("mobile", "phone")


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _authenticate(request) -> ChannelToken | None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    if not token:
        return None
    return ChannelToken.objects.select_related("pool").filter(
        token_hash=hash_token(token), is_active=True).first()


def _validate(payload) -> tuple[dict | None, JsonResponse | None]:
    if not isinstance(payload, dict):
        return None, _error(400, "invalid_body", _("The body must be one JSON object."))
    unknown = sorted(set(payload) - ALLOWED_FIELDS)
    if unknown:
        return None, _error(400, "unknown_fields", _("Unknown fields: %(fields)s")
                            % {"fields": ", ".join(unknown)}, fields=unknown)
    errors = {}
    for name in TEXT_FIELDS & set(payload):
        value = payload[name]
        is_number = isinstance(value, int) and not isinstance(value, bool)
        if value is not None and not (isinstance(value, str) or (is_number
                                                                 and name in NUMBER_OK)):
            errors[name] = _("Must be text.")
            continue
        limit = Lead._meta.get_field(name).max_length
        if limit and value is not None and len(str(value)) > limit:
            errors[name] = _("At most %(limit)d characters.") % {"limit": limit}
    if "attributes" in payload and not isinstance(payload["attributes"], dict):
        errors["attributes"] = _("Must be a JSON object.")
    occurred_at, problem = _occurred_at(payload.get("occurred_at"))
    if problem:
        errors["occurred_at"] = problem
    data = {k: str(v).strip() for k, v in payload.items()
            if k in TEXT_FIELDS and v is not None and k not in errors}
    for name in PHONE_FIELDS:
        if data.get(name) and not looks_like_phone(data[name]):
            errors[name] = _("Not a phone number: use digits, spaces, +, - and brackets "
                             "(7 to 15 digits).")
    if not data.get("external_id"):
        errors["external_id"] = _("Required: the id of this submission in your system.")
    if not data.get("name"):
        errors["name"] = _("Required.")
    if not any(data.get(f) for f in ("mobile", "phone", "email", "wechat")):
        errors["mobile"] = _("Give at least one of mobile, phone, email or wechat.")
    if data.get("email") and not normalize_email(data["email"]):
        errors["email"] = _("Not a valid e-mail address.")
    if errors:
        return None, _error(400, "invalid_fields", _("Some fields are invalid."),
                            fields=errors)
    if occurred_at is not None:
        data["occurred_at"] = occurred_at
    return data, None


def _occurred_at(value):
    """(the moment, None) or (None, why it was refused); naive times are the site's zone."""
    if value is None:
        return None, None
    problem = _("Write the moment as ISO 8601, e.g. 2026-11-30T08:15:00+08:00.")
    if not isinstance(value, str):
        return None, problem
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        return None, problem
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, None


@csrf_exempt
@require_POST
def ingest(request):
    """Receive one lead from a channel; see the module docstring for the contract."""
    length = request.headers.get("Content-Length") or "0"
    if not length.isascii() or not length.isdigit():
        return _error(400, "bad_length", _("Content-Length must be a number of bytes."))
    if int(length) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _error(413, "too_large", _("The body is larger than 64 KB."))
    token = _authenticate(request)
    if token is None:
        return _error(401, "bad_token", _("Missing or unknown channel token."))
    if not request.content_type.startswith("application/json"):
        return _error(415, "not_json", _("Send the body as application/json."))
    try:
        payload = load_json(request.body)
    except JSONInputError as refused:
        return _error(400, refused.code, refused.message)
    data, problem = _validate(payload)
    if problem:
        return problem
    channel = token.channel
    now = timezone.now()
    occurred_at = data.pop("occurred_at", None) or now
    ChannelToken.objects.filter(pk=token.pk).update(last_used_at=now)
    replay = Lead.objects.filter(channel=channel, external_id=data["external_id"]).first()
    if replay is None:
        replay_touch = Touchpoint.objects.filter(
            channel=channel, external_id=data["external_id"]).values_list(
            "lead_id", flat=True).first()
        if replay_touch:
            replay = Lead(pk=replay_touch)
    if replay is not None:
        return _error(409, "replay", _("This external_id was already received; nothing was "
                                       "added."), lead_id=replay.pk)
    mobile_key = normalize_phone(data.get("mobile"))
    email_key = normalize_email(data.get("email"))
    policy = token.collision_policy
    flagged: list[dict] = []
    attach_to = None
    with transaction.atomic():
        existing = None
        if mobile_key or email_key:
            existing = (
                Lead.objects.select_for_update(of=("self",))
                .filter(_key_q(mobile_key, email_key))
                .exclude(status=Lead.Status.INVALID).order_by("pk").first()
            )
        if existing is not None and policy == CollisionPolicy.REFUSE:
            return _error(409, "duplicate", _("This person is already a lead; the channel "
                                              "refuses duplicates."), lead_id=existing.pk)
        if existing is not None and policy == CollisionPolicy.ATTACH:
            try:
                with transaction.atomic():
                    Touchpoint.objects.create(lead=existing, channel=channel,
                                              occurred_at=occurred_at,
                                              external_id=data["external_id"], payload=payload)
            except IntegrityError:
                return _error(409, "replay", _("This external_id was already received; "
                                               "nothing was added."), lead_id=existing.pk)
            if data.get("platform_user_id") and not existing.platform_user_id:
                Lead.objects.filter(pk=existing.pk).update(
                    platform_user_id=data["platform_user_id"])
            return JsonResponse({"status": "touchpoint", "lead_id": existing.pk}, status=200)
        if existing is not None:
            flagged.append({"kind": "lead", "id": existing.pk})
        others = record_collisions(keys_of(mobile=data.get("mobile", ""),
                                           email=data.get("email", ""),
                                           company=data.get("company", "")))
        if others and policy == CollisionPolicy.REFUSE:
            return _error(409, "duplicate", _("This person or company is already a "
                                              "customer; the channel refuses duplicates."))
        if others and policy == CollisionPolicy.ATTACH:
            attach_to = next((c for c in others if c.owner_id), None)
        if attach_to is None:
            flagged += [{"kind": c.kind, "id": c.record_id, "on": c.matched_on} for c in others]
        attributes = {**payload.get("attributes", {}), "_payload": payload}
        if "occurred_at" in payload:
            attributes["occurred_at"] = occurred_at.astimezone(UTC).isoformat()
        if flagged:
            attributes["_possible_duplicates"] = flagged
        lead = Lead(pool=token.pool, channel=channel, created_at=now, attributes=attributes,
                    **data)
        if attach_to is not None:
            lead.owner_id, lead.status, lead.assigned_at = (attach_to.owner_id,
                                                            Lead.Status.ASSIGNED, now)
            lead.customer_id = attach_to.customer_id
        lead.refresh_keys()
        try:
            with transaction.atomic():
                lead.save()
        except IntegrityError:
            return _error(409, "replay", _("This external_id was already received; nothing "
                                           "was added."))
        LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CREATED, to_pool=token.pool,
                                 reason=channel, created_at=now)
        if attach_to is not None:
            LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ASSIGNED,
                                     to_owner_id=attach_to.owner_id, from_pool=token.pool,
                                     to_pool=token.pool, reason="collision", created_at=now)
            from ..pools.due import refresh_due
            from ..subjects import LEADS

            refresh_due(LEADS, ids=[lead.pk])
            return JsonResponse({"status": "attached", "lead_id": lead.pk,
                                 "customer_id": attach_to.customer_id}, status=201)
        pool_id = token.pool_id
        transaction.on_commit(lambda: schedule_arrivals([pool_id]))
    return JsonResponse({"status": "created", "lead_id": lead.pk}, status=201)


def _key_q(mobile_key: str, email_key: str):
    from django.db.models import Q

    q = Q(pk__in=[])
    if mobile_key:
        q |= Q(mobile_key=mobile_key)
    if email_key:
        q |= Q(email_key=email_key)
    return q
