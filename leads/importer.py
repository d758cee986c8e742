"""File import of leads (CSV and XLSX), shared by the upload page and ``import_leads``.

Upload → the header is read and mapped → a background task validates every row, reports
rejects by line number, skips or merges duplicates (inside the file and against the
database) and writes good rows in short batches (``bulk_create`` of leads and their
``created`` events in one transaction per batch). Re-importing the same file adds
nothing twice: external ids, mobiles and e-mails already present are duplicates.

Budget: one batch of 2,000 rows holds ~2,000 model instances (~4 MB) in memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Lead, LeadEvent, LeadPool
from .models_intake import ImportJob, ImportRejectedRow
from .normalize import is_mainland_mobile, normalize_email, normalize_phone

BATCH_SIZE = 2000

TARGET_FIELDS = {
    "name": Lead._meta.get_field("name"),
    "company": Lead._meta.get_field("company"),
    "title": Lead._meta.get_field("title"),
    "mobile": Lead._meta.get_field("mobile"),
    "phone": Lead._meta.get_field("phone"),
    "email": Lead._meta.get_field("email"),
    "wechat": Lead._meta.get_field("wechat"),
    "address": Lead._meta.get_field("address"),
    "region": Lead._meta.get_field("region"),
    "product_category": Lead._meta.get_field("product_category"),
    "industry": Lead._meta.get_field("industry"),
    "campaign": Lead._meta.get_field("campaign"),
    "external_id": Lead._meta.get_field("external_id"),
    "platform_user_id": Lead._meta.get_field("platform_user_id"),
    "grade": Lead._meta.get_field("grade"),
    "notes": Lead._meta.get_field("notes"),
}
ATTRIBUTE = "__attribute__"  # keep the column in the lead's attribute bag
IGNORE = "__ignore__"

# Header names recognised without a saved mapping (lower-cased, spaces removed).
_ALIASES = {
    "name": ["name", "姓名", "名字", "联系人", "客户姓名", "fullname", "contactname"],
    "company": ["company", "公司", "公司名称", "单位", "企业名称", "account", "organization"],
    "title": ["title", "职位", "职务", "jobtitle", "position"],
    "mobile": ["mobile", "手机", "手机号", "手机号码", "mobilephone", "cellphone"],
    "phone": ["phone", "电话", "座机", "tel", "telephone", "phonenumber"],
    "email": ["email", "e-mail", "邮箱", "电子邮箱", "mail"],
    "wechat": ["wechat", "微信", "微信号", "wechatid"],
    "address": ["address", "地址", "详细地址"],
    "region": ["region", "区域", "大区"],
    "campaign": ["campaign", "活动", "市场活动"],
    "external_id": ["externalid", "外部id", "prospectid", "leadid", "id"],
    "notes": ["notes", "备注", "remark", "remarks", "comment"],
    "grade": ["grade", "等级", "客户等级"],
}
DEFAULT_EMPTY_MARKERS = ["select", "n/a", "na", "null", "none", "-", "--"]


class ImportFileError(Exception):
    """The file cannot be read at all (wrong type, empty, no header)."""


def detect_encoding(raw: bytes) -> str:
    """UTF-8 with or without BOM, else GB18030 (a superset of GBK and GB2312)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is neither UTF-8 nor GBK/GB18030 text.")) from exc
    return "gb18030"


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str
    total: int


def read_table(raw: bytes, filename: str) -> Table:
    """Parse CSV or XLSX bytes into a header and numbered rows."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(raw)
    if not name.endswith((".csv", ".txt")):
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    encoding = detect_encoding(raw)
    text = raw.decode(encoding)
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise ImportFileError(_("The file has no header row."))
    headers = [cell.strip() for cell in lines[0]]
    body = [(number, row) for number, row in enumerate(lines[1:], start=2)
            if any(cell.strip() for cell in row)]
    return Table(headers=headers, rows=iter(body), encoding=encoding, total=len(body))


def _read_xlsx(raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(_("The file is not a readable Excel (.xlsx) workbook.")) from exc
    sheet = workbook.worksheets[0]
    values = [["" if v is None else str(v).strip() for v in row]
              for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not values or not any(values[0]):
        raise ImportFileError(_("The file has no header row."))
    body = [(number, row) for number, row in enumerate(values[1:], start=2) if any(row)]
    return Table(headers=values[0], rows=iter(body), encoding="xlsx", total=len(body))


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Map recognised headers to lead fields; everything else goes to the attribute bag."""
    mapping = {}
    taken = set()
    for header in headers:
        if not header:
            continue
        key = re.sub(r"[\s_]+", "", header.lower())
        target = next((f for f, names in _ALIASES.items() if key in names and f not in taken),
                      ATTRIBUTE)
        if target != ATTRIBUTE:
            taken.add(target)
        mapping[header] = target
    return mapping


@dataclass
class ImportCounts:
    total: int = 0
    accepted: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str, dict]] = field(default_factory=list)


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def _row_to_lead(cells: list[str], headers: list[str], mapping: dict, empty: set[str],
                 name_template: str) -> tuple[dict, dict, str | None]:
    values, attributes, raw = {}, {}, {}
    for index, header in enumerate(headers):
        if not header:
            continue
        value = cells[index].strip() if index < len(cells) and cells[index] else ""
        if value.lower() in empty:
            value = ""
        raw[header] = value
        target = mapping.get(header, ATTRIBUTE)
        if target == IGNORE:
            continue
        if target == ATTRIBUTE:
            if value:
                attributes[header] = value
        elif value:
            values[target] = value
    if not values.get("name") and name_template:
        filled = _TEMPLATE_FIELD.sub(lambda m: raw.get(m.group(1), ""), name_template).strip()
        if filled and filled != _TEMPLATE_FIELD.sub("", name_template).strip():
            values["name"] = filled
    if not values.get("name"):
        return values, attributes, _("No name (map a name column or set a name template).")
    for target, value in values.items():
        limit = TARGET_FIELDS[target].max_length
        if limit and len(value) > limit:
            return values, attributes, _("%(field)s is longer than %(limit)d characters.") % {
                "field": TARGET_FIELDS[target].verbose_name, "limit": limit}
    if values.get("email") and not normalize_email(values["email"]):
        return values, attributes, _("The e-mail address is not valid.")
    mobile = normalize_phone(values.get("mobile", ""))
    looks_wrong = not 7 <= len(mobile) <= 15 or (
        mobile.startswith("1") and not is_mainland_mobile(mobile))
    if values.get("mobile") and looks_wrong:
        return values, attributes, _("The mobile number does not look like a phone number.")
    if not any(values.get(f) for f in ("mobile", "phone", "email", "wechat", "external_id")):
        return values, attributes, _("No way to reach the lead and no external ID.")
    return values, attributes, None


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_import(*, table: Table, pool: LeadPool, channel: str, mapping: dict, actor,
               merge: bool = False, name_template: str = "", empty_markers=None,
               on_progress: Callable[[int, ImportCounts], None] | None = None,
               batch_size: int = BATCH_SIZE) -> ImportCounts:
    """Import every row of ``table`` into ``pool``; returns the counts and rejected rows."""
    empty = {m.lower() for m in (empty_markers if empty_markers is not None
                                 else DEFAULT_EMPTY_MARKERS)}
    counts = ImportCounts(total=table.total)
    seen: dict[str, int] = {}  # key → first line in this file
    processed = 0
    for batch in _batches(table.rows, batch_size):
        candidates = []
        for line, cells in batch:
            values, attributes, problem = _row_to_lead(cells, table.headers, mapping, empty,
                                                       name_template)
            if problem:
                counts.rejected += 1
                row = dict(zip(table.headers, cells, strict=False))
                counts.rejects.append((line, problem, row))
                continue
            lead = Lead(pool=pool, channel=channel, attributes=attributes, created_by=actor,
                        **values)
            lead.refresh_keys()
            keys = _keys(lead)
            first = next((seen[k] for k in keys if k in seen), None)
            if first is not None:
                counts.skipped += 1
                counts.rejects.append((line, _("Duplicate of line %(line)d in this file.")
                                       % {"line": first}, {}))
                continue
            for key in keys:
                seen[key] = line
            candidates.append((line, lead, keys))
        _write_batch(candidates, pool=pool, channel=channel, actor=actor, merge=merge,
                     counts=counts)
        processed += len(batch)
        if on_progress:
            on_progress(processed, counts)
    return counts


def _keys(lead: Lead) -> list[str]:
    keys = []
    if lead.mobile_key:
        keys.append(f"m:{lead.mobile_key}")
    if lead.email_key:
        keys.append(f"e:{lead.email_key}")
    if lead.external_id:
        keys.append(f"x:{lead.channel}:{lead.external_id}")
    return keys


def _existing(candidates, channel: str) -> dict[str, Lead]:
    mobiles = [lead.mobile_key for _, lead, _ in candidates if lead.mobile_key]
    emails = [lead.email_key for _, lead, _ in candidates if lead.email_key]
    externals = [lead.external_id for _, lead, _ in candidates if lead.external_id]
    q = Q(pk__in=[])
    if mobiles:
        q |= Q(mobile_key__in=mobiles)
    if emails:
        q |= Q(email_key__in=emails)
    if externals:
        q |= Q(channel=channel, external_id__in=externals)
    found: dict[str, Lead] = {}
    for lead in Lead.objects.filter(q).only("pk", "mobile_key", "email_key", "channel",
                                            "external_id", "attributes", "pool_id",
                                            "owner_id", *TARGET_FIELDS):
        for key in _keys(lead):
            found.setdefault(key, lead)
    return found


def _write_batch(candidates, *, pool, channel, actor, merge: bool, counts: ImportCounts):
    if not candidates:
        return
    now = timezone.now()
    with transaction.atomic():
        existing = _existing(candidates, channel)
        new, merged = [], {}
        for line, lead, keys in candidates:
            hit = next((existing[k] for k in keys if k in existing), None)
            if hit is None:
                lead.created_at = now
                new.append(lead)
            elif merge:
                for name in TARGET_FIELDS:
                    if not getattr(hit, name) and getattr(lead, name):
                        setattr(hit, name, getattr(lead, name))
                hit.attributes = {**lead.attributes, **(hit.attributes or {})}
                hit.refresh_keys()
                merged[hit.pk] = hit
            else:
                counts.skipped += 1
                counts.rejects.append((line, _("Already in LeadPool (lead %(id)d): skipped.")
                                       % {"id": hit.pk}, {}))
        Lead.objects.bulk_create(new)
        if merged:
            Lead.objects.bulk_update(list(merged.values()),
                                     [*TARGET_FIELDS, "attributes", "mobile_key", "email_key",
                                      "company_key"])
        actor_id = actor.pk if actor is not None else None
        LeadEvent.objects.bulk_create(
            [LeadEvent(lead=lead, kind=LeadEvent.Kind.CREATED, actor_id=actor_id,
                       to_pool=pool, reason=channel, created_at=now) for lead in new]
            + [LeadEvent(lead=lead, kind=LeadEvent.Kind.MERGED, actor_id=actor_id,
                         from_pool_id=lead.pool_id, to_pool_id=lead.pool_id,
                         from_owner_id=lead.owner_id, to_owner_id=lead.owner_id,
                         reason=channel, note=_("Merged from a file import."), created_at=now)
               for lead in merged.values()]
        )
    counts.accepted += len(new)
    counts.merged += len(merged)


def run_job(job: ImportJob) -> ImportCounts:
    """Run a queued job: read its file, import, record progress and rejected rows."""
    with job.file.open("rb") as handle:
        raw = handle.read()
    table = read_table(raw, job.original_name)
    ImportJob.objects.filter(pk=job.pk).update(total_rows=table.total, encoding=table.encoding)

    def progress(processed: int, counts: ImportCounts) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=processed, accepted=counts.accepted, merged=counts.merged,
            skipped=counts.skipped, rejected=counts.rejected)

    counts = run_import(
        table=table, pool=job.pool, channel=job.channel, mapping=job.mapping,
        actor=job.created_by, merge=job.duplicate_mode == ImportJob.DuplicateMode.MERGE,
        name_template=job.name_template, empty_markers=job.empty_markers or None,
        on_progress=progress,
    )
    ImportRejectedRow.objects.filter(job=job).delete()
    ImportRejectedRow.objects.bulk_create(
        [ImportRejectedRow(job=job, line=line, reason=reason, data=data)
         for line, reason, data in counts.rejects], batch_size=2000)
    return counts
